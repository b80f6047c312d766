"""The HTML report: one static file whose charts a real headless browser shows (screenshot kept as an artifact)."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from simulator.sim_helpers import changchun

from onestop.simulator import SyntheticParams, simulate
from onestop.simulator._html import yuan

ARTIFACTS = Path(os.environ.get("ONESTOP_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
BLUE = (0x2B, 0x6C, 0xB0)  # first design's colour in every chart


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("headless Chromium is not installed, and installing it needs root and apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "install", "-y", "-q", "chromium"], ["apt-get", "update", "-q"]):
        subprocess.run(cmd, capture_output=True, timeout=900, env=env, check=False)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "chromium"], capture_output=True, timeout=900, env=env, check=False
    )
    found = shutil.which("chromium")
    if not found:
        pytest.skip("headless Chromium could not be installed with apt-get (no Debian mirror reachable?)")
    return found


def _browser(exe: str, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)


def _pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG into rows of raw pixels (enough for a screenshot)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = channels = 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", data[:10])
            assert depth == 8
            channels = {2: 3, 6: 4}[colour]
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, channels, rows


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    designs = [changchun("heilongjiang-upgraded-2025"), changchun("heilongjiang-basic-2025")]
    params = SyntheticParams(members=1500, seed=5, car_t_uptake="0.003", cidl_uptake="0.05")
    simulate(designs, synthetic=params, out=out, mode="fast")
    return out / "report.html"


def test_report_is_one_static_file_with_inline_svg_charts(report):
    """The page loads nothing from elsewhere (no script, no link, no URL) and holds its charts inline."""
    html = report.read_text(encoding="utf-8")
    assert "<script" not in html
    assert not re.search(r"(src|href)=", html)
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert set(re.findall(r'data-chart="(\w+)"', html)) == {"liabilities", "premium", "distribution", "cidl"}


def test_example_figures_are_labelled_as_examples(report):
    """A design's example values never pass for sourced figures: its source and example fields are in the
    summary, and every premium-derived figure of a design whose premium is an example is marked (example)."""
    summary = json.loads((report.parent / "summary.json").read_text(encoding="utf-8"))
    for s in summary["designs"]:
        assert s["source"]
        assert "premium_fen" in s["example_values"]
    html = report.read_text(encoding="utf-8")
    assert "Sources of the designs" in html
    premium_row = re.search(r"<tr><th>premium per member \(元\)</th>(.*?)</tr>", html)
    assert premium_row is not None
    assert premium_row.group(1).count("(example)") == len(summary["designs"])


def test_headless_browser_shows_the_charts(report):
    """Chromium renders the report: every chart is in the DOM with its bars, and the screenshot shows them."""
    exe = _chromium()
    dom = _browser(exe, "--dump-dom", report.as_uri()).stdout
    assert len(re.findall(r'<svg class="chart"', dom)) == 4
    assert len(re.findall(r'<rect class="bar"', dom)) >= 10
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "simulator-report.png"
    shot.unlink(missing_ok=True)
    _browser(exe, f"--screenshot={shot}", "--window-size=900,2600", report.as_uri())
    width, channels, rows = _pixels(shot.read_bytes())
    blue = sum(
        1
        for row in rows[::4]
        for x in range(0, width * channels, channels * 2)
        if abs(row[x] - BLUE[0]) < 8 and abs(row[x + 1] - BLUE[1]) < 8 and abs(row[x + 2] - BLUE[2]) < 8
    )
    assert blue > 200, "the first design's bars are not visible in the screenshot"


def test_amounts_are_formatted_from_integer_fen():
    """Yuan text comes from integer fen by integer arithmetic (no float rounding)."""
    assert yuan(123456789) == "1,234,567.89"
    assert yuan(-5) == "-0.05"
    assert yuan(0) == "0.00"
