"""No internal error from what a person or a file can write: numbers of any length in any figure, dates at
the calendar's edges, a CR-only ledger, deep or huge JSON transcripts, interrupts. Each becomes a
diagnostic or one clear line with exit code 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import hypothesis.strategies as st
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from ledgerkit.checks.verify import verify
from ledgerkit.cli import cli
from ledgerkit.config import Config
from ledgerkit.reading.parse import parse
from ledgerkit.writing.fill import fill

from ..conftest import ledger, make_files, record

FIELDS = {
    "char_count": "CHAR_COUNT",
    "token_estimate": "TOKEN_ESTIMATE",
    "budget": "BUDGET_C",
    "utilization": "UTILIZATION",
}
#: Digit runs of any length (past Python's 4,300-digit int limit too), with the separators people type.
NUMBERS = st.builds(
    lambda digits, sep, tail: sep.join(digits) + tail,
    st.lists(st.text("0123456789", min_size=1, max_size=5000), min_size=1, max_size=3),
    st.sampled_from(["", "_", " ", ",", "'", ".", "\u202f"]),
    st.sampled_from(["", "%", " tokens", "k", "e9", "자"]),
)


def run(*args: str, **kw: object):
    return CliRunner().invoke(cli, list(args), prog_name="ledgerkit", **kw)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(sorted(FIELDS)), number=NUMBERS)
def test_a_number_of_any_length_or_form_is_a_value_or_a_diagnostic(tmp_path, field, number):
    make_files(tmp_path, {"a.md": "x" * 40})
    text = ledger(record(1, ("a.md",), **{field: number}))
    lk = parse(text, str(tmp_path / "l.md"))
    result = fill(lk, config=Config(), root=tmp_path)  # never raises
    problems = verify(lk, config=Config())
    key = FIELDS[field]
    if len(number) > 40 or any(sep in number for sep in ("_", "'", "\u202f")):
        # Never read as a prefix: unreadable whole, or (for UTILIZATION, "5%"-like) a percentage.
        assert any(d.code == "LK103" and key in d.message for d in problems), (number, problems)
    assert all(d.code.startswith("LK") for d in [*problems, *result.diagnostics])


@pytest.mark.parametrize(
    ("written", "reads"),
    [
        ("130_000", False),
        ("130 000", False),
        ("130'000", False),
        ("12,34", False),
        ("1200-1300", False),
        ("130,000", True),
        ("130000 tokens (덕산 추정)", True),
    ],
)
def test_a_budget_is_read_whole_or_not_at_all(written, reads):
    lk = parse(ledger(record(1, budget=written)), "l.md")
    codes = [d.code for d in verify(lk, config=Config())]
    assert ("LK103" not in codes) == reads


def test_a_huge_line_range_is_a_diagnostic(tmp_path):
    make_files(tmp_path, {"a.md": "x\n" * 3})
    text = ledger(record(1, ("a.md:1-" + "9" * 5000,)))
    result = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path)
    assert [d.code for d in result.diagnostics] == ["LK207"]


def test_a_session_budget_of_zero_is_said_not_ignored(tmp_path):
    make_files(tmp_path, {"a.md": "x" * 40})
    text = ledger(record(1, ("a.md",), budget="[fill]"), budget=0)
    result = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path)
    assert "LK107" in [d.code for d in result.diagnostics]
    assert "LK107" in [d.code for d in verify(parse(text, "l.md"), config=Config())]


def test_a_placeholder_on_the_line_after_its_key_is_filled(tmp_path):
    make_files(tmp_path, {"a.md": "x" * 40})
    text = ledger(record(1, ("a.md",), char_count="\n  [fill]"))
    result = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path)
    assert result.diagnostics == []
    assert "- CHAR_COUNT: \n  40\n" in result.text and "- TOKEN_ESTIMATE: ceil(CHAR_COUNT / 4) = 10\n" in result.text


def test_a_cr_only_ledger_is_read_filled_and_verified(tmp_path):
    make_files(tmp_path, {"a.md": "x" * 40})
    path = tmp_path / "l.md"
    path.write_bytes(ledger(record(1, ("a.md",))).replace("\n", "\r").encode("utf-8"))
    assert run("fill", str(path), "--root", str(tmp_path)).exit_code == 0
    data = path.read_bytes()
    assert b"\n" not in data and b"- CHAR_COUNT: 40\r" in data
    assert run("verify", "--no-base", str(path)).exit_code == 0
    assert len(parse(data.decode("utf-8")).records) == 1


@settings(max_examples=40, deadline=None)
@given(
    year=st.sampled_from([1, 2, 9998, 9999]),
    month=st.integers(1, 12),
    hour=st.integers(0, 23),
    offset=st.integers(-23, 23),
)
def test_timestamps_at_the_calendars_edges_are_values_or_diagnostics(year, month, hour, offset):
    sign = "+" if offset >= 0 else "-"
    local = f"{year:04d}-{month:02d}-01 {hour:02d}:00 XYZ (UTC{sign}{abs(offset):02d}:00)"
    utc = f"{year:04d}-{month:02d}-01T{hour:02d}:00:00{sign}{abs(offset):02d}:00"
    text = ledger(
        record(1).replace("2025-08-16 16:01 KST (UTC+09:00)", local).replace("2025-08-16T07:01:00Z", utc),
        record(2),
    )
    problems = verify(parse(text, "l.md"), config=Config())  # never raises
    assert all(d.code.startswith("LK") for d in problems)


@pytest.mark.parametrize("at", ["9999-12-31T23:59", "0001-01-01T00:00", "9999-12-31T23:59+14:00"])
def test_append_at_the_calendars_edges_is_one_line(tmp_path, at):
    path = tmp_path / "l.md"
    path.write_text(ledger(), encoding="utf-8")
    result = run(
        "append",
        str(path),
        "--scope",
        "SESSION",
        "--context-id",
        "S",
        "--source",
        "a.md",
        "--at",
        at,
        "--tz",
        "Pacific/Kiritimati",
    )
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    if result.exit_code == 2:
        assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "transcript",
    [
        "[" * 100_000 + "]" * 100_000,
        json.dumps([{"role": "user", "content": "x"}])[:-1] + ", " + "9" * 5000 + "]",
        '[{"role": "user", "content": ' + "9" * 5000 + "}]",
        '{"messages": ' + "[" * 50_000 + "]" * 50_000 + "}",
        "\n".join(["{" * 20_000 + "}" * 20_000] * 2),
    ],
)
def test_a_hostile_transcript_is_one_line_and_exit_2(tmp_path, transcript):
    (tmp_path / "chat.json").write_text(transcript, encoding="utf-8")
    result = run("count", "--messages", str(tmp_path / "chat.json"))
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("ledgerkit: ")


def test_an_interrupt_is_exit_130_and_one_line(tmp_path, monkeypatch):
    import importlib

    fill_module = importlib.import_module("ledgerkit.writing.fill")

    def interrupted(*args: object, **kw: object):
        raise KeyboardInterrupt

    monkeypatch.setattr(fill_module, "fill_in_place", interrupted)
    path = tmp_path / "l.md"
    path.write_text(ledger(record(1)), encoding="utf-8")
    result = run("fill", str(path))
    # click moves past the ^C a terminal shows with a newline of its own; then one line says what happened
    assert result.exit_code == 130 and result.stderr.strip() == "ledgerkit: interrupted"


def test_a_usage_error_is_one_line_and_in_json_when_asked(tmp_path):
    text = run("fill", "--no-such-option")
    assert text.exit_code == 2 and text.stderr.count("\n") == 1
    assert "--no-such-option" in text.stderr and "ledgerkit fill --help" in text.stderr
    as_json = run("verify", "--format", "json", "--base", "HEAD", "--no-base", "x.md")
    assert as_json.exit_code == 2 and as_json.stderr.count("\n") == 1
    (item,) = json.loads(as_json.stdout)
    assert item["severity"] == "fatal" and "at most one of" in item["message"]


def test_a_path_with_a_nul_byte_is_one_line(tmp_path):
    from ledgerkit.errors import LedgerkitError
    from ledgerkit.writing.fill import fill_file

    with pytest.raises(LedgerkitError):
        fill_file(Path(str(tmp_path / "l") + "\0.md"))
