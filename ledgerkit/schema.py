"""The ledger's schema, declared once: every field, its kind, how a written value is read, how a computed
one is written, and which placeholders it may hold.

Every stage asks this module: parse finds fields, the read stage (``reading/values.py``) turns their text
into typed values, fill writes figures with the writers here, verify and the reports read nothing raw.
A reader never takes a prefix of what was written: ``130_000`` is unreadable, not 130.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_CEILING, Decimal
from enum import Enum
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

#: Every reader of written text remembers the texts it read last: records repeat their values (a budget, a
#: scope, an action, a formula, a percentage, a share, a source entry), and every value read is immutable (int,
#: str, Fraction, Decimal, datetime, tuples of them), while building one (a Fraction, a datetime) is slow.
remembered = lru_cache(maxsize=4096)

#: ``[fill]``, ``[fill_after_measure]``, any ``[fill_…]``; not ``[assign_when_available]``.
PLACEHOLDER = re.compile(r"\[fill(?:_[^\]\s]*)?\]")

#: A record's heading text (level 3): ``RUN_ID: TB-LEDGER-20250816-001``.
RUN_ID_HEADING = re.compile(r"^RUN_ID:[ \t]*(?P<id>\S.*?)[ \t]*$")

#: THRESHOLD_ACTION values, in rising order of severity.
ACTIONS = ("NONE", "ALERT70", "ALERT85", "ALERT95", "MINIMAL")

#: SCOPE values.
SCOPES = ("CONV", "UNIT", "TASK", "SESSION", "PROJECT")

#: The ledger-level item of section 0 that gives BUDGET_C its default.
SESSION_BUDGET = "SESSION_BUDGET_C"


class Kind(Enum):
    """What a field holds, and so how its text is read."""

    TEXT = "text"
    INTEGER = "a whole number"
    ESTIMATE = "a whole number"  # TOKEN_ESTIMATE: a whole number, maybe after its formula ceil(CHAR_COUNT / N)
    PERCENT = "a percentage"
    ACTION = "one of " + "|".join(ACTIONS)
    LOCAL_TIME = "a local time such as '2025-08-16 16:20 KST (UTC+09:00)'"
    UTC_TIME = "a UTC time such as '2025-08-16T07:20:00Z'"
    SCOPE = "one of " + "|".join(SCOPES)
    SOURCES = "a list of sources"
    SHARES = "a list of shares such as 'system: 10%'"
    NOTES = "a list of notes"
    EXACT_COUNT = "a whole number"
    MODEL = "a model id"
    MONEY = "an amount such as 0.0123"


class FieldSpec(NamedTuple):
    """One field of a record."""

    key: str
    kind: Kind
    required: bool = False  # section 4 of the reference ledger: a record without it is LK511
    computed: str | None = None  # the figure fill writes where it holds a placeholder (figures.Figures)
    arg: str | None = None  # what ``KEY (arg)`` names: an encoding, a currency; None: no argument

    @property
    def figure(self) -> bool:
        """True for the fields fill fills."""
        return self.computed is not None


FIELDS: dict[str, FieldSpec] = {
    spec.key: spec
    for spec in (
        FieldSpec("LOCAL_TS", Kind.LOCAL_TIME, required=True),
        FieldSpec("UTC_TS", Kind.UTC_TIME, required=True),
        FieldSpec("SCOPE", Kind.SCOPE, required=True),
        FieldSpec("CONTEXT_ID", Kind.TEXT, required=True),
        FieldSpec("SOURCE_FILES", Kind.SOURCES, required=True),
        FieldSpec("CHAR_COUNT", Kind.INTEGER, required=True, computed="chars"),
        FieldSpec("TOKEN_ESTIMATE", Kind.ESTIMATE, required=True, computed="tokens"),
        FieldSpec("BUDGET_C", Kind.INTEGER, required=True, computed="budget"),
        FieldSpec("UTILIZATION", Kind.PERCENT, required=True, computed="utilization"),
        FieldSpec("DISTRIBUTION", Kind.SHARES, required=True),
        FieldSpec("THRESHOLD_ACTION", Kind.ACTION, required=True, computed="action"),
        FieldSpec("NOTES", Kind.NOTES, required=True),
        FieldSpec("TOKEN_COUNT", Kind.EXACT_COUNT, computed="exact", arg="encoding"),
        FieldSpec("MODEL", Kind.MODEL),
        FieldSpec("COST_ESTIMATE", Kind.MONEY, computed="cost", arg="currency"),
    )
}

#: The fields of section 4, in its order (RUN_ID is the heading).
REQUIRED = tuple(key for key, spec in FIELDS.items() if spec.required)

#: The currency COST_ESTIMATE is written in: ``- COST_ESTIMATE (USD): [fill]``.
CURRENCY = "USD"

#: The cumulative summary's items, each with the keys the summary template writes under it. fill owns
#: these items and nothing else in the summary section.
SUMMARY_ITEMS: dict[str, tuple[str, ...]] = {
    "SESSION_ID": (
        "ENTRIES",
        "CHAR_COUNT_TOTAL",
        "TOKEN_ESTIMATE_TOTAL",
        "UTILIZATION_PEAK",
        "LAST_THRESHOLD_ACTION",
        "COST_TOTAL",
    ),
    "PROJECT_ID": ("SESSION_COUNT", "TOKEN_ESTIMATE_TOTAL", "UTILIZATION_PEAK", "COST_TOTAL"),
}


# --- writing figures --------------------------------------------------------------------------------


def write_figure(kind: Kind, value: object) -> str:
    """How fill writes a computed figure of a kind into a placeholder."""
    if kind is Kind.PERCENT:
        assert isinstance(value, Fraction)
        return format_percent(value)
    if kind is Kind.MONEY:
        assert isinstance(value, Decimal)
        return format_money(value)
    return str(value)


#: What a placeholder of each figure kind may become (what fill writes, and the forms a person writes):
#: the history check accepts exactly these as a fill.
_NUMBER = r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+"
FILLED = {
    Kind.INTEGER: _NUMBER,
    Kind.ESTIMATE: _NUMBER,
    Kind.EXACT_COUNT: _NUMBER,
    Kind.PERCENT: r"[0-9]+(?:\.[0-9]+)?%?",
    Kind.ACTION: "|".join(ACTIONS),
    Kind.MONEY: r"[0-9]+(?:\.[0-9]+)?",
}


# --- numbers -------------------------------------------------------------------------------------------

#: More digits than any figure needs; a longer run is unreadable (and never reaches int()'s limit).
MAX_DIGITS = 30

_APPROX = re.compile(r"[ \t]*(?:[≈~][ \t]*)?")
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])")
_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_DIVISOR = re.compile(r"ceil\(\s*CHAR_COUNT\s*/\s*([0-9]{1,9})\s*\)")


def _after_formula(text: str) -> str:
    """The value after a formula the person wrote first: ``ceil(CHAR_COUNT / 4) = 1148`` gives ``1148``."""
    return text.rsplit("=", 1)[1] if "=" in text else text


def _whole(number: str, rest: str, *, unit: str = "") -> bool:
    """Whether ``number`` is the whole number written, not the start of a longer one.

    What follows may be nothing, a unit glued on (``4590자``, ``%``), or a blank and words; never more
    digits (``130 000``, ``130'000``), a separator (``130_000``, ``12,34``) or a Latin letter (``130k``).
    """
    if len(number.replace(",", "").replace(".", "")) > MAX_DIGITS:
        return False
    if unit and rest.startswith(unit):
        rest = rest[len(unit) :]
    if not rest:
        return True
    head = rest[0]
    if head.isdigit() or head in "_'.,’" or ("a" <= head.lower() <= "z"):
        return False
    if not head.isspace() and len(rest) > 1 and rest[1].isdigit():
        return False  # 1200-1300, 1200/1300: two numbers, not one
    stripped = rest.lstrip(" \t\u00a0\u202f")
    return not (stripped and stripped != rest and (stripped[0].isdigit() or stripped[0] in "_'’"))


@remembered
def read_integer(text: str) -> int | None:
    """A written whole number (``12345``, ``12,345``, ``≈ 12345 tokens``); None unless it is read whole."""
    if text.isdigit() and text.isascii() and len(text) <= MAX_DIGITS:
        return int(text)  # the common case: digits alone, which the rules below read the same
    text = _after_formula(text)
    start = _APPROX.match(text)
    at = start.end() if start else 0
    m = _GROUPED.match(text, at) or _DIGITS.match(text, at)
    if m is None or not _whole(m.group(), text[m.end() :]):
        return None
    return int(m.group().replace(",", ""))


@remembered
def read_percent(text: str) -> Fraction | None:
    """A written percentage (``3.79%``, ``70 %``) as an exact fraction; None unless it is read whole."""
    text = _after_formula(text)
    start = _APPROX.match(text)
    at = start.end() if start else 0
    m = _DECIMAL.match(text, at)
    if m is None:
        return None
    rest = text[m.end() :].lstrip(" \t")
    if not _whole(m.group(), rest, unit="%"):
        return None
    return Fraction(m.group())


@remembered
def formula_divisor(text: str) -> int | None:
    """The N of ``ceil(CHAR_COUNT / N)`` when a TOKEN_ESTIMATE writes its own formula (N > 0)."""
    m = _DIVISOR.search(text)
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None


def token_estimate(chars: int, divisor: int) -> int:
    """TOKEN_ESTIMATE = ceil(CHAR_COUNT / divisor), in integers."""
    return -(-chars // divisor)


def utilization(tokens: int, budget: int) -> Fraction:
    """UTILIZATION = TOKEN_ESTIMATE / BUDGET_C × 100, exactly."""
    return Fraction(tokens * 100, budget)


def format_percent(percent: Fraction) -> str:
    """Two decimals, rounded toward zero, so the written figure never crosses an alert level."""
    hundredths = int(percent * 100)  # int() truncates toward zero
    sign = "-" if hundredths < 0 else ""
    hundredths = abs(hundredths)
    return f"{sign}{hundredths // 100}.{hundredths % 100:02d}"


def written_percent(percent: Fraction) -> Fraction:
    """The exact value of what :func:`format_percent` writes: its hundredths, toward zero."""
    return Fraction(int(percent * 100), 100)


def plain_number(value: Fraction | int) -> str:
    """An exact number as a person writes it: ``10``, ``12.5``, ``33.333333333333`` (12 decimals at most)."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    whole, rest = divmod(abs(value.numerator), value.denominator)
    digits = ""
    while rest and len(digits) < 12:  # values read from decimals end long before this
        digit, rest = divmod(rest * 10, value.denominator)
        digits += str(digit)
    return f"{sign}{whole}.{digits}"


# --- money ---------------------------------------------------------------------------------------------

_MONEY = re.compile(r"[ \t]*(?:[≈~][ \t]*)?(?:US)?\$?[ \t]*(?P<n>[0-9]+(?:\.[0-9]+)?)")
#: COST_ESTIMATE is written with four decimals, rounded up, so a written cost never understates.
COST_PLACES = Decimal("0.0001")


@remembered
def read_money(text: str) -> Decimal | None:
    """A written amount (``0.0123``, ``$0.0123``, ``0.0123 USD``) as an exact Decimal."""
    text = _after_formula(text)
    m = _MONEY.match(text)
    if m is None:
        return None
    rest = text[m.end() :].lstrip(" \t")
    if rest[: len(CURRENCY)].upper() == CURRENCY:
        rest = rest[len(CURRENCY) :]
    if not _whole(m.group("n"), rest):
        return None
    return Decimal(m.group("n"))


def format_money(amount: Decimal) -> str:
    """Four decimals, rounded up (``0.00012`` is written ``0.0002``)."""
    return str(amount.quantize(COST_PLACES, rounding=ROUND_CEILING))


def written_money(amount: Decimal) -> Decimal:
    """The exact value of what :func:`format_money` writes."""
    return Decimal(format_money(amount))


# --- words ---------------------------------------------------------------------------------------------

_ARROW = re.compile(r"→|->")
_ACTION = re.compile(r"^[ \t]*(" + "|".join(ACTIONS) + r")\b")


@remembered
def read_action(text: str) -> str | None:
    """The THRESHOLD_ACTION a value names (after ``→`` when it writes the choices first)."""
    m = _ACTION.match(_ARROW.split(text)[-1])
    return m.group(1) if m else None


@remembered
def read_scope(text: str) -> str | None:
    value = text.strip()
    return value if value in SCOPES else None


# --- time ----------------------------------------------------------------------------------------------

_LOCAL_TS = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{2}:\d{2}(?::\d{2})?)[ \t]*"
    r"(?:(?P<iso>Z|[+-]\d{2}:?\d{2})|(?P<zone>[A-Za-z][A-Za-z0-9+-]{0,9})?[ \t]*"
    r"\([ \t]*(?:UTC|GMT)[ \t]*(?P<offset>[+-]\d{1,2}(?::?\d{2})?)?[ \t]*\))[ \t]*$",
    re.ASCII,
)


