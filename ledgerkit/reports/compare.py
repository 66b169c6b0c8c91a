"""Two sessions compared: a baseline and an optimized one, the saving, and the sources added or dropped."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..figures.compute import LedgerFigures
from ..figures.sessions import Session
from ..schema import token_estimate, written_percent
from .formatting import number, percent_number, usd
from .records import measured_sources, session_of


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a session of a ledger (or a whole ledger)."""

    session: Session  # a whole ledger is one session named by its path
    ledger: str
    sources: dict[str, tuple[int, int]]  # source label -> (loads, estimated tokens per load)
    names: dict[str, str] = field(default_factory=dict)  # source label -> as the side's first record wrote it

    @property
    def label(self) -> str:
        return self.session.id

    @property
    def chars(self) -> int | None:
        return self.session.char_count_total

    @property
    def tokens(self) -> int | None:
        return self.session.token_estimate_total

    @property
    def peak(self) -> Fraction | None:
        return self.session.utilization_peak

    @property
    def cost(self) -> Decimal | None:
        """The input cost of the side's loads (USD), where every record's model is known."""
        return self.session.cost_total

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "ledger": self.ledger,
            "entries": self.session.count,
            "char_count_total": self.chars,
            "token_estimate_total": self.tokens,
            "utilization_peak": percent_number(self.peak),
            "cost_usd": usd(self.cost),
        }


@dataclass(frozen=True)
class SourceChange:
    """A source only one side loads, and what it costs there (loads × estimated tokens)."""

    label: str
    loads: int
    tokens: int

    @property
    def cost(self) -> int:
        return self.loads * self.tokens


@dataclass(frozen=True)
class Comparison:
    baseline: Side
    optimized: Side
    added: tuple[SourceChange, ...]  # loaded by the optimized side only
    dropped: tuple[SourceChange, ...]  # loaded by the baseline only

    @property
    def token_saving(self) -> int | None:
        a, b = self.baseline.tokens, self.optimized.tokens
        return None if a is None or b is None else a - b

    @property
    def char_saving(self) -> int | None:
        a, b = self.baseline.chars, self.optimized.chars
        return None if a is None or b is None else a - b

    @property
    def money_saving(self) -> Decimal | None:
        """The saving in USD (negative when the optimized side costs more)."""
        a, b = self.baseline.cost, self.optimized.cost
        return None if a is None or b is None else a - b

    @property
    def saving_percent(self) -> Fraction | None:
        """The token saving as a percent of the baseline (negative when the optimized side costs more)."""
        saving, base = self.token_saving, self.baseline.tokens
        return None if saving is None or not base else Fraction(saving * 100, base)

    def as_json(self) -> dict[str, Any]:
        pct = self.saving_percent
        return {
            "baseline": self.baseline.as_json(),
            "optimized": self.optimized.as_json(),
            "token_saving": self.token_saving,
            "char_saving": self.char_saving,
            "saving_percent": None if pct is None else number(written_percent(pct)),
            "saving_usd": usd(self.money_saving),
            "added": [_change_json(c) for c in self.added],
            "dropped": [_change_json(c) for c in self.dropped],
        }


def _change_json(c: SourceChange) -> dict[str, Any]:
    # "cost" (tokens) is kept from version 1 for scripts that read it; "token_cost" says what it is.
    return {"path": c.label, "loads": c.loads, "token_estimate": c.tokens, "token_cost": c.cost, "cost": c.cost}


def side(figures: LedgerFigures, session_id: str | None) -> Side:
    """A session of a ledger, or (``session_id`` None) all its records, with the sources they load."""
    if session_id is None:
        session = Session(figures.ledger.display_path, figures.records)
    else:
        session = session_of(figures, session_id)
    divisor = figures.config.divisor
    found = measured_sources(session.records)
    sources = {ms.source.label: (loads, token_estimate(ms.chars, divisor)) for ms, loads in found.values()}
    names = {ms.source.label: ms.source.shown_label for ms, _ in found.values()}
    return Side(session, figures.ledger.display_path, sources, names)


def compare_sides(baseline: Side, optimized: Side) -> Comparison:
    def only(a: Side, b: Side) -> tuple[SourceChange, ...]:
        changes = [
            SourceChange(a.names.get(label, label), *a.sources[label]) for label in a.sources if label not in b.sources
        ]
        return tuple(sorted(changes, key=lambda c: (-c.cost, c.label)))

    return Comparison(baseline, optimized, added=only(optimized, baseline), dropped=only(baseline, optimized))
