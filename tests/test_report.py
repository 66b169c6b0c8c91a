"""Reports: rollup (md, html, json), report across ledgers, compare; goldens on the sample ledger."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgerkit.cli import cli
from ledgerkit.config import Config, Thresholds
from ledgerkit.reading.parse import load, parse
from ledgerkit.reading.values import read_values
from ledgerkit.reports.chart import chart
from ledgerkit.reports.formatting import bar
from ledgerkit.reports.records import UnknownSession, figured, note_for, row, session_of
from ledgerkit.reports.rollup import rollup
from ledgerkit.schema import read_integer as read_int
from ledgerkit.schema import read_percent
from ledgerkit.writing.render import md_cell, md_code, render

from .conftest import DATA, check_golden, ledger, make_files, record

GOLDEN = DATA / "reports"
SESSION = "GG-SESS-20250816-1620"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def in_sample(sample, monkeypatch) -> Path:
    """The sample copied to a temporary folder, which is the current folder (so paths print the same)."""
    monkeypatch.chdir(sample.parent)
    return Path(sample.name)


# --- goldens on the sample ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["md", "html", "json"])
def test_rollup_golden(in_sample, fmt):
    result = run("rollup", str(in_sample), "--session", SESSION, "--format", fmt)
    assert result.exit_code == 0, result.output
    check_golden(GOLDEN / f"rollup.{fmt}", result.stdout)


def test_rollup_golden_with_exact_counts(in_sample):
    result = run("rollup", str(in_sample), "--session", SESSION, "--encoding", "o200k_base")
    assert result.exit_code == 0, result.output
    check_golden(GOLDEN / "rollup.o200k_base.md", result.stdout)


@pytest.mark.parametrize("fmt", ["md", "json", "csv"])
def test_report_golden(in_sample, fmt):
    result = run("report", str(in_sample), "--format", fmt)
    assert result.exit_code == 0, result.output
    check_golden(GOLDEN / f"report.{fmt}", result.stdout)


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_compare_golden(in_sample, fmt):
    shutil.copy(GOLDEN / "two_sessions.md", "two_sessions.md")
    result = run(
        "compare",
        "two_sessions.md",
        "--session",
        "GG-SESS-BASELINE",
        "--session",
        "GG-SESS-OPTIMIZED",
        "--root",
        ".",
        "--format",
        fmt,
    )
    assert result.exit_code == 0, result.output
    check_golden(GOLDEN / f"compare.{fmt}", result.stdout)


# --- the JSON agrees with the ledger's own figures -----------------------------------------------------------


def test_rollup_json_agrees_with_the_filled_ledger(in_sample):
    data = json.loads(run("rollup", str(in_sample), "--session", SESSION, "--format", "json").stdout)
    assert run("fill", str(in_sample)).exit_code == 0
    filled = load(in_sample)
    config = Config()
    written = [read_values(r, filled, config.divisor) for r in filled.records]
    assert [r["run_id"] for r in data["records"]] == [r.run_id for r in filled.records]
    for r, w, rec in zip(data["records"], written, filled.records, strict=False):
        assert (r["char_count"], r["token_estimate"], r["threshold_action"]) == (
            w.chars.written,
            w.tokens.written,
            w.action.written,
        )
        assert Fraction(str(r["utilization"])) == w.utilization.written
        assert r["line"] == rec.line
    lines = filled.text.splitlines()
    block = "\n".join(lines[filled.summary.first - 1 : filled.summary.last])
    # The cumulative summary fill wrote says what the rollup says.
    assert f"CHAR_COUNT_TOTAL: {data['char_count_total']}" in block
    assert f"TOKEN_ESTIMATE_TOTAL: {data['token_estimate_total']}" in block
    peak = next(line for line in block.splitlines() if "UTILIZATION_PEAK" in line)
    assert read_percent(peak.split(":", 1)[1]) == Fraction(str(data["utilization_peak"]))
    assert isinstance(data["utilization_peak"], float) and data["entries"] == 2
    assert data["last_threshold_action"] == written[-1].action.written
    assert sum(read_int(str(r["char_count"])) for r in data["records"]) == data["char_count_total"]


def test_rollup_sources_are_largest_first_and_share_all(in_sample):
    data = json.loads(run("rollup", str(in_sample), "--session", SESSION, "--format", "json").stdout)
    costs = [s["loads"] * s["token_estimate"] for s in data["sources"]]
    assert costs == sorted(costs, reverse=True)
    assert sum(Fraction(str(s["share"])) for s in data["sources"]) <= 100
    assert sum(Fraction(str(s["share"])) for s in data["sources"]) > 99  # two decimals, toward zero, each
    memory = next(s for s in data["sources"] if s["path"].endswith("memory.log"))
    assert memory["loads"] == 2  # both records load it


def test_rollup_exact_counts_are_tiktokens(in_sample, reference):
    data = json.loads(
        run("rollup", str(in_sample), "--session", SESSION, "--format", "json", "-e", "o200k_base").stdout
    )
    assert data["encoding"] == "o200k_base"
    for s in data["sources"]:
        text = Path(s["path"].lstrip("/")).read_text(encoding="utf-8")
        assert s["token_count"] == len(reference["o200k_base"].encode_ordinary(text))


def test_allocation_in_tokens_is_budget_times_share(in_sample):
    data = json.loads(run("rollup", str(in_sample), "--session", SESSION, "--format", "json").stdout)
    assert data["allocation_from"] == "the session's last DISTRIBUTION"
    assert {a["name"]: a["tokens"] for a in data["allocation"]} == {
        "system": 13000,
        "rolling_summary": 26000,
        "task_brief_and_acceptance": 39000,
        "evidence_snippets": 39000,
        "margin": 13000,
    }


# --- a session with alerts ---------------------------------------------------------------------------------


def _hot(tmp_path: Path, figures: list[tuple[int, str]], policy: str = "") -> Path:
    """A ledger whose records load a.md with the given (char_count, context) and budget 100."""
    records = [
        record(i, char_count=str(c), token_estimate="ceil(CHAR_COUNT / 4) = [fill]", budget="100", context=ctx)
        for i, (c, ctx) in enumerate(figures, 1)
    ]
    text = ledger(*records, budget=100).replace("---\n\n## 6)", policy + "---\n\n## 6)", 1)
    make_files(tmp_path, {"ledger.md": text, "a.md": "x" * 10})
    return tmp_path / "ledger.md"


POLICY = """\
## 3) Thresholds and actions
- 70% first: trim the summaries
- 85% second: metadata only
- 95% third: minimal mode

