"""Reports on a ledger: a session's rollup, one row per session across ledgers, two sessions compared.

Every report reads the figures as ``fill`` would leave them (computed in memory, nothing written), so a
ledger whose records still hold placeholders reports too; every problem met on the way is returned as
diagnostics beside the report. The values here are plain data; ``render`` turns them into Markdown or
HTML through the templates, ``as_json`` into JSON-ready dicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Sequence

from .config import Config, Thresholds
from .diagnostics import Diagnostic
from .errors import LedgerkitError
from .figures import plain_number, token_estimate, written_percent
from .measure import MeasuredSource, Measurer, source_specs
from .parse import Ledger, Record, Share, parse
from .sessions import Entry, Session, group
from .token_count import source_text
from .verify import read_local_ts, read_utc_ts

#: The text a MINIMAL event adds to the ledger's own note for its highest level.
OVER_BUDGET = "over budget: split the run"


class UnknownSession(LedgerkitError):
    """A --session that names no session of the ledger."""


# --- figures as fill leaves them -----------------------------------------------------------------------


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
        raise UnknownSession(f"no session {session_id!r} in the ledger (its sessions: {known})", self.ledger.display_path)


def figured(ledger: Ledger, config: Config, root: str | Path | None = None) -> Figured:
    """Compute a ledger's figures in memory, as ``ledgerkit fill`` would (nothing is written)."""
    from .fill import fill

    result = fill(ledger, config=config, root=root)
    if result.changed:  # read the records as filled, so an exact TOKEN_COUNT counted now is there too
        ledger = parse(result.text, ledger.path, bom=ledger.bom)
    entries = tuple(Entry(record, e.figures) for record, e in zip(ledger.records, result.entries))
    return Figured(ledger, config, entries, tuple(result.diagnostics))


