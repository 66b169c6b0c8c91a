from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction

import pytest
from click.testing import CliRunner

from ledgerkit.checks.schema import check_fields, check_run_ids, check_times, check_values
from ledgerkit.checks.verify import DEFAULT_CHECKS, verify
from ledgerkit.cli import cli
from ledgerkit.config import Config
from ledgerkit.reading.parse import load, parse
from ledgerkit.schema import read_local_time as read_local_ts
from ledgerkit.writing.fill import fill_file

from .conftest import REFERENCE, dedent, ledger, make_files, record


def codes(text: str, config: Config | None = None, **kwargs) -> list[tuple[str, int]]:
    lk = parse(text, "l.md")
    return [(d.code, d.line) for d in verify(lk, config=config or Config(), **kwargs)]


def line_of(text: str, line: str, start: int = 0) -> int:
    return text.split("\n").index(line, start) + 1


def test_the_reference_verifies_clean_unfilled_and_filled(sample):
    assert verify(load(REFERENCE)) == []
    base = load(sample)
    fill_file(sample)
    assert verify(load(sample), base=base) == []


def test_markdown_without_records_is_not_checked():
    assert verify(parse("# README\n\n## Allocation\n- a: 5%\n")) == []


# --- figures -------------------------------------------------------------------------------------------


def test_figures_must_agree():
    text = ledger(
        record(
            1, char_count="4000", token_estimate="ceil(CHAR_COUNT / 4) = 999", utilization="99.90%", action="ALERT95"
        ),
        record(2, char_count="4000", token_estimate="1000", utilization="100%", action="NONE"),
        record(
            3, char_count="4000", token_estimate="ceil(CHAR_COUNT / 3) = 1334", utilization="100.00%", action="ALERT95"
        ),
    )
    lk = parse(text, "l.md")
    found = verify(lk, config=Config())
    second = line_of(text, "### RUN_ID: TB-LEDGER-20250816-002")
    third = line_of(text, "### RUN_ID: TB-LEDGER-20250816-003")
    assert [(d.code, d.line) for d in found] == [
        ("LK301", line_of(text, "- TOKEN_ESTIMATE: ceil(CHAR_COUNT / 4) = 999")),
        ("LK303", line_of(text, "- THRESHOLD_ACTION: NONE", second)),
        ("LK302", line_of(text, "- UTILIZATION: 100.00%", third)),
        ("LK303", line_of(text, "- THRESHOLD_ACTION: ALERT95", third)),
    ]
    assert found[0].message == "TOKEN_ESTIMATE 999 is not ceil(CHAR_COUNT / 4) = 1000"
    assert found[1].message == "THRESHOLD_ACTION NONE, but a utilization of 100.00% calls for ALERT95"
    assert (
        found[2].message == "UTILIZATION 100.00% is not TOKEN_ESTIMATE / BUDGET_C = 133.40% (two decimals, toward zero)"
    )


def test_waiting_placeholders_are_not_errors_and_unreadable_figures_are():
    assert codes(ledger(record(1))) == []
    text = ledger(record(1, char_count="many", budget="0", action="ALERT100"))
    assert [c for c, _ in codes(text)] == ["LK103", "LK107", "LK106"]


def test_a_truncated_utilization_is_what_fill_writes():
    ok = ledger(record(1, char_count="2796", token_estimate="699", budget="1000", utilization="69.90%", action="NONE"))
    assert codes(ok) == []
    rounded = ok.replace("69.90%", "69.9%")
    assert codes(rounded) == []  # the same number, written shorter
    up = ledger(record(1, char_count="8", token_estimate="2", budget="3", utilization="66.67%", action="NONE"))
    assert [c for c, _ in codes(up)] == ["LK302"]  # rounded to nearest, not toward zero


# --- allocation ----------------------------------------------------------------------------------------


