"""Nothing lost to a report: no command that reads a ledger writes its output over a file it read (the
ledger, a source it measured, the same file by another name)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgerkit.cli import cli

from ..conftest import ledger, make_files, record

COMMANDS = {
    "rollup": ["rollup", "{ledger}"],
    "report": ["report", "{ledger}"],
    "compare": ["compare", "{ledger}", "{ledger}"],
    "export": ["export", "{ledger}"],
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    make_files(tmp_path, {"a.md": "x" * 40, "ledger.md": ledger(record(1, ("a.md",)))})
    os.symlink(tmp_path / "ledger.md", tmp_path / "link.md")
    return tmp_path


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("target", ["ledger.md", "link.md", "a.md"])
def test_a_report_never_replaces_a_file_it_read(tree, command, target):
    # a.md is a source: every report measures it for the figures, so it is an input too.
    before = {name: (tree / name).read_bytes() for name in ("ledger.md", "a.md")}
    args = [a.format(ledger=tree / "ledger.md") for a in COMMANDS[command]]
    result = CliRunner().invoke(cli, [*args, "-o", str(tree / target), "--root", str(tree)], prog_name="ledgerkit")
    assert result.exit_code == 2, result.output
    assert "never writes over an input" in result.stderr and result.stderr.count("\n") == 1
    assert {name: (tree / name).read_bytes() for name in before} == before
