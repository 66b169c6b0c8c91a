"""What an editor shows for a buffer's text: its problems with their ranges, the figures under the cursor, the
edits fill and append would make, completions and the outline.

Everything here works on text in memory and on the library's own stages (parse, verify, figures, fill,
append): the language server only turns these plain values into protocol types. Lines are 1-based and
columns 0-based code points, as the ledger's spans are.
"""

from __future__ import annotations

import bisect
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

from ..api import Settings, base_of
from ..config import Config
from ..diagnostics import CODES, Diagnostic
from ..errors import LedgerkitError
from ..figures.compute import Figures, LedgerFigures
from ..files.text import Lines
from ..reading.parse import Entry, Field, Ledger, Outlined, Record, may_hold_ledger, parse
from ..schema import ACTIONS, FIELDS, SCOPES
from .cache import StatCachedReader


class Span(NamedTuple):
    """A range of the text: lines 1-based, columns 0-based code points, the end exclusive."""

    line: int
    start: int
    end_line: int
    end: int


class TextEdit(NamedTuple):
    """Replace ``span`` with ``text``."""

    span: Span
    text: str


class Symbol(NamedTuple):
    """An outline entry: a section (with its records) or a record."""

    name: str
    detail: str
    kind: str  # "section" or "record"
    span: Span
    selection: Span
    children: tuple[Symbol, ...] = ()


class Completion(NamedTuple):
    """A completion: its label, what it is (field, value, file, folder), a detail, and the column the typed
    word starts at (the completion replaces the text from there to the cursor)."""

    label: str
    kind: str
    detail: str
    start: int


# --- the analyzer: what stays between analyses ------------------------------------------------------------


