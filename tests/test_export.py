"""export: every record as typed data, in JSON, JSON Lines and CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from fractions import Fraction

import hypothesis.strategies as st
import pytest
from click.testing import CliRunner
from hypothesis import given, settings

from ledgerkit.cli import cli
from ledgerkit.config import Config
from ledgerkit.reading.parse import load
from ledgerkit.reading.values import read_values
from ledgerkit.reports.export import COLUMNS
from ledgerkit.reports.formatting import json_data, json_text

from .conftest import DATA, check_golden, ledger, make_files, record

GOLDEN = DATA / "reports"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_export_golden(sample, monkeypatch, fmt):
    monkeypatch.chdir(sample.parent)
    result = run("export", sample.name, "--format", fmt)
    assert result.exit_code == 0, result.output
    check_golden(GOLDEN / f"export.{fmt}", result.stdout)


def test_json_is_typed_and_agrees_with_the_filled_ledger(sample, monkeypatch):
    monkeypatch.chdir(sample.parent)
    data = json.loads(run("export", sample.name).stdout)
    assert run("fill", sample.name).exit_code == 0
    filled = load(sample.name)
    assert len(data) == len(filled.records) == 2
    for item, r in zip(data, filled.records, strict=False):
        w = read_values(r, filled, Config().divisor)
        assert list(item) == list(COLUMNS)
        assert item["run_id"] == r.run_id and item["line"] == r.line
        assert isinstance(item["char_count"], int) and item["char_count"] == w.chars.written
        assert isinstance(item["token_estimate"], int) and item["token_estimate"] == w.tokens.written
        assert isinstance(item["budget"], int) and item["budget"] == 130000
        assert isinstance(item["utilization"], float) and Fraction(str(item["utilization"])) == w.utilization.written
        assert item["threshold_action"] == w.action.written  # the level reached is what fill writes
        assert item["written_threshold_action"] in (None, w.action.written)  # as the unfilled ledger wrote it
        assert datetime.fromisoformat(item["local_ts"]).utcoffset().total_seconds() == 9 * 3600
        assert datetime.fromisoformat(item["utc_ts"].replace("Z", "+00:00")) == datetime.fromisoformat(item["local_ts"])
        assert isinstance(item["sources"], list) and all(s.startswith("/gumgang_meeting/") for s in item["sources"])
        assert sum(item["distribution"].values()) == 100
    assert len(data[0]["sources"]) == 7 and data[1]["notes"] == ["15분 미니 롤업/“CHECKPOINT NOW” 트리거 시 갱신."]


def test_jsonl_and_csv_carry_the_same_records(sample, monkeypatch):
    monkeypatch.chdir(sample.parent)
    as_json = json.loads(run("export", sample.name).stdout)
    as_jsonl = [json.loads(line) for line in run("export", sample.name, "--format", "jsonl").stdout.splitlines()]
    assert as_jsonl == as_json
    rows = list(csv.DictReader(io.StringIO(run("export", sample.name, "--format", "csv").stdout)))
    for item, r in zip(as_json, rows, strict=False):
        assert int(r["char_count"]) == item["char_count"] and float(r["utilization"]) == item["utilization"]
        assert json.loads(r["sources"]) == item["sources"]  # a list is one cell holding its JSON
        assert json.loads(r["distribution"]) == item["distribution"]


def test_missing_figures_are_null_and_an_exact_count_is_exported(tmp_path):
    rec = record(1, char_count="[fill]", extra="- TOKEN_COUNT (o200k_base): [fill]")
    make_files(tmp_path, {"ledger.md": ledger(rec, record(2, ("gone.md",))), "a.md": "hello world"})
    result = run("export", str(tmp_path / "ledger.md"), "--format", "jsonl")
    assert result.exit_code == 1  # gone.md is reported; the rest is exported
    assert "LK201" in result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["char_count"] == 11 and first["token_counts"] == {"o200k_base": 2}
    assert second["char_count"] is None and second["utilization"] is None and second["threshold_action"] is None
    csv_row = list(csv.DictReader(io.StringIO(run("export", str(tmp_path / "ledger.md"), "--format", "csv").stdout)))[1]
    assert csv_row["char_count"] == "" and csv_row["token_counts"] == "{}"


def test_export_of_many_ledgers_names_each(tmp_path):
    make_files(
        tmp_path,
        {
            "a/ledger.md": ledger(record(1, char_count="4")),
            "b/ledger.md": ledger(record(1, char_count="8")),
            "a/a.md": "",
            "b/a.md": "",
        },
    )
    data = json.loads(run("export", str(tmp_path / "a/ledger.md"), str(tmp_path / "b/ledger.md")).stdout)
    assert [(d["ledger"], d["char_count"]) for d in data] == [
        (str(tmp_path / "a/ledger.md"), 4),
        (str(tmp_path / "b/ledger.md"), 8),
    ]


def test_a_missing_ledger_is_one_line_and_exit_2(tmp_path):
    result = run("export", str(tmp_path / "nope.md"))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "nope.md" in result.stderr


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
_KEYS = st.text() | st.integers() | st.booleans() | st.none() | st.floats()


@settings(max_examples=400, deadline=None)
@given(
    st.recursive(
        _SCALARS,
        lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(_KEYS, inner, max_size=4),
        max_leaves=30,
    )
)
def test_the_json_writer_writes_what_json_writes(value):
    """Every JSON report and export is written by formatting.json_text, which must write exactly what
    json.dumps(value, ensure_ascii=False, indent=2) writes, for any value json takes."""
    assert json_text(value) == json.dumps(value, ensure_ascii=False, indent=2)
    assert json_data(value) == json_text(value).encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(_KEYS, _SCALARS, max_size=3), max_size=4), st.sampled_from(["", "\n"]))
def test_json_data_is_the_json_text_in_utf_8(records, end):
    """An export's JSON is made an item at a time, as bytes; records with the same keys share their labels,
    and keys that are equal but written apart (1, 1.0, True) never do."""
    twice = records + records
    assert json_data(twice, end) == json_text(twice, end).encode("utf-8")
    assert json_data(twice, end) == (json.dumps(twice, ensure_ascii=False, indent=2) + end).encode("utf-8")


def test_equal_keys_of_different_types_keep_their_own_labels():
    value = [{1: "a"}, {True: "b"}, {1.0: "c"}, {"1": "d"}, {None: "e"}]
    assert json_text(value) == json.dumps(value, ensure_ascii=False, indent=2)
    assert json_text(value[::-1]) == json.dumps(value[::-1], ensure_ascii=False, indent=2)


@pytest.mark.parametrize("value", [{1j: 1}, [Fraction(1, 3)], {"a": {1, 2}}])
def test_the_json_writer_refuses_what_json_refuses(value):
    with pytest.raises(TypeError):
        json.dumps(value)
    with pytest.raises(TypeError):
        json_text(value)


def test_an_array_is_made_a_record_at_a_time():
    """One record with an emoji makes a Python string of a whole export four bytes a character; json_array
    holds one record's text at a time and the UTF-8 bytes, so what it holds is about twice its output (an
    export's records are about 800 bytes each)."""
    import tracemalloc

    records = [{"run_id": f"R-{i}", "notes": ["🪷 " + "x" * 600], "line": i} for i in range(3000)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        data = json_data(records, "\n")
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert data == json_text(records, "\n").encode("utf-8")
    assert peak < 3 * len(data), peak / len(data)  # 9.3 when the text was joined whole, then encoded
