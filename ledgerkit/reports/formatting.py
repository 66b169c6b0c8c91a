"""Helpers every view shares: timestamps, JSON numbers and Unicode bars."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from ..schema import plain_number, written_percent


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with ``Z`` (``2025-08-16T07:20:00Z``), the form every report and export uses."""
    return None if moment is None else f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"


def number(value: Fraction | None) -> float | int | None:
    """An exact figure as a JSON number: an integer stays one; a written percentage (two decimals) has
    a float whose shortest repr is the same decimal, so ``3.79`` stays ``3.79``."""
    if value is None:
        return None
    return value.numerator if value.denominator == 1 else float(plain_number(value))


def bar(percent: Fraction | None, width: int = 20, cap: int = 24) -> str:
    """A Unicode bar: ``width`` cells for 100 %, in eighths of a cell; past ``cap`` cells it ends in ``▶``."""
    if percent is None:
        return ""
    if percent * width > cap * 100:
        return "█" * cap + "▶"
    eighths = int(max(percent, Fraction(0)) * width * 8 / 100)
    full, part = divmod(eighths, 8)
    return "█" * full + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[part]


def percent_number(percent: Fraction | None) -> float | int | None:
    """A utilization as a JSON number, as the ledger writes it: two decimals, toward zero (``95.66``)."""
    return None if percent is None else number(written_percent(percent))


def usd(amount: Decimal | None) -> float | None:
    """A cost as a JSON number (``cost_usd``): the exact decimal, as short as it is written."""
    return None if amount is None else float(str(amount))


def money(amount: Decimal | None) -> str:
    """A cost for people: ``$0.0123`` (four decimals, rounded up, as a ledger writes it), ``—`` unknown."""
    from ..schema import format_money

    return "—" if amount is None else f"${format_money(amount)}"


def thousands(value: object) -> str:
    """A whole number with thousands separators for people (``130,000``); anything else as it is."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "—" if value is None else str(value)
