"""ledgerkit append: the next record, inserted at the end of the ledger section and nowhere else."""

from __future__ import annotations

import importlib
import sys
import time
from datetime import UTC, datetime, timedelta

import hypothesis.strategies as st
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from ledgerkit.checks.verify import verify
from ledgerkit.cli import cli
from ledgerkit.config import Config
from ledgerkit.errors import LedgerkitError, TemplateError
from ledgerkit.reading.parse import load, parse
from ledgerkit.reading.values import read_values
from ledgerkit.schema import REQUIRED as SCHEMA_FIELDS
from ledgerkit.writing.append import NewRecord, append, local_ts, next_run_id, parse_at, record_time, utc_ts, zone
from ledgerkit.writing.fill import fill
from ledgerkit.writing.init import new_ledger

from .conftest import REPO, ledger, make_files, record

SEOUL_1620 = ["--at", "2025-08-16T16:20", "--tz", "Asia/Seoul"]
NEW = NewRecord("SESSION", "GG-SESS-20250816-1620", ("a.md",), ("note",))


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def _append_args(path, *extra: str) -> list[str]:
    return [
        "append",
        str(path),
        "--scope",
        "SESSION",
        "--context-id",
        "GG-SESS-20250816-1620",
        "--source",
        "a.md",
        *extra,
    ]


def _inserted(before: str, after: str) -> str:
    """The one run of text inserted into ``before`` to give ``after``; fails if anything else changed."""
    start = 0
    while start < len(before) and before[start] == after[start]:
        start += 1
    end = 0
    while end < len(before) - start and before[len(before) - 1 - end] == after[len(after) - 1 - end]:
        end += 1
    assert before[:start] + before[len(before) - end :] == before, "bytes of the ledger changed, not only inserted"
    inserted = after[start : len(after) - end]
    assert after == before[:start] + inserted + before[len(before) - end :]
    return inserted


def _insert_after(before: str, line: int, text: str) -> str:
    lines = before.splitlines(keepends=True)
    return "".join(lines[:line]) + text + "".join(lines[line:])


def _seoul(hh: int, mm: int, day: int = 16) -> datetime:
    return record_time(datetime(2025, 8, day, hh, mm), "Asia/Seoul")


# --- the record ----------------------------------------------------------------------------------------


def test_append_to_the_reference_ledger(sample):
    before = sample.read_text(encoding="utf-8")
    result = run(
        *_append_args(
            sample,
            "--source",
            "/gumgang_meeting/memory/memory.log",
            "--note",
            "세 번째 로드",
            "--at",
            "2025-08-16T17:20",
            "--tz",
            "Asia/Seoul",
        )
    )
    after = sample.read_text(encoding="utf-8")
    lk = parse(after)
    assert [r.run_id for r in lk.records][-1] == "TB-LEDGER-20250816-003"
    new = lk.records[-1]
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr == f"{sample}:{new.line}: appended TB-LEDGER-20250816-003\n"
    assert lk.ledger_section is not None and new.end_line < lk.summary.heading_line
    last = parse(before).records[-1]
    assert after == _insert_after(before, last.end_line, "\n---\n\n" + lk.record_text(new))
    assert lk.record_text(new) == (
        "### RUN_ID: TB-LEDGER-20250816-003\n"
        "- LOCAL_TS: 2025-08-16 17:20 KST (UTC+09:00)\n"
        "- UTC_TS: 2025-08-16T08:20:00Z\n"
        "- SCOPE: SESSION\n"
        "- CONTEXT_ID: GG-SESS-20250816-1620\n"
        "- SOURCE_FILES:\n"
        "  - a.md\n"
        "  - /gumgang_meeting/memory/memory.log\n"
        "- CHAR_COUNT: [fill_after_measure]\n"
        "- TOKEN_ESTIMATE: ceil(CHAR_COUNT / 4) = [fill]\n"
        "- BUDGET_C: 130000\n"
        "- UTILIZATION: [fill]%\n"
        "- DISTRIBUTION:\n"
        "  - system: 10%\n"
        "  - rolling_summary: 20%\n"
        "  - task_brief_and_acceptance: 30%\n"
        "  - evidence_snippets: 30%\n"
        "  - margin: 10%\n"
        "- THRESHOLD_ACTION: [fill]\n"
        "- NOTES:\n"
        "  - 세 번째 로드\n"
    )
    assert [f.key for f in new.fields] == list(SCHEMA_FIELDS)
    # the record before it and the summary are untouched (no --fill)
    assert lk.records[1].run_id == "TB-LEDGER-20250816-002" and lk.records[1].end_line < new.line
    assert "  - ENTRIES: 2\n" in after