class Analyzer:
    """Analyses buffers for one editor session: sources' texts, configurations and bases are kept between
    analyses (a source until its file changes; a configuration and a base until the ledger is opened or saved
    again, see :meth:`refresh`)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.reader = StatCachedReader()
        self._configs: dict[str, Config] = {}
        self._bases: dict[str, tuple[Outlined | None, Diagnostic | None]] = {}
        self._written: tuple[Config | None, dict[tuple[Record, str, int | None], Figures]] = (None, {})
        self._parsed: dict[str | None, Ledger] = {}  # each document's last parse
        self._lock = threading.Lock()

    def refresh(self, path: Path | None) -> None:
        """Read the configuration and the git base of ``path`` again at the next analysis."""
        if path is not None:
            with self._lock:
                self._configs.pop(str(path), None)
                self._bases.pop(str(path), None)

    def config(self, path: Path | None) -> Config:
        key = str(path)
        with self._lock:
            found = self._configs.get(key)
        if found is None:
            found = self.settings.config(path)
            with self._lock:
                self._configs[key] = found
        return found

    def base(self, path: Path | None) -> tuple[Outlined | None, Diagnostic | None]:
        """The ledger as committed at git's HEAD, outlined (None when new there, or outside git), or why it cannot
        be had."""
        if path is None:
            return None, None
        key = str(path)
        with self._lock:
            found = self._bases.get(key)
        if found is None:
            try:
                found = (base_of(path, "HEAD"), None)
            except LedgerkitError as exc:
                message = f"the base version cannot be read from git: {exc.message}"
                found = (None, Diagnostic(str(path), 1, 1, "LK608", message))
            with self._lock:
                self._bases[key] = found
        return found

    def parse(self, text: str, path: Path | None) -> Ledger:
        """The buffer's ledger: only the record a keystroke changed read again when that is enough
        (``incremental.py``), else the whole text."""
        from .incremental import reparse

        name = str(path) if path is not None else None
        with self._lock:
            previous = self._parsed.get(name)
        ledger = reparse(previous, text) if previous is not None else None
        if ledger is None:
            ledger = parse(text, name)
        with self._lock:
            self._parsed[name] = ledger
        return ledger

    def forget(self, path: Path | None) -> None:
        """Drop what is kept of a closed document."""
        with self._lock:
            self._parsed.pop(str(path) if path is not None else None, None)

    def written_figures(self, ledger: Ledger, config: Config) -> LedgerFigures:
        """The ledger's figures from its written values (what the checks compute, measuring nothing), each
        record's kept from the last analysis while the record, the ledger's budget and the configuration are
        the same: a keystroke computes only the record it changed."""
        from ..figures.compute import Computer, ledger_problems, session_budget
        from ..reading.values import read_values

        computer = Computer(ledger, config, measure=False)
        budget = session_budget(ledger, config)
        with self._lock:
            kept_config, kept = self._written
        kept = kept if kept_config is config else {}
        now: dict[tuple[Record, str, int | None], Figures] = {}
        records = []
        for record in ledger.records:
            key = (record, ledger.display_path, budget)
            f = kept.get(key) or now.get(key)
            if f is None:
                f = computer.compute(read_values(record, ledger, config.divisor))
            now[key] = f
            records.append(f)
        with self._lock:
            self._written = (config, now)
        return LedgerFigures(ledger, config, tuple(records), tuple(ledger_problems(ledger)))

    def analyze(self, text: str, path: Path | None) -> Analysis:
        """Every problem verify finds in the text (against the base), and what fill finds measuring it."""
        ledger = self.parse(text, path)
        base, base_problem = self.base(path)
        if not may_hold_ledger(text.encode("utf-8", "surrogatepass")) and (base is None or not base.records):
            return Analysis(self, ledger, None, [], holds_ledger=False)
        try:
            config = self.config(path)
            figures, found = _check(ledger, base, config, self)
        except LedgerkitError as exc:  # a configuration or template that stops every command: said once
            problem = _stopping(exc, ledger)
            return Analysis(self, ledger, None, [], holds_ledger=True, problem=problem)
        if base_problem is not None:
            found.insert(0, base_problem)
        found = self.settings.steer(found, config, ledger, unused=True)
        return Analysis(self, ledger, figures, found, holds_ledger=True, config=config)


def _check(
    ledger: Ledger, base: Outlined | None, config: Config, analyzer: Analyzer
) -> tuple[LedgerFigures, list[Diagnostic]]:
    """verify's checks, and the figures fill computes (measuring what waits) with the problems fill reports.

    A record with no placeholder in a figure field has the same figures whether or not its sources could be
    measured (fill measures only what waits): the checks' figures serve for it, and only the records that
    wait are computed again, measuring.
    """
    from ..checks.context import given
    from ..checks.verify import Context, verify_in
    from ..figures.compute import Computer, contradictions
    from ..reading.values import FIGURE_KEYS

    written = analyzer.written_figures(ledger, config)
    found = verify_in(ledger, given(Context(config, base), written))
    computer = Computer(ledger, config, root=analyzer.settings.root, reader=analyzer.reader)
    records = []
    unique = set(found)
    for f in written.records:
        if _waits(f.values.record):
            f = computer.compute(f.values)
            unique.update(f.values.problems_of(FIGURE_KEYS), contradictions(f, config))
        unique.update(f.problems)  # what fill reports beyond the checks (the rest they report already)
        records.append(f)
    skipped = tuple(s.shown for s in computer.measurer.skipped) if computer.measurer is not None else ()
    figures = LedgerFigures(ledger, config, tuple(records), written.problems, skipped)
    return figures, sorted(unique, key=lambda d: (d.line, d.column, d.code, d.message))


def _waits(record: Record) -> bool:
    """Whether a figure field of the record holds a placeholder (fill would measure for it)."""
    return any(f.waiting for f in record.fields if f.key in FIELDS and FIELDS[f.key].figure)


def _stopping(exc: LedgerkitError, ledger: Ledger) -> Problem:
    """A problem that stops the run, on its line when it is the ledger's, else on the first with its place."""
    if exc.path is not None and exc.path == ledger.path:
        return Problem(exc.line or 1, exc.message)
    return Problem(1, str(exc))  # the configuration's own path:line, said in the message


class Problem(NamedTuple):
    """A problem that stops every command on this ledger (a broken configuration): where, and what."""

    line: int
    message: str


# --- one analysis -------------------------------------------------------------------------------------------


