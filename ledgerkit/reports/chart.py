"""The geometry of the HTML rollup's utilization chart, as plain data that templates/chart.svg.j2 draws.

Everything is laid out in the SVG's own units (a fixed ``viewBox`` the page scales to its card), with
exact fractions snapped to hundredths: no float places anything a test checks. Text is never measured
here; each label's box is an upper bound of its width in the fonts a browser may pick (DejaVu Sans is
the widest common sans), so boxes that do not touch here do not touch on screen either
(tests/test_report_browser.py measures that in Chromium).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Protocol

from ..config import Thresholds
from ..schema import format_percent, plain_number

#: The SVG's user space: a fixed width the page scales to fit its card, so text keeps its size for any
#: number of records.
WIDTH = 1000
FONT_SIZE = 12
ASCENT = 12  # a text box reaches this far above its baseline, and DESCENT below: a bound for any sans
DESCENT = 4
GAP = 3  # the clearance between a label and anything else
PLOT_HEIGHT = 200
CAP_MARK = 6  # the height of the mark on top of a bar whose value lies above the scale
MIN_BAR = 3  # a non-zero value is never drawn lower than this
MAX_BAR = 64
TOP = CAP_MARK + 2 * GAP + ASCENT + DESCENT + 2  # room above the scale for a capped bar's label
BOTTOM = TOP + PLOT_HEIGHT  # the y of 0 %
LEADER = 8  # from the end of a threshold line to its label
#: The scale reaches this far past the highest threshold, like the Markdown bar's 120 % cap.
HEADROOM = Fraction(6, 5)
SEVERITY = {"MINIMAL": 4, "ALERT95": 3, "ALERT85": 2, "ALERT70": 1}

# Advance widths in em, rounded up from DejaVu Sans (wider than Noto Sans, Liberation Sans, Cantarell).
_EM = {**dict.fromkeys("0123456789", Fraction(64, 100)), ".": Fraction(34, 100), ",": Fraction(34, 100)}
_EM |= {"%": Fraction(96, 100), " ": Fraction(33, 100), "-": Fraction(37, 100), "/": Fraction(34, 100)}
_EM |= {":": Fraction(34, 100), "(": Fraction(40, 100), ")": Fraction(40, 100), "—": Fraction(1)}


def _em(char: str) -> Fraction:
    if char in _EM:
        return _EM[char]
    if char in "ilIjJtf":
        return Fraction(45, 100)
    if char.isascii() and char.isalpha() and char not in "mwMW":
        return Fraction(80, 100)
    return Fraction(1)  # wide letters, and anything else: a full em


def text_width(text: str, size: int = FONT_SIZE) -> Fraction:
    """An upper bound of the width ``text`` takes at ``size``, with a tenth to spare."""
    return sum((_em(c) for c in text), Fraction(0)) * size * Fraction(11, 10)


class Px(Fraction):
    """A length in the chart's user units: exact, and printed the way SVG reads it (``12.5``, not ``25/2``)."""

    def __str__(self) -> str:
        hundredths = round(self * 100)
        sign = "-" if hundredths < 0 else ""
        whole, rest = divmod(abs(hundredths), 100)
        return f"{sign}{whole}" + (f".{rest:02d}".rstrip("0") if rest else "")


def px(value: Fraction | int) -> Px:
    """``value`` snapped to hundredths (half up), so what the SVG says is what the geometry holds."""
    return Px((Fraction(value) * 100 + Fraction(1, 2)).__floor__(), 100)


def _outward(value: Fraction, direction: int) -> Px:
    """``value`` snapped to hundredths away from the text (down for a left edge, up for a right one), so
    a box stays a bound."""
    hundredths = value * 100
    return Px(hundredths.__floor__() if direction < 0 else hundredths.__ceil__(), 100)


class ChartRow(Protocol):
    """What the chart reads of a record (ledgerkit.reports.records.Row has these)."""

    @property
    def run_id(self) -> str: ...
    @property
    def utilization(self) -> Fraction | None: ...
    @property
    def action(self) -> str | None: ...
    @property
    def written_action(self) -> str | None: ...


