"""The utilization chart's geometry (ledgerkit/reports/chart.py), without a browser: for every size and
value the issue names, and for whatever Hypothesis makes up, no label box touches another, a threshold
line or the chart's edge; tiny values stay visible; values above the scale are capped and marked.

tests/test_report_browser.py measures the same rules on screen in Chromium.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerkit.config import Thresholds
from ledgerkit.reports.chart import (
    ASCENT,
    DESCENT,
    MIN_BAR,
    Chart,
    chart,
    placed_label,
    px,
    text_width,
)
from ledgerkit.schema import format_percent
from ledgerkit.writing.render import render


@dataclass(frozen=True)
class Row:
    """A stand-in for the report's Row: what the chart reads of a record."""

    run_id: str
    utilization: Fraction | None
    action: str | None
    written_action: str | None


DEFAULT = Thresholds()


def rows(values, thresholds: Thresholds = DEFAULT) -> list[Row]:
    """Rows at these percents (None: unknown), each at the level its value reaches, written the same."""
    made = []
    for n, v in enumerate(values, 1):
        u = None if v is None else Fraction(v)
        action = None if u is None else thresholds.action(u)
        made.append(Row(f"RUN-{n:03d}", u, action, action))
    return made


#: The values the issue names, and the pair that collided at 40 records.
NAMED = ("0.01", "69.99", "97.47", "100", "250", None, "94.60", "99.20")


def spread(n: int) -> list[str | None]:
    scatter = (f"{(i * 7919) % 26_000 / 100:.2f}" for i in itertools.count(1))
    return list(itertools.islice(itertools.chain(NAMED, scatter), n))


CLOSE = Thresholds(Fraction(94), Fraction(95), Fraction(96), Fraction(100))
SIZES = {
    "1": ["97.47"],
    "1-unknown": [None],
    "1-zero": ["0"],
    "2": ["0.01", "250"],
    "2-at-levels": ["69.99", "100"],
    "40": spread(40),
    "500": spread(500),
}
THRESHOLDS = {
    "default": Thresholds(),
    "close": CLOSE,
    "equal": Thresholds(Fraction(100), Fraction(100), Fraction(100), Fraction(100)),
    "low": Thresholds(Fraction(1), Fraction(2), Fraction(3), Fraction(4)),
    "configured": Thresholds(Fraction(60), Fraction(161, 2), Fraction(90), Fraction(100)),
}


def problems(c: Chart) -> list[str]:
    """Every rule the chart breaks, each said in a line."""
    found = []
    for a, b in itertools.combinations(c.labels, 2):
        if a.box.overlaps(b.box):
            found.append(f"labels overlap: {a.text!r} and {b.text!r}")
    for lab in c.labels:
        for t in c.lines:
            crosses = lab.box.left < t.x2 and t.x1 < lab.box.right and lab.box.top <= t.y <= lab.box.bottom
            if crosses:
                found.append(f"{lab.text!r} is crossed by the {t.name} line")
        inside = 0 <= lab.box.left and lab.box.right <= c.width and 0 <= lab.box.top and lab.box.bottom <= c.height
        if not inside:
            found.append(f"{lab.text!r} leaves the chart")
    for b in c.bars:
        if not (c.left <= b.x and b.x + b.width <= c.right and 0 <= b.box.top and b.y + b.height == c.bottom):
            found.append(f"bar {b.index} leaves the plot")
    return found


@pytest.mark.parametrize("levels", list(THRESHOLDS))
@pytest.mark.parametrize("size", list(SIZES))
def test_no_label_touches_another_a_line_or_the_edge(size, levels):
    t = THRESHOLDS[levels]
    c = chart(rows(SIZES[size], t), t)
    assert problems(c) == []
    assert len(c.bars) == len(SIZES[size])


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.none(), st.fractions(min_value=0, max_value=1000, max_denominator=10_000)), min_size=1, max_size=80
    ),
    levels=st.lists(st.fractions(min_value=0, max_value=300, max_denominator=100), min_size=4, max_size=4).map(sorted),
)
def test_any_values_and_thresholds_keep_every_rule(values, levels):
    t = Thresholds(*levels)
    c = chart(rows(values, t), t)
    assert problems(c) == []
    known = [(v, -i) for i, v in enumerate(values) if v is not None]
    if known:
        assert -max(known)[1] + 1 in c.labelled  # the peak is always labelled
    for b, v in zip(c.bars, values, strict=True):
        assert b.height >= (MIN_BAR if v is None or v > 0 else 0)