def test_allocation_checks():
    policy = dedent(
        """
        ## 2) Allocation
        - system: 10%
        - rest: 80%
        - 상황에 따라 ±5~10% 조정 가능(총합 100% 준수)

        """
    )
    rec = (
        record(1)
        .replace("  - system: 10%", "  - system: 25%")
        .replace("  - margin: 10%", "  - margin: 10%  (a note)\n  - margin-ish\n  - extra: 12.5%")
    )
    text = ledger(rec).replace("## 6) Ledger", policy + "## 6) Ledger")
    found = {(c, n) for c, n in codes(text)}
    assert found == {
        ("LK402", line_of(text, "## 2) Allocation")),
        ("LK401", line_of(text, "- DISTRIBUTION:")),
        ("LK403", line_of(text, "  - system: 25%")),
        ("LK404", line_of(text, "  - margin-ish")),
    }
    tolerant = Config(allocation_tolerance=Fraction(15))
    assert "LK403" not in {c for c, _ in codes(text, tolerant)}


def test_decimal_shares_sum_exactly():
    rec = record(1).replace("  - system: 10%", "  - system: 12.5%").replace("  - margin: 10%", "  - margin: 7.5%")
    assert codes(ledger(rec)) == []


# --- schema --------------------------------------------------------------------------------------------


def test_schema_checks():
    first = record(1)
    dup = record(1)
    backwards = record(3).replace("2025-08-16T07:03:00Z", "2025-08-16T06:00:00Z").replace("16:03 KST", "15:00 KST")
    renumbered = record(2)  # after 003: does not increase
    no_time = record(5).replace("- LOCAL_TS: 2025-08-16 16:05 KST (UTC+09:00)", "- LOCAL_TS: yesterday")
    bad = (
        record(6)
        .replace("RUN_ID: TB-LEDGER-20250816-006", "RUN_ID: TB-LEDGER-20250817-006")
        .replace("- SCOPE: SESSION", "- SCOPE: SPRINT")
        .replace("- UTC_TS: 2025-08-16T07:06:00Z", "- UTC_TS: 2025-08-16T08:06:00Z")
        .replace("- NOTES:", "- NOTE:")
    )
    text = ledger(first, dup, backwards, renumbered, no_time, bad)
    lk = parse(text, "l.md")
    found = [(d.code, d.line) for d in check_schema(lk, _context())]
    heads = [r.line for r in lk.records]
    assert ("LK502", heads[1]) in found
    assert ("LK507", line_of(text, "- UTC_TS: 2025-08-16T06:00:00Z")) in found
    assert ("LK503", heads[3]) in found
    assert ("LK505", line_of(text, "- LOCAL_TS: yesterday")) in found
    assert ("LK504", heads[5]) in found
    assert ("LK508", line_of(text, "- SCOPE: SPRINT")) in found
    assert ("LK506", line_of(text, "- UTC_TS: 2025-08-16T08:06:00Z")) in found
    assert ("LK511", heads[5]) in found  # no NOTES
    assert ("LK512", line_of(text, "- NOTE:")) in found
    assert len(found) == 9


def _context():
    from ledgerkit.checks.verify import Context

    return Context(Config())


def check_schema(lk, context):
    """The schema's rule families together: values read, RUN_IDs, times, fields."""
    return [d for check in (check_values, check_run_ids, check_times, check_fields) for d in check(lk, context)]


def test_run_id_prefix_is_configurable():
    text = ledger(record(1).replace("TB-LEDGER-", "OPS-"))
    assert [c for c, _ in codes(text)] == ["LK501"]
    assert codes(text, Config(run_id_prefix="OPS")) == []


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2025-08-16 16:20 KST (UTC+09:00)", "2025-08-16T16:20:00+09:00"),
        ("2025-08-16 16:20:30 (UTC-05:30)", "2025-08-16T16:20:30-05:30"),
        ("2025-08-16 16:20 CET (UTC+1)", "2025-08-16T16:20:00+01:00"),
        ("2025-08-16T16:20:00+09:00", "2025-08-16T16:20:00+09:00"),
        ("2025-08-16 07:20 UTC (UTC)", "2025-08-16T07:20:00+00:00"),
        ("2025-08-16 16:20 KST", None),  # no offset: the zone name alone is ambiguous
        ("2025-02-30 16:20 KST (UTC+09:00)", None),
    ],
)
def test_local_timestamps(text, iso):
    moment = read_local_ts(text)
    assert (moment.isoformat() if moment else None) == iso


def test_checks_can_be_extended_by_copying_the_default_list():
    def no_notes(lk, context):
        return [d for d in []]

    text = ledger(record(1))
    assert verify(parse(text), config=Config(), checks=(*DEFAULT_CHECKS, no_notes)) == []
    assert isinstance(DEFAULT_CHECKS, tuple)  # cannot be mutated in place


