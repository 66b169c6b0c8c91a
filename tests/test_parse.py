from __future__ import annotations

from fractions import Fraction

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from ledgerkit.reading.parse import PLACEHOLDER, Shapes, parse
from ledgerkit.reading.values import read_values

from .conftest import REFERENCE, REPO, dedent, ledger, record
from .test_blocks import _document, _markdown_files


def test_reference_ledger_records_and_fields():
    lk = parse(REFERENCE.read_text(encoding="utf-8"), str(REFERENCE))
    assert [r.run_id for r in lk.records] == ["TB-LEDGER-20250816-001", "TB-LEDGER-20250816-002"]
    first, second = lk.records
    assert (first.line, first.end_line) == (76, 101)
    assert lk.lines.contents[first.line - 1] == "### RUN_ID: TB-LEDGER-20250816-001"
    assert first.column == len("### RUN_ID: ") + 1
    assert [f.key for f in first.fields] == [
        "LOCAL_TS",
        "UTC_TS",
        "SCOPE",
        "CONTEXT_ID",
        "SOURCE_FILES",
        "CHAR_COUNT",
        "TOKEN_ESTIMATE",
        "BUDGET_C",
        "UTILIZATION",
        "DISTRIBUTION",
        "THRESHOLD_ACTION",
        "NOTES",
    ]
    sources = first.field("SOURCE_FILES")
    assert sources is not None and len(sources.entries) == 7
    assert sources.entries[0].text == "/gumgang_meeting/memory/memory.log  # 의식·서명·선언·결정"
    assert sources.entries[0].column == 5
    token = first.field("TOKEN_ESTIMATE")
    assert token is not None and token.value == "ceil(CHAR_COUNT / 4) = [fill]"
    line = lk.lines.contents[token.line - 1]
    assert line[token.value_column - 1 :] == token.value
    assert second.get("THRESHOLD_ACTION") == "{NONE|ALERT70|ALERT85|ALERT95|MINIMAL} → [fill]"
    assert [s.percent for s in read_values(second, lk, 4).distribution] == [10, 20, 30, 30, 10]


def test_reference_ledger_sections():
    lk = parse(REFERENCE.read_text(encoding="utf-8"))
    assert lk.budget is not None and lk.budget.value == 130000 and lk.budget.line == 10
    assert [s.percent for s in lk.allocation] == [10, 20, 30, 30, 10]
    assert lk.allocation[0].name == "시스템/원칙(SSOT 요지·불변식·지시문)"
    assert set(lk.threshold_notes) == {Fraction(70), Fraction(85), Fraction(95)}
    assert lk.threshold_notes[Fraction(85)].startswith("경보2:")
    assert lk.summary is not None
    assert (lk.summary.heading_line, lk.summary.first, lk.summary.last) == (130, 131, 141)
    assert lk.summary.project_id == "[assign_when_available]"


def test_schema_definitions_are_not_a_record():
    # Section 4 lists "- RUN_ID: `TB-LEDGER-YYYYMMDD-NNN`" and every field: definitions, not a record.
    lk = parse(REFERENCE.read_text(encoding="utf-8"))
    assert all(r.line > 74 for r in lk.records)


def test_records_in_code_quotes_and_html_are_not_records():
    text = ledger(record(1)) + dedent(
        """
        ```markdown
        ### RUN_ID: IN-FENCE
        - CHAR_COUNT: [fill]
        ```

        ~~~
        ### RUN_ID: IN-TILDE-FENCE
        ~~~

            ### RUN_ID: INDENTED-CODE
            - CHAR_COUNT: [fill]

        > ### RUN_ID: IN-QUOTE
        > - CHAR_COUNT: [fill]

        <!--
        ### RUN_ID: IN-COMMENT
        - CHAR_COUNT: [fill]
        -->

        - item
          ### RUN_ID: IN-LIST-ITEM

        ## RUN_ID: LEVEL-TWO
        """
    )
    assert [r.run_id for r in parse(text).records] == ["TB-LEDGER-20250816-001"]


def test_record_ends_at_next_heading_or_break_and_spans_paragraphs():
    text = dedent(
        """
        ### RUN_ID: A
        - SCOPE: SESSION

        A paragraph a person wrote.

        - CHAR_COUNT: [fill]

        ---
        - BUDGET_C: 5
        ### RUN_ID: B
        - SCOPE: TASK
        # Other
        - CHAR_COUNT: 3
        """
    )
    a, b = parse(text).records
    assert [f.key for f in a.fields] == ["SCOPE", "CHAR_COUNT"]
    assert a.end_line == 6
    assert [f.key for f in b.fields] == ["SCOPE"]
    assert b.end_line == 11


