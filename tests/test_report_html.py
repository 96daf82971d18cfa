"""report.html: self-contained, charts embedded, stale prices flagged; renders in headless Chromium."""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_report_procurement import make_plan

from planner.catalog import Catalog
from planner.plan import Plan
from planner.report import html_text, procurement_table, report_files
from planner.report.charts import COLORS, STALE_NOTE, pareto_figure

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def plan(catalog: Catalog) -> Plan:
    return make_plan(catalog)


@pytest.fixture(scope="module")
def page(plan: Plan) -> str:
    return html_text(plan, procurement_table(plan))


def _images(html: str) -> dict[str, Image.Image]:
    found = re.findall(r'<figure id="([a-z-]+)"><img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    return {name: Image.open(io.BytesIO(base64.b64decode(data))) for name, data in found}


def test_both_charts_are_real_pngs(page: str) -> None:
    imgs = _images(page)
    assert sorted(imgs) == ["load-chart", "pareto-chart"]
    for img in imgs.values():
        assert img.format == "PNG" and img.size == (800, 460)
        assert len(img.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 50  # a drawing, not a blank


def test_page_is_self_contained(page: str) -> None:
    assert "<script" not in page.lower()
    assert not re.search(r'(?:src|href)\s*=\s*["\']?(?:https?:)?//', page, re.I)
    assert "@import" not in page and "url(" not in page


def test_prices_carry_sources_and_stale_flags(page: str) -> None:
    assert 'id="stale-prices"' in page and "flash-host (api, host)" in page
    for offer in ("big", "h100-server", "flash-host"):  # (the 1-GPU "one" only when a replica fits on it)
        assert re.search(rf'<tr id="source-\d+"[^>]*><td>\[\d+\]</td><td>{offer}</td>', page), offer
    assert "big price page" in page and "2026-01-01" in page
    assert page.count(" STALE") >= 2  # in the option tables and in the sources


def test_the_comparison_table_names_each_options_stale_prices(page: str) -> None:
    table = page.split("<h2>Cost comparison</h2>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr class=\"[^\"]*\"><td>(\d+)</td>(.*?)</tr>", table)
    assert [r[0] for r in rows] == ["1", "2", "3"]
    # options 1 (the API) and 3 (its model self-hosted) are priced against the stale host API: each row
    # says so in words, not just colour; option 2 (the 122B model, no API; first at equal cost as the
    # better model) has no stale price
    for _, cells in (rows[0], rows[2]):
        assert "<td>STALE: host API as of 2025-06-01</td>" in cells
    assert "STALE" not in rows[1][1]
    # option 3's break-even is against that stale API price; its buy-vs-rent (fresh cloud) is not flagged
    third = rows[2][1]
    assert "vs host API (STALE price)" in third
    assert re.search(r"months vs aws big-type \(on-demand\)</td>", third)
    # the API option has neither break-even
    assert rows[0][1].count("<td>—</td>") >= 2


def test_pareto_labels_and_legend_flag_stale_prices(plan: Plan) -> None:
    proc = procurement_table(plan)
    ax = pareto_figure(proc).axes[0]
    # only option 1's plotted price (the API it is priced by) is stale; 2-3 plot fresh on-prem prices
    assert sorted(t.get_text() for t in ax.texts) == ["1 STALE", "2", "3"]
    legend = ax.get_legend()
    assert legend is not None and STALE_NOTE in [t.get_text() for t in legend.get_texts()]
    # and the cost-vs-load legend names the stale API series
    curves = proc.curves
    assert curves is not None
    assert [s.label for s in curves.series] == [
        "cloud, cheapest on-demand", "on-prem, 5y depreciation", "API: host (STALE price)"]


def test_the_load_chart_caption_and_sensitivity_come_from_the_plan(plan: Plan, page: str) -> None:
    # the curve is option 2's hardware (the first self-hosted option), with both break-evens marked
    caption = page.split('<figure id="load-chart">', 1)[1].split("</figcaption>", 1)[0]
    assert "Option 2&#39;s hardware" in caption
    # the 122B's cheapest rent (a whole 8-GPU instance) stays above the API up to 10×: no cloud crossing
    assert "cloud beats API at" not in caption and "on-prem beats API at" in caption
    assert "Black diamonds" in caption
    table = page.split("<h2>Sensitivity to load</h2>", 1)[1].split("</table>", 1)[0]
    assert [m for m in re.findall(r"<tr><td>([\d.]+)×</td>", table)] == ["0.5", "1", "2", "5"]
    assert len(plan.sensitivity) == 4


def test_a_plan_without_analysis_has_no_load_chart(catalog: Catalog, plan: Plan) -> None:
    bare = plan.model_copy(update={"sensitivity": [], "load_curves": None})
    page = html_text(bare, procurement_table(bare))
    assert sorted(_images(page)) == ["pareto-chart"]
    assert "No cost-vs-load chart" in page and "Sensitivity to load" not in page


def test_report_files_are_deterministic(catalog: Catalog, plan: Plan) -> None:
    a = report_files(plan)
    b = report_files(make_plan(catalog))
    assert sorted(a) == ["procurement.csv", "procurement.json", "procurement.xlsx", "report.html"]
    assert a == b


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("QWEN_PLAN_SKIP_BROWSER") == "1":
            pytest.skip("QWEN_PLAN_SKIP_BROWSER=1")
        pytest.fail("chromium not installed: run tests/run.sh (or apt-get install chromium)")
    return exe


def _near(rgb: np.ndarray, hex_color: str, tol: int = 12) -> int:
    target = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb.astype(int) - target).max(axis=2) <= tol).sum())


def test_renders_in_headless_chromium(page: str, tmp_path: Path) -> None:
    exe = _chromium()
    html = tmp_path / "report.html"
    html.write_text(page, encoding="utf-8")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1280,2600",
         "--hide-scrollbars", html.as_uri()],
        capture_output=True, timeout=120, check=True,
    )
    rgb = np.asarray(Image.open(shot).convert("RGB"))
    assert rgb.shape[:2] == (2600, 1280)
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 200, "screenshot is blank"
    # Colours only the charts draw: the recommended star, the API line, the cloud and on-prem steps.
    for name in ("recommended", "api", "cloud", "onprem"):
        assert _near(rgb, COLORS[name]) > 100, f"no {name} colour ({COLORS[name]}) in the screenshot"