@dataclass(frozen=True)
class Box:
    """A rectangle in user units; two boxes that merely touch do not overlap."""

    left: Px
    top: Px
    right: Px
    bottom: Px

    def overlaps(self, other: Box, margin: Fraction | int = 0) -> bool:
        return (
            self.left < other.right + margin
            and other.left < self.right + margin
            and self.top < other.bottom + margin
            and other.top < self.bottom + margin
        )


@dataclass(frozen=True)
class Label:
    """A line of text: ``x`` is where ``anchor`` (start, middle, end) sits, ``y`` its baseline; ``box``
    bounds its glyphs."""

    text: str
    x: Px
    y: Px
    anchor: str
    box: Box


def placed_label(text: str, x: Fraction, baseline: Fraction, anchor: str = "middle") -> Label:
    width = text_width(text)
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    box = Box(_outward(left, -1), px(baseline - ASCENT), _outward(left + width, 1), px(baseline + DESCENT))
    return Label(text, px(x), px(baseline), anchor, box)


def _centred_within(text: str, centre: Fraction, low: Fraction, high: Fraction, baseline: Fraction) -> Label:
    """A label centred on ``centre``, shifted sideways as little as needed to stay within [low, high]."""
    half = text_width(text) / 2
    return placed_label(text, min(max(centre, low + half), high - half), baseline)


@dataclass(frozen=True)
class Bar:
    """One record's bar: its rectangle, the level its figures reached (``unknown`` when not known), a
    tooltip with its exact figures and, where it fits, a label."""

    index: int  # 1-based, as in the records table
    x: Px
    y: Px
    width: Px
    height: Px
    level: str
    capped: bool  # its value lies above the scale: drawn to the top, with a mark, its true value labelled
    tooltip: str
    text: str  # the utilization as the reports show it
    label: Label | None

    @property
    def box(self) -> Box:
        """The bar with its cap mark, the room no label may take."""
        top = self.y - CAP_MARK if self.capped else self.y
        return Box(self.x, px(top), px(self.x + self.width), px(self.y + self.height))

    @property
    def centre(self) -> Px:
        return px(self.x + self.width / 2)

    @property
    def mark(self) -> str:
        """The cap mark's points (a triangle as wide as the bar, on its top: on thin bars a spike), or ``""``."""
        if not self.capped:
            return ""
        return f"{self.x},{self.y} {px(self.x + self.width)},{self.y} {self.centre},{px(self.y - CAP_MARK)}"


@dataclass(frozen=True)
class Threshold:
    """A dashed line at a threshold across the plot, a leader to its label in the right margin, and the
    label (moved up or down from the line only as far as it must to keep clear of the others)."""

    name: str  # ALERT70, ALERT85, ALERT95, or MINIMAL for the budget line
    percent: Fraction
    y: Px
    x1: Px
    x2: Px
    label: Label

    @property
    def leader(self) -> str:
        """The leader's points, from the line's end to the middle of its label's left edge."""
        middle = px((self.label.box.top + self.label.box.bottom) / 2)
        return f"{self.x2},{self.y} {px(self.x2 + LEADER - 2)},{middle}"


@dataclass(frozen=True)
class Chart:
    """The utilization chart: a bar per record on a scale up to 120 % of the highest threshold, a line per
    threshold, record numbers under the bars, and a caption when only some bars carry a label."""

    width: int
    height: int
    font_size: int
    top: int  # y of the scale's top
    bottom: int  # y of 0 %
    left: Px  # the plot's left and right edges
    right: Px
    scale: Fraction  # the percent at the top of the plot
    bars: tuple[Bar, ...]
    lines: tuple[Threshold, ...]
    ticks: tuple[Label, ...]  # record numbers
    zero: Label  # "0%" beside the axis
    caption: Label | None  # says which bars are labelled when not all are
    summarised: bool

    @property
    def labels(self) -> tuple[Label, ...]:
        """Every text the chart draws (for tests: none may overlap another)."""
        values = tuple(b.label for b in self.bars if b.label)
        return (*values, *(t.label for t in self.lines), *self.ticks, self.zero, *filter(None, [self.caption]))

    @property
    def labelled(self) -> tuple[int, ...]:
        return tuple(b.index for b in self.bars if b.label)


def _level_text(percent: Fraction) -> str:
    # a configured level is a short number (80.5); one that is not is shown as the reports show a percent
    return plain_number(percent) if 100 % percent.denominator == 0 else format_percent(percent)


