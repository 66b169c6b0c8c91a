"""A session's rollup: totals, its records, threshold events with the ledger's advice, the allocation in
tokens and the sources largest first."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..config import Config, Thresholds
from ..figures.compute import LedgerFigures
from ..figures.exact import source_text
from ..figures.sessions import Session
from ..reading.parse import Ledger, Share
from ..schema import token_estimate, written_percent
from .formatting import number, percent_number
from .records import Row, measured_sources, note_for, record_json, row, session_json, session_of


@dataclass(frozen=True)
class Event:
    """A record whose figures reached an alert level, with what the ledger's section 3 says to do there."""

    row: Row
    level: Fraction | None
    note: str | None


@dataclass(frozen=True)
class Allocation:
    """A DISTRIBUTION share of the budget, in tokens (rounded down, so the shares never exceed it)."""

    name: str
    percent: Fraction
    tokens: int | None


@dataclass(frozen=True)
class SourceUse:
    """A source of the session, measured now: loaded ``loads`` times, ``tokens`` estimated per load."""

    label: str
    loads: int
    chars: int
    tokens: int
    exact: int | None
    share: Fraction  # percent of the session's measured source tokens (loads × tokens)


@dataclass(frozen=True)
class Rollup:
    ledger: str
    session: Session
    rows: tuple[Row, ...]
    events: tuple[Event, ...]
    budget: int | None
    allocation: tuple[Allocation, ...]
    allocation_from: str
    sources: tuple[SourceUse, ...]
    encoding: str | None
    thresholds: Thresholds

    @property
    def peak(self) -> Fraction | None:
        return self.session.utilization_peak

    @property
    def cost(self) -> Decimal | None:
        return self.session.cost_total

    @property
    def total_share(self) -> Fraction | None:
        return self.session.budget_share

    @property
    def source_tokens(self) -> int:
        return sum(s.loads * s.tokens for s in self.sources)

    def as_json(self) -> dict[str, Any]:
        first, last = (self.rows[0].moment, self.rows[-1].moment) if self.rows else (None, None)
        return {
            **session_json(self.ledger, self.session, first, last),
            "records": [record_json(r) for r in self.rows],
            "threshold_events": [
                {
                    "run_id": e.row.run_id,
                    "utilization": percent_number(e.row.utilization),
                    "threshold_action": e.row.action,
                    "written_threshold_action": e.row.written_action,
                    "level": number(e.level),
                    "note": e.note,
                }
                for e in self.events
            ],
            "allocation_from": self.allocation_from,
            "allocation": [{"name": a.name, "percent": number(a.percent), "tokens": a.tokens} for a in self.allocation],
            "encoding": self.encoding,
            "sources": [
                {
                    "path": u.label,
                    "loads": u.loads,
                    "char_count": u.chars,
                    "token_estimate": u.tokens,
                    "token_count": u.exact,
                    "share": number(written_percent(u.share)),
                }
                for u in self.sources
            ],
        }


def rollup(figures: LedgerFigures, session_id: str, *, encoding: str | None = None) -> Rollup:
    """One session's rollup, from the ledger's figures (its sources measured with them); exact counts in
    ``encoding`` (default: the configured one) beside the estimate. Sources that could not be measured are
    left out of the table (their problems are among the figures' diagnostics)."""
    ledger, config = figures.ledger, figures.config
    session = session_of(figures, session_id)
    rows = tuple(row(f) for f in session.records)
    events = []
    for r in rows:
        if r.action not in (None, "NONE"):
            level, note = note_for(ledger.threshold_notes, config.thresholds, r.action)
            events.append(Event(r, level, note))
    last = session.records[-1]
    budget = last.budget
    allocation, allocation_from = _allocation(ledger, last.values.distribution, config, budget)
    encoding = encoding or config.encoding
    sources = _sources(session, config, encoding)
    if encoding:
        from ..tokens.names import label

        encoding = label(encoding)  # "o200k_base", or "claude (estimate via o200k_base)"
    return Rollup(
        ledger.display_path,
        session,
        rows,
        tuple(events),
        budget,
        allocation,
        allocation_from,
        sources,
        encoding,
        config.thresholds,
    )


def _allocation(
    ledger: Ledger, distribution: tuple[Share, ...], config: Config, budget: int | None
) -> tuple[tuple[Allocation, ...], str]:
    """The last record's DISTRIBUTION, else section 2's policy, else the configured one; and which it is."""
    shares: list[tuple[str, Fraction]] = [(s.name, s.percent) for s in distribution]
    origin = "the session's last DISTRIBUTION"
    if not shares and ledger.allocation:
        shares, origin = [(s.name, s.percent) for s in ledger.allocation], "the ledger's allocation policy"
    elif not shares:
        shares, origin = list(config.allocation.items()), "the configured allocation policy"
    allocations = tuple(Allocation(name, p, None if budget is None else int(budget * p / 100)) for name, p in shares)
    return allocations, origin


def _sources(session: Session, config: Config, encoding: str | None) -> tuple[SourceUse, ...]:
    items = list(measured_sources(session.records).values())
    exact: list[int | None] = [None] * len(items)
    if encoding and items:
        from ..tokens import engine

        texts = [source_text(ms.text, ms.source.start, ms.source.end) for ms, _ in items]
        exact = list(engine.count(texts, encoding))
    estimates = [token_estimate(ms.chars, config.divisor) for ms, _ in items]
    total = sum(loads * t for (_, loads), t in zip(items, estimates, strict=True))
    uses = [
        SourceUse(
            ms.source.shown_label, loads, ms.chars, t, n, Fraction(loads * t * 100, total) if total else Fraction(0)
        )
        for (ms, loads), t, n in zip(items, estimates, exact, strict=True)
    ]
    uses.sort(key=lambda u: (-u.loads * u.tokens, u.label))
    return tuple(uses)