@dataclass
class Analysis:
    """One version of a buffer, analysed."""

    analyzer: Analyzer
    ledger: Ledger
    figures: LedgerFigures | None
    diagnostics: list[Diagnostic]
    holds_ledger: bool
    problem: Problem | None = None
    config: Config | None = None

    @cached_property
    def _starts(self) -> list[int]:
        return [r.line for r in self.ledger.records]

    def record_at(self, line: int) -> Record | None:
        """The record whose lines hold ``line`` (its heading through its last line, and a line typed right
        after it)."""
        i = bisect.bisect_right(self._starts, line) - 1
        if i < 0:
            return None
        record = self.ledger.records[i]
        following = self._starts[i + 1] if i + 1 < len(self._starts) else None
        if line <= record.end_line + 1 and (following is None or line < following):
            return record
        return None

    def figures_of(self, record: Record) -> Figures | None:
        if self.figures is None:
            return None
        i = bisect.bisect_left(self._starts, record.line)
        return self.figures.records[i] if i < len(self.figures.records) else None

    def span(self, d: Diagnostic) -> Span:
        """The range of the text a diagnostic is about: a record's RUN_ID, a field's key or value, an entry."""
        return span_of(self.ledger, d.line, d.column - 1, self.record_at(d.line))


def span_of(ledger: Ledger, line: int, column: int, record: Record | None) -> Span:
    contents = ledger.lines.contents
    if not 1 <= line <= len(contents):
        n = max(len(contents), 1)
        return Span(n, 0, n, len(contents[n - 1]) if contents else 0)
    text = contents[line - 1]
    end = len(text.rstrip())
    if record is not None and line == record.line and column == record.column - 1:
        end = column + len(record.run_id)
    elif record is not None:
        f = _field_on(record, line)
        if f is not None and column == f.column - 1:
            end = column + len(f.key)
    column = min(column, len(text))
    if end <= column:  # nothing to point at from there: the whole line
        column, end = len(text) - len(text.lstrip()), max(len(text.rstrip()), column + 1)
    return Span(line, column, line, min(end, len(text)) if text else 0)


def _field_on(record: Record, line: int) -> Field | None:
    for f in record.fields:
        if f.line == line:
            return f
    return None


def _field_holding(record: Record, line: int) -> Field | None:
    for f in record.fields:
        if f.line <= line <= max(f.last, f.line):
            return f
    return None


def code_summary(code: str) -> str:
    return CODES[code][1] if code in CODES else ""


# --- hover ----------------------------------------------------------------------------------------------


def hover(analysis: Analysis, line: int, column: int) -> str | None:
    """Markdown for the cursor: a record's figures on its heading or a figure field; a source's size on a
    SOURCE_FILES line; nothing elsewhere."""
    if analysis.figures is None or analysis.config is None:
        return None
    record = analysis.record_at(line)
    if record is None or line > record.end_line:
        return None
    f = _field_holding(record, line)
    if f is not None and f.key == "SOURCE_FILES":
        entry = _source_entry(f, line)
        if entry is not None:
            return _source_hover(analysis, entry)
    on_figure = f is not None and f.line == line and f.key in FIELDS and FIELDS[f.key].figure
    if line == record.line or on_figure:
        return _record_hover(analysis, record)
    return None


def _source_entry(f: Field, line: int) -> Entry | None:
    if f.line == line and f.value.strip() and not f.placeholders:
        return Entry(f.line, f.value_column, f.value)
    return next((e for e in f.entries if e.line == line), None)


def _measured(analysis: Analysis, record: Record) -> Figures:
    """The record's figures with every source measured (a hover lists them all)."""
    from ..figures.compute import Computer
    from ..reading.values import read_values

    assert analysis.config is not None
    computer = Computer(
        analysis.ledger,
        analysis.config,
        root=analysis.analyzer.settings.root,
        reader=analysis.analyzer.reader,
        measure_all=True,
    )
    return computer.compute(read_values(record, analysis.ledger, analysis.config.divisor))