@lru_cache(maxsize=256)  # a ledger writes the same few offsets; a timedelta and a timezone are slow to build
def _zone(text: str) -> timezone | None:
    """The time zone of an offset as written (``Z``, ``+09:00``, ``+9``), None past a day."""
    if text == "Z":
        return UTC
    offset = _offset(text)
    return None if offset is None else timezone(offset)


def _offset(text: str) -> timedelta | None:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (digits[:-2], digits[-2:]) if len(digits) > 2 else (digits, "0")
    offset = sign * timedelta(hours=int(hours), minutes=int(minutes))
    return offset if abs(offset) < timedelta(hours=24) else None


def comparable(moment: datetime) -> datetime | None:
    """The instant when it can be compared with others (as UTC), else None (a date at the calendar's edge
    whose UTC time falls outside years 1 to 9999)."""
    if 1 < moment.year < 9999:
        return moment  # an offset is less than a day: the UTC time is within years 1 to 9999
    try:
        moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return moment


@remembered
def read_local_time(text: str) -> datetime | None:
    """``2025-08-16 16:20 KST (UTC+09:00)`` or ISO 8601 with an offset, as an aware datetime."""
    m = _LOCAL_TS.match(text.strip())
    if not m:
        return None
    date, time, iso, _name, offset = m.groups()
    zone = _zone(iso or offset or "+0")
    if zone is None:
        return None
    try:
        naive = datetime.fromisoformat(f"{date}T{time}")
    except ValueError:
        return None
    # naive.replace(tzinfo=zone), which parses its keywords at four times the cost.
    return comparable(datetime.combine(naive, naive.time(), zone))