# --- one record ------------------------------------------------------------------------------------------


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


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with ``Z`` (``2025-08-16T07:20:00Z``), the form every report and export uses."""
    return None if moment is None else f"{moment.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%S}Z"


def number(value: Fraction | None) -> float | int | None:
    """An exact figure as a JSON number: an integer stays one; a written percentage (two decimals) has
    a float whose shortest repr is the same decimal, so ``3.79`` stays ``3.79``."""
    if value is None:
        return None
    return value.numerator if value.denominator == 1 else float(plain_number(value))


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


# --- a session's rollup --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """A record at or above an alert level, with what the ledger's section 3 says to do there."""

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
    def source_tokens(self) -> int:
        return sum(s.loads * s.tokens for s in self.sources)

    def as_json(self) -> dict[str, Any]:
        s = self.session
        return {
            "ledger": self.ledger,
            "session_id": s.id,
            "entries": s.count,
            "char_count_total": s.char_count_total,
            "token_estimate_total": s.token_estimate_total,
            "utilization_peak": number(self.peak),
            "last_threshold_action": s.last_threshold_action,
            "first_ts": iso(self.rows[0].moment) if self.rows else None,
            "last_ts": iso(self.rows[-1].moment) if self.rows else None,
            "budget": self.budget,
            "records": [record_json(r) for r in self.rows],
            "threshold_events": [
                {"run_id": e.row.run_id, "utilization": number(e.row.utilization), "threshold_action": e.row.action,
                 "level": number(e.level), "note": e.note}
                for e in self.events
            ],
            "allocation_from": self.allocation_from,
            "allocation": [{"name": a.name, "percent": number(a.percent), "tokens": a.tokens} for a in self.allocation],
            "encoding": self.encoding,
            "sources": [
                {"path": u.label, "loads": u.loads, "char_count": u.chars, "token_estimate": u.tokens,
                 "token_count": u.exact, "share": number(written_percent(u.share))}
                for u in self.sources
            ],
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


def rollup(
    figured: Figured,
    session_id: str,
    *,
    root: str | Path | None = None,
    encoding: str | None = None,
) -> tuple[Rollup, list[Diagnostic]]:
    """One session's rollup; its sources are measured now (``root`` as for fill), exact counts in
    ``encoding`` (default: the configured one) beside the estimate. Sources that cannot be measured are
    reported and left out of the table."""
    ledger, config = figured.ledger, figured.config
    session = figured.session(session_id)
    rows = tuple(row(e) for e in session.entries)
    events = []
    for r in rows:
        if r.action not in (None, "NONE"):
            level, note = note_for(ledger, config.thresholds, r.action)
            events.append(Event(r, level, note))
    last = session.entries[-1]
    budget = last.figures.budget
    allocation, allocation_from = _allocation(ledger, last.record, config, budget)
    encoding = encoding or config.encoding
    sources, diagnostics = _sources(ledger, config, session, root, encoding)
    if encoding:
        from .tokens import label

        encoding = label(encoding)  # "o200k_base", or "claude (estimate via o200k_base)"
    return Rollup(ledger.display_path, session, rows, tuple(events), budget, allocation, allocation_from, sources,
                  encoding, config.thresholds), diagnostics


def _allocation(ledger: Ledger, record: Record, config: Config, budget: int | None) -> tuple[tuple[Allocation, ...], str]:
    """The last record's DISTRIBUTION, else section 2's policy, else the configured one; and which it is."""
    shares: list[tuple[str, Fraction]] = [(s.name, s.percent) for s in record.distribution if isinstance(s, Share)]
    origin = "the session's last DISTRIBUTION"
    if not shares and ledger.allocation:
        shares, origin = [(s.name, s.percent) for s in ledger.allocation], "the ledger's allocation policy"
    elif not shares:
        shares, origin = list(config.allocation.items()), "the configured allocation policy"
    return tuple(Allocation(name, p, None if budget is None else int(budget * p / 100)) for name, p in shares), origin


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


def _sources(
    ledger: Ledger, config: Config, session: Session, root: str | Path | None, encoding: str | None
) -> tuple[tuple[SourceUse, ...], list[Diagnostic]]:
    found, diagnostics = measured_sources(ledger, config, (e.record for e in session.entries), root)
    items = list(found.values())
    exact: list[int | None] = [None] * len(items)
    if encoding and items:
        from . import tokens

        counts = tokens.count([source_text(ms.text, ms.source.start, ms.source.end) for ms, _ in items], encoding)
        exact = list(counts)
    estimates = [token_estimate(ms.chars, config.divisor) for ms, _ in items]
    total = sum(loads * t for (_, loads), t in zip(items, estimates))
    uses = [
        SourceUse(ms.source.label, loads, ms.chars, t, n, Fraction(loads * t * 100, total) if total else Fraction(0))
        for (ms, loads), t, n in zip(items, estimates, exact)
    ]
    uses.sort(key=lambda u: (-u.loads * u.tokens, u.label))
    return tuple(uses), diagnostics


# --- one row per session, across ledgers -----------------------------------------------------------------


SESSION_COLUMNS = ("ledger", "session_id", "entries", "char_count_total", "token_estimate_total", "utilization_peak",
                   "last_threshold_action", "first_ts", "last_ts")


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
            "utilization_peak": number(s.utilization_peak),
            "last_threshold_action": s.last_threshold_action,
            "first_ts": iso(self.first),
            "last_ts": iso(self.last),
        }


def session_rows(ledgers: Sequence[Figured]) -> list[SessionRow]:
    """Every session of every ledger, in ledger order then the order each session first appears."""
    out = []
    for f in ledgers:
        for s in f.sessions:
            moments = [m for m in (row(e).moment for e in s.entries) if m is not None]
            out.append(SessionRow(f.ledger.display_path, s, min(moments, default=None), max(moments, default=None)))
    return out


# --- two sessions compared -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a session of a ledger (or a whole ledger)."""

    session: Session  # a whole ledger is one session named by its path
    ledger: str
    sources: dict[str, tuple[int, int]]  # source label -> (loads, estimated tokens per load)

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

    def as_json(self) -> dict[str, Any]:
        return {"label": self.label, "ledger": self.ledger, "entries": self.session.count, "char_count_total": self.chars,
                "token_estimate_total": self.tokens, "utilization_peak": number(self.peak)}