# --- the command ---------------------------------------------------------------------------------------


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_cli_formats_and_exit_codes(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text(ledger(record(1, char_count="10", token_estimate="9")), encoding="utf-8")
    warn = tmp_path / "warn.md"
    warn.write_text(ledger(record(1, extra="- COLOUR: blue\n")), encoding="utf-8")
    text = run("verify", "--no-base", str(bad))
    line = line_of(bad.read_text(encoding="utf-8"), "- TOKEN_ESTIMATE: 9")
    assert (text.exit_code, text.stderr) == (1, "")
    assert text.stdout == f"{bad}:{line}:19: LK301 TOKEN_ESTIMATE 9 is not ceil(CHAR_COUNT / 4) = 3\n"
    as_json = json.loads(run("verify", "--no-base", "--format", "json", str(bad), str(warn)).stdout)
    assert [(d["code"], d["severity"]) for d in as_json] == [("LK301", "error"), ("LK512", "warning")]
    github = run("verify", "--no-base", "--format", "github", str(warn))
    assert github.exit_code == 0  # a warning alone passes
    assert github.stdout.startswith(f"::warning file={warn},line=")
    assert run("verify", "--no-base", "--format", "json", str(warn)).exit_code == 0
    assert run("verify").exit_code == 0  # no files: nothing to do


def test_cli_usage_and_io_errors(tmp_path):
    (tmp_path / "l.md").write_text(ledger(record(1)), encoding="utf-8")
    both = run("verify", "--no-base", "--base", "HEAD", str(tmp_path / "l.md"))
    assert both.exit_code == 2 and "at most one of --base, --base-file and --no-base" in both.stderr
    missing = run("verify", str(tmp_path / "nope.md"))
    assert missing.exit_code == 2 and missing.stderr == f"ledgerkit: {tmp_path / 'nope.md'}: no such file\n"
    outside = run("verify", "--base", "HEAD", str(tmp_path / "l.md"))
    assert outside.exit_code == 2 and "is not in a git repository" in outside.stderr


# --- against git ---------------------------------------------------------------------------------------


def git(folder, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    return subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def repo(tmp_path):
    make_files(tmp_path, {"a.md": "x" * 40})
    path = tmp_path / "ledger.md"
    path.write_text(ledger(record(1, ("a.md",)), record(2, ("a.md",))), encoding="utf-8")
    git(tmp_path, "init", "-q", "-b", "main")
    fill_file(path, config=Config())
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "base")
    return path


def test_head_is_the_default_base(repo):
    text = repo.read_text(encoding="utf-8")
    repo.write_text(text.replace("- CHAR_COUNT: 40", "- CHAR_COUNT: 41", 1), encoding="utf-8")
    result = run("verify", str(repo))
    assert (
        result.exit_code == 1
        and "LK605 CHAR_COUNT of record TB-LEDGER-20250816-001 changed from '40' to '41'" in result.stdout
    )
    assert run("verify", "--no-base", str(repo)).exit_code == 1  # still LK301 figures, without history
    repo.write_text(
        text.replace("### RUN_ID: TB-LEDGER-20250816-002", "### RUN_ID: TB-LEDGER-20250816-009"), encoding="utf-8"
    )
    assert "LK607" in run("verify", str(repo)).stdout


def test_an_append_passes_and_other_revisions_can_be_named(repo):
    text = repo.read_text(encoding="utf-8")
    appended = text.replace("## 7) Cumulative Summary", record(3, ("a.md",)) + "## 7) Cumulative Summary")
    repo.write_text(appended, encoding="utf-8")
    assert run("verify", str(repo)).exit_code == 0
    git(repo.parent, "commit", "-qam", "append")
    repo.write_text(text, encoding="utf-8")  # record 3 removed again: HEAD has it, HEAD~1 does not
    assert run("verify", str(repo)).exit_code == 1
    assert run("verify", "--base", "HEAD~1", str(repo)).exit_code == 0
    bad = run("verify", "--base", "no-such-branch", str(repo))
    assert bad.exit_code == 2 and bad.stderr.strip().endswith("--base no-such-branch: no such git revision")


def test_a_ledger_new_to_git_has_no_base(repo):
    new = repo.parent / "new.md"
    new.write_text(repo.read_text(encoding="utf-8"), encoding="utf-8")
    assert run("verify", str(new)).exit_code == 0
    git(repo.parent, "add", "new.md")  # staged, not committed: still no base in HEAD
    assert run("verify", str(new)).exit_code == 0


def test_base_file(tmp_path, sample):
    base = tmp_path / "base.md"
    base.write_bytes(sample.read_bytes())
    fill_file(sample)
    assert run("verify", "--base-file", str(base), str(sample)).exit_code == 0
    tampered = sample.read_text(encoding="utf-8").replace("GG-SESS-20250816-1620", "GG-SESS-20250816-1621", 1)
    sample.write_text(tampered, encoding="utf-8")
    result = run("verify", "--base-file", str(base), str(sample))
    assert result.exit_code == 1 and "LK605 CONTEXT_ID of record TB-LEDGER-20250816-001 changed" in result.stdout


def test_the_hook_on_the_reference_ledger_loads_only_what_it_uses():
    """Issue 12: the hook's start-up. verify of the reference ledger against git HEAD, as pre-commit runs it,
    leaves out whatever that run does not use: mistune (its quote ends at a blank line), ruamel.yaml (its
    configuration is flat), jinja2, tiktoken and the editor's libraries, writing, measuring files, encodings,
    and the standard modules only other paths need; on Linux, where the base's git process is spawned
    directly, subprocess too."""
    spawned = ("subprocess", "signal") if hasattr(os, "posix_spawnp") and hasattr(os, "pidfd_open") else ()
    unused = (
        *spawned,
        "mistune",
        "ruamel.yaml",
        "jinja2",
        "tiktoken",
        "pygls",
        "lsprotocol",
        "watchfiles",
        "shutil",
        "tempfile",
        "hashlib",
        "json",
        "dataclasses",
        "string",
        "ledgerkit.checks.walk",
        "ledgerkit.files.atomic",
        "ledgerkit.files.lock",
        "ledgerkit.measuring.measure",
        "ledgerkit.measuring.files",
        "ledgerkit.measuring.resolve",
        "ledgerkit.measuring.folders",
        "ledgerkit.tokens.encodings",
    )
    code = (
        "import sys\n"
        "from ledgerkit.cli import cli\n"
        "try:\n"
        f"    cli.main(['verify', {str(REFERENCE)!r}], standalone_mode=False)\n"
        "finally:\n"
        f"    print(sorted(m for m in {unused!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=REFERENCE.parent, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr


# --- LK210: a source listed twice in one record (issue 15) -------------------------------------------------


def test_a_source_listed_twice_in_a_record_is_a_warning(tmp_path):
    from ledgerkit.checks.context import Context
    from ledgerkit.checks.sources import check_sources
    from ledgerkit.config import Config
    from ledgerkit.reading.parse import parse

    from .conftest import ledger, record

    path = tmp_path / "sub" / "ledger.md"
    path.parent.mkdir()
    text = ledger(
        record(1, ("a.md", "b.md", "a.md", "./b.md", "a.md:1-2", "/sub/a.md", "c.md:1-2", "c.md:1-3")),
        record(2, ("a.md",)),  # another record may load it again
    )
    path.write_text(text, encoding="utf-8")
    lk = parse(text, str(path))
    found = check_sources(lk, Context(Config(root=tmp_path)))
    entries = lk.records[0].field("SOURCE_FILES").entries
    first = entries[0].line
    assert [(d.code, d.severity, d.line, d.message) for d in found] == [
        (
            "LK210",
            "warning",
            first + 2,
            f"source a.md is listed twice in record {lk.records[0].run_id} (also at line {first}); it is counted once",
        ),
        (
            "LK210",
            "warning",
            first + 3,
            f"source ./b.md names the same file as b.md (line {first + 1}) in record "
            f"{lk.records[0].run_id}; it is counted once",
        ),
        (
            "LK210",
            "warning",
            first + 5,
            f"source /sub/a.md names the same file as a.md (line {first}) in record "
            f"{lk.records[0].run_id}; it is counted once",
        ),
    ]


def test_verify_reports_lk210_and_still_exits_0(tmp_path):
    from click.testing import CliRunner

    from ledgerkit.cli import cli

    from .conftest import ledger, make_files, record

    make_files(tmp_path, {"a.md": "x", "ledger.md": ledger(record(1, ("a.md", "a.md")))})
    result = CliRunner().invoke(cli, ["verify", "--no-base", str(tmp_path / "ledger.md")])
    assert result.exit_code == 0
    assert "LK210 [warning] source a.md is listed twice" in result.stdout


def test_a_source_named_twice_is_judged_against_the_root_given_on_the_command_line(tmp_path):
    # /sub/a.md and a.md are one file when the ledger lies in sub/ of the source root given by --root; the
    # configuration's root (none here: the ledger's folder) must not decide it instead.
    from click.testing import CliRunner

    from ledgerkit.cli import cli

    from .conftest import ledger, make_files, record

    make_files(tmp_path, {"sub/a.md": "x" * 40, "sub/l.md": ledger(record(1, ("a.md", "/sub/a.md")))})
    for command in ("verify", "fill"):
        result = CliRunner().invoke(cli, [command, "--root", str(tmp_path), str(tmp_path / "sub" / "l.md")])
        assert "LK210" in result.output, (command, result.output)


def test_a_source_listed_twice_is_said_in_every_record_that_does_so(tmp_path):
    """check_sources reads each text once per ledger; every record is still judged, at its own lines."""
    from ledgerkit.checks.context import Context
    from ledgerkit.checks.sources import check_sources
    from ledgerkit.config import Config
    from ledgerkit.reading.parse import parse

    from .conftest import ledger, record

    records = [record(1, ("a.md", "b.md")), record(2, ("a.md", "a.md")), record(3, ("b.md", "./b.md", "a.md"))]
    lk = parse(ledger(*records), str(tmp_path / "ledger.md"))
    found = check_sources(lk, Context(Config()))
    lines = [next(f for f in r.fields if f.key == "SOURCE_FILES").entries for r in lk.records]
    assert [(d.code, d.line) for d in found] == [("LK210", lines[1][1].line), ("LK210", lines[2][1].line)]


def _verify_ledger(folder, records: int, *, base: bool):
    """A ledger of ``records`` (a note with an emoji in each, which makes a text four bytes a character), with HEAD
    holding it one record shorter (``base``)."""
    folder.mkdir(parents=True)
    make_files(folder, {"src/a.md": "한국어 text 🪷\n" * 40})
    path = folder / "l.md"

    def text(n: int) -> str:
        notes = (f"  - 기록 {k} 🪷\n" for k in range(1, n + 1))
        return ledger(*(record(k, ("/a.md",), context=f"S{k // 50}", extra=e) for k, e in enumerate(notes, 1)))

    if base:
        git(folder, "init", "-q")
        path.write_text(text(records - 1), encoding="utf-8")
        git(folder, "add", "l.md")
        git(folder, "commit", "-q", "-m", "base")
    path.write_text(text(records), encoding="utf-8")
    return path


# In a process of its own, so that what earlier tests left in this one (imports, caches) cannot move the figure.
# A first run, untraced, imports what verify imports only when it runs.
_PEAKS = """
import sys, tracemalloc
from ledgerkit.api import verify_path
base = "HEAD" if sys.argv[1] == "head" else None
verify_path(sys.argv[2], base=base)
for path in sys.argv[2:]:
    tracemalloc.start()
    verify_path(path, base=base)
    print(tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()
"""


@pytest.mark.parametrize(("base", "bound"), [(False, 18), (True, 21)])
def test_verify_holds_a_ledgers_lines_not_its_text(tmp_path, base, bound):
    """Traced memory, counted (not timed), per byte each added record costs at the peak. A text with one emoji is
    4 bytes a character: verify decoded the whole text beside its lines (and against HEAD the base's text too,
    and held the base's bytes to the end); it now holds lines, decoded a piece at a time, a line met again once."""
    paths = [_verify_ledger(tmp_path / str(n), n, base=base) for n in (200, 800)]
    done = subprocess.run(
        [sys.executable, "-c", _PEAKS, "head" if base else "none", *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
    )
    small, large = map(int, done.stdout.split())
    per_byte = (large - small) / (paths[1].stat().st_size - paths[0].stat().st_size)
    assert per_byte < bound, per_byte  # 14.5 without a base and 15.7 against HEAD; 22.1 and 27.3 before
