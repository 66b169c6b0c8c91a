"""Sessions: a ledger's records grouped by CONTEXT_ID, with the totals the cumulative summary and the
reports show, all from the records' figures."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
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


class Totals:
    """A session's totals, added up one record at a time: what the summary writes of a session, and what
    :class:`Session` shows. A total is None once any record's figure is missing."""

    __slots__ = ("action", "budget", "chars", "cost", "count", "peak", "tokens")

    def __init__(self) -> None:
        self.count = 0
        self.chars: int | None = 0
        self.tokens: int | None = 0
        self.peak: Fraction | None = None  # the highest utilization (exact)
        self.action: str | None = None  # the level the last record reached
        self.budget: int | None = None  # the last record's
        self.cost: Decimal | None = Decimal(0)

    @classmethod
    def of(cls, records: Iterable[Figures]) -> Totals:
        totals = cls()
        for f in records:
            totals.add(f)
        return totals

    def add(self, f: Figures) -> None:
        first = not self.count
        self.count += 1
        self.chars = None if self.chars is None or f.chars is None else self.chars + f.chars
        self.tokens = None if self.tokens is None or f.tokens is None else self.tokens + f.tokens
        u, peak = f.utilization, self.peak
        if u is None:
            self.peak = None
        elif first:
            self.peak = u
        elif peak is not None and u is not peak and u > peak:  # records share their utilizations (compute.py)
            self.peak = u
        self.action, self.budget = f.action, f.budget
        if self.cost is not None:
            self.cost = None if f.cost is None else self.cost + f.cost.amount


@dataclass(frozen=True)
class Session:
    """One CONTEXT_ID's records, in ledger order, and their totals.

    ``running``: the totals, added up as the records were read, for a session whose records were not kept
    (``records`` is then empty: fill in place, which writes only the totals)."""

    id: str
    records: tuple[Figures, ...]
    running: Totals | None = field(default=None, repr=False, compare=False)

    @cached_property
    def totals(self) -> Totals:
        return self.running if self.running is not None else Totals.of(self.records)

    @property
    def count(self) -> int:
        return self.totals.count

    @property
    def char_count_total(self) -> int | None:
        return self.totals.chars

    @property
    def token_estimate_total(self) -> int | None:
        return self.totals.tokens

    @property
    def utilization_peak(self) -> Fraction | None:
        """The highest utilization any record reached (exact)."""
        return self.totals.peak

    @property
    def last_threshold_action(self) -> str | None:
        """The level the session's last record reached (not what it wrote)."""
        return self.totals.action

    @property
    def budget(self) -> int | None:
        """The budget of the session's last record."""
        return self.totals.budget

    @property
    def budget_share(self) -> Fraction | None:
        """The session's estimated tokens as a percent of its budget (a session loads its records in turn, so
        past 100 % it no longer fits one context)."""
        total, budget = self.token_estimate_total, self.budget
        return None if total is None or not budget else Fraction(total * 100, budget)

    @property
    def cost_total(self) -> Decimal | None:
        """The input cost of the session's loads; None while any record's cost is unknown."""
        return self.totals.cost if self.totals.count else None


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