def test_first_record_goes_under_the_ledger_heading_before_the_summary(tmp_path):
    path = tmp_path / "l.md"
    path.write_text(new_ledger(lang="en", config=Config()), encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    assert run(*_append_args(path, *SEOUL_1620)).exit_code == 0
    after = path.read_text(encoding="utf-8")
    _inserted(before, after)
    section = after.split("## 6) Ledger (append-only)\n", 1)[1].split("## 7) Cumulative Summary", 1)[0]
    assert section.startswith(
        "\nNew records go at the end of this section. Earlier records are never edited.\n\n### RUN_ID:"
    )
    assert section.endswith("- NOTES:\n\n---\n\n")


def test_second_record_follows_the_first_with_a_break(tmp_path):
    path = tmp_path / "l.md"
    path.write_text(new_ledger(lang="ko", config=Config()), encoding="utf-8")
    run(*_append_args(path, *SEOUL_1620))
    before = path.read_text(encoding="utf-8")
    run(*_append_args(path, "--at", "2025-08-16T16:50", "--tz", "Asia/Seoul"))
    after = path.read_text(encoding="utf-8")
    new = parse(after).records[-1]
    assert after == _insert_after(
        before, parse(before).records[-1].end_line, "\n---\n\n" + parse(after).record_text(new)
    )
    assert (
        parse(after)
        .record_text(new)
        .startswith("### RUN_ID: TB-LEDGER-20250816-002\n- LOCAL_TS: 2025-08-16 16:50 KST (UTC+09:00)\n")
    )


def test_run_id_counts_within_the_local_day():
    lk = parse(ledger(record(1), record(2), record(7)))  # 2025-08-16, 16:01..16:07 KST
    assert next_run_id(lk, _seoul(17, 0)) == "TB-LEDGER-20250816-008"
    assert next_run_id(lk, _seoul(0, 5, day=17)) == "TB-LEDGER-20250817-001"
    # The local date decides: 2025-08-16T15:30Z is already the 17th in Seoul.
    assert next_run_id(lk, record_time(parse_at("2025-08-16T15:30Z"), "Asia/Seoul")) == "TB-LEDGER-20250817-001"
    assert next_run_id(parse(ledger()), _seoul(9, 0)) == "TB-LEDGER-20250816-001"


def test_run_ids_of_another_shape_are_not_counted():
    text = ledger(record(1)).replace("TB-LEDGER-20250816-001", "RUN-7")
    assert next_run_id(parse(text), _seoul(17, 0)) == "TB-LEDGER-20250816-001"


def test_a_ledger_never_goes_back_in_time(tmp_path):
    path = tmp_path / "l.md"
    path.write_text(ledger(record(5)), encoding="utf-8")  # 2025-08-16 16:05 KST = 07:05Z
    data = path.read_bytes()
    earlier = run(*_append_args(path, "--at", "2025-08-16T16:04", "--tz", "Asia/Seoul"))
    assert earlier.exit_code == 2 and earlier.stdout == ""
    assert earlier.stderr == (
        f"ledgerkit: {path}: the new record's time 2025-08-16T07:04:00Z is before that of TB-LEDGER-20250816-005 "
        "(line 10, 2025-08-16T07:05:00Z): the ledger only goes forward (see --at, --tz)\n"
    )
    day_before = run(*_append_args(path, "--at", "2025-08-15T23:59", "--tz", "Asia/Seoul"))
    assert day_before.exit_code == 2 and "local date 2025-08-15 is before the last record's" in day_before.stderr
    assert path.read_bytes() == data
    same_minute = run(*_append_args(path, "--at", "2025-08-16T16:05", "--tz", "Asia/Seoul"))
    assert same_minute.exit_code == 0 and parse(path.read_text(encoding="utf-8")).records[-1].run_id.endswith("-006")


def test_the_latest_time_of_any_record_counts_as_verify_reads_it():
    # The second record is dated before the first (already an LK507 in that ledger): the new one must follow
    # the latest, 16:09; a record whose UTC_TS cannot be read is timed by its LOCAL_TS.
    text = ledger(record(9), record(10)).replace("07:10:00Z", "07:01:00Z").replace("16:10 KST", "16:01 KST")
    with pytest.raises(LedgerkitError, match="before that of TB-LEDGER-20250816-009"):
        next_run_id(parse(text), _seoul(16, 5))
    assert next_run_id(parse(text), _seoul(16, 9)) == "TB-LEDGER-20250816-011"
    unreadable_utc = ledger(record(9)).replace("2025-08-16T07:09:00Z", "soon")
    with pytest.raises(LedgerkitError, match=r"\(line 10, 2025-08-16T07:09:00Z\)"):
        next_run_id(parse(unreadable_utc), _seoul(16, 8))


def test_nnn_has_three_digits():
    lk = parse(ledger(record(1)).replace("20250816-001", "20250816-999"))
    with pytest.raises(LedgerkitError, match="already has 999 records"):
        next_run_id(lk, _seoul(17, 0))


# --- time ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "tz", "local", "utc"),
    [
        ("2025-08-16T16:20", "Asia/Seoul", "2025-08-16 16:20 KST (UTC+09:00)", "2025-08-16T07:20:00Z"),
        ("2025-08-16T07:20:00Z", "Asia/Seoul", "2025-08-16 16:20 KST (UTC+09:00)", "2025-08-16T07:20:00Z"),
        ("2025-08-16T16:20:59.5+09:00", "Asia/Seoul", "2025-08-16 16:20 KST (UTC+09:00)", "2025-08-16T07:20:00Z"),
        ("2025-08-16 16:20", "America/New_York", "2025-08-16 16:20 EDT (UTC-04:00)", "2025-08-16T20:20:00Z"),
        ("2025-01-16 16:20", "America/New_York", "2025-01-16 16:20 EST (UTC-05:00)", "2025-01-16T21:20:00Z"),
        ("2025-08-16T16:20", "Asia/Kolkata", "2025-08-16 16:20 IST (UTC+05:30)", "2025-08-16T10:50:00Z"),
        ("2025-08-16T16:20", "America/St_Johns", "2025-08-16 16:20 NDT (UTC-02:30)", "2025-08-16T18:50:00Z"),
        ("2025-08-16T16:20", "UTC", "2025-08-16 16:20 UTC (UTC+00:00)", "2025-08-16T16:20:00Z"),
        ("2025-08-16T00:10", "Asia/Seoul", "2025-08-16 00:10 KST (UTC+09:00)", "2025-08-15T15:10:00Z"),
    ],
)
def test_timestamps_in_the_reference_style(at, tz, local, utc):
    moment = record_time(parse_at(at), tz)
    assert (local_ts(moment), utc_ts(moment)) == (local, utc)


