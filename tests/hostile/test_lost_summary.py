"""Nothing lost in the summary: fill owns exactly the summary's items in the one section titled as the
summary; a person's text, a record or an item of their own among them is kept (fill then leaves the
summary as it is and says so), and a section that only mentions the summary is never rewritten."""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

from ledgerkit.config import Config
from ledgerkit.reading.parse import parse
from ledgerkit.writing.fill import fill

from ..conftest import HEADER, make_files, record

SESSION = [
    "- SESSION_ID: S1",
    "  - ENTRIES: 1",
    "  - CHAR_COUNT_TOTAL: [fill]",
    "  - TOKEN_ESTIMATE_TOTAL: [fill]",
    "  - UTILIZATION_PEAK: [fill]%",
    "  - LAST_THRESHOLD_ACTION: [fill]",
]
PROJECT = [
    "- PROJECT_ID: [assign_when_available]",
    "  - SESSION_COUNT: [fill]",
    "  - TOKEN_ESTIMATE_TOTAL: [fill]",
    "  - UTILIZATION_PEAK: [fill]%",
]
#: What a person may put among the summary's items: none of it is fill's.
FOREIGN = st.sampled_from(
    [
        ["A note a person wrote between the items."],
        ["- a list item of their own"],
        ["- MY_OWN_FIELD: kept"],
        ["  - my own nested note"],
        [record(9).rstrip("\n").replace("\n\n---", "")],
        ["<!-- a comment -->"],
        ["> a quote"],
        ["```", "code", "```"],
    ]
)


@st.composite
def summaries(draw: st.DrawFn) -> tuple[list[str], bool]:
    """A summary section's body: owned items with foreign text maybe among them, and whether it is."""
    pieces = [SESSION, PROJECT]
    if draw(st.booleans()):
        pieces = [PROJECT, SESSION]
    among = draw(st.booleans())
    body = [*pieces[0], ""]
    if among:
        body += [*draw(FOREIGN), ""]
    body += [*pieces[1], ""]
    around = draw(st.lists(FOREIGN, max_size=2))
    before = [line for piece in around[:1] for line in [*piece, ""]]
    # An indented line after the last item would belong to that item (CommonMark): that is "among".
    after = [line for piece in around[1:] if not piece[0][:1].isspace() for line in ["", *piece]]
    return before + body + after, among


def _ledger(tmp_path: Path, summary: list[str]) -> str:
    make_files(tmp_path, {"a.md": "x" * 40})
    return HEADER.format(budget=1000) + record(1) + "## 7) Cumulative Summary\n" + "\n".join(summary) + "\n"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(summaries())
def test_nothing_a_person_wrote_in_the_summary_section_is_dropped(tmp_path, generated):
    summary, among = generated
    text = _ledger(tmp_path, summary)
    result = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path)
    owned = set(SESSION) | set(PROJECT)
    old_lines = text.split("\n")
    new_lines = result.text.split("\n")
    # Every line that is not one of the summary's own lines is still there, in order.
    theirs = [line for line in old_lines if line not in owned and "[fill" not in line]
    it = iter(new_lines)
    assert all(any(line == other for other in it) for line in theirs)
    codes = [d.code for d in result.diagnostics]
    if among:
        assert "LK109" in codes
        assert all(line in new_lines for line in (*SESSION, *PROJECT))  # the summary left as it was
    else:
        assert "LK109" not in codes
        assert "  - SESSION_COUNT: 1" in new_lines  # re-rendered


def test_a_record_between_summary_items_is_kept(tmp_path):
    summary = [*SESSION, "", record(2).rstrip("\n").replace("\n\n---", ""), "", *PROJECT]
    text = _ledger(tmp_path, summary)
    result = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path)
    assert "### RUN_ID: TB-LEDGER-20250816-002" in result.text
    (problem,) = [d for d in result.diagnostics if d.code == "LK109"]
    assert "move that text out of the summary items" in problem.message


def test_a_section_that_only_mentions_the_summary_is_not_rewritten(tmp_path):
    archive = "## 11) Archive of the cumulative summary (2024)\n" + "\n".join(SESSION) + "\n"
    text = _ledger(tmp_path, [*SESSION, "", *PROJECT]) + "\n" + archive
    result = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path)
    assert result.text.endswith(archive)  # the archive keeps its placeholders
    current = result.text[result.text.index("## 7)") : result.text.index("## 11)")]
    assert "[fill]" not in current  # section 7 is the summary, and it is up to date


def test_a_second_section_with_the_summarys_own_title_is_named(tmp_path):
    again = "## Cumulative Summary\n" + "\n".join(PROJECT) + "\n"
    text = _ledger(tmp_path, [*SESSION, "", *PROJECT]) + "\n" + again
    result = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path)
    assert result.text.endswith(again)
    assert [d.code for d in result.diagnostics] == ["LK110"]


def test_a_key_a_person_added_under_a_summary_item_is_kept(tmp_path):
    summary = [*SESSION, "  - MY_OWN_KEY: mine", "", *PROJECT]
    text = _ledger(tmp_path, summary)
    result = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path)
    assert "  - MY_OWN_KEY: mine" in result.text
    assert any(d.code == "LK109" and "MY_OWN_KEY" in d.message for d in result.diagnostics)
