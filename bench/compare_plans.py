"""Compare the recommendations of two sets of plan.json files (before/after a change).

    python bench/compare_plans.py BEFORE_DIR AFTER_DIR

Each folder holds NAME.json files (`qwen-plan ... --format json > NAME.json`). Reads both the
pre-typed Plan (flat Option with `gpu`/`tp` sentinels, `resolved`) and the typed one (SelfHosted |
Api with a Deployment), and prints, per request, every option whose signature (model, precision,
GPU, TP, replicas, engine, MTP, deploy, provider, instance, monthly cost, quality, TTFT, TPOT)
differs, plus changed capacity figures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

KEYS = ("model", "precision", "gpu", "tp", "replicas", "engine", "mtp", "deploy", "provider", "instance",
        "monthly", "quality", "ttft", "tpot")


def signature(o: dict[str, Any]) -> dict[str, Any]:
    if "deployment" in o or (o.get("deploy") == "api" and "chosen" in o):  # typed Plan
        d = o.get("deployment") or {}
        chosen = o["chosen"]
        return {
            "model": o["model"], "precision": d.get("precision"), "gpu": d.get("gpu"), "tp": d.get("tp"),
            "replicas": d.get("replicas"), "engine": d.get("engine"), "mtp": d.get("mtp_tokens", 0),
            "deploy": o["deploy"], "provider": chosen["provider"] if o["deploy"] != "onprem" else None,
            "instance": chosen.get("instance_type"), "monthly": o["monthly_cost_usd"], "quality": o["quality"],
            "ttft": o.get("ttft_ms"), "tpot": o.get("tpot_ms"),
            "capacity_rps": o["capacity_rps"], "capacity_tokens_per_day": o["capacity_tokens_per_day"],
            "usd_per_m": o["usd_per_million_tokens"],
        }
    return {
        "model": o["model"], "precision": o["precision"], "gpu": o["gpu"], "tp": o["tp"] or None,
        "replicas": o["replicas"] or None, "engine": o["engine"], "mtp": o["mtp_tokens"], "deploy": o["deploy"],
        "provider": o["provider"], "instance": o["instance"], "monthly": o["monthly_cost_usd"],
        "quality": o["quality"], "ttft": o["ttft_ms"], "tpot": o["tpot_ms"], "capacity_rps": o["capacity_rps"],
        "capacity_tokens_per_day": o["capacity_tokens_per_day"], "usd_per_m": o["usd_per_million_tokens"],
    }


def options(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [signature(o) for o in [plan["recommended"], *plan["alternatives"]]]


def main(before: Path, after: Path) -> int:
    changed = 0
    for b in sorted(before.glob("*.json")):
        a = after / b.name
        if not a.exists() or not b.read_text().strip() or not a.read_text().strip():
            print(f"{b.stem}: missing or empty on one side")
            continue
        old, new = options(json.loads(b.read_text())), options(json.loads(a.read_text()))
        same_choice = [{k: o[k] for k in KEYS} for o in old] == [{k: o[k] for k in KEYS} for o in new]
        print(f"{b.stem}: {'same recommendations' if same_choice else 'DIFFERENT recommendations'}")
        if not same_choice:
            changed += 1
            for i in range(max(len(old), len(new))):
                o = {k: old[i][k] for k in KEYS} if i < len(old) else None
                n = {k: new[i][k] for k in KEYS} if i < len(new) else None
                if o != n:
                    print(f"  option {i}: before {o}\n            after  {n}")
        for i, (o, n) in enumerate(zip(old, new, strict=False)):
            for k in ("capacity_rps", "capacity_tokens_per_day", "usd_per_m"):
                if o[k] != n[k]:
                    print(f"  option {i} {k}: {o[k]} -> {n[k]}")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