def test_without_tz_the_machines_zone_is_used(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Seoul")
    time.tzset()
    try:
        naive = record_time(parse_at("2025-08-16T16:20"))
        assert (local_ts(naive), utc_ts(naive)) == ("2025-08-16 16:20 KST (UTC+09:00)", "2025-08-16T07:20:00Z")
        aware = record_time(parse_at("2025-08-16T07:20Z"))
        assert local_ts(aware) == "2025-08-16 16:20 KST (UTC+09:00)"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_without_at_the_time_is_now():
    before = datetime.now(UTC).replace(second=0, microsecond=0)
    moment = record_time(None, "Asia/Seoul")
    after = datetime.now(UTC)
    assert before <= moment <= after
    assert moment.second == 0 and moment.microsecond == 0 and moment.tzname() == "KST"


def test_unknown_zone_and_bad_timestamp_are_one_clear_line(tmp_path):
    path = tmp_path / "l.md"
    path.write_text(ledger(), encoding="utf-8")
    bad_zone = run(*_append_args(path, "--tz", "Mars/Olympus_Mons"))
    assert bad_zone.exit_code == 2 and bad_zone.stderr == (
        "ledgerkit: unknown time zone 'Mars/Olympus_Mons': this system's time zone database has no such zone "
        "(an IANA name such as Asia/Seoul; without a database, `pip install tzdata`)\n"
    )
    not_a_name = run(*_append_args(path, "--tz", "../etc/passwd"))
    assert not_a_name.exit_code == 2 and "is not a time zone name" in not_a_name.stderr
    bad_at = run(*_append_args(path, "--at", "yesterday"))
    assert bad_at.exit_code == 2
    assert bad_at.stderr == "ledgerkit: 'yesterday' is not an ISO 8601 date and time such as 2025-08-16T16:20\n"
    assert path.read_text(encoding="utf-8") == ledger()


def test_a_machine_without_a_time_zone_database_is_a_clear_error(monkeypatch):
    zoneinfo = importlib.import_module("zoneinfo")
    monkeypatch.setitem(sys.modules, "tzdata", None)  # no tzdata package either
    zoneinfo.reset_tzpath(to=[])
    zoneinfo.ZoneInfo.clear_cache()
    try:
        with pytest.raises(LedgerkitError, match=r"unknown time zone 'Asia/Seoul'.*pip install tzdata"):
            zone("Asia/Seoul")
    finally:
        zoneinfo.reset_tzpath()
        zoneinfo.ZoneInfo.clear_cache()
    assert zone("Asia/Seoul") is not None


# --- budget, distribution, sources, notes --------------------------------------------------------------


def test_budget_comes_from_section_0_else_the_configuration_else_a_placeholder(tmp_path):
    no_section_0 = ledger().replace("- SESSION_BUDGET_C: 1000 tokens\n", "")
    cases = [
        (ledger(budget=4321), Config(), "4321"),
        (no_section_0, Config(budget=777), "777"),
        (no_section_0, Config(), "[fill]"),
    ]
    for text, config, expected in cases:
        result = append(parse(text), NEW, moment=_seoul(16, 20), config=config)
        assert parse(result.text).records[-1].get("BUDGET_C") == expected


def test_distribution_and_divisor_follow_the_configuration(tmp_path):
    make_files(
        tmp_path,
        {
            "ledgerkit.yaml": "divisor: 3\nallocation: {system: 12.5, summary: 27.5, brief: 60}\n",
            "l.md": ledger(),
        },
    )
    assert run(*_append_args(tmp_path / "l.md", *SEOUL_1620)).exit_code == 0
    lk = load(tmp_path / "l.md")
    new = lk.records[-1]
    shares = read_values(new, lk, 3).distribution
    assert [(s.name, s.percent) for s in shares] == [("system", 12.5), ("summary", 27.5), ("brief", 60)]
    assert new.get("TOKEN_ESTIMATE") == "ceil(CHAR_COUNT / 3) = [fill]"


def test_sources_and_notes_are_written_as_given(tmp_path):
    new = NewRecord(
        "TASK",
        "T-42",
        ("/docs/brief.md:10-40", "src/한글 이름.md", "lib/**/*.py  # all of it"),
        ("🪷 첫 로드", "second"),
    )
    lk = parse(append(parse(ledger()), new, moment=_seoul(16, 20), config=Config()).text)
    record_ = lk.records[-1]
    assert [e.text for e in record_.field("SOURCE_FILES").entries] == list(new.sources)
    assert [e.text for e in record_.field("NOTES").entries] == list(new.notes)
    assert record_.get("SCOPE") == "TASK" and record_.context_id == "T-42"


def test_no_notes_leaves_notes_empty():
    lk = parse(
        append(parse(ledger()), NewRecord("SESSION", "S", ("a.md",)), moment=_seoul(16, 20), config=Config()).text
    )
    notes = lk.records[-1].field("NOTES")
    assert notes is not None and notes.value == "" and notes.entries == ()


@pytest.mark.parametrize(
    ("new", "message"),
    [
        (NewRecord("SESSION", "S", ("a.md",), ("two\nlines",)), "a note holds a line break"),
        (NewRecord("SESSION", "S\r", ("a.md",)), "CONTEXT_ID holds a line break"),
        (NewRecord("SESSION", " ", ("a.md",)), "CONTEXT_ID is empty"),
        (NewRecord("SESSION", "S", ()), "at least one source"),
        (NewRecord("SESSION", "S", ("",)), "a source is empty"),
        (NewRecord("DAY", "S", ("a.md",)), "SCOPE 'DAY' is not one of CONV|UNIT|TASK|SESSION|PROJECT"),
    ],
)
def test_values_that_cannot_be_one_line_items_are_refused(new, message):
    with pytest.raises(LedgerkitError, match=message):
        append(parse(ledger()), new, moment=_seoul(16, 20), config=Config())


def test_cli_usage_errors_exit_2(tmp_path):
    path = tmp_path / "l.md"
    path.write_text(ledger(), encoding="utf-8")
    assert run("append", str(path), "--context-id", "S", "--source", "a.md").exit_code == 2  # no --scope
    assert run("append", str(path), "--scope", "DAY", "--context-id", "S", "--source", "a.md").exit_code == 2
    assert run("append", str(path), "--scope", "SESSION", "--context-id", "S").exit_code == 2  # no --source
    newline = run(*_append_args(path, "--note", "a\nb"))
    assert newline.exit_code == 2 and newline.stderr.startswith("ledgerkit: a note holds a line break")
    missing = run(*_append_args(tmp_path / "missing.md"))
    assert missing.exit_code == 2 and missing.stderr == f"ledgerkit: {tmp_path / 'missing.md'}: no such file\n"
    assert path.read_text(encoding="utf-8") == ledger()


def test_a_file_without_a_ledger_section_is_refused(tmp_path):
    path = tmp_path / "README.md"
    path.write_text("# Notes\n\nNothing here.\n", encoding="utf-8")
    result = run(*_append_args(path))
    assert result.exit_code == 2
    assert result.stderr == (
        f"ledgerkit: {path}: no ledger section to append to: add a heading such as "
        "'## 6) Ledger (append-only)' or '## 6) 원장(append-only)'\n"
    )


# --- bytes ---------------------------------------------------------------------------------------------


def test_crlf_and_bom_are_kept_and_only_the_record_is_inserted(tmp_path):
    path = tmp_path / "l.md"
    before = ("\ufeff" + ledger(record(1))).replace("\n", "\r\n").encode()
    path.write_bytes(before)
    path.chmod(0o640)
    assert run(*_append_args(path, *SEOUL_1620)).exit_code == 0
    after = path.read_bytes()
    assert after.startswith(b"\xef\xbb\xbf") and b"\n" not in after.replace(b"\r\n", b"")
    _inserted(before.decode(), after.decode())
    old = parse(before.decode())
    new = parse(after.decode()).records[-1]
    assert after.decode() == _insert_after(
        before.decode(), old.records[-1].end_line, "\r\n---\r\n\r\n" + parse(after.decode()).record_text(new)
    )
    assert parse(after.decode()).record_text(new).startswith("### RUN_ID: TB-LEDGER-20250816-002\r\n")
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_ledger_ending_without_a_newline(tmp_path):
    path = tmp_path / "l.md"
    text = ledger(record(1), summary=False).rstrip("\n-").rstrip("\n")  # ends on the last note, no newline
    path.write_text(text, encoding="utf-8")
    assert run(*_append_args(path, *SEOUL_1620)).exit_code == 0
    after = path.read_text(encoding="utf-8")
    assert after.startswith(text) and after[len(text) :].startswith("\n\n---\n\n### RUN_ID: TB-LEDGER-20250816-002\n")
    assert [r.run_id for r in parse(after).records] == ["TB-LEDGER-20250816-001", "TB-LEDGER-20250816-002"]


def test_a_change_on_disk_meanwhile_is_not_lost(tmp_path, monkeypatch):
    append_module = importlib.import_module("ledgerkit.writing.append")
    path = tmp_path / "l.md"
    path.write_text(ledger(), encoding="utf-8")
    real = append_module.append
    calls = []

    def person_saves_meanwhile(*args, **kwargs):
        result = real(*args, **kwargs)
        if not calls:
            path.write_text(ledger(record(1)), encoding="utf-8")  # a person's save lands now
        calls.append(1)
        return result

    monkeypatch.setattr(append_module, "append", person_saves_meanwhile)
    result = append_module.append_file(path, NEW, at=datetime(2025, 8, 16, 17, 0), tz="Asia/Seoul", config=Config())
    assert len(calls) == 2 and result.run_id == "TB-LEDGER-20250816-002"
    assert [r.run_id for r in load(path).records] == ["TB-LEDGER-20250816-001", "TB-LEDGER-20250816-002"]


def test_a_record_template_that_breaks_the_record_is_refused(tmp_path):
    make_files(tmp_path, {"t/record.md.j2": "## RUN_ID: {{ run_id }}\n- SCOPE: {{ scope }}\n", "l.md": ledger()})
    with pytest.raises(TemplateError, match="does not give one record '### RUN_ID: TB-LEDGER-20250816-001'"):
        append(parse(ledger()), NEW, moment=_seoul(16, 20), config=Config(templates=tmp_path / "t"))
    result = run(*_append_args(tmp_path / "l.md", "--templates", str(tmp_path / "t"), *SEOUL_1620))
    assert result.exit_code == 2 and (tmp_path / "l.md").read_text(encoding="utf-8") == ledger()


# --- --fill --------------------------------------------------------------------------------------------


def test_fill_at_once(tmp_path):
    make_files(tmp_path, {"a.md": "x" * 4001, "l.md": ledger(budget=1000)})
    path = tmp_path / "l.md"
    result = run(*_append_args(path, "--fill", *SEOUL_1620))
    assert (result.exit_code, result.stdout) == (0, "")
    lk = load(path)
    new = lk.records[-1]
    assert result.stderr == f"{path}:{new.line}: appended TB-LEDGER-20250816-001 and filled 1 record and the summary\n"
    assert (new.get("CHAR_COUNT"), new.get("TOKEN_ESTIMATE"), new.get("UTILIZATION"), new.get("THRESHOLD_ACTION")) == (
        "4001",
        "ceil(CHAR_COUNT / 4) = 1001",
        "100.10%",
        "MINIMAL",
    )
    assert "  - ENTRIES: 1\n  - CHAR_COUNT_TOTAL: 4001\n" in lk.text
    # exactly what append followed by fill gives
    plain = tmp_path / "plain.md"
    plain.write_text(ledger(budget=1000), encoding="utf-8")
    run(*_append_args(plain, *SEOUL_1620))
    run("fill", str(plain))
    assert plain.read_bytes() == path.read_bytes()


def test_fill_problems_are_reported_and_the_record_stays_to_be_fixed(tmp_path):
    path = tmp_path / "l.md"
    path.write_text(ledger(), encoding="utf-8")
    result = run(*_append_args(path, "--fill", *SEOUL_1620))
    new = load(path).records[-1]
    assert result.exit_code == 1
    assert result.stdout == f"{path}:{new.field('SOURCE_FILES').entries[0].line}:5: LK201 source a.md not found\n"
    # Said plainly: the record could not be filled (issue 15), where version 1 said "and filled the summary".
    assert result.stderr == (
        f"{path}:{new.line}: appended TB-LEDGER-20250816-001; its figures could not be filled (see the problems "
        "below), and the record keeps its placeholders\n"
    )
    assert new.get("CHAR_COUNT") == "[fill_after_measure]"


# --- a property ----------------------------------------------------------------------------------------

_line = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"), min_size=1, max_size=30
).filter(str.strip)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(st.tuples(st.integers(0, 2000), st.lists(_line, max_size=3)), min_size=1, max_size=5),
    crlf=st.booleans(),
    start=st.sampled_from(["init-ko", "init-en", "records"]),
)
def test_appends_only_insert_and_always_read_back(steps, crlf, start):
    text = {
        "init-ko": new_ledger(lang="ko", config=Config()),
        "init-en": new_ledger(lang="en", config=Config()),
        "records": ledger(record(1), record(2)),
    }[start]
    if crlf:
        text = text.replace("\n", "\r\n")
    lk = parse(text)
    minutes = 17 * 60  # after the conftest records (16:0N KST)
    for gap, notes in steps:
        minutes += gap
        moment = record_time(datetime(2025, 8, 16) + timedelta(minutes=minutes), "Asia/Seoul")
        result = append(lk, NewRecord("SESSION", "S", ("a.md",), tuple(notes)), moment=moment, config=Config())
        _inserted(lk.text, result.text)
        after = parse(result.text)
        assert [r.run_id for r in after.records] == [r.run_id for r in lk.records] + [result.run_id]
        assert after.records[-1].line == result.line
        assert [e.text for e in after.records[-1].field("NOTES").entries] == [n.strip() for n in notes]
        assert after.summary is not None and after.records[-1].end_line < after.summary.heading_line
        assert ("\r\n" in result.text) == crlf and (not crlf or "\n" not in result.text.replace("\r\n", ""))
        assert verify(after, base=lk, config=Config()) == []
        lk = after
    ids = [r.run_id for r in lk.records]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert fill(lk, config=Config()).text.count("### RUN_ID:") == len(ids)


