"""Nothing leaked through a report: ledger text (NOTES, CONTEXT_ID, share names, file names) that a person or a
pull request wrote never becomes a live link, image or HTML in a Markdown report, nor a live formula in CSV."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path

import mistune
import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledgerkit.cli import cli
from ledgerkit.reports.export import dumps
from ledgerkit.writing.render import md_cell, md_code

from ..conftest import ledger, make_files, record

MARKDOWN = mistune.create_markdown(escape=False, plugins=["strikethrough", "footnotes", "table"])  # raw HTML kept
#: Every tag the report's own Markdown may make; a tag from the input would be another name (or <a>, <img>).
OWN_TAGS = {
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "h1",
    "h2",
    "pre",
    "p",
    "ul",
    "li",
    "code",
    "em",
    "strong",
    "del",
}
#: Link definitions a document might hold elsewhere: any [x][1], [x], [1] or [^1] in a cell would link to them.
DEFINITIONS = "\n\n[1]: http://tracker/one\n[x]: http://tracker/x\n[r]: javascript:alert(3)\n[^1]: a footnote\n"

PIECES = st.sampled_from(
    [
        "[", "]", "(", ")", "!", "<", ">", "`", "``", "\\", "|", "&", ":", "*", "_", "~", "#", " ", "\n", "\t", "x",
        "[x]", "[1]", "[r]", "[^1]", "][", "](", "[x](javascript:alert(1))", "![t](http://tracker/p.png)",
        "<javascript:alert(2)>", "<http://tracker/>", "<a href='http://tracker/'>", "<img src=x onerror=alert(1)>",
        "<script>", "&#91;", "&lt;", "&amp;", "&#x5B;", "http://tracker/p.png", "javascript:", "'", '"', "\\[", "\\`",
    ]
)  # fmt: skip
HOSTILE = st.lists(PIECES | st.text(max_size=3), max_size=14).map("".join)


def _tags(rendered: str) -> set[str]:
    return {m.lower() for m in re.findall(r"<\s*/?\s*([A-Za-z][A-Za-z0-9]*)", rendered)}


def _no_live_markup(rendered: str) -> None:
    assert "<a" not in rendered and "<img" not in rendered
    assert not re.search(r"<[^>]*\b(href|src)\s*=", rendered)
    assert _tags(rendered) <= OWN_TAGS, rendered


@settings(max_examples=300, deadline=None)
@given(cell=HOSTILE, code=HOSTILE, other=HOSTILE)
@example(cell="", code="~~[x]", other="~~")  # strikethrough opened in a cell swallowed the code span's fence
def test_ledger_text_in_a_markdown_report_makes_no_link_image_or_tag(cell, code, other):
    document = (
        f"# Report — {md_cell(cell)}\n\n"
        f"- {md_cell(other)}: {md_code(code)} — {md_cell(cell)}\n\n"
        "| Text | Path | More |\n|---|---|---|\n"
        f"| {md_cell(cell)} | {md_code(code)} | {md_cell(other)} |\n" + DEFINITIONS
    )
    rendered = MARKDOWN(document)
    _no_live_markup(rendered)
    row = rendered.split("<tbody>")[1]
    assert row.count("<td") == 3  # nothing in a cell splits the row


ORDINARY = st.text(st.characters(codec="utf-8", exclude_characters="*_\r", exclude_categories=["Cc", "Cs"]))


@settings(max_examples=300, deadline=None)
@given(text=HOSTILE.filter(lambda s: not re.search(r"[*_\r]", s)) | ORDINARY)
def test_a_cell_shows_exactly_the_text_that_was_written(text):
    # Without emphasis markers (left as Markdown on purpose, so file_names stay readable) a rendered cell is the
    # ledger's text, whitespace collapsed: every escape is invisible once rendered.
    rendered = MARKDOWN(f"| T |\n|---|\n| {md_cell(text)} |\n")
    shown = re.search(r"<td>(.*?)</td>", rendered, re.S)
    expected = " ".join(text.split())
    assert html.unescape(shown.group(1) if shown else "") == expected


@given(st.text(st.characters(codec="ascii", categories=["L", "N"]) | st.sampled_from(" .,-/:;()%+=#'\"")))
def test_ordinary_text_is_left_readable(text):
    assert md_cell(text) == " ".join(text.split())


def _hostile_ledger(tmp_path: Path) -> Path:
    link = "[x](javascript:alert(1))![t](http:tracker.example.png)<javascript:alert(2)>[r][1]"
    rec = (
        record(1, (f"{link}.md",), context=f"S{link}")
        .replace("  - margin: 10%", "  - m[y](javascript:z): 10%")
        .replace("  - note", f'  - {link} =HYPERLINK("http://tracker/","x")')
    )
    make_files(tmp_path, {"l.md": ledger(rec, budget=100) + DEFINITIONS, f"{link}.md": "x" * 40})
    return tmp_path / "l.md"


@pytest.mark.parametrize("command", ["rollup", "report"])
def test_a_hostile_ledgers_markdown_report_has_no_live_link(tmp_path, command):
    path = _hostile_ledger(tmp_path)
    session = "S[x](javascript:alert(1))![t](http:tracker.example.png)<javascript:alert(2)>[r][1]"
    args = ["rollup", str(path), "--session", session] if command == "rollup" else ["report", str(path)]
    result = CliRunner().invoke(cli, [*args, "--root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "javascript:alert(1)" in result.stdout  # the text is shown ...
    _no_live_markup(MARKDOWN(result.stdout + DEFINITIONS))  # ... and links nowhere


# --- CSV ---------------------------------------------------------------------------------------------------

FORMULA = ("=", "+", "-", "@", "\t", "\r")
CELL_TEXT = st.text() | st.tuples(
    st.sampled_from([*FORMULA, '=HYPERLINK("http://t/","x")', "-2+3", "@SUM(A1)"]), st.text()
).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(CELL_TEXT, min_size=1, max_size=3), number=st.integers(-(10**12), 10**12), mapping=CELL_TEXT)
def test_no_csv_cell_starts_a_formula_unless_it_is_a_number(texts, number, mapping):
    columns = ("t0", "t1", "t2", "n", "json")
    row = {f"t{i}": texts[i] if i < len(texts) else None for i in range(3)}
    row.update(n=number, json=[mapping])
    text = dumps([row], "csv", columns).decode("utf-8")
    header, parsed = list(csv.reader(io.StringIO(text)))
    assert tuple(header) == columns
    for column, cell in zip(columns, parsed, strict=True):
        assert not cell.startswith(FORMULA) or column == "n", (column, cell)
    assert parsed[3] == str(number)  # a number stays a number, negative or not
    for i, written in enumerate(texts):
        assert parsed[i] == ("'" + written if written.startswith(FORMULA) else written)  # nothing else changes
        if written.startswith(FORMULA):
            assert '"' + "'" + written[:1] in text  # neutralised and quoted
    assert json.loads(parsed[4]) == [mapping]


@given(st.lists(st.text().filter(lambda s: not s.startswith(FORMULA) and "\r" not in s), min_size=1, max_size=4))
def test_ordinary_cells_are_written_as_the_csv_module_writes_them(cells):
    columns = tuple(f"c{i}" for i in range(len(cells)))
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(columns)
    writer.writerow(cells)
    assert dumps([dict(zip(columns, cells, strict=True))], "csv", columns) == expected.getvalue().encode("utf-8")


def test_export_and_report_csv_neutralise_formulas_and_json_keeps_the_text(tmp_path):
    path = _hostile_ledger(tmp_path)
    text = path.read_text(encoding="utf-8").replace("CONTEXT_ID: S[x]", 'CONTEXT_ID: =HYPERLINK("http://t/")S[x]')
    path.write_text(text, encoding="utf-8")
    runner = CliRunner()
    exported = runner.invoke(cli, ["export", str(path), "--format", "csv", "--root", str(tmp_path)])
    assert exported.exit_code == 0, exported.output
    row = next(csv.DictReader(io.StringIO(exported.stdout)))
    assert row["context_id"].startswith("'=HYPERLINK(") and row["line"].isdigit()
    report = runner.invoke(cli, ["report", str(path), "--format", "csv", "--root", str(tmp_path)])
    assert next(csv.DictReader(io.StringIO(report.stdout)))["session_id"].startswith("'=HYPERLINK(")
    as_json = runner.invoke(cli, ["export", str(path), "--format", "json", "--root", str(tmp_path)])
    assert json.loads(as_json.stdout)[0]["context_id"].startswith('=HYPERLINK("http://t/")')
