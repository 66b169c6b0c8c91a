"""Records as reports see them: a ledger's figures as ``fill`` would leave them, a record's row, and the
sources records load, measured now."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..checks.verify import read_local_ts, read_utc_ts
from ..config import Config, Thresholds
from ..diagnostics import Diagnostic
from ..errors import LedgerkitError
from ..figures.sessions import Entry, Session, group
from ..measuring.measure import MeasuredSource, Measurer, source_specs
from ..reading.parse import Ledger, Record, parse
from .formatting import iso, number

#: The text a MINIMAL event adds to the ledger's own note for its highest level.
OVER_BUDGET = "over budget: split the run"


class UnknownSession(LedgerkitError):
    """A --session that names no session of the ledger."""


@dataclass(frozen=True)
class Figured:
    """A ledger with each record's figures as fill would leave them, and the problems met."""

    ledger: Ledger
    config: Config
    entries: tuple[Entry, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def sessions(self) -> list[Session]:
        return group(self.entries)

    def session(self, session_id: str) -> Session:
        """The session with this CONTEXT_ID; an unknown one is an error naming the known ones."""
        sessions = self.sessions
        for s in sessions:
            if s.id == session_id:
                return s
        known = ", ".join(s.id for s in sessions) or "none: the ledger has no records"
        raise UnknownSession(
            f"no session {session_id!r} in the ledger (its sessions: {known})", self.ledger.display_path
        )


def figured(ledger: Ledger, config: Config, root: str | Path | None = None) -> Figured:
    """Compute a ledger's figures in memory, as ``ledgerkit fill`` would (nothing is written)."""
    from ..writing.fill import fill

    result = fill(ledger, config=config, root=root)
    if result.changed:  # read the records as filled, so an exact TOKEN_COUNT counted now is there too
        ledger = parse(result.text, ledger.path, bom=ledger.bom)
    entries = tuple(Entry(record, e.figures) for record, e in zip(ledger.records, result.entries, strict=False))
    return Figured(ledger, config, entries, tuple(result.diagnostics))


@dataclass(frozen=True)
class Row:
    """One record, as report tables and exports show it."""

    entry: Entry
    local: datetime | None
    utc: datetime | None

    @property
    def record(self) -> Record:
        return self.entry.record

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def local_time(self) -> str | None:
        """LOCAL_TS as a person reads it: ``2025-08-16 16:20 KST`` (the written offset left out)."""
        value = (self.record.get("LOCAL_TS") or "").split("(", 1)[0].strip()
        return value or None

    @property
    def moment(self) -> datetime | None:
        """The record's instant: UTC_TS, else LOCAL_TS."""
        return self.utc or self.local

    @property
    def source_count(self) -> int:
        return len(source_specs(self.record))

    @property
    def chars(self) -> int | None:
        return self.entry.figures.chars

    @property
    def tokens(self) -> int | None:
        return self.entry.figures.tokens

    @property
    def utilization(self) -> Fraction | None:
        return self.entry.figures.utilization

    @property
    def action(self) -> str | None:
        return self.entry.figures.action


def row(entry: Entry) -> Row:
    local, utc = entry.record.get("LOCAL_TS"), entry.record.get("UTC_TS")
    return Row(entry, read_local_ts(local) if local else None, read_utc_ts(utc) if utc else None)


def record_json(r: Row) -> dict[str, Any]:
    return {
        "run_id": r.run_id,
        "line": r.record.line,
        "local_ts": r.local.isoformat() if r.local else None,
        "utc_ts": iso(r.utc),
        "source_count": r.source_count,
        "char_count": r.chars,
        "token_estimate": r.tokens,
        "budget": r.entry.figures.budget,
        "utilization": number(r.utilization),
        "threshold_action": r.action,
    }


def note_for(ledger: Ledger, thresholds: Thresholds, action: str) -> tuple[Fraction | None, str | None]:
    """The level an action starts at and the ledger's own note for it: the note written for the highest
    level at or below it (MINIMAL, over budget, adds that to the 95 % note)."""
    level = thresholds.level(action)
    if level is None:
        return None, None
    below = [p for p in ledger.threshold_notes if p <= level]
    note = ledger.threshold_notes[max(below)] if below else None
    if action == "MINIMAL":
        note = f"{note} ({OVER_BUDGET})" if note else OVER_BUDGET
    return level, note


def measured_sources(
    ledger: Ledger, config: Config, records: Iterable[Record], root: str | Path | None = None
) -> tuple[dict[tuple[Any, ...], tuple[MeasuredSource, int]], list[Diagnostic]]:
    """Each distinct source (file and range) the records load, measured now, with how many records load it."""
    measurer = Measurer(ledger, config, root)  # its reader reads each file once, however many records load it
    found: dict[tuple[Any, ...], tuple[MeasuredSource, int]] = {}
    diagnostics: list[Diagnostic] = []
    for record in records:
        measured, problems = measurer.measure_each(source_specs(record))
        diagnostics.extend(problems)
        for ms in measured:
            first, loads = found.get(ms.source.key, (ms, 0))
            found[ms.source.key] = (first, loads + 1)
    return found, diagnostics