def _record_hover(analysis: Analysis, record: Record) -> str:
    from ..reports.formatting import money, thousands
    from ..schema import format_percent

    f = _measured(analysis, record)
    v = f.values
    rows = [
        ("characters", thousands(f.chars)),
        ("estimate", f"{thousands(f.tokens)} tokens (ceil(characters / {v.divisor}))" if f.tokens is not None else "—"),
    ]
    rows += [(f"exact ({name})", f"{count:,} tokens") for name, count in sorted(f.exact.items())]
    rows += [
        ("budget", thousands(f.budget)),
        ("utilization", f"{format_percent(f.utilization)}%" if f.utilization is not None else "—"),
        ("level reached", f.action or "—"),
    ]
    if f.cost is not None:
        model = f" at {f.model.key}'s price" if f.model is not None else ""
        rows.append(("cost", f"{money(f.cost.amount)} ({f.cost.tokens:,} tokens, {f.cost.basis}{model})"))
    out = [f"**{record.run_id}**", "", "| figure | value |", "| --- | --- |"]
    out += [f"| {name} | {value} |" for name, value in rows]
    if f.sources:
        out += ["", "sources:"]
        out += [f"- `{ms.source.display}` {ms.chars:,} characters" for ms in f.sources]
    problems = [d for d in f.problems if d.code.startswith("LK2")]
    if problems:
        out += ["", "cannot be measured:"]
        out += [f"- {d.code} {d.message}" for d in problems]
    return "\n".join(out)


def _source_hover(analysis: Analysis, entry: Entry) -> str:
    from ..measuring.measure import Measurer, SourceError, spec_of
    from ..schema import token_estimate

    assert analysis.config is not None
    spec = spec_of(entry)
    if spec is None:
        return "a comment: no source"
    measurer = Measurer(analysis.ledger, analysis.config, analysis.analyzer.settings.root, analysis.analyzer.reader)
    sources, problems = measurer.resolve(spec)
    if problems:
        return "\n".join(f"cannot be measured: {d.code} {d.message}" for d in problems)
    divisor = analysis.config.divisor
    out = []
    for source in sources:
        try:
            measured = measurer.measure_source(source)
        except SourceError as exc:
            out.append(f"- `{source.display}` cannot be measured: {exc.code} {source.shown} {exc.message}")
            continue
        tokens = f"{token_estimate(measured.chars, divisor):,} tokens estimated"
        exact = _exact(analysis.config, measured)
        out.append(f"- `{source.display}` {measured.chars:,} characters, {tokens}{exact}")
    if not out:
        return f"`{spec.written}` holds no file"
    return "\n".join(out)


def _exact(config: Config, measured: object) -> str:
    """``, N tokens (encoding)`` when an encoding is configured and can count here."""
    if config.encoding is None:
        return ""
    from ..figures.exact import TokenCounter
    from ..tokens.encodings import EncodingUnavailable

    try:
        count = TokenCounter().count([measured], config.encoding)  # type: ignore[list-item]
    except EncodingUnavailable as exc:
        return f"; {config.encoding} cannot count here: {exc.message}"
    return f", {count:,} tokens ({config.encoding})"


# --- edits: fill and append -------------------------------------------------------------------------------


def fill_record_edits(analysis: Analysis, record: Record) -> list[TextEdit]:
    """What ``ledgerkit fill`` writes into this record's placeholders (none when it cannot fill it whole)."""
    from ..writing.fill import record_edits_for

    figures = analysis.figures_of(record)
    if figures is None:
        return []
    return [TextEdit(Span(e.line, e.start, e.line, e.end), e.text) for e in record_edits_for(figures)]


def fill_ledger_edits(analysis: Analysis) -> list[TextEdit]:
    """What ``ledgerkit fill`` writes: every record's placeholders, and the summary block as it renders it."""
    from ..writing.fill import apply, fill_from, record_edits_for

    if analysis.figures is None:
        return []
    result = fill_from(analysis.figures)
    if not result.changed:
        return []
    edits = [e for f in analysis.figures.records for e in record_edits_for(f)]
    filled = apply(analysis.ledger, edits, None)
    out = [TextEdit(Span(e.line, e.start, e.line, e.end), e.text) for e in edits]
    summary = text_edit(filled, result.text)
    if summary is not None:
        out.append(summary)
    return out


