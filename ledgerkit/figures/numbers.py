"""The figures of a record: exact arithmetic, how figures are written, and how written ones are read.

Integers and fractions only: no float ever decides an alert or a written digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from ..config import ACTIONS, Config, Thresholds
from ..diagnostics import Diagnostic

if TYPE_CHECKING:  # parse reads numbers with this module: no import cycle at run time
    from ..reading.parse import Field, Ledger, Record

# A number glued to a Latin letter ("130k") is unreadable rather than read as 130.
_INT = re.compile(r"^\s*(?:[≈~]\s*)?(\d{1,3}(?:,\d{3})+|\d+)(?![\d.,A-Za-z])")
_DECIMAL = re.compile(r"^\s*(?:[≈~]\s*)?(\d+(?:\.\d+)?)\s*%?")
_DIVISOR = re.compile(r"ceil\(\s*CHAR_COUNT\s*/\s*(\d+)\s*\)")
_ARROW = re.compile(r"→|->")
_ACTION = re.compile(r"^\s*(" + "|".join(ACTIONS) + r")\b")


def token_estimate(chars: int, divisor: int) -> int:
    """ceil(chars / divisor), in integers."""
    return -(-chars // divisor)


def utilization(tokens: int, budget: int) -> Fraction:
    """TOKEN_ESTIMATE / BUDGET_C × 100, exactly."""
    return Fraction(tokens * 100, budget)


def format_percent(percent: Fraction) -> str:
    """Two decimals, rounded toward zero, so the written figure never crosses an alert level."""
    hundredths = int(percent * 100)  # int() truncates toward zero
    sign = "-" if hundredths < 0 else ""
    hundredths = abs(hundredths)
    return f"{sign}{hundredths // 100}.{hundredths % 100:02d}"


def plain_number(value: Fraction) -> str:
    """An exact number as a person writes it: ``10``, ``12.5``, ``33.333333333333`` (12 decimals at most)."""
    if value.denominator == 1:
        return str(value.numerator)
    sign = "-" if value < 0 else ""
    whole, rest = divmod(abs(value.numerator), value.denominator)
    digits = ""
    while rest and len(digits) < 12:  # values read from decimals end long before this
        digit, rest = divmod(rest * 10, value.denominator)
        digits += str(digit)
    return f"{sign}{whole}.{digits}"


def written_percent(percent: Fraction) -> Fraction:
    """The exact value of what :func:`format_percent` writes."""
    return Fraction(format_percent(percent))


def formula_divisor(value: str) -> int | None:
    """The N of ``ceil(CHAR_COUNT / N)`` when the value writes its own formula."""
    m = _DIVISOR.search(value)
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None


def _after_formula(value: str) -> str:
    return value.rsplit("=", 1)[1] if "=" in value else value


def read_int(value: str) -> int | None:
    """A written whole number (``12345``, ``12,345``, ``≈ 12345 tokens``), None if unreadable."""
    m = _INT.match(_after_formula(value))
    return int(m.group(1).replace(",", "")) if m else None


def read_percent(value: str) -> Fraction | None:
    """A written percentage (``3.79%``) as an exact fraction, None if unreadable."""
    m = _DECIMAL.match(_after_formula(value))
    return Fraction(m.group(1)) if m else None


def read_action(value: str) -> str | None:
    """The THRESHOLD_ACTION a value names (after ``→`` when it writes the choices first)."""
    parts = _ARROW.split(value)
    m = _ACTION.match(parts[-1])
    return m.group(1) if m else None


# --- a record's figures --------------------------------------------------------------------------------

#: The figure fields fill owns and how to read each.
FIGURE_FIELDS = ("CHAR_COUNT", "TOKEN_ESTIMATE", "BUDGET_C", "UTILIZATION", "THRESHOLD_ACTION")


@dataclass(frozen=True)
class Written:
    """The figures a record holds as written: None where missing, waiting (placeholder) or unreadable."""

    chars: int | None
    tokens: int | None
    budget: int | None
    utilization: Fraction | None
    action: str | None
    divisor: int

    @property
    def complete(self) -> bool:
        return None not in (self.chars, self.tokens, self.budget, self.utilization, self.action)


def is_waiting(f: Field | None) -> bool:
    """True when the field holds a placeholder (a figure still to be filled)."""
    return f is not None and bool(f.placeholders)


def divisor_of(record: Record, config: Config) -> int:
    f = record.field("TOKEN_ESTIMATE")
    return (formula_divisor(f.value) if f else None) or config.divisor


def read_written(record: Record, ledger: Ledger, config: Config) -> tuple[Written, list[Diagnostic]]:
    """Read a record's written figures; an unreadable (not waiting, not empty) one is a diagnostic."""
    diagnostics: list[Diagnostic] = []
    path = ledger.display_path
    seen: set[str] = set()
    for f in record.fields:
        if f.key in (*FIGURE_FIELDS, "SOURCE_FILES") and f.arg is None:
            if f.key in seen:
                diagnostics.append(
                    Diagnostic(
                        path, f.line, f.column, "LK101", f"{f.key} appears twice in record {record.run_id}; keep one"
                    )
                )
            seen.add(f.key)

    def get(key: str, reader, what: str, code: str = "LK103"):  # type: ignore[no-untyped-def]
        f = record.field(key)
        if f is None or is_waiting(f) or not f.value.strip():
            return None
        value = reader(f.value)
        if value is None:
            diagnostics.append(
                Diagnostic(path, f.line, f.value_column, code, f"{key} {f.value.strip()!r} is not {what}")
            )
        return value

    budget = get("BUDGET_C", read_int, "a whole number")
    if budget == 0:
        f = record.field("BUDGET_C")
        diagnostics.append(
            Diagnostic(path, f.line, f.value_column, "LK107", "BUDGET_C is 0; a budget is a positive whole number")
        )
        budget = None
    written = Written(
        chars=get("CHAR_COUNT", read_int, "a whole number"),
        tokens=get("TOKEN_ESTIMATE", read_int, "a whole number"),
        budget=budget,
        utilization=get("UTILIZATION", read_percent, "a percentage"),
        action=get("THRESHOLD_ACTION", read_action, f"one of {'|'.join(ACTIONS)}", "LK106"),
        divisor=divisor_of(record, config),
    )
    return written, sorted(diagnostics, key=lambda d: (d.line, d.column))


def session_budget(ledger: Ledger, config: Config) -> int | None:
    """The budget a ``BUDGET_C: [fill]`` takes: section 0's SESSION_BUDGET_C, else the configured one."""
    if ledger.budget is not None and ledger.budget.value is not None:
        return ledger.budget.value
    return config.budget


def action_for(tokens: int, budget: int, thresholds: Thresholds) -> str:
    return thresholds.action(utilization(tokens, budget))