def test_few_records_are_all_labelled_with_the_figure_the_reports_show():
    c = chart(rows(["0.01", "69.995", "250"]), Thresholds())
    assert [b.label.text for b in c.bars] == ["0.01%", "69.99%", "250.00%"]  # toward zero, as written
    assert not c.summarised and c.caption is None


def test_many_records_label_the_peak_and_the_alerts_and_say_so():
    values = ["10"] * 40
    values[7], values[20], values[33] = "80", "120", "96"
    c = chart(rows(values), Thresholds())
    assert c.summarised and c.caption is not None and "labels on the peak and the alerts" in c.caption.text
    assert c.labelled == (8, 21, 34)
    assert {b.label.text for b in c.bars if b.label} == {"80.00%", "120.00%", "96.00%"}


def test_a_crowd_of_alerts_keeps_the_peak_and_the_highest_levels():
    values = ["97"] * 200
    values[100] = "98.5"
    c = chart(rows(values), Thresholds())
    assert 101 in c.labelled  # the peak, though all around it alert
    assert 1 < len(c.labelled) < 200 and problems(c) == []


def test_a_tiny_value_keeps_a_minimum_height_and_zero_has_none():
    c = chart(rows(["0.01", "0", None]), Thresholds())
    assert [b.height for b in c.bars] == [MIN_BAR, 0, MIN_BAR]
    assert [b.level for b in c.bars] == ["NONE", "NONE", "unknown"]
    assert c.bars[0].label.text == "0.01%" and c.bars[2].label.text == "—"


def test_a_value_above_the_scale_is_capped_marked_and_labelled_with_its_true_value():
    c = chart(rows(["119.99", "120", "120.01", "250"]), Thresholds())  # the scale ends at 120 % of the budget
    assert c.scale == 120
    assert [b.capped for b in c.bars] == [False, False, True, True]
    assert [b.y for b in c.bars[1:]] == [c.top] * 3  # 120 % reaches the top exactly; above it is cut there
    assert [bool(b.mark) for b in c.bars] == [False, False, True, True]
    assert c.bars[3].label.text == "250.00%" and c.bars[3].label.box.bottom <= c.bars[3].box.top


def test_the_scale_is_exact_and_proportional():
    c = chart(rows(["50", "100"]), Thresholds())
    plot = c.bottom - c.top
    assert c.bars[0].height == px(Fraction(plot * 50, 120)) and c.bars[1].height == px(Fraction(plot * 100, 120))
    budget = next(t for t in c.lines if t.name == "MINIMAL")
    assert c.bars[1].y == budget.y  # 100 % meets the budget line


def test_a_value_just_under_a_line_has_its_label_moved_above_that_line():
    c = chart(rows(["97.47"]), Thresholds())
    budget = next(t for t in c.lines if t.name == "MINIMAL")
    assert c.bars[0].y > budget.y  # the bar stays below the 100 % line
    assert c.bars[0].label.box.bottom < budget.y  # and its label sits above it, clear


def test_close_thresholds_each_read_beside_their_line_in_order():
    c = chart(rows(["50"]), CLOSE)
    assert [t.label.text for t in c.lines] == ["100% budget", "96% ALERT95", "95% ALERT85", "94% ALERT70"]
    tops = [t.label.box.top for t in c.lines]
    assert tops == sorted(tops)  # the same order as the lines: leaders never cross
    for t in c.lines:  # each label as near its line as the others let it be
        assert abs((t.label.box.top + t.label.box.bottom) / 2 - t.y) <= 2 * (ASCENT + DESCENT)


