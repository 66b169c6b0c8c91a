"""One row per session, across ledgers: entries, tokens, peak, last action, first and last time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..figures.compute import LedgerFigures
from ..figures.sessions import Session, group
from .formatting import iso, percent_number

SESSION_COLUMNS = (
    "ledger",
    "session_id",
    "entries",
    "char_count_total",
    "token_estimate_total",
    "utilization_peak",
    "last_threshold_action",
    "first_ts",
    "last_ts",
)


@dataclass(frozen=True)
class SessionRow:
    ledger: str
    session: Session
    first: datetime | None
    last: datetime | None

    def as_json(self) -> dict[str, Any]:
        s = self.session
        return {
            "ledger": self.ledger,
            "session_id": s.id,
            "entries": s.count,
            "char_count_total": s.char_count_total,
            "token_estimate_total": s.token_estimate_total,
            "utilization_peak": percent_number(s.utilization_peak),
            "last_threshold_action": s.last_threshold_action,
            "first_ts": iso(self.first),
            "last_ts": iso(self.last),
        }


def session_rows(ledgers: Sequence[LedgerFigures]) -> list[SessionRow]:
    """Every session of every ledger, in ledger order then the order each session first appears."""
    out = []
    for f in ledgers:
        for s in group(f.records):
            moments = [m for m in (r.values.moment for r in s.records) if m is not None]
            out.append(SessionRow(f.ledger.display_path, s, min(moments, default=None), max(moments, default=None)))
    return out
