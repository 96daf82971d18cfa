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
from test_report_procurement import TODAY, make_plan, report_catalog

from planner.report import html_text, procurement_table, report_files
from planner.report.charts import COLORS, STALE_NOTE, pareto_figure

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def page() -> str:
    return html_text(make_plan(), procurement_table(make_plan(), report_catalog(), today=TODAY))


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
    for offer in ("big", "g1-server", "flash-host"):
        assert re.search(rf'<tr id="source-\d+"[^>]*><td>\[\d+\]</td><td>{offer}</td>', page), offer
    assert "big price page" in page and "2026-01-01" in page
    assert page.count(" STALE") >= 2  # in the option tables and in the sources


def test_the_comparison_table_names_each_options_stale_prices(page: str) -> None:
    table = page.split("<h2>Cost comparison</h2>", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr class=\"[^\"]*\"><td>(\d+)</td>(.*?)</tr>", table)
    assert [r[0] for r in rows] == ["1", "2", "3", "4"]
    # every option is also offered via the stale host API: each row says so in words, not just colour
    for _, cells in rows:
        assert "<td>STALE: host API as of 2025-01-01</td>" in cells
    # option 1's break-even is against that stale API price; its buy-vs-rent (fresh cloud) is not flagged
    first = rows[0][1]
    assert "vs host API (STALE price)" in first
    assert re.search(r"months vs aws big-type \(on-demand\)</td>", first)


def test_pareto_labels_and_legend_flag_stale_prices() -> None:
    proc = procurement_table(make_plan(), report_catalog(), today=TODAY)
    ax = pareto_figure(proc).axes[0]
    # only option 4's plotted price (the API it is priced by) is stale; 1-3 plot fresh cloud/on-prem prices
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2", "3", "4 STALE"]
    legend = ax.get_legend()
    assert legend is not None and STALE_NOTE in [t.get_text() for t in legend.get_texts()]
    # and the cost-vs-load legend names the stale API series
    curves = proc.curves
    assert curves is not None
    assert [s.label for s in curves.series] == [
        "cloud, cheapest on-demand", "on-prem, 5y depreciation", "API: host (STALE price)"]


def test_report_files_are_deterministic() -> None:
    a = report_files(make_plan(), report_catalog(), today=TODAY)
    b = report_files(make_plan(), report_catalog(), today=TODAY)
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