# --- verify ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fill_figures", [False, True], ids=["placeholders", "filled"])
def test_an_append_verifies_clean_against_the_ledger_before_it(sample, fill_figures):
    base = sample.with_name("base.md")
    base.write_bytes(sample.read_bytes())
    assert verify(load(base)) == []  # the reference, unfilled, verifies clean: so must what append makes of it
    args = ["--source", "/gumgang_meeting/memory/memory.log", "--at", "2025-08-16T17:20", "--tz", "Asia/Seoul"]
    appended = run(*_append_args(sample, *args, *(["--fill"] if fill_figures else [])))
    assert appended.exit_code == (1 if fill_figures else 0)  # a.md is not in the sample: LK201 for it
    result = run("verify", "--base-file", str(base), str(sample))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert verify(load(sample), base=load(base)) == []


def test_appends_to_a_new_ledger_verify_clean_and_filled_too(tmp_path):
    make_files(tmp_path, {"a.md": "x" * 40000, "b.md": "y" * 175000})
    path = tmp_path / "l.md"
    path.write_text(new_ledger(budget=50000, config=Config()), encoding="utf-8")
    for at, source in (("09:00", "a.md"), ("10:00", "b.md"), ("11:00", "a.md")):
        before = load(path)
        result = run(
            "append",
            str(path),
            "--scope",
            "SESSION",
            "--context-id",
            "S",
            "--source",
            source,
            "--fill",
            "--at",
            f"2025-08-16T{at}",
            "--tz",
            "Asia/Seoul",
        )
        assert result.exit_code == 0, result.output
        assert verify(load(path), base=before, config=Config()) == []
    actions = [r.get("THRESHOLD_ACTION") for r in load(path).records]
    assert actions == ["NONE", "ALERT85", "NONE"]  # 20.00%, 87.50%, 20.00% of 50,000


