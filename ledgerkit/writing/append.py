"""Append a record: the next RUN_ID, its timestamps, budget and distribution, placeholders for the figures.

The record is rendered from ``templates/record.md.j2`` and inserted at the end of the ledger section (after
the last record, or under the section's heading when there is none, before the summary). Nothing else in
the file changes: the new text is the old text with the record's bytes inserted, in the ledger's own
newline style, BOM kept. With ``fill`` the figures are filled at once, exactly as ``ledgerkit fill`` would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from ..checks.verify import verify
from ..config import DIVISOR, RUN_ID_PREFIX, Config, config_for
from ..diagnostics import ERROR, Diagnostic, has_errors
from ..errors import LedgerkitError, TemplateError
from ..figures.compute import session_budget
from ..files.text import SURROGATE
from ..files.textfile import rewrite
from ..reading.parse import Ledger, Record, parse
from ..reading.values import read_values
from ..schema import SCOPES, format_utc, plain_number, run_id_pattern
from .fill import FillResult, NewText, fill

_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9+-]{0,9}")
_OFFSET_NAME = re.compile(r"(?:UTC|GMT)[+-]")


@dataclass(frozen=True)
class NewRecord:
    """What a person says about the next record; the rest (RUN_ID, times, budget, ...) is derived."""

    scope: str
    context_id: str
    sources: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def problems(self) -> list[str]:
        """Why this cannot become a record (each value must be one non-empty line)."""
        found = []
        if self.scope not in SCOPES:
            found.append(f"SCOPE {self.scope!r} is not one of {'|'.join(SCOPES)}")
        values = [("CONTEXT_ID", self.context_id), *(("a source", s) for s in self.sources)]
        for what, value in values:
            if not value.strip():
                found.append(f"{what} is empty")
        if not self.sources:
            found.append("a record names at least one source")
        for what, value in [*values, *(("a note", n) for n in self.notes)]:
            if any(c in value for c in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
                found.append(f"{what} holds a line break: {value!r} (one line each; repeat the option for more)")
            if SURROGATE.search(value):  # a file name's byte that is not UTF-8, as Python holds it
                found.append(f"{what} holds bytes that are not UTF-8: {value!r} (a ledger is UTF-8 text)")
        return found


@dataclass
class AppendResult(NewText):
    """The ledger before, the text after, and where the new record is."""

    ledger: Ledger
    text: str
    run_id: str
    line: int  # the new record's heading line in ``text``
    filled: FillResult | None = None
    written: bool = False  # set by append_file when the file was replaced
    warnings: list[Diagnostic] = field(default_factory=list)  # about the new record as written (LK210)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        # A fill of the new text reports every problem in it, LK210 among them; without one, what was proven.
        return self.filled.diagnostics if self.filled else self.warnings

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


# --- time ----------------------------------------------------------------------------------------------


def zone(name: str | None) -> tzinfo | None:
    """An IANA time zone by name (None: the machine's local zone); an unknown name stops the run."""
    if name is None:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        raise LedgerkitError(
            f"unknown time zone {name!r}: this system's time zone database has no such zone "
            "(an IANA name such as Asia/Seoul; without a database, `pip install tzdata`)"
        ) from None
    except (ValueError, OSError):
        raise LedgerkitError(f"{name!r} is not a time zone name (an IANA name such as Asia/Seoul)") from None


def record_time(at: datetime | None = None, tz: str | None = None) -> datetime:
    """The record's time, aware, in ``tz`` (else the local zone), to the minute (the ledger's resolution).

    ``at`` without an offset is a wall-clock time in that zone; with one, it is the instant to show there.
    """
    where = zone(tz)
    if at is None:
        moment = datetime.now(where) if where is not None else datetime.now().astimezone()
    elif at.tzinfo is None:
        moment = at.replace(tzinfo=where) if where is not None else at.astimezone()
    else:
        moment = at.astimezone(where) if where is not None else at.astimezone()
    return moment.replace(second=0, microsecond=0)


def parse_at(text: str) -> datetime:
    """An ISO 8601 date and time (``2025-08-16T16:20``, ``2025-08-16 16:20+09:00``, ``…Z``)."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise LedgerkitError(f"{text!r} is not an ISO 8601 date and time such as 2025-08-16T16:20") from None


def local_ts(moment: datetime) -> str:
    """``2025-08-16 16:20 KST (UTC+09:00)``: the reference ledger's LOCAL_TS."""
    offset = moment.utcoffset() or timedelta(0)
    minutes = offset // timedelta(minutes=1)
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    # A zone's own abbreviation (KST, EDT, UTC); numeric ones ("-03", "+0545") and bare offsets say no
    # more than the offset in parentheses, and are left out.
    name = moment.tzname() or ""
    label = f" {name}" if _ZONE_NAME.fullmatch(name) and not _OFFSET_NAME.match(name) else ""
    return f"{moment:%Y-%m-%d %H:%M}{label} (UTC{sign}{hours:02d}:{mins:02d})"


def utc_ts(moment: datetime) -> str:
    """``2025-08-16T07:20:00Z``: the reference ledger's UTC_TS."""
    return format_utc(moment)


# --- the record ----------------------------------------------------------------------------------------


def next_run_id(ledger: Ledger, moment: datetime, prefix: str = RUN_ID_PREFIX) -> str:
    """The next ``PREFIX-YYYYMMDD-NNN`` for the record's local date; a ledger never goes back in time."""
    day = f"{moment:%Y%m%d}"
    pattern = run_id_pattern(prefix)
    numbered = [(m.group("date"), int(m.group("number")), r) for r in ledger.records if (m := pattern.match(r.run_id))]
    if numbered:
        last_day, _, last = numbered[-1]
        if last_day > day:
            raise LedgerkitError(
                f"the new record's local date {moment:%Y-%m-%d} is before the last record's "
                f"({last.run_id}, line {last.line}): the ledger only goes forward (see --at, --tz)",
                ledger.display_path,
            )
    latest = _latest(ledger)
    if latest is not None and moment < latest[0]:
        record = latest[1]
        raise LedgerkitError(
            f"the new record's time {utc_ts(moment)} is before that of {record.run_id} (line {record.line}, "
            f"{utc_ts(latest[0])}): the ledger only goes forward (see --at, --tz)",
            ledger.display_path,
        )
    n = max((n for d, n, _ in numbered if d == day), default=0) + 1
    if n > 999:
        raise LedgerkitError(f"{prefix}-{day} already has 999 records: NNN has three digits", ledger.display_path)
    return f"{prefix}-{day}-{n:03d}"


def _latest(ledger: Ledger) -> tuple[datetime, Record] | None:
    """The latest time among the records, as verify reads it (UTC_TS, else LOCAL_TS), and its record."""
    latest = None
    for record in ledger.records:
        moment = read_values(record, ledger, DIVISOR).moment
        if moment is not None and (latest is None or moment > latest[0]):
            latest = (moment, record)
    return latest


def render_record(ledger: Ledger, new: NewRecord, moment: datetime, config: Config) -> tuple[str, str]:
    """(run_id, the record's text with LF newlines, ending in one)."""
    from .render import render  # jinja2 only when a record is rendered

    run_id = next_run_id(ledger, moment, config.run_id_prefix)
    context = {
        "run_id": run_id,
        "local_ts": local_ts(moment),
        "utc_ts": utc_ts(moment),
        "scope": new.scope,
        "context_id": new.context_id.strip(),
        "sources": [s.strip() for s in new.sources],
        "divisor": config.divisor,
        "budget": session_budget(ledger, config),
        "distribution": [{"name": n, "percent": plain_number(p)} for n, p in config.allocation.items()],
        "notes": [n.strip() for n in new.notes],
    }
    text = render("record.md.j2", context, config.templates)
    return run_id, text.strip("\n") + "\n"


def _insertion_point(ledger: Ledger) -> tuple[int, bool]:
    """(the line after which the record goes, whether a thematic break separates it from the one before)."""
    if ledger.records:
        return ledger.records[-1].end_line, True
    section = ledger.ledger_section
    if section is None:
        raise LedgerkitError(
            "no ledger section to append to: add a heading such as '## 6) Ledger (append-only)' "
            "or '## 6) 원장(append-only)'",
            ledger.display_path,
        )
    contents = ledger.lines.contents
    n = section.last
    # Before the blank lines and the thematic break that close the section.
    while n > section.heading_line and (not contents[n - 1].strip() or _BREAK.match(contents[n - 1])):
        n -= 1
    return n, False


def append(
    ledger: Ledger,
    new: NewRecord,
    *,
    moment: datetime,
    config: Config | None = None,
    fill_figures: bool = False,
    root: str | Path | None = None,
) -> AppendResult:
    """Compute the ledger's text with the next record appended (nothing is written)."""
    problems = new.problems()
    if problems:
        raise LedgerkitError("; ".join(problems))
    config = config or config_for(ledger.path)
    run_id, record = render_record(ledger, new, moment, config)
    after, separated = _insertion_point(ledger)
    newline = ledger.lines.newline()
    lead = [""] + (["---", ""] if separated else [])
    lines = lead + record.rstrip("\n").split("\n")
    contents, endings = ledger.lines.contents, ledger.lines.endings
    head = "".join(c + e for c, e in zip(contents[:after], endings[:after], strict=False))
    tail = "".join(c + e for c, e in zip(contents[after:], endings[after:], strict=False))
    if head and not head.endswith("\n"):
        head += newline  # the file ended without a newline: the inserted text starts with one
    text = head + "".join(line + newline for line in lines) + tail
    heading_line = after + len(lead) + 1
    result = AppendResult(ledger, text, run_id, heading_line)
    if fill_figures:
        result.filled = fill(parse(text, ledger.path, bom=ledger.bom), config=config, root=root)
        result.text = result.filled.text
    result.warnings = _prove(result.text, ledger, run_id, heading_line, config)
    return result


def _prove(text: str, before: Ledger, run_id: str, line: int, config: Config) -> list[Diagnostic]:
    """The new text reads back as the old records plus one, and passes verify against the old text; what
    verify warns of in the new record as written (a source given twice: LK210) is returned, to be said.

    The default template always does (the tests show it); a user's record template might not, and then
    nothing is written.
    """
    after = parse(text, before.path, bom=before.bom)
    ids = [r.run_id for r in after.records]
    if ids != [r.run_id for r in before.records] + [run_id] or after.records[-1].line != line:
        raise TemplateError(
            f"template record.md.j2 does not give one record '### RUN_ID: {run_id}' followed by its fields"
        )
    new = after.records[-1]
    verified = verify(after, base=before, config=config)
    found = [
        d for d in verified if d.severity == ERROR and (new.line <= d.line <= new.end_line or d.code.startswith("LK6"))
    ]
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise TemplateError(f"the record from template record.md.j2 would not pass verify: {found[0].format()}{more}")
    return [d for d in verified if d.code == "LK210" and new.line <= d.line <= new.end_line]


def append_file(
    path: str | Path,
    new: NewRecord,
    *,
    at: datetime | None = None,
    tz: str | None = None,
    config: Config | None = None,
    fill_figures: bool = False,
    root: str | Path | None = None,
    on_lock_wait: Callable[[str], None] | None = None,
) -> AppendResult:
    """Append the next record to a ledger file, atomically; a change made on disk meanwhile is never lost."""
    path = Path(path)
    config = config or config_for(path)
    moment = record_time(at, tz)

    def compute(text: str, bom: bool) -> AppendResult:
        return append(
            parse(text, str(path), bom=bom), new, moment=moment, config=config, fill_figures=fill_figures, root=root
        )

    result, written = rewrite(path, compute, lambda r: r.data(), "appending", on_lock_wait=on_lock_wait)
    result.written = written
    return result