@dataclass(frozen=True)
class Change:
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
    added: tuple[Change, ...]  # loaded by the optimized side only
    dropped: tuple[Change, ...]  # loaded by the baseline only

    @property
    def token_saving(self) -> int | None:
        a, b = self.baseline.tokens, self.optimized.tokens
        return None if a is None or b is None else a - b

    @property
    def char_saving(self) -> int | None:
        a, b = self.baseline.chars, self.optimized.chars
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
            "added": [{"path": c.label, "loads": c.loads, "token_estimate": c.tokens, "cost": c.cost} for c in self.added],
            "dropped": [{"path": c.label, "loads": c.loads, "token_estimate": c.tokens, "cost": c.cost} for c in self.dropped],
        }


def side(figured: Figured, session_id: str | None, root: str | Path | None = None) -> tuple[Side, list[Diagnostic]]:
    """A session of a ledger, or (``session_id`` None) all its records, with its sources measured now."""
    if session_id is None:
        session = Session(figured.ledger.display_path, figured.entries)
    else:
        session = figured.session(session_id)
    found, diagnostics = measured_sources(figured.ledger, figured.config, (e.record for e in session.entries), root)
    divisor = figured.config.divisor
    sources = {ms.source.label: (loads, token_estimate(ms.chars, divisor)) for ms, loads in found.values()}
    return Side(session, figured.ledger.display_path, sources), diagnostics


def compare(baseline: Side, optimized: Side) -> Comparison:
    def only(a: Side, b: Side) -> tuple[Change, ...]:
        changes = [Change(label, *a.sources[label]) for label in a.sources if label not in b.sources]
        return tuple(sorted(changes, key=lambda c: (-c.cost, c.label)))

    return Comparison(baseline, optimized, added=only(optimized, baseline), dropped=only(baseline, optimized))


# --- drawing ----------------------------------------------------------------------------------------------


def bar(percent: Fraction | None, width: int = 20, cap: int = 24) -> str:
    """A Unicode bar: ``width`` cells for 100 %, in eighths of a cell; past ``cap`` cells it ends in ``▶``."""
    if percent is None:
        return ""
    if percent * width > cap * 100:
        return "█" * cap + "▶"
    eighths = int(max(percent, Fraction(0)) * width * 8 / 100)
    full, part = divmod(eighths, 8)
    return "█" * full + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[part]


@dataclass(frozen=True)
class Chart:
    """Geometry of the utilization chart (an SVG bar per record, a line per alert level), in pixels.

    Drawing only: the figures shown beside each bar are the exact ones, never read back from here.
    """

    width: int
    height: int
    top: int
    bottom: int  # y of 0 %
    left: int
    bars: tuple[dict[str, Any], ...]
    lines: tuple[dict[str, Any], ...]


def chart(rows: Sequence[Row], thresholds: Thresholds, *, plot_height: int = 240, plot_width: int = 840) -> Chart:
    levels = [("ALERT70", thresholds.alert70), ("ALERT85", thresholds.alert85), ("ALERT95", thresholds.alert95),
              ("BUDGET", thresholds.minimal)]
    utilizations = [r.utilization for r in rows if r.utilization is not None]
    # The scale shows every alert line, and every bar whole (up to twice the budget; taller ones are clipped).
    scale = max(min(max(utilizations, default=Fraction(0)), Fraction(200)), thresholds.minimal) * Fraction(11, 10)
    top, left = 16, 48
    bottom = top + plot_height
    slot = max(24, min(160, plot_width // max(len(rows), 1)))  # a long session scrolls sideways
    width = left + max(len(rows), 1) * slot + 96  # room on the right for the alert labels

    def y(percent: Fraction) -> int:
        return bottom - round(min(percent, scale) * plot_height / scale)

    bars = []
    for i, r in enumerate(rows):
        u = r.utilization
        bar_top = y(u) if u is not None else bottom
        bars.append({
            "x": left + i * slot + slot // 6, "y": bar_top, "width": slot * 2 // 3, "height": bottom - bar_top,
            "center": left + i * slot + slot // 2, "row": r, "action": r.action or "unknown",
        })
    lines = tuple({"y": y(p), "label": f"{plain_number(p)}%", "action": name} for name, p in levels)
    # The budget line is labelled on the left, the alerts on the right, so close levels never overlap.
    return Chart(width, bottom + 40, top, bottom, left, tuple(bars), lines)
