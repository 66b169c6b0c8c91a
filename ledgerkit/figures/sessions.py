"""Sessions: a ledger's records grouped by CONTEXT_ID, with the totals the cumulative summary shows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from ..reading.parse import Record
from .numbers import Written

NO_CONTEXT = "(no CONTEXT_ID)"


@dataclass(frozen=True)
class Entry:
    record: Record
    figures: Written


def _total(values: Iterable[int | None]) -> int | None:
    values = list(values)
    return None if None in values else sum(values)  # type: ignore[arg-type]


def _peak(values: Iterable[Fraction | None]) -> Fraction | None:
    values = list(values)
    return None if not values or None in values else max(values)  # type: ignore[type-var]


@dataclass(frozen=True)
class Session:
    """One CONTEXT_ID's records, in ledger order. A total is None while any record's figure is missing."""

    id: str
    entries: tuple[Entry, ...]

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def char_count_total(self) -> int | None:
        return _total(e.figures.chars for e in self.entries)

    @property
    def token_estimate_total(self) -> int | None:
        return _total(e.figures.tokens for e in self.entries)

    @property
    def utilization_peak(self) -> Fraction | None:
        return _peak(e.figures.utilization for e in self.entries)

    @property
    def last_threshold_action(self) -> str | None:
        return self.entries[-1].figures.action if self.entries else None


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
        return _peak(s.utilization_peak for s in self.sessions)


def group(entries: Sequence[Entry]) -> list[Session]:
    """Sessions in the order their first record appears."""
    by_id: dict[str, list[Entry]] = {}
    for entry in entries:
        context = (entry.record.context_id or "").strip() or NO_CONTEXT
        by_id.setdefault(context, []).append(entry)
    return [Session(key, tuple(items)) for key, items in by_id.items()]
