from __future__ import annotations

from fractions import Fraction

import hypothesis.strategies as st
import pytest
from hypothesis import given

from ledgerkit.config import Config, Thresholds
from ledgerkit.reading.parse import parse
from ledgerkit.reading.values import read_values
from ledgerkit.schema import (
    format_percent,
    formula_divisor,
    plain_number,
    read_action,
    read_percent,
    token_estimate,
    utilization,
    written_percent,
)
from ledgerkit.schema import read_integer as read_int

from .conftest import ledger, record


@pytest.mark.parametrize(
    ("chars", "divisor", "expected"),
    [(0, 4, 0), (1, 4, 1), (4, 4, 1), (5, 4, 2), (8000, 4, 2000), (42000, 4, 10500), (10, 3, 4)],
)
def test_token_estimate_is_ceiling(chars, divisor, expected):
    assert token_estimate(chars, divisor) == expected


@pytest.mark.parametrize(
    ("tokens", "budget", "written", "action"),
    [
        (0, 1000, "0.00", "NONE"),
        (699, 1000, "69.90", "NONE"),
        (699_999, 1_000_000, "69.99", "NONE"),  # 69.9999: written 69.99, and it is NONE
        (69_999_999, 100_000_000, "69.99", "NONE"),
        (700, 1000, "70.00", "ALERT70"),
        (849_999, 1_000_000, "84.99", "ALERT70"),
        (850, 1000, "85.00", "ALERT85"),
        (949_999, 1_000_000, "94.99", "ALERT85"),
        (950, 1000, "95.00", "ALERT95"),
        (1000, 1000, "100.00", "ALERT95"),  # up to and including 100
        (1_000_001, 1_000_000, "100.00", "MINIMAL"),  # over budget by 0.0001 %: see docs/format.md
        (1001, 1000, "100.10", "MINIMAL"),
        (2, 3, "66.66", "NONE"),  # 66.666…: toward zero, not to nearest
    ],
)
def test_threshold_boundaries(tokens, budget, written, action):
    exact = utilization(tokens, budget)
    assert format_percent(exact) == written
    assert Thresholds().action(exact) == action


def test_configured_thresholds():
    t = Thresholds(alert70=Fraction(60), alert85=Fraction(80), alert95=Fraction(90), minimal=Fraction(100))
    assert t.action(Fraction(60)) == "ALERT70"
    assert t.action(Fraction(5999, 100)) == "NONE"
    assert t.action(Fraction(90)) == "ALERT95"
    assert t.level("ALERT85") == 80 and t.level("NONE") is None


_PERCENT = st.fractions(min_value=0, max_value=400, max_denominator=10**9)


@given(_PERCENT, st.lists(_PERCENT, min_size=4, max_size=4))
def test_the_action_is_the_level_reached_compared_exactly(percent, levels):
    """action() compares integer cross-products: the same answer as Fraction's comparisons, on and between the
    levels."""
    low, mid, high, top = sorted(levels)
    t = Thresholds(low, mid, high, top)
    for p in (percent, low, mid, high, top):
        if p > top:
            expected = "MINIMAL"
        elif p >= high:
            expected = "ALERT95"
        elif p >= mid:
            expected = "ALERT85"
        elif p >= low:
            expected = "ALERT70"
        else:
            expected = "NONE"
        assert t.action(p) == expected


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=10**7))
def test_written_figure_never_crosses_an_alert_level(tokens, budget):
    exact = utilization(tokens, budget)
    written = written_percent(exact)
    assert written <= exact < written + Fraction(1, 100)
    t = Thresholds()
    # Truncation keeps the written figure in the exact figure's band at every level a figure can reach
    # from below (70, 85, 95); only MINIMAL, which starts *above* 100, can show 100.00.
    if not 100 < exact < Fraction(10001, 100):
        assert t.action(written) == t.action(exact)


