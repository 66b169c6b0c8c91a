"""The HTML rollup in a real browser: headless Chromium loads it offline, runs nothing from the ledger,
and draws the chart.

Without Chromium these tests skip and say so; `.ci/run` installs it and sets LEDGERKIT_REQUIRE_BROWSER=1,
which turns a missing browser into a failure.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgerkit.cli import cli

from .conftest import ledger, make_files, record

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"


def _chromium() -> str:
    for name in (os.environ.get("LEDGERKIT_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)  # type: ignore[return-value]
    if os.environ.get("LEDGERKIT_REQUIRE_BROWSER") == "1":
        pytest.fail("LEDGERKIT_REQUIRE_BROWSER=1 but no Chromium found (apt-get install chromium)")
    pytest.skip("no Chromium on this machine: the HTML rollup is not checked in a browser here")


def _browse(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.fixture
def hostile_page(tmp_path) -> Path:
    records = [
        record(i, context="S", char_count=str(c), token_estimate="[fill]", budget="100").replace(
            "  - note", f"  - {HOSTILE}"
        )
        for i, c in enumerate((100, 300, 360, 420), 1)
    ]
    make_files(
        tmp_path, {"ledger.md": ledger(*records, budget=100), f"a{HOSTILE.replace('/', '')}.md": "x", "a.md": "x" * 10}
    )
    page = tmp_path / "rollup.html"
    result = CliRunner().invoke(
        cli, ["rollup", str(tmp_path / "ledger.md"), "--session", "S", "--format", "html", "-o", str(page)]
    )
    assert result.exit_code == 0, result.output
    return page


def test_nothing_from_the_ledger_runs_and_the_chart_is_drawn(tmp_path, hostile_page):
    dom = _browse(tmp_path, hostile_page, "--dump-dom").stdout  # the document after scripts would have run
    assert "<title>Session rollup — S</title>" in dom
    assert "pwned" not in dom.replace("document.title='pwned'", "")  # only the escaped text itself
    assert dom.count('<rect class="bar"') == 4
    assert "<img" not in dom


def test_the_page_renders_to_a_screenshot(tmp_path, hostile_page):
    shot = tmp_path / "rollup.png"
    _browse(tmp_path, hostile_page, "--window-size=1100,900", f"--screenshot={shot}")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1100, 900)
    assert len(data) > 20_000  # a drawn page, not a blank one (blank PNGs of this size are a few kB)
