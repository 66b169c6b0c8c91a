"""Helpers every view shares: timestamps, JSON numbers and text, and Unicode bars."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from json.encoder import encode_basestring  # json's own, in C where json has its speedups
from typing import Any

from ..schema import plain_number, written_percent


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with ``Z`` (``2025-08-16T07:20:00Z``), the form every report and export uses."""
    return None if moment is None else f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"


def number(value: Fraction | None) -> float | int | None:
    """An exact figure as a JSON number: an integer stays one; a written percentage (two decimals) has
    a float whose shortest repr is the same decimal, so ``3.79`` stays ``3.79``."""
    if value is None:
        return None
    return _number(value.numerator, value.denominator)


# A ledger writes the same few percentages in every record: each is converted once, remembered by its two
# integers (a Fraction's own hash runs in Python, and its arithmetic too).
@lru_cache(maxsize=4096)
def _number(numerator: int, denominator: int) -> float | int:
    return numerator if denominator == 1 else float(plain_number(Fraction(numerator, denominator)))


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
    return None if percent is None else _percent_number(percent.numerator, percent.denominator)


@lru_cache(maxsize=4096)
def _percent_number(numerator: int, denominator: int) -> float | int | None:
    return number(written_percent(Fraction(numerator, denominator)))


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


def json_text(value: Any, end: str = "") -> str:
    """``value`` as ``json.dumps(value, ensure_ascii=False, indent=2)`` writes it, character for character, in
    about half the time: with an indent, json encodes in Python through a generator per level, which was the
    largest part of exporting a long ledger (issue 12). Raises TypeError where json would. ``end`` follows the
    text (a newline, say), joined with it rather than copied again: an export's text is tens of megabytes."""
    out: list[str] = []
    _json_value(value, "\n", out)
    out.append(end)
    return "".join(out)


def _json_value(value: Any, newline: str, out: list[str]) -> None:  # noqa: C901 - one branch per JSON type
    # An object's loop and an array's are written out apart: one loop over (label, item) pairs made writing an
    # export a fifth slower (the pairs' iterator), about 50 ms of a 20,000-record export near its bound.
    kind = type(value)
    if kind is dict:
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        opening = "{" + inner
        for key, item in value.items():
            head = opening + (encode_basestring(key) if type(key) is str else _json_key(key)) + ": "
            scalar = _json_scalar(item)
            if scalar is None:
                out.append(head)
                _json_value(item, inner, out)
            else:
                out.append(head + scalar)
            opening = "," + inner
        out.append(newline + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        opening = "[" + inner
        for item in value:
            scalar = _json_scalar(item)
            if scalar is None:
                out.append(opening)
                _json_value(item, inner, out)
            else:
                out.append(opening + scalar)
            opening = "," + inner
        out.append(newline + "]")
    else:
        scalar = _json_scalar(value)
        if scalar is not None:
            out.append(scalar)
        elif isinstance(value, dict):  # a subclass: as json writes it, through the general path
            _json_value(dict(value), newline, out)
        elif isinstance(value, list | tuple):
            _json_value(list(value), newline, out)
        else:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _json_scalar(value: Any) -> str | None:
    """A string, number, bool or None as JSON text; None for a container (or what JSON cannot hold)."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is dict or kind is list:  # the containers first: a list of records holds nothing else
        return None
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is float:
        return _json_float(value)
    if isinstance(value, str):
        return encode_basestring(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _json_float(value)
    return None


def _json_key(key: Any) -> str:
    """A mapping key as json writes it: a string as itself, a number, bool or None as its JSON text."""
    if isinstance(key, str):
        return encode_basestring(key)
    if key is None or isinstance(key, bool):
        return '"' + {None: "null", True: "true", False: "false"}[key] + '"'
    if isinstance(key, int):
        return '"' + int.__repr__(key) + '"'
    if isinstance(key, float):
        return '"' + _json_float(key) + '"'
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _json_float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)