def _spread(ideals: Sequence[Fraction], step: Fraction, low: Fraction, high: Fraction) -> list[Fraction]:
    """Positions for sorted ``ideals``, each at least ``step`` after the one before, all within [low, high],
    as close to the ideals as they can be: a run that would collide is centred on its ideals as one block."""
    blocks: list[list[Fraction]] = []  # each holds its members' ideals less their offset in the block

    def start(block: list[Fraction]) -> Fraction:
        mean = sum(block, Fraction(0)) / len(block)
        return min(max(mean, low), high - (len(block) - 1) * step)

    for ideal in ideals:
        block = [ideal]
        while blocks and start(blocks[-1]) + len(blocks[-1]) * step > start(block):
            previous = blocks.pop()
            block = previous + [m - len(previous) * step for m in block]
        blocks.append(block)
    return [start(b) + k * step for b in blocks for k in range(len(b))]


def _thresholds(thresholds: Thresholds, y: _Scale, left: Px, right: Px) -> tuple[Threshold, ...]:
    levels = [
        ("MINIMAL", thresholds.minimal, "budget"),
        ("ALERT95", thresholds.alert95, "ALERT95"),
        ("ALERT85", thresholds.alert85, "ALERT85"),
        ("ALERT70", thresholds.alert70, "ALERT70"),
    ]
    levels.sort(key=lambda level: -level[1])  # stable: equal levels keep the most severe on top
    height = ASCENT + DESCENT
    ideals = [y(p) - Fraction(height, 2) for _, p, _ in levels]
    tops = _spread(ideals, Fraction(height + GAP), Fraction(0), Fraction(BOTTOM - height))
    return tuple(
        Threshold(
            name, p, y(p), left, right, placed_label(f"{_level_text(p)}% {word}", right + LEADER, top + ASCENT, "start")
        )
        for (name, p, word), top in zip(levels, tops, strict=True)
    )


class _Scale:
    """Percent to y: 0 % at BOTTOM, ``top`` percent at TOP; values above are capped at TOP."""

    def __init__(self, top: Fraction) -> None:
        self.top = top

    def __call__(self, percent: Fraction) -> Px:
        return px(BOTTOM - min(percent, self.top) * PLOT_HEIGHT / self.top)


def _tooltip(r: ChartRow, text: str) -> str:
    if r.utilization is None:
        return f"{r.run_id}: utilization unknown ({r.action or 'level unknown'})"
    level = r.action or "level unknown"
    if r.written_action is not None and r.written_action != r.action:  # one still waiting for fill is no news
        level += f", written {r.written_action}"
    return f"{r.run_id}: {text} ({level})"


def _bars(rows: Sequence[ChartRow], y: _Scale, left: Px, right: Px) -> list[Bar]:
    slot = (right - left) / max(len(rows), 1)
    width = min(Fraction(MAX_BAR), slot * 2 / 3) if slot >= 3 else slot  # thin bars touch: a strip
    bars = []
    for i, r in enumerate(rows):
        u = r.utilization
        text = "—" if u is None else f"{format_percent(u)}%"
        if u is None:
            top = px(BOTTOM - MIN_BAR)  # a stub, drawn grey: a record whose figure is not known
        elif u <= 0:
            top = px(BOTTOM)
        else:
            top = min(y(u), px(BOTTOM - MIN_BAR))
        x = px(left + i * slot + (slot - width) / 2)
        capped = u is not None and u > y.top
        level = r.action or "unknown"
        bars.append(Bar(i + 1, x, top, px(width), px(BOTTOM - top), level, capped, _tooltip(r, text), text, None))
    return bars


def _place(bar: Bar, neighbours: Sequence[Box], lines: Iterable[Px], left: Px, right: Px) -> Label | None:
    """The bar's label just above it, raised past any threshold line or neighbouring bar in its way; None
    when that would leave the chart."""
    baseline = Fraction(bar.box.top - GAP - DESCENT)
    while True:
        candidate = _centred_within(bar.text, bar.centre, left, right, baseline)
        box = candidate.box
        blocking = [y for y in lines if box.top - GAP < y < box.bottom + GAP]
        blocking += [o.top for o in neighbours if o.left < box.right + GAP and box.left < o.right + GAP]
        blocking = [y for y in blocking if y < box.bottom + GAP]
        if not blocking:
            return candidate if box.top >= 0 else None
        baseline = min(blocking) - GAP - DESCENT


