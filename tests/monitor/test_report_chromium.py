"""``shipyard monitor report`` writes one offline HTML file that headless Chromium renders."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shipyard.cli.main import app
from tests.monitor.conftest import PHASE_ROWS, ServedLog, feedback_csv

pytestmark = pytest.mark.slow


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless Chromium is not installed (apt-get install chromium)")


def _png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG (stdlib only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, idat, width, height = 8, b"", 0, 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        chunk = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        offset += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.fixture(scope="module")
def report_html(served_classifier: ServedLog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "report.html"
    labels = feedback_csv(out.with_name("labels.csv"), served_classifier.rows)
    stored = CliRunner().invoke(
        app, ["monitor", "feedback", str(labels), "--model", "clf"], env=served_classifier.env
    )
    assert stored.exit_code == 0, stored.output
    result = CliRunner().invoke(
        app,
        ["monitor", "report", served_classifier.ref, "--logs", str(served_classifier.log),
         "--window", f"{PHASE_ROWS}rows", "-o", str(out)],
        env=served_classifier.env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_report_is_one_self_contained_file(report_html: Path) -> None:
    html = report_html.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "fetches something"
    assert "<script src" not in html
    assert html.count("<svg") >= 4  # drift over time, scores, predictions, features
    for feature in ("x0", "x1", "x2"):
        assert f"{feature}: reference vs current" in html
    assert "accuracy" in html


def test_report_renders_in_headless_chromium(report_html: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    subprocess.run(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2400",
         f"--screenshot={shot}", report_html.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    width, height, pixels = _png_pixels(shot)
    assert (width, height) == (1280, 2400)
    assert len(set(pixels)) > 64, "the screenshot is blank"
