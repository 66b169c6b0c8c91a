"""Records as reports see them: a ledger's figures as ``fill`` computes them (in memory, every record's
sources measured once), a record's row, and the sources records load."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

from ..config import Config, Thresholds
from ..errors import LedgerkitError
from ..figures.compute import Figures, LedgerFigures, compute
from ..figures.sessions import Session, group
from ..measuring.measure import MeasuredSource, SourceReader, spec_of
from ..reading.parse import Ledger, Record
from .formatting import iso, percent_number, usd

#: The text a MINIMAL event adds to the ledger's own note for its highest level.
OVER_BUDGET = "over budget: split the run"


class UnknownSession(LedgerkitError):
    """A --session that names no session of the ledger."""


def figured(
    ledger: Ledger, config: Config, root: str | Path | None = None, reader: SourceReader | None = None
) -> LedgerFigures:
    """A ledger's figures as ``ledgerkit fill`` computes them, with every record's sources measured (nothing
    is written; each source file is read once)."""
    return compute(ledger, config, root=root, reader=reader, measure_all=True)


def session_of(figures: LedgerFigures, session_id: str) -> Session:
    """The session with this CONTEXT_ID; an unknown one is an error naming the known ones."""
    sessions = group(figures.records)
    for s in sessions:
        if s.id == session_id:
            return s
    known = ", ".join(s.id for s in sessions) or "none: the ledger has no records"
    raise UnknownSession(
        f"no session {session_id!r} in the ledger (its sessions: {known})", figures.ledger.display_path
    )


class Row(NamedTuple):
    """One record, as report tables show it. A NamedTuple: a report makes one per record, and a frozen dataclass
    sets its field through object.__setattr__. export reads the same values off the record's figures directly
    (reports/export.py), one dict per record without a Row between."""

    figures: Figures

    @property
    def record(self) -> Record:
        return self.figures.values.record

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def local(self) -> datetime | None:
        return self.figures.values.local_ts.written

    @property
    def utc(self) -> datetime | None:
        return self.figures.values.utc_ts.written

    @property
    def local_time(self) -> str | None:
        """LOCAL_TS as a person reads it: ``2025-08-16 16:20 KST`` (the written offset left out)."""
        f = self.figures.values.local_ts.field
        value = f.text.split("(", 1)[0].strip() if f is not None else ""
        return value or None

    @property
    def moment(self) -> datetime | None:
        """The record's instant: UTC_TS, else LOCAL_TS."""
        return self.figures.values.moment

    @property
    def source_count(self) -> int:
        return sum(1 for e in self.figures.values.sources if spec_of(e) is not None)

    @property
    def chars(self) -> int | None:
        return self.figures.chars

    @property
    def tokens(self) -> int | None:
        return self.figures.tokens

    @property
    def budget(self) -> int | None:
        return self.figures.budget

    @property
    def utilization(self) -> Fraction | None:
        return self.figures.utilization

    @property
    def action(self) -> str | None:
        """The level the record's figures reached."""
        return self.figures.action

    @property
    def written_action(self) -> str | None:
        """THRESHOLD_ACTION as the record wrote it (None while it waits)."""
        return self.figures.written_action

    @property
    def cost(self) -> Decimal | None:
        """The input cost of the record's load (USD), where its model is known."""
        return self.figures.cost.amount if self.figures.cost is not None else None

    @property
    def contradicted(self) -> bool:
        """True when the record wrote another action than the level its figures reached."""
        return self.written_action is not None and self.action is not None and self.written_action != self.action


def row(figures: Figures) -> Row:
    return Row(figures)


def record_json(r: Row) -> dict[str, Any]:
    return {
        "run_id": r.run_id,
        "line": r.record.line,
        "local_ts": r.local.isoformat() if r.local else None,
        "utc_ts": iso(r.utc),
        "source_count": r.source_count,
        "char_count": r.chars,
        "token_estimate": r.tokens,
        "budget": r.budget,
        "utilization": percent_number(r.utilization),
        "threshold_action": r.action,
        "written_threshold_action": r.written_action,
        "cost_usd": usd(r.cost),
    }


def session_json(ledger: str, s: Session, first: datetime | None, last: datetime | None) -> dict[str, Any]:
    """A session's figures as every JSON report writes them (rollup, report): one set of keys, one place."""
    return {
        "ledger": ledger,
        "session_id": s.id,
        "entries": s.count,
        "char_count_total": s.char_count_total,
        "token_estimate_total": s.token_estimate_total,
        "utilization_peak": percent_number(s.utilization_peak),
        "last_threshold_action": s.last_threshold_action,
        "first_ts": iso(first),
        "last_ts": iso(last),
        "budget": s.budget,
        "budget_share": percent_number(s.budget_share),
        "cost_usd": usd(s.cost_total),
    }


def note_for(notes: Mapping[Fraction, str], thresholds: Thresholds, action: str) -> tuple[Fraction | None, str | None]:
    """The level an action starts at and the ledger's own note for it: the note written for the highest
    level at or below it (MINIMAL, over budget, adds that to the 95 % note)."""
    level = thresholds.level(action)
    if level is None:
        return None, None
    below = [p for p in notes if p <= level]
    note = notes[max(below)] if below else None
    if action == "MINIMAL":
        note = f"{note} ({OVER_BUDGET})" if note else OVER_BUDGET
    return level, note


def measured_sources(records: tuple[Figures, ...]) -> dict[tuple[Any, ...], tuple[MeasuredSource, int]]:
    """Each distinct source (file and range) the records load, as measured with their figures, with how
    many records load it."""
    found: dict[tuple[Any, ...], tuple[MeasuredSource, int]] = {}
    for f in records:
        for ms in f.sources or ():
            first, loads = found.get(ms.source.key, (ms, 0))
            found[ms.source.key] = (first, loads + 1)
    return found