def test_a_lone_threshold_label_sits_on_its_line():
    c = chart(rows(["50"]), Thresholds())
    seventy = next(t for t in c.lines if t.name == "ALERT70")
    assert (seventy.label.box.top + seventy.label.box.bottom) / 2 == seventy.y


def test_record_numbers_thin_out_to_a_regular_step():
    for n in (1, 2, 40, 500):
        c = chart(rows(["10"] * n), Thresholds())
        numbers = [int(t.text) for t in c.ticks]
        steps = {b - a for a, b in zip(numbers[1:], numbers[2:], strict=False)} or {1}
        assert numbers[0] == 1 and len(steps) == 1  # 1, then every k-th record
        assert 0 <= n - numbers[-1] < steps.pop()
    assert [t.text for t in chart(rows(["10"] * 3), Thresholds()).ticks] == ["1", "2", "3"]


def test_tooltips_say_run_value_level_and_what_was_written():
    made = [
        Row("R1", Fraction(9747, 100), "ALERT95", "ALERT95"),
        Row("R2", Fraction(9747, 100), "ALERT95", "ALERT85"),
        Row("R3", Fraction(9747, 100), "ALERT95", None),
        Row("R4", None, None, None),
    ]
    assert [b.tooltip for b in chart(made, Thresholds()).bars] == [
        "R1: 97.47% (ALERT95)",
        "R2: 97.47% (ALERT95, written ALERT85)",
        "R3: 97.47% (ALERT95)",  # waiting for fill: nothing written to differ
        "R4: utilization unknown (level unknown)",
    ]


def test_bars_are_coloured_by_the_level_reached_not_the_one_written():
    made = [Row("R1", Fraction(99), "ALERT95", "NONE")]
    assert chart(made, Thresholds()).bars[0].level == "ALERT95"


def test_lengths_print_as_svg_numbers():
    assert [str(px(v)) for v in (Fraction(1, 3), Fraction(25, 2), Fraction(-7, 4), Fraction(2), Fraction(1, 200))] == [
        "0.33",
        "12.5",
        "-1.75",
        "2",
        "0.01",
    ]


def test_a_label_box_is_centred_on_its_anchor_and_spans_ascent_and_descent():
    assert text_width("100.00%") > text_width("0.01%") > 0
    lab = placed_label("50.00%", Fraction(100), Fraction(50))
    assert (lab.box.top, lab.box.bottom) == (50 - ASCENT, 50 + DESCENT)
    assert lab.box.right - lab.box.left >= text_width("50.00%")  # snapped outward: still a bound
    assert abs((lab.box.left + lab.box.right) / 2 - 100) <= Fraction(1, 100)


def test_the_svg_escapes_what_the_ledger_wrote():
    hostile = "<script>alert(1)</script>"
    svg = render("chart.svg.j2", {"chart": chart([Row(hostile, Fraction(5), "NONE", "NONE")], Thresholds())})
    assert hostile not in svg and "&lt;script&gt;" in svg
    assert svg.count('<rect class="bar"') == 1 and 'viewBox="0 0 1000 ' in svg and 'width="100%"' in svg


def test_every_drawn_number_is_what_the_geometry_holds():
    c = chart(rows(spread(40)), Thresholds())
    svg = render("chart.svg.j2", {"chart": c})
    for b in c.bars:
        assert f'x="{b.x}" y="{b.y}" width="{b.width}" height="{b.height}"' in svg
    coordinates = re.findall(r' (?:x|y|x1|x2|y1|y2|width|height|points|viewBox)="([^"]*)"', svg)
    assert coordinates and all(re.fullmatch(r"[-0-9., ]+%?", v) for v in coordinates)  # no "25/2"


def test_format_of_labels_is_the_reports_format():
    v = Fraction(2, 3)
    assert chart(rows([v]), Thresholds()).bars[0].text == f"{format_percent(v)}%" == "0.66%"
