"""`qwen-plan calibrate`: fit the performance model to your own benchmark results, write a profile."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from pathlib import Path

import click

from planner.calibrate.fit import ErrorStats, value
from planner.calibrate.formats import read_results
from planner.calibrate.measurement import Measurement
from planner.calibrate.points import Setup, to_point
from planner.calibrate.profile import Profile, build, dump, load
from planner.calibrate.run import Calibration, calibrate
from planner.catalog.schema import ENGINES, PRECISIONS
from planner.cli.common import get_catalog, overlay_option
from planner.clock import today
from planner.errors import RequestError, os_failure
from planner.perf.constants import shipped
from planner.plan import SelfHosted


def _setup(plan_path: Path | None, option: int | None, measurements: list[Measurement], **flags: object) -> Setup:
    """Flags first, then the benchmarked option of plan.json (the one the result names, else --option)."""
    given = {k: v for k, v in flags.items() if v is not None}
    if plan_path is None:
        return Setup(**given)  # type: ignore[arg-type]
    from planner.cli.render_cmd import load_plan

    plan = load_plan(plan_path)
    named = {m.qwen_plan_option for m in measurements if m.qwen_plan_option}
    options = plan.options
    if option is not None:
        if option >= len(options):
            raise RequestError(f"--option: {option} is out of range (the plan has options 0..{len(options) - 1})")
        chosen = options[option]
    else:
        hits = [o for o in options if o.label in named]
        chosen = hits[0] if len(hits) == 1 else plan.recommended
    if not isinstance(chosen, SelfHosted):
        raise RequestError(f"--plan: option {chosen.label!r} is a hosted API; only a self-hosted deployment can "
                           "be benchmarked and calibrated")
    d = chosen.deployment
    from_plan: dict[str, object] = {
        "model": d.model, "gpu": d.gpu, "precision": d.precision, "tp": d.tp, "ep": d.ep, "engine": d.engine,
        "mtp": d.mtp_tokens, "replicas": d.replicas, "prefix_hit": plan.workload.prefix_hit,
        "kv_dtype": d.kv_dtype, "language_model_only": d.language_model_only,
    }
    return Setup(**{**from_plan, **given})  # type: ignore[arg-type]


def _pct(t: dict[str, ErrorStats], metric: str) -> str:
    e = t.get(metric)
    return f"{e.median_pct:6.1f}% {e.p90_pct:6.1f}%" if e else f"{'—':>7} {'—':>7}"


def _print(cal: Calibration, out: Path) -> None:
    base = shipped()
    res = cal.result
    click.echo(f"{len(cal.points)} benchmark runs; families: "
               + ", ".join(sorted({p.family for p in cal.points})))
    click.echo(f"{'error (median, p90)':<20} {'before':>15} {'after':>15} {'leave-one-out':>15}")
    for metric in ("ttft", "tpot", "throughput"):
        if metric in cal.before:
            click.echo(f"  {metric:<18} {_pct(cal.before, metric):>15} {_pct(cal.after, metric):>15} "
                       f"{_pct(cal.leave_one_out, metric):>15}")
    for name, v in sorted(res.values.items()):
        click.echo(f"  fitted {name}: {value(base, name):.4g} -> {v:.4g} "
                   f"(data worth {res.information[name]:.1f} points)")
    for name in res.unidentified:
        click.echo(f"  not identified {name}: kept at {value(base, name):.4g} (data worth "
                   f"{res.information[name]:.2f} points)")
    click.echo(f"wrote {out}")


def write_profile(out: Path, text: str, force: bool) -> None:
    """Atomically, never over a file that is not a calibration profile (and over one only with --force)."""
    if out.is_symlink() or (out.exists() and not out.is_file()):
        raise RequestError(f"--out: {out} is not a regular file")
    if out.exists():
        if not force:
            raise RequestError(f"--out: {out} already exists; pass --force to replace it")
        load(out, "--out")  # refuses (one line) anything that is not a profile
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise RequestError(f"--out: folder {parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(tmp, 0o644)
            if force:
                os.replace(tmp, out)
            else:
                os.link(tmp, out)  # fails if something appeared at `out` meanwhile
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    except FileExistsError:
        raise RequestError(f"--out: {out} appeared while qwen-plan was writing; left it untouched") from None
    except OSError as exc:
        raise os_failure(exc, "--out") from None


def _file_dates(files: list[Path]) -> dict[str, str]:
    return {str(f): dt.datetime.fromtimestamp(f.stat().st_mtime, dt.UTC).date().isoformat() for f in files}


@click.command("calibrate")
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Profile to write (YAML), for --calibration or a --catalog folder.")
@click.option("--force", is_flag=True, help="Replace --out if it is an earlier profile.")
@click.option("--plan", "plan_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="plan.json of the deployment that was benchmarked: fills in what the results do not say.")
@click.option("--option", type=click.IntRange(min=0), default=None,
              help="Which option of --plan was deployed (default: the one the result names, else 0).")
@click.option("--model", default=None, help="Model id or Hugging Face repo, when the results do not say.")
@click.option("--gpu", default=None, help="GPU id from the catalog, e.g. h100-sxm.")
@click.option("--precision", type=click.Choice(PRECISIONS, case_sensitive=False), default=None)
@click.option("--tp", type=click.IntRange(1, 1024), default=None, help="Tensor-parallel GPUs per replica.")
@click.option("--ep", type=click.IntRange(1, 1024), default=None, help="Expert-parallel group size.")
@click.option("--engine", type=click.Choice(ENGINES, case_sensitive=False), default=None)
@click.option("--mtp", type=click.IntRange(0, 16), default=None, help="MTP speculative tokens (0 = off).")
@click.option("--prefix-hit", type=click.FloatRange(0, 1), default=None,
              help="Share of each prompt the prefix cache served.")
@click.option("--replicas", type=click.IntRange(1, 4096), default=None,
              help="Replicas behind the benchmarked endpoint (throughput and concurrency are split over them).")
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write measured-vs-predicted plots (report.html, PNGs) into this new folder.")
@overlay_option
def command(results: tuple[Path, ...], out: Path, force: bool, plan_path: Path | None, option: int | None,
            report_dir: Path | None, catalog_dir: Path | None, **flags: object) -> None:
    """Fit the model's constants for your GPU family to RESULT files and write a calibration profile."""
    if report_dir is not None:
        from planner.atomic import check_target

        check_target(report_dir, False)
    files = list(dict.fromkeys(results))
    measurements = [m for f in files for m in read_results(f)]
    setup = _setup(plan_path, option, measurements, **flags)
    catalog = get_catalog(catalog_dir, calibration=False)
    points = [to_point(m, setup, catalog) for m in measurements]
    base = shipped()
    cal = calibrate(points, base)
    if not cal.rows:
        raise RequestError(f"{files[0]}: no run fits in GPU memory as described (check --gpu, --tp, --precision)")
    profile: Profile = build(cal, measurements, files, today().isoformat(), base, _file_dates(files))
    write_profile(out, dump(profile), force)
    _print(cal, out)
    if report_dir is not None:
        from planner.calibrate.report import write_report

        write_report(cal, report_dir)
        click.echo(f"wrote {report_dir}/report.html")