def _priority(bars: Sequence[Bar], rows: Sequence[ChartRow]) -> list[int]:
    """Which bars to label when not all fit: the peak, then the alerts, highest level and value first."""
    known = [(r.utilization, -i) for i, r in enumerate(rows) if r.utilization is not None]
    peak = [-max(known)[1]] if known else []
    alerts = [i for i, b in enumerate(bars) if b.level in SEVERITY and i not in peak]
    alerts.sort(key=lambda i: (-SEVERITY[bars[i].level], -(rows[i].utilization or 0), i))
    return peak + alerts


def _labels(
    bars: Sequence[Bar], order: Iterable[int], lines: Sequence[Px], left: Px, right: Px, *, every: bool = False
) -> dict[int, Label] | None:
    """Labels for the bars in ``order``, each placed unless it would touch one placed before it (with
    ``every``, None as soon as one cannot be placed)."""
    placed: dict[int, Label] = {}
    boxes = [b.box for b in bars]
    slot = Fraction(right - left, max(len(bars), 1))
    for i in order:
        reach = int((text_width(bars[i].text) / 2 + GAP) / slot) + 1  # the bars a label can reach sideways
        neighbours = boxes[max(i - reach, 0) : i] + boxes[i + 1 : i + 1 + reach]
        found = _place(bars[i], neighbours, lines, left, right)
        if found and not any(found.box.overlaps(p.box, GAP) for p in placed.values()):
            placed[i] = found
        elif every:
            return None
    return placed


def _ticks(bars: Sequence[Bar], left: Px, right: Px) -> tuple[Label, ...]:
    """Record numbers under the bars: every one when they fit, else 1 and every 2nd, 5th, 10th, … record."""
    if not bars:
        return ()
    slot = Fraction(right - left, len(bars))
    room = text_width(str(len(bars))) + 2 * GAP
    step = next(s for k in range(12) for s in (10**k, 2 * 10**k, 5 * 10**k) if s * slot >= room)
    baseline = Fraction(BOTTOM + GAP + ASCENT)
    ticks: list[Label] = []
    for b in bars:
        if b.index == 1 or b.index % step == 0:
            # below the plot the right margin is free (threshold labels stay above 0 %): the last number may use it
            tick = _centred_within(str(b.index), b.centre, left, Fraction(WIDTH), baseline)
            if not ticks or not tick.box.overlaps(ticks[-1].box, GAP):
                ticks.append(tick)
    return tuple(ticks)


def chart(rows: Sequence[ChartRow], thresholds: Thresholds) -> Chart:
    """Lay out the chart for ``rows`` (in ledger order) against the configured thresholds."""
    levels = (thresholds.alert70, thresholds.alert85, thresholds.alert95, thresholds.minimal)
    scale = _Scale(max(max(levels), Fraction(1)) * HEADROOM)
    zero = placed_label("0%", Fraction(text_width("0%") + GAP), Fraction(BOTTOM + ASCENT // 3), "end")
    left = px(zero.box.right + GAP)
    margin = max(text_width(f"{_level_text(p)}% ALERT70") for p in levels) + LEADER + GAP
    right = px(WIDTH - margin)
    lines = _thresholds(thresholds, scale, left, right)
    bars = _bars(rows, scale, left, right)
    ys = [t.y for t in lines]
    placed = _labels(bars, range(len(bars)), ys, left, right, every=True)
    summarised = placed is None
    if placed is None:  # not every label fits: label what matters
        placed = _labels(bars, _priority(bars, rows), ys, left, right) or {}
    bars = [replace(b, label=placed.get(i)) for i, b in enumerate(bars)]
    ticks = _ticks(bars, left, right)
    height = BOTTOM + GAP + ASCENT + DESCENT + GAP  # the record numbers' row
    caption = None
    if summarised:
        note = f"{len(bars)} records: labels on the peak and the alerts that fit; each bar's tooltip has its figures"
        caption = placed_label(note, left, Fraction(height + ASCENT), "start")
        height = int(caption.box.bottom) + GAP
    return Chart(WIDTH, height, FONT_SIZE, TOP, BOTTOM, left, right, scale.top, tuple(bars), lines, ticks, zero,
                 caption, summarised)  # fmt: skip
