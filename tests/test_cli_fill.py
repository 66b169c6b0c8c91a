"""The fill command as a user runs it: exit codes, stdout and stderr apart, no traceback."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ledgerkit import cli as cli_module
from ledgerkit.cli import cli

from .conftest import ledger, make_files, record


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_fill_the_sample_then_nothing_to_do(sample):
    first = run("fill", str(sample))
    assert (first.exit_code, first.stdout) == (0, "")
    assert first.stderr == f"{sample}: filled 2 records and the summary\n"
    assert "[fill" not in sample.read_text(encoding="utf-8").split("## 7)")[0]
    second = run("fill", str(sample))
    assert (second.exit_code, second.stdout, second.stderr) == (0, "", "")


def test_check_and_diff_write_nothing_and_exit_1(sample):
    data = sample.read_bytes()
    check = run("fill", "--check", str(sample))
    assert (check.exit_code, check.stdout) == (1, "")
    assert check.stderr == f"{sample}: would fill 2 records and the summary\n"
    diff = run("fill", "--diff", str(sample))
    assert diff.exit_code == 1
    assert diff.stdout.startswith(f"--- {sample}\n+++ {sample}\n")
    assert "\n-- CHAR_COUNT: [fill_after_measure]\n" in diff.stdout and "\n+- CHAR_COUNT: 4590\n" in diff.stdout
    assert sample.read_bytes() == data
    run("fill", str(sample))
    assert run("fill", "--check", str(sample)).exit_code == 0


def test_problems_are_reported_together_and_exit_1(tmp_path):
    make_files(tmp_path, {"a.md": "x" * 8, "l.md": ledger(record(1, ("a.md",)), record(2, ("nope.md", "a.md:9")))})
    result = run("fill", "--root", str(tmp_path), str(tmp_path / "l.md"))
    lines = (tmp_path / "l.md").read_text(encoding="utf-8").split("\n")
    nope = lines.index("  - nope.md") + 1
    assert result.exit_code == 1
    assert result.stdout == (
        f"{tmp_path / 'l.md'}:{nope}:5: LK201 source nope.md not found\n"
        f"{tmp_path / 'l.md'}:{nope + 1}:5: LK207 source a.md:9 goes beyond the end of the file (1 line)\n"
    )
    assert "- CHAR_COUNT: 8" in lines  # the measurable record was filled


@pytest.mark.parametrize("output_format", ["json", "github"])
def test_diagnostic_formats(tmp_path, output_format):
    make_files(tmp_path, {"l.md": ledger(record(1, ("nope.md",)))})
    result = run("fill", "--format", output_format, "--root", str(tmp_path), str(tmp_path / "l.md"))
    assert result.exit_code == 1
    if output_format == "json":
        (item,) = json.loads(result.stdout)
        assert item["code"] == "LK201" and item["severity"] == "error" and item["column"] == 5
    else:
        assert result.stdout.startswith(f"::error file={tmp_path / 'l.md'},line=")
        assert "::LK201 source nope.md not found\n" in result.stdout


def test_markdown_without_records_is_skipped_quietly(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Hello\n\n- [fill] is not ours here\n", encoding="utf-8")
    result = run("fill", str(readme))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert readme.read_text(encoding="utf-8") == "# Hello\n\n- [fill] is not ours here\n"


@pytest.mark.parametrize(
    ("files", "target", "message"),
    [
        ({}, "missing.md", "missing.md: no such file"),
        ({"bad.md": b"### RUN_ID: X\n\xff"}, "bad.md", "bad.md: not UTF-8 text (byte 0xff at offset 14)"),
        (
            {"l.md": "RUN_ID", "ledgerkit.yaml": "divisor: 0\n"},
            "l.md",
            "ledgerkit.yaml:1: divisor: expected a positive whole number, got 0",
        ),
        (
            {"l.md": ledger(record(1)), "t/summary.md.j2": "{{ nope }}"},
            "l.md",
            "template summary.md.j2 failed: 'nope' is undefined",
        ),
    ],
)
def test_usage_and_io_errors_exit_2_with_one_line(tmp_path, monkeypatch, files, target, message):
    make_files(tmp_path, {"a.md": "x", **files})
    monkeypatch.chdir(tmp_path)
    args = ["fill", target] + (["--templates", "t"] if "t/summary.md.j2" in files else [])
    result = run(*args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("ledgerkit: ") and result.stderr.rstrip().endswith(message)


def test_one_bad_file_does_not_stop_the_others(sample, tmp_path):
    result = run("fill", str(tmp_path / "missing.md"), str(sample))
    assert result.exit_code == 2
    assert "[fill_after_measure]" not in sample.read_text(encoding="utf-8")
    assert result.stderr.splitlines()[0] == f"ledgerkit: {tmp_path / 'missing.md'}: no such file"


def test_usage_errors_exit_2():
    assert run("fill", "--format", "xml", "x.md").exit_code == 2
    assert run("no-such-command").exit_code == 2


def test_root_option(tmp_path):
    make_files(tmp_path, {"src/a.md": "abcd", "ledgers/l.md": ledger(record(1, ("/a.md",)))})
    result = run("fill", "--root", str(tmp_path / "src"), str(tmp_path / "ledgers" / "l.md"))
    assert result.exit_code == 0
    assert "- CHAR_COUNT: 4\n" in (tmp_path / "ledgers" / "l.md").read_text(encoding="utf-8")


def test_an_unexpected_error_is_one_line_not_a_traceback(sample, monkeypatch, capsys):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    # ledgerkit.fill is the function; the module is reached through the import system (the CLI fills in place).
    monkeypatch.setattr(importlib.import_module("ledgerkit.writing.fill"), "fill_in_place", boom)
    monkeypatch.setattr(sys, "argv", ["ledgerkit", "fill", str(sample)])
    monkeypatch.setattr(cli_module, "_exit", sys.exit)  # the process's own end (os._exit) would end pytest
    monkeypatch.delenv("LEDGERKIT_TRACEBACK", raising=False)
    with pytest.raises(SystemExit) as exc:
        cli_module.main()
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("ledgerkit: internal error: RuntimeError: boom") and err.count("\n") == 1
    monkeypatch.setenv("LEDGERKIT_TRACEBACK", "1")
    with pytest.raises(RuntimeError):
        cli_module.main()


def test_python_dash_m_and_version(sample):
    result = subprocess.run(
        [sys.executable, "-m", "ledgerkit", "--version"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and result.stdout.startswith("ledgerkit, version ")
    filled = subprocess.run(
        [sys.executable, "-m", "ledgerkit", "fill", str(sample)], capture_output=True, text=True, check=False
    )
    assert filled.returncode == 0 and "filled 2 records" in filled.stderr


def test_fill_check_annotates_each_line_once_and_none_past_the_end(tmp_path):
    # Two sessions where the summary held one: the summary grows by a block, and the new lines go with the
    # summary's last line instead of numbering lines the ledger does not have or naming a line twice.
    import re

    make_files(tmp_path, {"a.md": "x" * 40})
    old = ledger(record(1), record(2, context="S2"), budget=1000)
    path = tmp_path / "l.md"
    path.write_text(old, encoding="utf-8")
    result = CliRunner().invoke(cli, ["fill", "--check", "--format", "github", str(path)])
    lines = [int(n) for n in re.findall(r"^::error file=[^,]*,line=(\d+),", result.output, re.M)]
    assert result.exit_code == 1 and lines
    assert lines == sorted(set(lines)) and max(lines) <= len(old.splitlines())
    assert "SESSION_ID: S2" in result.output  # the added session is shown, with the line it follows