def append_edit(analysis: Analysis, moment: datetime | None = None) -> TextEdit | None:
    """What ``ledgerkit append`` inserts for the next record, with the last record's SCOPE, CONTEXT_ID and
    sources (None when it cannot append: no ledger section, a time before the last record's)."""
    from ..measuring.measure import source_specs
    from ..writing.append import NewRecord, append, record_time

    if analysis.config is None:
        return None
    last = analysis.ledger.records[-1] if analysis.ledger.records else None
    scope = (last.get("SCOPE") or "").strip() if last else ""
    context = (last.get("CONTEXT_ID") or "").strip() if last else ""
    sources = tuple(s.written for s in source_specs(last)) if last else ()
    new = NewRecord(
        scope if scope in SCOPES else "SESSION",
        context or "CONTEXT-ID",
        sources or ("/path/to/source.md",),
    )
    try:
        result = append(analysis.ledger, new, moment=record_time(moment), config=analysis.config)
    except LedgerkitError:
        return None
    return text_edit(analysis.ledger.text, result.text)


def text_edit(old: str, new: str) -> TextEdit | None:
    """One edit that turns ``old`` into ``new``: the lines between their common first and last lines."""
    a, b = Lines.split(old), Lines.split(new)
    pa = list(zip(a.contents, a.endings, strict=True))
    pb = list(zip(b.contents, b.endings, strict=True))
    if pa == pb:
        return None
    p = 0
    while p < len(pa) and p < len(pb) and pa[p] == pb[p]:
        p += 1
    s = 0
    while s < len(pa) - p and s < len(pb) - p and pa[-1 - s] == pb[-1 - s]:
        s += 1
    stop = len(pa) - s
    text = "".join(c + e for c, e in pb[p : len(pb) - s])
    if stop < len(pa):
        end = (stop + 1, 0)
    elif pa and not pa[-1][1]:  # the file ends without a newline: the end of its last line
        end = (len(pa), len(pa[-1][0]))
    else:
        end = (len(pa) + 1, 0)
    return TextEdit(Span(p + 1, 0, end[0], end[1]), text)


def apply_edits(text: str, edits: list[TextEdit]) -> str:
    """The text with non-overlapping edits made (what a client does with a workspace edit)."""
    lines = Lines.split(text)
    starts = [0]
    for content, ending in zip(lines.contents, lines.endings, strict=True):
        starts.append(starts[-1] + len(content) + len(ending))

    def offset(line: int, column: int) -> int:
        return starts[line - 1] + column if line - 1 < len(lines.contents) else len(text)

    out = text
    for e in sorted(edits, key=lambda e: (e.span.line, e.span.start), reverse=True):
        a, b = offset(e.span.line, e.span.start), offset(e.span.end_line, e.span.end)
        out = out[:a] + e.text + out[b:]
    return out


# --- completion -------------------------------------------------------------------------------------------

_KEY_TYPED = re.compile(r"^- (?P<word>[A-Z0-9_]*)$")
_VALUE_TYPED = re.compile(r"^- (?P<key>SCOPE|THRESHOLD_ACTION):(?P<before>.*?)(?P<word>[A-Z0-9]*)$")
_SOURCE_TYPED = re.compile(r"^[ \t]+[-*+][ \t]+(?P<path>[^\s#]*)$")
#: At most this many files and folders are offered for one folder.
MAX_PATHS = 200


def complete(analysis: Analysis, line: int, column: int) -> list[Completion]:
    """Field names inside a record, SCOPE and THRESHOLD_ACTION values, and source paths under the source root
    inside SOURCE_FILES."""
    contents = analysis.ledger.lines.contents
    if not analysis.holds_ledger or not 1 <= line <= len(contents):
        return []
    record = analysis.record_at(line)
    if record is None:
        return []
    typed = contents[line - 1][:column]
    return _field_or_value(record, typed) or _source_path(analysis, record, line, typed)


