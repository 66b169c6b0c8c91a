"""The geometry of the HTML rollup's utilization chart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..config import Thresholds
from ..schema import plain_number
from .records import Row


@dataclass(frozen=True)
class Chart:
    """Geometry of the utilization chart (an SVG bar per record, a line per alert level), in pixels.

    Drawing only: the figures shown beside each bar are the exact ones, never read back from here.
    """

    width: int
    height: int
    top: int
    bottom: int  # y of 0 %
    left: int
    bars: tuple[dict[str, Any], ...]
    lines: tuple[dict[str, Any], ...]


def chart(rows: Sequence[Row], thresholds: Thresholds, *, plot_height: int = 240, plot_width: int = 840) -> Chart:
    levels = [
        ("ALERT70", thresholds.alert70),
        ("ALERT85", thresholds.alert85),
        ("ALERT95", thresholds.alert95),
        ("BUDGET", thresholds.minimal),
    ]
    utilizations = [r.utilization for r in rows if r.utilization is not None]
    # The scale shows every alert line, and every bar whole (up to twice the budget; taller ones are clipped).
    scale = max(min(max(utilizations, default=Fraction(0)), Fraction(200)), thresholds.minimal) * Fraction(11, 10)
    top, left = 16, 48
    bottom = top + plot_height
    slot = max(24, min(160, plot_width // max(len(rows), 1)))  # a long session scrolls sideways
    width = left + max(len(rows), 1) * slot + 96  # room on the right for the alert labels

    def y(percent: Fraction) -> int:
        return bottom - round(min(percent, scale) * plot_height / scale)

    bars = []
    for i, r in enumerate(rows):
        u = r.utilization
        bar_top = y(u) if u is not None else bottom
        bars.append(
            {
                "x": left + i * slot + slot // 6,
                "y": bar_top,
                "width": slot * 2 // 3,
                "height": bottom - bar_top,
                "center": left + i * slot + slot // 2,
                "row": r,
                "action": r.action or "unknown",
            }
        )
    lines = tuple({"y": y(p), "label": f"{plain_number(p)}%", "action": name} for name, p in levels)
    # The budget line is labelled on the left, the alerts on the right, so close levels never overlap.
    return Chart(width, bottom + 40, top, bottom, left, tuple(bars), lines)