"""


def test_threshold_events_carry_the_ledgers_own_advice(tmp_path):
    path = _hot(tmp_path, [(276, "S"), (280, "S"), (340, "S"), (380, "S"), (400, "S"), (401, "S")], POLICY)
    f = figured(load(path), Config(), root=tmp_path)
    report = rollup(f, "S")
    assert f.diagnostics == []
    assert [(e.row.run_id[-3:], e.row.action, e.note) for e in report.events] == [
        ("002", "ALERT70", "first: trim the summaries"),
        ("003", "ALERT85", "second: metadata only"),
        ("004", "ALERT95", "third: minimal mode"),
        ("005", "ALERT95", "third: minimal mode"),  # 100 % exactly is still ALERT95
        ("006", "MINIMAL", "third: minimal mode (over budget: split the run)"),
    ]
    md = render("rollup.md.j2", {"rollup": report, "chart": chart(report.rows, report.thresholds)})
    assert "- TB-LEDGER-20250816-006: 101.00% → MINIMAL — third: minimal mode (over budget: split the run)" in md
    assert "None: every record" not in md


def test_a_ledger_without_advice_still_names_the_event(tmp_path):
    path = _hot(tmp_path, [(300, "S")])
    report = rollup(figured(load(path), Config(), root=tmp_path), "S")
    assert [(e.row.action, e.level, e.note) for e in report.events] == [("ALERT70", 70, None)]


def test_note_for_follows_configured_levels():
    text = POLICY + "## 6) Ledger (append-only)\n"
    policy = parse(text)
    thresholds = Thresholds(alert70=Fraction(60), alert85=Fraction(80), alert95=Fraction(90), minimal=Fraction(100))
    notes = policy.threshold_notes
    assert note_for(notes, thresholds, "ALERT70") == (60, None)  # below every level the ledger wrote
    assert note_for(notes, thresholds, "ALERT85") == (80, "first: trim the summaries")
    assert note_for(notes, thresholds, "NONE") == (None, None)


def test_unknown_session_is_named_with_the_known_ones(in_sample):
    result = run("rollup", str(in_sample), "--session", "GG-SESS-NOPE")
    assert result.exit_code == 2
    assert result.stderr == (
        f"ledgerkit: {in_sample}: no session 'GG-SESS-NOPE' in the ledger (its sessions: {SESSION})\n"
    )
    assert result.stdout == ""
    with pytest.raises(UnknownSession):
        session_of(figured(load(in_sample), Config()), "x")


def test_rollup_reports_unmeasurable_sources_and_exits_1(tmp_path):
    path = _hot(tmp_path, [(100, "S")])
    path.write_text(path.read_text().replace("  - a.md\n", "  - a.md\n  - gone.md\n"))
    result = run("rollup", str(path), "--session", "S")
    assert result.exit_code == 1
    assert "LK201 source gone.md" in result.stderr
    assert "| `a.md` | 1 | 10 | 3 | 100.00% |" in result.stdout  # the rest is still reported


def test_rollup_of_placeholders_reports_what_fill_would_write(tmp_path):
    path = _hot(tmp_path, [(100, "S")])
    path.write_text(path.read_text().replace("- CHAR_COUNT: 100", "- CHAR_COUNT: [fill]"))
    before = path.read_bytes()
    data = json.loads(run("rollup", str(path), "--session", "S", "--format", "json").stdout)
    assert data["records"][0]["char_count"] == 10 and data["records"][0]["token_estimate"] == 3
    assert path.read_bytes() == before  # a report never writes the ledger


def test_output_file_is_written_and_stdout_stays_empty(in_sample, tmp_path):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "rollup.html"
    result = run("rollup", str(in_sample), "--session", SESSION, "--format", "html", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert (
        out.read_text(encoding="utf-8")
        == run("rollup", str(in_sample), "--session", SESSION, "--format", "html").stdout
    )
    assert [p.name for p in out.parent.iterdir()] == ["rollup.html"]  # no temporary file left behind


def test_output_into_a_missing_folder_is_one_line(in_sample, tmp_path):
    result = run("rollup", str(in_sample), "--session", SESSION, "-o", str(tmp_path / "no" / "r.md"))
    assert result.exit_code == 2
    assert result.stderr == f"ledgerkit: {tmp_path / 'no'}: no such folder\n"


# --- hostile text ----------------------------------------------------------------------------------------


HOSTILE = "<script>alert(1)</script>"


def _hostile_ledger(tmp_path: Path) -> Path:
    rec = record(
        1, context=f"S{HOSTILE}", char_count="10", token_estimate="3", budget="100", utilization="3.00%", action="NONE"
    ).replace("  - note", f"  - {HOSTILE} | pipe")
    policy = POLICY.replace("trim the summaries", f"trim {HOSTILE}")
    text = ledger(rec, budget=100).replace("---\n\n## 6)", policy + "---\n\n## 6)", 1)
    make_files(tmp_path, {"ledger.md": text, f"a{HOSTILE}.md": "x" * 10})
    path = tmp_path / "ledger.md"
    path.write_text(
        path.read_text()
        .replace("  - a.md\n", f"  - a{HOSTILE}.md\n")
        .replace("3.00%", "[fill]%")
        .replace("- CHAR_COUNT: 10", "- CHAR_COUNT: 280")
        .replace("TOKEN_ESTIMATE: 3", "TOKEN_ESTIMATE: 70")
        .replace("THRESHOLD_ACTION: NONE", "THRESHOLD_ACTION: [fill]")
    )
    return path


def test_html_escapes_everything_from_the_ledger(tmp_path):
    path = _hostile_ledger(tmp_path)
    result = run("rollup", str(path), "--session", f"S{HOSTILE}", "--format", "html", "--root", str(tmp_path))
    assert result.exit_code == 0, result.output
    html = result.stdout
    assert "<script" not in html.lower()
    assert "S&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the session id, shown as text
    assert "a&lt;script&gt;alert(1)&lt;/script&gt;.md" in html  # a source path
    assert "trim &lt;script&gt;" in html  # the ledger's own advice
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no external asset
    assert "https://" not in html and "src=" not in html and "<link" not in html


def test_markdown_escapes_table_cells_and_html(tmp_path):
    path = _hostile_ledger(tmp_path)
    md = run("rollup", str(path), "--session", f"S{HOSTILE}", "--root", str(tmp_path)).stdout
    # Inside a code span (a path) text is never HTML; everywhere else a < is escaped.
    assert "<script" not in re.sub(r"`[^`]*`", "", md)
    assert "| `a<script>alert(1)</script>.md` |" in md
    assert "# Session rollup — S&lt;script&gt;alert(1)&lt;/script&gt;" in md
    for line in md.splitlines():
        if line.startswith("| `a"):
            assert line.count(" | ") == 4  # five cells: the path's characters never split the row


def test_md_filters():
    assert md_cell("a|b\nc <i>") == "a\\|b c &lt;i&gt;"
    assert md_cell(None) == ""
    assert md_code("a`b") == "``a`b``"
    assert md_code("`a") == "`` `a ``"
    assert md_code("x|y") == "`x\\|y`"


def test_templates_run_sandboxed(tmp_path):
    from ledgerkit.errors import TemplateError

    (tmp_path / "rollup.md.j2").write_text("{{ rollup.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(TemplateError, match="unsafe"):
        render("rollup.md.j2", {"rollup": object()}, tmp_path)


def test_a_users_template_replaces_the_default(in_sample, tmp_path):
    (tmp_path / "rollup.md.j2").write_text("{{ rollup.session.id }}: {{ rollup.session.token_estimate_total }}\n")
    result = run("rollup", str(in_sample), "--session", SESSION, "--templates", str(tmp_path))
    assert result.stdout == f"{SESSION}: 1746\n"


# --- report across ledgers --------------------------------------------------------------------------------


def test_report_has_one_row_per_session_across_ledgers(tmp_path):
    one = _hot(tmp_path, [(100, "A"), (200, "B"), (300, "A")])
    other = tmp_path / "other"
    other.mkdir()
    two = _hot(other, [(40, "C")])
    rows = list(csv.DictReader(io.StringIO(run("report", str(one), str(two), "--format", "csv").stdout)))
    assert [(r["ledger"], r["session_id"], r["entries"], r["token_estimate_total"]) for r in rows] == [
        (str(one), "A", "2", "100"),
        (str(one), "B", "1", "50"),
        (str(two), "C", "1", "10"),
    ]
    assert rows[0]["first_ts"] == "2025-08-16T07:01:00Z" and rows[0]["last_ts"] == "2025-08-16T07:03:00Z"
    assert rows[0]["utilization_peak"] == "75"
    assert rows[0]["last_threshold_action"] == "ALERT70"


# --- compare ---------------------------------------------------------------------------------------------


def test_compare_two_ledgers_whole(tmp_path):
    base = _hot(tmp_path, [(400, "A")])
    make_files(tmp_path, {"b.md": "y" * 40})
    opt = tmp_path / "opt.md"
    opt.write_text(base.read_text().replace("  - a.md\n", "  - b.md\n").replace("CHAR_COUNT: 400", "CHAR_COUNT: 40"))
    data = json.loads(run("compare", str(base), str(opt), "--format", "json").stdout)
    assert data["token_saving"] == 90 and data["char_saving"] == 360 and data["saving_percent"] == 90
    assert [d["path"] for d in data["dropped"]] == ["a.md"] and [d["path"] for d in data["added"]] == ["b.md"]
    assert data["added"][0]["cost"] == 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x.md"], "name the two sessions"),
        (["x.md", "--session", "A"], "name the two sessions"),
        (["x.md", "y.md", "--session", "A"], "give no --session"),
        (["x.md", "y.md", "z.md"], "one ledger with two --session, or two ledgers"),
    ],
)
def test_compare_usage_errors(args, message):
    result = run("compare", *args)
    assert result.exit_code == 2 and message in result.stderr


def test_compare_more_costly_optimized_side_says_so(tmp_path):
    path = _hot(tmp_path, [(40, "A"), (400, "B")])
    md = run("compare", str(path), "--session", "A", "--session", "B").stdout
    assert "| Est. tokens | 10 | 100 | -90 (-900.00%) |" in md
    assert "The optimized side costs 90 tokens more than the baseline." in md


# --- drawing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "expected"),
    [
        (None, ""),
        (0, ""),
        (Fraction(5, 8), "▏"),
        (5, "█"),
        (100, "█" * 20),
        (120, "█" * 24),
        (Fraction(1201, 10), "█" * 24 + "▶"),
    ],
)
def test_bar(percent, expected):
    assert bar(None if percent is None else Fraction(percent)) == expected


def test_chart_places_the_alert_lines_in_order_and_bars_below_the_budget_line(tmp_path):
    path = _hot(tmp_path, [(200, "S"), (400, "S"), (1000, "S")])
    report = rollup(figured(load(path), Config(), root=tmp_path), "S")
    c = chart(report.rows, report.thresholds)
    ys = {line.name: line.y for line in c.lines}
    assert c.top <= ys["MINIMAL"] < ys["ALERT95"] < ys["ALERT85"] < ys["ALERT70"] < c.bottom
    budget_y = ys["MINIMAL"]
    assert [b.y < budget_y for b in c.bars] == [False, False, True]  # 50 %, 100 %, 250 %
    assert c.bars[1].y == budget_y
    assert all(c.top <= b.y <= c.bottom for b in c.bars)  # 250 % is capped at the top
    assert [b.capped for b in c.bars] == [False, False, True]


def test_row_reads_times():
    r = row(figured(parse(ledger(record(5)), "x.md"), Config()).records[0])
    assert r.local_time == "2025-08-16 16:05 KST"
    assert r.moment.isoformat() == "2025-08-16T07:05:00+00:00"


def test_sources_are_shown_as_written_and_matched_as_files(tmp_path):
    # Issue 15: a source written `a.md` was shown as `/a.md`. It is shown as the first record wrote it, and
    # still counted as one file however it is spelled: `a.md` and `/a.md` are one source in a rollup, and
    # neither added nor dropped in a comparison.
    make_files(tmp_path, {"a.md": "x" * 10, "b.md": "y" * 40})
    base, opt = tmp_path / "base.md", tmp_path / "opt.md"
    base.write_text(ledger(record(1, ("a.md",), context="A"), record(2, ("/a.md",), context="A"), budget=100))
    opt.write_text(ledger(record(1, ("/a.md", "b.md"), context="B"), budget=100))
    md = run("rollup", str(base)).stdout
    assert "| `a.md` | 2 |" in md and "`/a.md`" not in md
    data = json.loads(run("compare", str(base), str(opt), "--format", "json").stdout)
    assert data["dropped"] == [] and [d["path"] for d in data["added"]] == ["b.md"]
