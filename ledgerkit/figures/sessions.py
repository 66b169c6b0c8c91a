"""Sessions: a ledger's records grouped by CONTEXT_ID, with the totals the cumulative summary and the
reports show, all from the records' figures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

from ..reading.values import NO_CONTEXT
from .compute import Figures

__all__ = ["NO_CONTEXT", "Project", "Session", "group"]


def _total(values: Iterable[int | None]) -> int | None:
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def _peak(values: Iterable[Fraction | None]) -> Fraction | None:
    peak: Fraction | None = None
    for value in values:
        if value is None:
            return None
        peak = value if peak is None or value > peak else peak
    return peak


@dataclass(frozen=True)
class Session:
    """One CONTEXT_ID's records, in ledger order. A total is None while any record's figure is missing."""

    id: str
    records: tuple[Figures, ...]

    @property
    def count(self) -> int:
        return len(self.records)

    @property
    def char_count_total(self) -> int | None:
        return _total(f.chars for f in self.records)

    @property
    def token_estimate_total(self) -> int | None:
        return _total(f.tokens for f in self.records)

    @cached_property  # the summary writes it, and the project's peak is the sessions' (Fractions compare slowly)
    def utilization_peak(self) -> Fraction | None:
        """The highest utilization any record reached (exact)."""
        return _peak(f.utilization for f in self.records)

    @property
    def last_threshold_action(self) -> str | None:
        """The level the session's last record reached (not what it wrote)."""
        return self.records[-1].action if self.records else None

    @property
    def budget(self) -> int | None:
        """The budget of the session's last record."""
        return self.records[-1].budget if self.records else None

    @property
    def budget_share(self) -> Fraction | None:
        """The session's estimated tokens as a percent of its budget (a session loads its records in turn, so
        past 100 % it no longer fits one context)."""
        total, budget = self.token_estimate_total, self.budget
        return None if total is None or not budget else Fraction(total * 100, budget)

    @property
    def cost_total(self) -> Decimal | None:
        """The input cost of the session's loads; None while any record's cost is unknown."""
        costs = [f.cost.amount if f.cost is not None else None for f in self.records]
        if not costs or None in costs:
            return None
        return sum((c for c in costs if c is not None), Decimal(0))


@dataclass(frozen=True)
class Project:
    """Every session of a ledger; ``id`` is the PROJECT_ID a person wrote (kept as written)."""

    id: str | None
    sessions: tuple[Session, ...]

    @property
    def session_count(self) -> int:
        return len(self.sessions)

    @property
    def token_estimate_total(self) -> int | None:
        return _total(s.token_estimate_total for s in self.sessions) if self.sessions else 0

    @property
    def utilization_peak(self) -> Fraction | None:
        return _peak(s.utilization_peak for s in self.sessions) if self.sessions else None


def group(records: Sequence[Figures]) -> list[Session]:
    """Sessions in the order their first record appears."""
    by_id: dict[str, list[Figures]] = {}
    for f in records:
        by_id.setdefault(f.values.session, []).append(f)
    return [Session(key, tuple(items)) for key, items in by_id.items()]