def test_nested_entries_skip_fences_and_deeper_items():
    text = dedent(
        """
        ### RUN_ID: A
        - SOURCE_FILES:
          - a.md
            - a detail, not a source
          ```
          - inside a fence
          ```
          - b.md
        - NOTES:
          - one
        """
    )
    (r,) = parse(text).records
    assert [e.text for e in r.field("SOURCE_FILES").entries] == ["a.md", "b.md"]
    assert [e.text for e in r.field("NOTES").entries] == ["one"]


def test_field_argument_and_placeholders():
    text = dedent(
        """
        ### RUN_ID: A
        - TOKEN_COUNT (o200k_base): [fill]
        - CHAR_COUNT: [fill_after_measure]
        - CONTEXT_ID: [assign_when_available]
        - NOTES:
          - [ ] a check box
        """
    )
    (r,) = parse(text).records
    f = r.field("TOKEN_COUNT")
    assert f is not None and f.arg == "o200k_base" and f.name == "TOKEN_COUNT (o200k_base)"
    lines = text.split("\n")
    assert [lines[s.line - 1][s.start : s.end] for s in f.placeholders] == ["[fill]"]
    spans = r.field("CHAR_COUNT").placeholders
    assert [lines[s.line - 1][s.start : s.end] for s in spans] == ["[fill_after_measure]"]
    assert r.field("CONTEXT_ID").placeholders == ()
    assert not PLACEHOLDER.search("- [ ] a check box")
    assert PLACEHOLDER.fullmatch("[fill_anything]")


def test_crlf_and_bom_read_like_lf():
    lf = REFERENCE.read_text(encoding="utf-8")
    crlf = parse("\ufeff" + lf.replace("\n", "\r\n"))
    plain = parse(lf)
    assert crlf.bom and not plain.bom
    assert crlf.records == plain.records
    assert crlf.lines.contents == plain.lines.contents
    assert crlf.lines.join() == lf.replace("\n", "\r\n")


def test_record_text_is_verbatim():
    text = ledger(record(1, ("a.md  ",)))
    lk = parse(text.replace("\n", "\r\n"))
    (r,) = lk.records
    assert lk.record_text(r).startswith("### RUN_ID: TB-LEDGER-20250816-001\r\n")
    assert "  - a.md  \r\n" in lk.record_text(r)


def test_empty_and_recordless_documents():
    assert parse("").records == ()
    lk = parse("# README\n\nJust text.\n")
    assert lk.records == () and lk.summary is None and lk.budget is None


# --- the ledger section (where `ledgerkit append` puts a record) --------------------------------------


def test_the_ledger_section_of_the_reference():
    lk = parse(REFERENCE.read_text(encoding="utf-8"))
    section = lk.ledger_section
    assert section is not None
    assert lk.lines.contents[section.heading_line - 1] == "## 6) 원장(append-only)"
    assert section.last == lk.summary.heading_line - 1
    assert section.heading_line < lk.records[0].line and lk.records[-1].end_line <= section.last


@pytest.mark.parametrize(
    ("heading", "found"),
    [
        ("## 6) 원장(append-only)", True),
        ("## 6) Ledger (append-only)", True),
        ("## Ledger", True),
        ("## 6. 원장", True),
        ("## Ledger (원장)", True),
        ("# Records, append-only", True),
        ("# 🪷 Token Budget Ledger — 토큰 예산 원장 (v0.1)", False),  # the title names the ledger
        ("## 4) 원장 스키마(Schema)", False),
        ("## 4) Ledger schema", False),
        ("## Ledgers", False),
        ("### Ledger", False),  # only level 1 and 2 headings open sections
    ],
)
def test_which_heading_opens_the_ledger_section(heading, found):
    lk = parse(f"# Title\n\n{heading}\n\ntext\n\n## 7) Cumulative Summary\n")
    assert (lk.ledger_section is not None) == found
    if found:
        assert (lk.ledger_section.heading_line, lk.ledger_section.last) == (3, 6)


def test_the_first_ledger_section_counts_and_it_may_end_the_file():
    lk = parse("## Ledger\n\n### RUN_ID: A\n- SCOPE: SESSION\n\n## Ledger (append-only)\n\nmore\n")
    assert (lk.ledger_section.heading_line, lk.ledger_section.last) == (1, 5)
    assert parse("## Ledger\n\ntext").ledger_section.last == 3