@pytest.mark.parametrize("tz", ["America/Sao_Paulo", "Asia/Kathmandu", "Etc/GMT-14", "UTC", "Europe/London"])
def test_every_zone_writes_timestamps_verify_reads(tz):
    lk = parse(ledger())
    result = append(lk, NEW, moment=record_time(parse_at("2025-08-16T16:20"), tz), config=Config())
    new = parse(result.text).records[-1]
    assert verify(parse(result.text), base=lk, config=Config()) == []
    assert new.get("LOCAL_TS").startswith("2025-08-16 16:20 ")


def test_numeric_zone_abbreviations_are_left_out():
    assert local_ts(record_time(parse_at("2025-08-16T16:20"), "America/Sao_Paulo")) == "2025-08-16 16:20 (UTC-03:00)"
    assert local_ts(record_time(parse_at("2025-08-16T16:20+05:45"), "Asia/Kathmandu")) == "2025-08-16 16:20 (UTC+05:45)"


def test_the_configured_run_id_prefix(tmp_path):
    make_files(tmp_path, {"ledgerkit.yaml": "run_id_prefix: OPS-LOG\n"})
    path = tmp_path / "l.md"
    assert run("init", str(path)).exit_code == 0
    assert "- RUN_ID: `OPS-LOG-YYYYMMDD-NNN`" in path.read_text(encoding="utf-8")
    assert run(*_append_args(path, *SEOUL_1620)).exit_code == 0
    assert load(path).records[-1].run_id == "OPS-LOG-20250816-001"
    assert run("verify", str(path)).exit_code == 0


