"""The append-only history: every kind of tampering is caught with the right code and line; appends and
fills pass."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from ledgerkit.checks.history import append_only_problems
from ledgerkit.config import Config
from ledgerkit.reading.parse import filled_from, outline, parse
from ledgerkit.writing.fill import fill

from .conftest import REFERENCE, ledger, record


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A filled ledger of three records (the base every tampering starts from)."""
    root = tmp_path_factory.mktemp("sources")
    (root / "a.md").write_text("x" * 400, encoding="utf-8")
    text = ledger(*(record(n, ("a.md",)) for n in (1, 2, 3)))
    return fill(parse(text, str(root / "ledger.md")), config=Config(), root=root).text


def found(base_text: str, new_text: str) -> list[tuple[str, int]]:
    """What the comparison finds, the same against the base's outline (what verify reads) as against it parsed."""
    new = parse(new_text, "ledger.md")
    problems = append_only_problems(parse(base_text, "base.md"), new)
    assert append_only_problems(outline(base_text, "base.md"), new) == problems
    assert append_only_problems(outline(base_text, "base.md"), outline(new_text, "ledger.md")) == problems
    return [(d.code, d.line) for d in problems]


def line_of(text: str, needle: str, start: str | None = None) -> int:
    lines = text.split("\n")
    begin = lines.index(start) if start else 0
    return lines.index(needle, begin) + 1


def block(text: str, n: int) -> str:
    start = text.index(f"### RUN_ID: TB-LEDGER-20250816-{n:03d}")
    end = text.index("---\n\n", start) + len("---\n\n")
    return text[start:end]


R2 = "### RUN_ID: TB-LEDGER-20250816-002"


def test_the_base_is_filled(base):
    assert "[fill" not in base.split("## 7)")[0]
    assert found(base, base) == []


def test_a_changed_character(base):
    new = base.replace("  - note", "  - nOte", 1)
    assert found(base, new) == [("LK601", line_of(new, "  - nOte"))]


def test_changed_whitespace(base):
    new = base.replace("- SCOPE: SESSION\n", "- SCOPE:  SESSION\n", 2)
    assert found(base, new) == [
        ("LK601", line_of(new, "- SCOPE:  SESSION")),
        ("LK601", line_of(new, "- SCOPE:  SESSION", R2)),
    ]
    trailing = base.replace("- SCOPE: SESSION\n", "- SCOPE: SESSION \n", 1)
    assert found(base, trailing) == [("LK601", line_of(trailing, "- SCOPE: SESSION "))]
    crlf = base.replace("- SCOPE: SESSION\n", "- SCOPE: SESSION\r\n", 1)
    assert [c for c, _ in found(base, crlf)] == ["LK601"]
    last_line = base.replace("  - note\n", "  - note\r\n", 1)  # the record's last line
    assert found(base, last_line) == [("LK601", line_of(base, "  - note"))]


def test_a_removed_record(base):
    new = base.replace(block(base, 2), "")
    assert found(base, new) == [("LK602", line_of(new, "### RUN_ID: TB-LEDGER-20250816-003"))]
    last = base.replace(block(base, 3), "")
    assert [c for c, _ in found(base, last)] == ["LK602"]


def test_swapped_records(base):
    new = base.replace(block(base, 2) + block(base, 3), block(base, 3) + block(base, 2))
    assert found(base, new) == [("LK603", line_of(new, R2))]


def test_a_record_inserted_before_the_end(base):
    new = base.replace(block(base, 2), record(9, ("a.md",)) + block(base, 2))
    assert found(base, new) == [("LK604", line_of(new, "### RUN_ID: TB-LEDGER-20250816-009"))]


def test_a_filled_value_changed_or_removed(base):
    changed = base.replace("- CHAR_COUNT: 400", "- CHAR_COUNT: 399", 1)
    assert found(base, changed) == [("LK605", line_of(changed, "- CHAR_COUNT: 399"))]
    removed = base.replace("- UTILIZATION: 10.00%", "- UTILIZATION: [fill]%", 1)
    assert found(base, removed) == [("LK606", line_of(removed, "- UTILIZATION: [fill]%"))]
    action = base.replace("- THRESHOLD_ACTION: NONE", "- THRESHOLD_ACTION: ALERT70", 1)
    assert [c for c, _ in found(base, action)] == ["LK605"]


def test_a_renamed_run(base):
    new = base.replace(R2, "### RUN_ID: TB-LEDGER-20250816-007")
    assert found(base, new) == [("LK607", line_of(new, "### RUN_ID: TB-LEDGER-20250816-007"))]


def test_a_record_that_grew_or_shrank(base):
    grown = base.replace("  - note\n", "  - note\n  - another note\n", 1)
    assert [c for c, _ in found(base, grown)] == ["LK601"]
    shrunk = base.replace("  - margin: 10%\n", "", 1)
    assert [c for c, _ in found(base, shrunk)] == ["LK601"]


def test_appends_and_fills_pass(base):
    unfilled = ledger(*(record(n, ("a.md",)) for n in (1, 2, 3)))
    assert found(unfilled, base) == []  # filling is not editing
    appended = base.replace("## 7) Cumulative Summary", record(4, ("a.md",)) + "## 7) Cumulative Summary")
    assert found(base, appended) == []
    summary_changed = base.replace("  - SESSION_COUNT: 1", "  - SESSION_COUNT: 2")
    assert found(base, summary_changed) == []  # the summary is derived