# --- the plain-list fast path reads exactly what the general path reads ----------------------------------

_KEYS = st.sampled_from(["CHAR_COUNT", "SOURCE_FILES", "NOTES", "TOKEN_COUNT (o200k_base)", "X", "lower"])
_TEXT = st.text(alphabet=st.sampled_from(list("ab [fill]%:-*+#/")), max_size=12)


@st.composite
def _plain_lists(draw: st.DrawFn) -> list[str]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        lines.append(f"- {draw(_KEYS)}:{draw(_TEXT)}".rstrip() or "- X:")
        for _ in range(draw(st.integers(0, 4))):
            indent = " " * draw(st.integers(2, 7))
            marker = draw(st.sampled_from(["- ", "* ", "+ ", "", "-  "]))
            lines.append(f"{indent}{marker}{draw(_TEXT)}")
            if draw(st.booleans()):
                lines.append("")
    return lines


@settings(max_examples=300, deadline=None)
@given(_plain_lists(), _plain_lists())
def test_plain_fields_are_the_fields_items_gives(lines, other):
    from ledgerkit.reading.parse import items, plain_fields

    fast = plain_fields(lines, 1, len(lines))
    general = [f for item in items(lines, 1, len(lines)) if (f := item.field)]
    assert fast is not None
    assert fast == general
    # What one record's lines read, kept for the next (as parse keeps it across a ledger), changes nothing.
    heads: dict = {}
    bodies: dict = {}
    shapes = Shapes(after=2)
    plain_fields(other, 1, len(other), heads, bodies, shapes)
    # The first reading meets the size, the second learns the shape, the third reads by the shape.
    for _ in range(3):
        assert plain_fields(lines, 1, len(lines), heads, bodies, shapes) == general
    assert any(shape.pattern.fullmatch("\n".join(lines)) for shape in shapes.by_size[len(lines)])


# Values as a person may write them, blanks of every kind, markers and colons among them.
_VALUE_TEXT = st.text(alphabet=st.sampled_from(list("ab [fill]%:-*+#/()") + ["\x0b", "\xa0", "\u2028"]), max_size=8)
# Most values start with a character that is no blank: those lines are read by the shape, the others are literal.
_STARTED = st.builds(str.__add__, st.sampled_from(list("ab[-*+:%(")), _VALUE_TEXT)
_VALUES = st.one_of(_VALUE_TEXT, *[_STARTED] * 6)


