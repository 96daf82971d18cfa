"""Calibration profiles: what `qwen-plan calibrate` writes and what `--calibration` applies.

A profile holds, per GPU family it measured, the constants the data identified (the rest stay at the
shipped values), plus where they came from: the result files (path, SHA-256, tool, run dates), the
engines and their versions, and the error before, after and out of sample. Applying a profile
replaces only its families' constants, so it never changes another family's predictions.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from planner import __version__
from planner.calibrate.fit import ErrorStats
from planner.calibrate.measurement import Measurement
from planner.calibrate.run import Calibration
from planner.catalog import Catalog
from planner.catalog.overlay import CALIBRATION_KIND
from planner.catalog.schema import ENGINES
from planner.catalog.yaml_io import parse_yaml, read_input
from planner.errors import RequestError
from planner.perf.constants import FIT_BOUNDS, FIT_FIELDS, GLOBAL_FIT_BOUNDS, Constants, shipped

FORMAT = 1
ENV = "QWEN_PLAN_CALIBRATION"


class FamilyFit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    bandwidth: float | None = None
    compute: float | None = None
    step_overhead_ms: float | None = None
    allreduce_us: float | None = None
    request_overhead_ms: dict[str, float] = Field(default_factory=dict)
    not_identified: list[str] = Field(default_factory=list)
    points: int = Field(ge=1)
    gpus: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _bounds(self) -> FamilyFit:
        for name in FIT_FIELDS:
            v = getattr(self, name)
            lo, hi = FIT_BOUNDS[name]
            if v is not None and not lo <= v <= hi:
                raise ValueError(f"{name}: {v} is outside {lo}..{hi}")
        lo, hi = GLOBAL_FIT_BOUNDS["request_overhead_ms"]
        for engine, v in self.request_overhead_ms.items():
            if engine not in ENGINES:
                raise ValueError(f"request_overhead_ms: engine {engine!r} is not one of {', '.join(ENGINES)}")
            if not lo <= v <= hi:
                raise ValueError(f"request_overhead_ms.{engine}: {v} is outside {lo}..{hi}")
        return self


class SourceFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    sha256: str
    tool: str
    runs: int = Field(ge=1)
    dates: list[str]
    """Run dates the file states; when it states none, its modification time (`file modified ...`)."""


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    format: int
    created: str
    qwen_plan_version: str
    shipped_constants_as_of: str
    families: dict[str, FamilyFit]
    engines: dict[str, str | None]
    """Engine -> version the results name (None: the files do not say)."""
    sources: list[SourceFile]
    error_pct: dict[str, dict[str, dict[str, int | float]]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _kind(self) -> Profile:
        if self.kind != CALIBRATION_KIND:
            raise ValueError(f"kind: expected {CALIBRATION_KIND!r}")
        if self.format != FORMAT:
            raise ValueError(f"format: {self.format} is not supported (this qwen-plan reads format {FORMAT})")
        return self

    def summary(self, path: Path | str) -> str:
        """One line for every output made with this profile."""
        fams = ", ".join(f"{f} ({v.points} points)" for f, v in sorted(self.families.items()))
        engines = ", ".join(f"{e} {v}" if v else e for e, v in sorted(self.engines.items()))
        return (f"calibrated with profile {path} (created {self.created}; {fams}; engines {engines}; "
                f"{len(self.sources)} result file(s))")


def _stats(t: dict[str, ErrorStats]) -> dict[str, dict[str, int | float]]:
    return {m: {"median": round(e.median_pct, 1), "p90": round(e.p90_pct, 1), "n": e.n} for m, e in t.items()}


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(cal: Calibration, measurements: Sequence[Measurement], files: Sequence[Path], created: str,
          base: Constants, file_dates: dict[str, str]) -> Profile:
    """The profile of a calibration on `measurements` read from `files`."""
    res = cal.result
    families: dict[str, FamilyFit] = {}
    for fam in sorted({p.family for p in cal.points}):
        own = {k.split(".", 1)[1]: v for k, v in res.values.items() if k.startswith(f"{fam}.")}
        fields: dict[str, Any] = {name: round(own[name], 4) for name in FIT_FIELDS if name in own}
        req = {k.rsplit(".", 1)[1]: round(v, 2) for k, v in own.items() if k.startswith("request_overhead_ms.")}
        held = sorted(k.split(".", 1)[1] for k in res.unidentified if k.startswith(f"{fam}."))
        pts = [p for p in cal.points if p.family == fam]
        families[fam] = FamilyFit(**fields, request_overhead_ms=req, not_identified=held, points=len(pts),
                                  gpus=sorted({p.cfg.gpu.id for p in pts}))
    engines: dict[str, str | None] = {}
    for p in cal.points:
        engines.setdefault(p.cfg.engine, None)
    for m in measurements:
        if m.engine and m.engine_version:
            engines[m.engine] = m.engine_version
    sources = []
    for f in files:
        runs = [m for m in measurements if m.source == str(f) or m.source.startswith((f"{f}#", f"{f}:"))]
        dates = sorted({m.date for m in runs if m.date}) or [f"file modified {file_dates[str(f)]}"]
        tools = sorted({m.tool + (f" {m.tool_version}" if m.tool_version else "") for m in runs})
        sources.append(SourceFile(file=str(f), sha256=file_sha256(f), tool=", ".join(tools), runs=max(len(runs), 1),
                                  dates=dates))
    return Profile(kind=CALIBRATION_KIND, format=FORMAT, created=created, qwen_plan_version=__version__,
                   shipped_constants_as_of=base.as_of, families=families, engines=engines, sources=sources,
                   error_pct={"before": _stats(cal.before), "after": _stats(cal.after),
                              "leave_one_out": _stats(cal.leave_one_out)})


def dump(profile: Profile) -> str:
    head = ("# qwen-plan calibration profile: use it with --calibration FILE (or $QWEN_PLAN_CALIBRATION),\n"
            "# or put it in a --catalog overlay folder. Written by `qwen-plan calibrate`; refit rather than edit.\n")
    doc = profile.model_dump(mode="json", exclude_defaults=True)
    return head + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=110)


def load(path: Path, what: str = "--calibration") -> Profile:
    where = f"{what}: {path}"
    data = parse_yaml(read_input(path, what, RequestError), where, RequestError)
    if not isinstance(data, dict) or data.get("kind") != CALIBRATION_KIND:
        raise RequestError(f"{where}: not a calibration profile (expected `kind: {CALIBRATION_KIND}`, as "
                           "`qwen-plan calibrate --out` writes)")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise RequestError(f"{where}: {loc + ': ' if loc else ''}{err['msg'].removeprefix('Value error, ')}") from None


def apply(profile: Profile, base: Constants, path: Path | str, known_families: set[str] | None = None) -> Constants:
    """`base` with the profile's families replaced by their calibrated constants; the rest untouched."""
    families = dict(base.families)
    # Families that borrow the fallback family's values keep the shipped ones: calibrating the fallback
    # family must not move them.
    for fam in known_families or ():
        families.setdefault(fam, base.family(fam))
    for fam, fit in profile.families.items():
        if known_families is not None and fam not in known_families:
            raise RequestError(f"--calibration: families.{fam}: no GPU in the catalog has this family; "
                               f"accepted: {', '.join(sorted(known_families))}")
        eff = base.family(fam)
        changes: dict[str, Any] = {n: getattr(fit, n) for n in FIT_FIELDS if getattr(fit, n) is not None}
        if fit.request_overhead_ms:
            changes["request_overhead_ms"] = {**(eff.request_overhead_ms or {}), **fit.request_overhead_ms}
        families[fam] = dataclasses.replace(eff, fitted=True, **changes)
    return dataclasses.replace(base, families=families, calibration=profile.summary(path),
                               calibration_families=frozenset(profile.families))


def activate(given: Path | None, cat: Catalog) -> Constants:
    """The constants with the profile in force: `given` (--calibration, $QWEN_PLAN_CALIBRATION), else the
    one profile in the --catalog overlay folder."""
    if given is None:
        if len(cat.calibrations) > 1:
            names = ", ".join(str(p) for p in cat.calibrations[:3])
            raise RequestError(f"--catalog: holds {len(cat.calibrations)} calibration profiles ({names}); keep one, "
                               "or choose with --calibration")
        path, what = cat.calibrations[0], "--catalog"
    else:
        path, what = given, "--calibration"
    profile = load(path, what)
    return apply(profile, shipped(), path, {g.family for g in cat.gpus.values()})
