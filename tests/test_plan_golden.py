"""Golden files for the plan command's JSON and table output on fixed requests.

Regenerate after an intended change with `UPDATE_GOLDEN=1 pytest tests/test_plan_golden.py` and
review the diff: every number in them comes from the catalog and the performance model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

GOLDEN = Path(__file__).parent / "golden" / "plan"
CASES = {
    "docs-budget": ["--budget", "20000", "--task", "docs"],
    "chat-rps-cloud": ["--task", "chat", "--rps", "5", "--deploy", "cloud", "--gpus", "h100-sxm,h200,l40s"],
    "coding-onprem-quality": ["--task", "coding", "--concurrency", "32", "--deploy", "onprem", "--min-quality", "60"],
}


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"missing golden {path}; run with UPDATE_GOLDEN=1"
    expected = path.read_text()
    if name.endswith(".json"):
        assert json.loads(text) == json.loads(expected)
    else:
        assert text == expected


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_json_matches_golden(invoke: Callable[..., Result], case: str) -> None:
    r = invoke("plan", *CASES[case], "--format", "json")
    assert r.exit_code == 0, r.output
    _check(f"{case}.json", r.output)


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_table_matches_golden(invoke: Callable[..., Result], case: str) -> None:
    r = invoke("plan", *CASES[case])
    assert r.exit_code == 0, r.output
    _check(f"{case}.txt", r.output)