@st.composite
def _one_shape(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    """Two plain lists of one layout (the same keys, markers and indents, line for line) with values drawn for each."""
    layout: list[tuple[str, str]] = []  # (what the line starts with, how it ends: "value" or "")
    for _ in range(draw(st.integers(1, 4))):
        layout.append((f"- {draw(_KEYS)}:{draw(st.sampled_from(['', ' ', '  ']))}", "value"))
        for _ in range(draw(st.integers(0, 3))):
            indent = " " * draw(st.integers(2, 6))
            marker = draw(st.sampled_from(["- ", "* ", "+ ", "", "-  "]))
            layout.append((indent + marker, draw(st.sampled_from(["value", "value", ""]))))
    return tuple(  # type: ignore[return-value]
        [start + (draw(_VALUES) if end else "") for start, end in layout] for _ in range(2)
    )


@settings(max_examples=500, deadline=None)
@given(_one_shape())
def test_a_list_read_by_a_learnt_shape_reads_as_items_reads_it(pair):
    from ledgerkit.reading.parse import items, plain_fields

    learnt, other = pair
    shapes = Shapes(after=1)
    if plain_fields(learnt, 1, len(learnt), shapes=shapes) is None:
        return  # not plain: no shape to learn
    general = [f for item in items(other, 1, len(other)) if (f := item.field)]
    read = plain_fields(other, 1, len(other), shapes=shapes)
    if read is None:
        assert plain_fields(other, 1, len(other)) is None
    else:
        assert read == general


@pytest.mark.parametrize("most", [0, 20_000])
def test_a_value_read_by_a_shape_again_is_held_once(most, monkeypatch):
    """Records repeat their values: read by a shape, a value read lately is the same string object, and a memory
    of them that starts over changes no field."""
    from ledgerkit.files.text import Held
    from ledgerkit.reading.parse import plain_fields

    monkeypatch.setattr(Held, "MOST", most)

    def written() -> list[str]:  # new string objects each time, as each record's lines are
        return ["".join(["- SCOPE: ", "SESSION"]), "".join(["- DISTRIBUTION:"]), "".join(["  - system: ", "10%"])]

    shapes = Shapes(after=1)
    plain_fields(written(), 1, 3, shapes=shapes)  # learns the shape
    both = written() + written()
    first, again = plain_fields(both, 1, 3, shapes=shapes), plain_fields(both, 4, 6, shapes=shapes)
    assert first is not None and again is not None
    assert [f._replace(line=f.line + 3, last=f.last + 3, entries=()) for f in first] == [
        f._replace(entries=()) for f in again
    ]
    assert (first[0].value is again[0].value) == (most > 0)
    assert (first[1].entries[0].text is again[1].entries[0].text) == (most > 0)


@pytest.mark.parametrize("by_shape", [False, True])
def test_each_line_number_of_a_list_is_one_object(by_shape):
    """A line number past 256 is an object of its own: a field's line, its last line and its entries' lines
    share one object for each line, read line by line or by a shape (they were a fifth of a parsed ledger)."""
    from ledgerkit.reading.parse import plain_fields

    lines = ["- SCOPE: SESSION", "- SOURCE_FILES:", "  - a.md", "  - b.md", "- NOTES: one"]
    contents = lines + [""] * 994 + lines  # the second list on lines 1000..1004
    shapes = Shapes(after=1) if by_shape else None
    plain_fields(contents, 1, len(lines), shapes=shapes)  # with shapes: learns the shape
    fields = plain_fields(contents, 1000, 1004, shapes=shapes)
    assert fields is not None and [f.line for f in fields] == [1000, 1001, 1004]
    numbers = [n for f in fields for n in (f.line, f.last, *(e.line for e in f.entries))]
    assert len({id(n) for n in numbers}) == len(set(numbers)) == 5


def test_only_a_read_that_keeps_every_record_holds_their_values_once():
    """parse_lines keeps every record's fields, and a value the records repeat is one string; parse_deferred lets
    each record's fields go, and holding its values would keep them: a fill in place would grow with its records."""
    from ledgerkit.files.text import Lines
    from ledgerkit.reading.parse import parse_deferred, parse_lines

    from .conftest import ledger, record

    text = ledger(*(record(n) for n in range(1, 200)))  # enough lists of one size for their shape to be learnt
    kept = parse_lines(Lines.split(text), "l.md").records
    _, deferred = parse_deferred(Lines.split(text), "l.md")
    let_go = list(deferred)
    assert kept[-1].fields == let_go[-1].fields
    scope = [r.field("SCOPE").value for r in (*kept[-2:], *let_go[-2:])]  # SESSION each time, read by the shape
    assert scope[0] is scope[1]
    assert scope[2] is not scope[3]


# --- the outline of a base version: the records' extents parse finds, without the fields ----------------------

_ENDINGS = st.sampled_from(["\n", "\n", "\n", "\r\n", "\r"])


def _extents(text: str) -> tuple[list[tuple[str, int, int, int]], list[str], list[str]]:
    lk = parse(text)
    return [(r.run_id, r.line, r.column, r.end_line) for r in lk.records], lk.lines.contents, lk.lines.endings


def _outlined(text: str) -> tuple[list[tuple[str, int, int, int]], list[str], list[str]]:
    from ledgerkit.reading.parse import outline

    found = outline(text, "base.md")
    assert all(type(r).__name__ == "Extent" for r in found.records)  # no Record with empty fields in disguise
    return [tuple(r) for r in found.records], found.lines.contents, found.lines.endings


@st.composite
def _texts(draw: st.DrawFn, lines: st.SearchStrategy[list[str]]) -> str:
    """Lines joined by any of the three line endings, maybe with a BOM and without a last newline."""
    drawn = draw(lines)
    endings = [draw(_ENDINGS) for _ in drawn]
    if endings and draw(st.booleans()):
        endings[-1] = ""
    return ("\ufeff" if draw(st.booleans()) else "") + "".join(map(str.__add__, drawn, endings))


def _record_soup() -> st.SearchStrategy[list[str]]:
    from .test_blocks import _LINES

    heads = st.sampled_from(["### RUN_ID: A", "###   RUN_ID:  B-2  ", "### RUN_ID:", "## RUN_ID: C", "#### RUN_ID: D"])
    return st.lists(st.one_of(_LINES, heads), max_size=40)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_texts(st.one_of(_record_soup(), _document())))