@given(
    st.integers(min_value=-(10**9), max_value=10**9),
    st.integers(min_value=-(10**7), max_value=10**7).filter(bool),
    st.fractions(min_value=-1000, max_value=1000, max_denominator=10**4),
)
def test_the_written_utilization_is_judged_in_integers_as_with_fractions(tokens, budget, other):
    """LK302's test compares integer cross-products: Fraction's answer, for the figure fill writes and for any other."""
    from ledgerkit.figures.compute import written_agrees

    written = written_percent(utilization(tokens, budget))
    assert written_agrees(written, tokens, budget)
    assert written_agrees(other, tokens, budget) == (other == written)
    assert not written_agrees(written + Fraction(1, 100), tokens, budget)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12345", 12345),
        ("12,345", 12345),
        ("≈ 2,000 tokens", 2000),
        ("ceil(CHAR_COUNT / 4) = 1148", 1148),
        ("130000 tokens (덕산 추정)", 130000),
        ("4590자", 4590),
        ("[fill]", None),
        ("about 12", None),
        ("1.5", None),
        ("130k", None),
        ("", None),
    ],
)
def test_read_int(text, expected):
    assert read_int(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3.79%", Fraction("3.79")),
        ("3.790 %", Fraction("3.79")),
        ("70%", Fraction(70)),
        ("[fill]%", None),
        ("high", None),
    ],
)
def test_read_percent(text, expected):
    assert read_percent(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NONE", "NONE"),
        ("ALERT85  # noted", "ALERT85"),
        ("{NONE|ALERT70|ALERT85|ALERT95|MINIMAL} → MINIMAL", "MINIMAL"),
        ("{NONE|ALERT70} -> ALERT70", "ALERT70"),
        ("{NONE|ALERT70|ALERT85|ALERT95|MINIMAL} → [fill]", None),
        ("{NONE|ALERT70|ALERT85|ALERT95|MINIMAL}", None),
        ("ALERT7", None),
    ],
)
def test_read_action(text, expected):
    assert read_action(text) == expected


def test_formula_divisor():
    assert formula_divisor("ceil(CHAR_COUNT / 3) = [fill]") == 3
    assert formula_divisor("ceil( CHAR_COUNT/5 )") == 5
    assert formula_divisor("ceil(CHAR_COUNT / 0) = [fill]") is None
    assert formula_divisor("[fill]") is None


def test_read_written_reports_unreadable_figures():
    text = ledger(record(1, char_count="lots", token_estimate="[fill]", budget="130k?", action="ALERT100"))
    lk = parse(text, "l.md")
    values = read_values(lk.records[0], lk, Config().divisor)
    problems = values.diagnostics
    assert values.chars.written is None and values.tokens.written is None and values.budget.written is None
    lines = text.split("\n")
    where = [
        lines.index(line) + 1 for line in ("- CHAR_COUNT: lots", "- BUDGET_C: 130k?", "- THRESHOLD_ACTION: ALERT100")
    ]
    assert [(d.code, d.line) for d in problems] == [("LK103", where[0]), ("LK103", where[1]), ("LK106", where[2])]
    assert problems[0].format() == f"l.md:{where[0]}:15: LK103 CHAR_COUNT 'lots' is not a whole number"
    assert "ALERT100" in problems[2].message and "NONE|ALERT70|ALERT85|ALERT95|MINIMAL" in problems[2].message


def test_a_duplicated_figure_field_is_reported_and_the_record_left_alone(tmp_path):
    from ledgerkit.writing.fill import fill

    (tmp_path / "a.md").write_text("abcd", encoding="utf-8")
    text = ledger(record(1, ("a.md",), extra="- CHAR_COUNT: [fill]\n"))
    lk = parse(text, str(tmp_path / "l.md"))
    result = fill(lk, config=Config(), root=tmp_path)
    line = text.split("\n").index("- CHAR_COUNT: [fill]") + 1
    assert [(d.code, d.line, d.column) for d in result.diagnostics] == [("LK101", line, 3)]
    assert result.diagnostics[0].message == "CHAR_COUNT appears twice in record TB-LEDGER-20250816-001; keep one"
    assert result.filled == [] and lk.record_text(lk.records[0]) in result.text


def test_plain_number_writes_what_a_person_writes():
    assert [plain_number(Fraction(x)) for x in ("10", "12.5", "0.25", "100", "33.125", "-2.5")] == [
        "10",
        "12.5",
        "0.25",
        "100",
        "33.125",
        "-2.5",
    ]
    assert plain_number(Fraction(1, 3)) == "0.333333333333"