def _field_or_value(record: Record, typed: str) -> list[Completion]:
    m = _KEY_TYPED.match(typed)
    if m:
        written = {f.key for f in record.fields}
        keys = [k for k in FIELDS if k not in written or k == "TOKEN_COUNT"]
        return [Completion(k, "field", FIELDS[k].kind.value, m.start("word")) for k in keys]
    m = _VALUE_TYPED.match(typed)
    if m:
        values = SCOPES if m.group("key") == "SCOPE" else ACTIONS
        return [Completion(v, "value", m.group("key"), m.start("word")) for v in values]
    return []


def _source_path(analysis: Analysis, record: Record, line: int, typed: str) -> list[Completion]:
    f = _field_holding(record, line)
    if f is None and line == record.end_line + 1:
        f = record.fields[-1] if record.fields else None
    m = _SOURCE_TYPED.match(typed)
    if f is not None and f.key == "SOURCE_FILES" and m:
        return _paths(analysis, m.group("path"), m.start("path"))
    return []


def _paths(analysis: Analysis, typed: str, start: int) -> list[Completion]:
    """Files and folders under the source root that complete ``typed`` (a leading / is the root; else the
    ledger's folder), never anything outside the root."""
    from ..measuring.measure import source_root

    assert analysis.config is not None
    root = Path(os.path.realpath(source_root(analysis.ledger.path, analysis.config, analysis.analyzer.settings.root)))
    head, _, _ = typed.rpartition("/")
    base = root if typed.startswith("/") else analysis.ledger.folder
    folder = Path(os.path.realpath(base / head.lstrip("/"))) if head else Path(os.path.realpath(base))
    if folder != root and root not in folder.parents:
        return []
    prefix = f"{head}/" if head or typed.startswith("/") else ""
    word_start = start + len(prefix)
    return [
        Completion(name + ("/" if is_dir else ""), "folder" if is_dir else "file", str(folder), word_start)
        for name, is_dir in _listing(folder)
    ]


def _listing(folder: Path) -> Iterator[tuple[str, bool]]:
    try:
        with os.scandir(folder) as found:
            entries = sorted(found, key=lambda e: e.name)
    except OSError:
        return
    for n, entry in enumerate(e for e in entries if not e.name.startswith(".")):
        if n >= MAX_PATHS:
            return
        try:
            yield entry.name, entry.is_dir(follow_symlinks=False)
        except OSError:
            continue


# --- the outline --------------------------------------------------------------------------------------------


def symbols(analysis: Analysis) -> list[Symbol]:
    """One symbol per level-1/2 section, holding one per record (RUN_ID, with its utilization)."""
    from ..reading.blocks import blocks

    if not analysis.holds_ledger:
        return []
    contents = analysis.ledger.lines.contents
    headings = [b for b in blocks(contents) if b.kind == "heading" and b.level <= 2]
    records = [_record_symbol(analysis, r) for r in analysis.ledger.records]
    out: list[Symbol] = []
    first = headings[0].first if headings else len(contents) + 1
    out += [s for s in records if s.span.line < first]
    for i, h in enumerate(headings):
        last = headings[i + 1].first - 1 if i + 1 < len(headings) else len(contents)
        inside = tuple(s for s in records if h.first < s.span.line <= last)
        text = contents[h.first - 1]
        span = Span(h.first, 0, last, len(contents[last - 1]) if last >= 1 else 0)
        selection = Span(h.first, 0, h.first, len(text))
        out.append(Symbol(h.text.strip() or text.strip(), "", "section", span, selection, inside))
    return out


def _record_symbol(analysis: Analysis, record: Record) -> Symbol:
    from ..schema import format_percent

    figures = analysis.figures_of(record)
    percent = figures.utilization if figures is not None else None
    detail = f"{format_percent(percent)}%" if percent is not None else "utilization not known yet"
    contents = analysis.ledger.lines.contents
    span = Span(record.line, 0, record.end_line, len(contents[record.end_line - 1]))
    selection = Span(record.line, record.column - 1, record.line, record.column - 1 + len(record.run_id))
    return Symbol(record.run_id, detail, "record", span, selection)
