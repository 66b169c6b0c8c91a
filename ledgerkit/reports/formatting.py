"""Helpers every view shares: timestamps, JSON numbers and text, and Unicode bars."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from json.encoder import encode_basestring  # json's own, in C where json has its speedups
from typing import Any

from ..files.text import SURROGATE
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
    text (a newline, say), joined with it rather than copied again: an export's text is tens of megabytes.

    One difference: a lone surrogate, which json leaves as it is and no UTF-8 writer takes, is written as its
    escape (``\\udcff``). Python holds a file name's byte that is not UTF-8 that way (PEP 383), so every JSON
    ledgerkit writes is UTF-8, and such a name reads back whole (``os.fsencode(json.loads(...))``)."""
    out: list[str] = []
    _json_value(value, "\n", out)
    out.append(end)
    text = "".join(out)
    if text.isascii() or SURROGATE.search(text) is None:
        return text
    return SURROGATE.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    return f"\\u{ord(found.group()):04x}"  # as the "backslashreplace" error handler writes it


def json_data(value: Any, end: str = "") -> bytes:
    """``json_text(value, end)`` in UTF-8; an array is made an item at a time (json_array)."""
    if type(value) is list:
        return json_array(value, end)
    return json_text(value, end).encode("utf-8")


def json_array(items: Iterable[Any], end: str = "") -> bytes:
    """The JSON array of ``items`` as json_data writes it, each item made, encoded and let go in turn. An export
    is one array of records, and one record with an emoji makes a Python string of the whole text four bytes a
    character: 62 MB at 20,000 records, beside the pieces it was joined from. Made this way it holds one
    record (and its pieces) at a time, and the UTF-8 bytes: 16 MB (issue 12). A lone surrogate is written as
    its escape, as json_text writes it."""
    out: list[bytes] = []
    piece: list[str] = []
    opening = "[\n  "
    for item in items:
        piece.append(opening)
        _json_value(item, "\n  ", piece)
        out.append("".join(piece).encode("utf-8", "backslashreplace"))
        piece.clear()
        opening = ",\n  "
    out.append((("\n]" if out else "[]") + end).encode("utf-8", "backslashreplace"))
    return b"".join(out)


def _json_value(value: Any, newline: str, out: list[str]) -> None:
    # An object's loop and an array's are written out apart: one loop over (label, item) pairs made writing an
    # export a fifth slower (the pairs' iterator), about 50 ms of a 20,000-record export near its bound.
    kind = type(value)
    if kind is dict:
        _json_object(value, newline, out)
    elif kind is list or kind is tuple:
        _json_list(value, newline, out)
    else:
        scalar = _json_scalar(value)
        if scalar is not None:
            out.append(scalar)
        elif isinstance(value, dict):  # a subclass: as json writes it, through the general path
            _json_object(dict(value), newline, out)
        elif isinstance(value, list | tuple):
            _json_list(list(value), newline, out)
        else:
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _json_object(value: dict[Any, Any], newline: str, out: list[str]) -> None:
    # The labels come from _labels, made once for each set of keys: an export's records all have the same
    # nineteen. Every value of a record (strings, numbers, null, its lists and objects) is written from here
    # without the general path's calls: together with the same for an array's strings, a tenth of the writing.
    if not value:
        out.append("{}")
        return
    inner = newline + "  "
    keys = tuple(value)
    labels = _LABELS.get((inner, keys)) or _labels(inner, keys)
    for label, item in zip(labels, value.values(), strict=True):
        kind = type(item)
        if kind is str:
            out.append(label + encode_basestring(item))
        elif kind is int:
            out.append(label + int.__repr__(item))
        elif item is None:
            out.append(label + "null")
        elif kind is float:
            out.append(label + _json_float(item))
        elif kind is list:  # a container without the calls of the general path: a record holds four
            out.append(label)
            _json_list(item, inner, out)
        elif kind is dict:
            out.append(label)
            _json_object(item, inner, out)
        else:
            _json_item(label, item, inner, out)
    out.append(newline + "}")


def _json_list(value: list[Any] | tuple[Any, ...], newline: str, out: list[str]) -> None:
    if not value:
        out.append("[]")
        return
    inner = newline + "  "
    opening = "[" + inner
    for item in value:
        if type(item) is str:  # most lists hold text (a record's sources and notes): written here, without a call
            out.append(opening + encode_basestring(item))
        else:
            _json_item(opening, item, inner, out)
        opening = "," + inner
    out.append(newline + "]")


def _json_item(head: str, item: Any, inner: str, out: list[str]) -> None:
    """``head`` (an object's label, an array's opening or comma) and then ``item``, at the indent ``inner``."""
    scalar = _json_scalar(item)
    if scalar is None:
        out.append(head)
        _json_value(item, inner, out)
    else:
        out.append(head + scalar)


#: An object's labels (``{\n    "ledger": ``, ``,\n    "line": ``, ...) by its indent and keys; at most 256 sets.
_LABELS: dict[tuple[str, tuple[Any, ...]], list[str]] = {}


def _labels(inner: str, keys: tuple[Any, ...]) -> list[str]:
    labels = []
    opening = "{" + inner
    for key in keys:
        labels.append(opening + (encode_basestring(key) if type(key) is str else _json_key(key)) + ": ")
        opening = "," + inner
    # Only string keys are remembered: a tuple of keys is looked up by equality, and 1, 1.0 and True are
    # equal keys that json writes as "1", "1.0" and "true".
    if len(_LABELS) < 256 and all(type(key) is str for key in keys):
        _LABELS[inner, keys] = labels
    return labels


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