@remembered
def read_utc_time(text: str) -> datetime | None:
    """ISO 8601 with ``Z`` or an offset, as an aware datetime."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return comparable(moment) if moment.tzinfo is not None else None


def format_utc(moment: datetime) -> str:
    """``2025-08-16T07:20:00Z``: the reference ledger's UTC_TS, and the form every report uses."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S}Z"


# --- shares ----------------------------------------------------------------------------------------------

_SHARE = re.compile(r"^(?P<name>.*\S)[ \t]*:[ \t]*(?P<percent>[0-9]{1,9}(?:\.[0-9]{1,9})?)[ \t]*%(?P<rest>.*)$")
_LEVEL = re.compile(r"^(?P<percent>[0-9]{1,9}(?:\.[0-9]{1,9})?)[ \t]*%[ \t]*(?P<text>.*)$")


@remembered
def read_share(text: str) -> tuple[str, Fraction] | None:
    """``system: 10%`` (a trailing note such as ``(…)`` is ignored) as (name, percent), else None."""
    m = _SHARE.match(text)
    if not m:
        return None
    return m.group("name").strip(), Fraction(m.group("percent"))


def read_level(text: str) -> tuple[Fraction, str] | None:
    """A section-3 line ``70% 경보1: …`` as (level, the advice), else None."""
    m = _LEVEL.match(text)
    return (Fraction(m.group("percent")), m.group("text").strip()) if m else None


# --- RUN_ID --------------------------------------------------------------------------------------------


def run_id_pattern(prefix: str) -> re.Pattern[str]:
    """``PREFIX-YYYYMMDD-NNN``, with the date and number as groups."""
    return re.compile(rf"^{re.escape(prefix)}-(?P<date>\d{{8}})-(?P<number>\d{{3,9}})$", re.ASCII)