def test_the_outline_has_exactly_the_records_and_lines_parse_finds(text):
    assert _outlined(text) == _extents(text)


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_the_outline_of_every_golden_ledger_is_what_parse_finds(path):
    text = path.read_text(encoding="utf-8")
    assert _outlined(text) == _extents(text)
    assert _outlined(text.replace("\n", "\r\n")) == _extents(text.replace("\n", "\r\n"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_texts(st.one_of(_record_soup(), _document())))
def test_a_ledger_parsed_from_its_lines_is_the_ledger_parsed_from_its_text(text):
    from ledgerkit.files.text import Lines
    from ledgerkit.reading.parse import parse_lines

    whole = parse(text, "l.md")
    bom = text.startswith("\ufeff")
    assert parse_lines(Lines.split(text.removeprefix("\ufeff")), "l.md", bom=bom) == whole._replace(text="")


# --- a base outlined beside the working copy (outline_beside) ------------------------------------------------

_APPENDED = st.sampled_from(["### RUN_ID: NEW", "### RUN_ID: NEW\n- CHAR_COUNT: 1\n", "### RUN_ID: NEW\n---\n"])
_TAILS = st.sampled_from(
    [
        "",
        "## 7) Cumulative Summary\n- PROJECT_ID: P\n",
        "\n## 7) 누계\n\n```\n",
        "# Other\r\ntext",
        "\ufeff## 7) BOM\n",
        "\r\n## 7) 요약\n",
    ]
)


@st.composite
def _versions(draw: st.DrawFn) -> tuple[str, str]:
    """A base and a working copy that share their first lines: the working copy appends after them (a record, or
    any text), and both go on their own way (a summary, nothing, an open fence...)."""
    shared = draw(_texts(st.one_of(_record_soup(), _document())))
    ours = draw(st.one_of(_APPENDED, _texts(_record_soup())))
    if shared and not shared.endswith(("\n", "\r")) and draw(st.booleans()):
        shared += "\n"
    return shared + draw(_TAILS), shared + ours + draw(_TAILS)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_versions())
def test_a_base_outlined_beside_the_working_copy_is_its_outline(versions):
    from ledgerkit.reading.parse import outline, outline_beside

    base, work = versions
    working = parse(work, "ledger.md")
    beside = outline_beside(base.encode(), working, work.encode(), "HEAD:ledger.md")
    assert beside is None or beside == outline(base, "HEAD:ledger.md")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "\n", "한", "\ufeff"]), max_size=30).map("".join), st.data())
def test_the_bytes_two_versions_share_are_counted_exactly(text, data):
    from ledgerkit.reading.parse import _shared

    a = text.encode()
    b = data.draw(st.sampled_from([a, a[: len(a) // 2], a[: len(a) // 2] + b"x" + a[len(a) // 2 :], b"", b"q" + a]))
    i, j = data.draw(st.integers(0, len(a))), data.draw(st.integers(0, len(b)))
    naive = next((k for k, (x, y) in enumerate(zip(a[i:], b[j:], strict=False)) if x != y), min(len(a) - i, len(b) - j))
    assert _shared(a, i, b, j, data.draw(st.integers(1, 5))) == naive


@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_the_hooks_usual_base_is_outlined_beside_the_working_copy(bom):
    """A record appended before the summary, which changed: only the base's lines after the shared ones (its
    summary) are scanned, whether or not the file starts with a BOM."""
    from ledgerkit.reading import parse as parse_module
    from ledgerkit.reading.parse import outline, outline_beside

    from .conftest import SUMMARY, ledger, record

    base = bom + ledger(record(1), record(2))
    work = bom + ledger(record(1), record(2), record(3)).replace(SUMMARY, SUMMARY.replace("[fill]", "3", 1))
    scanned = []
    real = parse_module.outline
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(parse_module, "outline", lambda text, path=None: scanned.append(text) or real(text, path))
        beside = outline_beside(base.encode(), parse(work, "l.md"), work.encode(), "HEAD:l.md")
    assert beside == outline(base, "HEAD:l.md")
    assert scanned == [SUMMARY.lstrip("\n")] or scanned == [SUMMARY[SUMMARY.index("#") :]]
    same = outline_beside(base.encode(), parse(base, "l.md"), base.encode(), "HEAD:l.md")
    assert same == outline(base, "HEAD:l.md")  # the same text
