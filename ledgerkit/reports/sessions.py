"""One row per session, across ledgers: entries, tokens, peak, last action, first and last time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ..figures.compute import LedgerFigures
from ..figures.sessions import Session, group
from .records import session_json

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
    "budget",  # after the columns of version 1, so their positions stay
    "budget_share",
    "cost_usd",
)


@dataclass(frozen=True)
class SessionRow:
    ledger: str
    session: Session
    first: datetime | None
    last: datetime | None

    def as_json(self) -> dict[str, Any]:
        return session_json(self.ledger, self.session, self.first, self.last)


def session_rows(ledgers: Sequence[LedgerFigures]) -> list[SessionRow]:
    """Every session of every ledger, in ledger order then the order each session first appears."""
    out = []
    for f in ledgers:
        for s in group(f.records):
            moments = [m for m in (r.values.moment for r in s.records) if m is not None]
            out.append(SessionRow(f.ledger.display_path, s, min(moments, default=None), max(moments, default=None)))
    return out


def within(figures: LedgerFigures, since: date | None, until: date | None) -> LedgerFigures:
    """The ledger's records whose time falls between the two dates (UTC, both inclusive); a record without a
    time is kept only when no date is given."""
    if since is None and until is None:
        return figures
    kept = []
    for f in figures.records:
        moment = f.values.moment
        day = moment.astimezone(UTC).date() if moment is not None else None
        if day is not None and (since is None or day >= since) and (until is None or day <= until):
            kept.append(f)
    return figures._replace(records=tuple(kept))