@pytest.mark.parametrize(
    ("before", "after", "ok"),
    [
        ("- CHAR_COUNT: [fill_after_measure]", "- CHAR_COUNT: 4590", True),
        ("- CHAR_COUNT: [fill_after_measure]", "- CHAR_COUNT: 4,590", True),
        ("- CHAR_COUNT: [fill]", "- CHAR_COUNT: many", False),
        ("- CHAR_COUNT: [fill]", "- CHAR_COUNT:  4590", False),
        ("- UTILIZATION: [fill]%", "- UTILIZATION: 3.79%", True),
        ("- UTILIZATION: [fill]", "- UTILIZATION: 3.79%", True),
        ("- UTILIZATION: [fill]%", "- UTILIZATION: 3.79", False),
        ("- THRESHOLD_ACTION: {NONE|ALERT70} → [fill]", "- THRESHOLD_ACTION: {NONE|ALERT70} → ALERT70", True),
        ("- THRESHOLD_ACTION: {NONE|ALERT70} → [fill]", "- THRESHOLD_ACTION: {NONE|ALERT70} → ALERT7", False),
        ("- CONTEXT_ID: [fill]", "- CONTEXT_ID: GG-SESS-1", True),
        ("- CONTEXT_ID: [fill]", "- CONTEXT_ID: [fil]", False),
        ("- CONTEXT_ID: [fill]", "- CONTEXT_ID: ", False),
        ("- CONTEXT_ID: GG", "- CONTEXT_ID: GG", False),  # no placeholder: nothing to fill
    ],
)
def test_filled_from(before, after, ok):
    assert filled_from(before, after) is ok


# --- properties ----------------------------------------------------------------------------------------

_CHARS = st.sampled_from(list("a Z0-9:#%.[]|→\t\n가🪷") + ["\r\n"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_character_change_inside_an_earlier_record_is_caught(base, data):
    lk = parse(base)
    target = data.draw(st.sampled_from(lk.records))
    start = sum(len(c) + len(e) for c, e in zip(lk.lines.contents[: target.line - 1], lk.lines.endings, strict=False))
    span = len(lk.record_text(target)) - len(lk.lines.endings[target.end_line - 1])  # up to its last line's end
    kind = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    # Replace or delete any character of the record; insert strictly inside it (before its heading or
    # after its last character is outside the record).
    pos = start + (data.draw(st.integers(1, span - 1)) if kind == "insert" else data.draw(st.integers(0, span - 1)))
    char = data.draw(_CHARS)
    if kind == "replace":
        if char == base[pos]:
            char = "Q" if base[pos] != "Q" else "q"
        new = base[:pos] + char + base[pos + 1 :]
    elif kind == "insert":
        new = base[:pos] + char + base[pos:]
    else:
        new = base[:pos] + base[pos + 1 :]
    problems = append_only_problems(lk, parse(new))
    assert problems, (kind, pos, repr(base[pos - 10 : pos + 10]), repr(char))
    assert append_only_problems(outline(base), parse(new)) == problems  # verify's base is an outline


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    steps=st.lists(st.sampled_from(["append", "fill", "hand-fill"]), min_size=1, max_size=6),
    picks=st.randoms(use_true_random=False),
)
def test_any_sequence_of_appends_and_fills_is_accepted(tmp_path, steps, picks):
    (tmp_path / "a.md").write_text("가" * 123, encoding="utf-8")
    original = (
        REFERENCE.read_text(encoding="utf-8")
        .replace("/gumgang_meeting/", "/")
        .replace("session_rollup_20250816.md", "a.md")
    )
    for name in (
        "memory/memory.log",
        "task/ui_mvp_gate_checklist.md",
        "context_observer/protocol.md",
        "context_observer/retention_policy.md",
        "draft_docs/전이응답.md",
        "draft_docs/첫_화두_축원.md",
        "draft_docs/웹금강_서명_프롬프트.md",
        "context_observer/a.md",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name * 3, encoding="utf-8")
    texts = [original]
    n = 2
    for step in steps:
        current = texts[-1]
        if step == "append":
            n += 1
            new = current.replace(
                "## 7) 누계/요약",
                record(n, ("a.md",), context="GG-SESS-20250816-1620").replace("16:0", "18:0").replace("07:0", "09:0")
                + "## 7) 누계/요약",
            )
        elif step == "fill":
            new = fill(parse(current, str(tmp_path / "ledger.md")), config=Config(), root=tmp_path).text
        else:
            lk = parse(current)
            waiting = [
                f for r in lk.records for f in r.fields if f.placeholders and f.key in ("CHAR_COUNT", "BUDGET_C")
            ]
            if not waiting:
                continue
            f = picks.choice(waiting)
            lines = current.split("\n")
            span = f.placeholders[0]
            i = span.line - 1
            lines[i] = lines[i][: span.start] + str(picks.randint(1, 99999)) + lines[i][span.end :]
            new = "\n".join(lines)
        texts.append(new)
        assert append_only_problems(parse(current), parse(new)) == [], step
    assert append_only_problems(parse(original), parse(texts[-1])) == []