def test_a_record_template_that_verify_rejects_is_refused(tmp_path):
    template = (REPO / "templates" / "record.md.j2").read_text(encoding="utf-8").replace("- SCOPE: {{ scope }}\n", "")
    make_files(tmp_path, {"t/record.md.j2": template})
    with pytest.raises(
        TemplateError,
        match=r"would not pass verify: <ledger>:\d+:\d+: LK511 record TB-LEDGER-20250816-001 has no SCOPE field",
    ):
        append(parse(ledger()), NEW, moment=_seoul(16, 20), config=Config(templates=tmp_path / "t"))


def test_a_source_given_twice_is_a_warning_and_still_appended(tmp_path):
    # Issue 15: a source listed twice in one record was counted once without a word.
    path = tmp_path / "l.md"
    path.write_text(ledger(), encoding="utf-8")
    (tmp_path / "a.md").write_text("x" * 40, encoding="utf-8")
    result = run(*_append_args(path, "--source", "./a.md", "--fill", *SEOUL_1620))
    assert result.exit_code == 0, result.output
    new = load(path).records[-1]
    first, second = (e.line for e in new.field("SOURCE_FILES").entries)
    assert result.stdout == (
        f"{path}:{second}:5: LK210 [warning] source ./a.md names the same file as a.md (line {first}) in record "
        f"{new.run_id}; it is counted once\n"
    )
    assert new.get("CHAR_COUNT") == "40"
