"""Fill a ledger: put each record's figures in place of its placeholders and re-render the summary.

The figures come from ``figures/compute.py``; this module only turns them into edits, a pure function
from ledger and figures to text. Only placeholders in figure fields and the summary's own items change;
every other byte stays as written. A field that already holds a value is never rewritten (fill-once). A
record whose figures cannot all be had stays exactly as it was, and every reason is reported. A written
figure that contradicts the record's own figures is reported (as verify reports it), and the record's
placeholders are still filled: they are measurements.
"""

from __future__ import annotations

import re
from codecs import BOM_UTF8
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, compress, islice, repeat
from operator import add, contains, itemgetter
from pathlib import Path
from typing import NamedTuple

from ..checks.sources import Repeats
from ..checks.suppress import target_line
from ..config import Config, config_for
from ..diagnostics import Diagnostic, has_errors
from ..errors import LedgerkitError, TemplateError
from ..figures.compute import Computer, Figures, LedgerFigures, compute, contradictions, ledger_problems
from ..figures.sessions import Project, Session, Totals, group
from ..files.text import Opcode, aligned_opcodes, decode_lines
from ..files.textfile import Lines, encode, rewrite, rewrite_data, unified_diff
from ..measuring.measure import SourceReader
from ..reading.parse import Field, Ledger, Record, filled_pattern, parse, parse_deferred, summary_key
from ..reading.values import FIGURE_KEYS, Known, read_values
from ..schema import FIELDS, PLACEHOLDER, SUMMARY_ITEMS, write_figure
from .summary import NAME as SUMMARY_TEMPLATE
from .summary import mirrored_body, mirrors


class Edit(NamedTuple):
    """Replace columns [start, end) (0-based) of a line (1-based) with ``text``.

    A named tuple, not a frozen dataclass: fill makes one for every figure of every record (a dataclass
    sets each field through object.__setattr__), and it is cheaper to define when the hook imports fill.
    """

    line: int
    start: int
    end: int
    text: str


class NewText:
    """What a writer of the ledger (fill, append) gives back: the ledger it read and the text it would write."""

    ledger: Ledger
    text: str

    def data(self) -> bytes:
        """The new file's bytes (BOM kept)."""
        return encode(self.text, self.ledger.bom)

    def diff(self) -> str:
        return unified_diff(self.ledger.display_path, self.ledger.text, self.text)


@dataclass
class FillResult(NewText):
    """What filling a ledger gives: the new text, what was filled, the figures, and every problem found."""

    ledger: Ledger
    text: str
    figures: LedgerFigures
    diagnostics: list[Diagnostic] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)  # RUN_IDs that received figures
    written: bool = False  # set by fill_file when the file was replaced
    #: The old text's lines [start, end) (0-based) that the new text replaced by another run of lines (the
    #: summary's owned lines, when re-rendered); every other line is changed in place or not at all.
    replaced: tuple[int, int] | None = None

    def diff(self) -> str:
        """The unified diff, in time linear in the lines: fill changes lines where they stand but for the summary."""
        return unified_diff(self.ledger.display_path, self.ledger.text, self.text, self._block())

    @cached_property
    def new_lines(self) -> Lines:
        """The new text's lines, split once for whoever asks."""
        return Lines.split(self.text)

    def changed_lines(self) -> list[Opcode]:
        """difflib's opcodes between the old lines' contents and :attr:`new_lines`' (endings aside), in linear
        time."""
        return aligned_opcodes(self.ledger.lines.contents, self.new_lines.contents, self._block())

    def _block(self) -> tuple[int, int]:
        end = len(self.ledger.lines.contents)
        return self.replaced if self.replaced is not None else (end, end)

    @property
    def changed(self) -> bool:
        return self.text != self.ledger.text

    @property
    def skipped(self) -> tuple[str, ...]:
        """Files met through a glob or folder and left out: not text."""
        return self.figures.skipped

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def fill(
    ledger: Ledger,
    *,
    config: Config | None = None,
    root: str | Path | None = None,
    reader: SourceReader | None = None,
) -> FillResult:
    """Compute the filled text of a ledger (nothing is written)."""
    config = config or config_for(ledger.path)
    figures = compute(ledger, config, root=root, reader=reader)
    return fill_from(figures)


def fill_from(figures: LedgerFigures) -> FillResult:
    """The filled text, from figures already computed: edits for every waiting figure, and the summary."""
    ledger, config = figures.ledger, figures.config
    diagnostics = figures.diagnostics
    edits: list[Edit] = []
    filled: list[str] = []
    repeats = Repeats(ledger, config)
    repeated: list[Diagnostic] = []  # LK210: named twice, counted once
    for f in figures.records:
        record_edits = record_edits_for(f)
        if record_edits:
            edits.extend(record_edits)
            filled.append(f.run_id)
        repeated.extend(repeats.of(f.values))
    summary, problems = _summary_lines(ledger, group(figures.records), config)
    diagnostics.extend(problems)
    diagnostics.extend(repeated)
    text = apply(ledger, edits, summary)
    _prove_only_owned_changed(ledger, text, summary is not None)
    replaced = None
    if summary is not None and ledger.summary is not None:
        replaced = (ledger.summary.first - 1, max(ledger.summary.last, ledger.summary.first - 1))
    return FillResult(ledger, text, figures, diagnostics, filled, replaced=replaced)


def fill_file(
    path: str | Path,
    *,
    config: Config | None = None,
    root: str | Path | None = None,
    check: bool = False,
    on_computed: Callable[[FillResult], None] | None = None,
    on_lock_wait: Callable[[str], None] | None = None,
) -> FillResult:
    """Fill a ledger file in place, atomically, only when its text changes.

    If the file changes on disk while the fill works (a person saving, another fill), the fill starts
    over on the new text (see files/textfile.rewrite) and never writes over the change. ``check`` computes
    without writing. ``on_computed`` is called between computing and writing (a seam for tests);
    ``on_lock_wait`` is told when another run holds the folder's lock for more than a second. The result
    holds the whole ledger and its figures; :func:`fill_in_place` writes the same bytes holding a record at a
    time (what ``ledgerkit fill`` runs).
    """
    path = Path(path)
    config = config or config_for(path)

    def compute_text(text: str, bom: bool) -> FillResult:
        result = fill(parse(text, str(path), bom=bom), config=config, root=root)
        if on_computed is not None:
            on_computed(result)
        return result

    def new_bytes(r: FillResult) -> bytes | None:
        return None if check or not r.changed else r.data()

    result, written = rewrite(path, compute_text, new_bytes, "filling", on_lock_wait=on_lock_wait)
    result.written = written
    return result


# --- fill in place, one record at a time -----------------------------------------------------------------


class Filled(NamedTuple):
    """What :func:`fill_in_place` gives: what :class:`FillResult` gives but the texts and the figures."""

    ledger: Ledger  # its records without their fields (but those a suppression is for), its text not kept
    diagnostics: list[Diagnostic]
    filled: list[str]  # RUN_IDs that received figures
    skipped: tuple[str, ...]  # files met through a glob or folder and left out: not text
    changed: bool
    written: bool


def fill_in_place(
    path: str | Path,
    *,
    config: Config | None = None,
    root: str | Path | None = None,
    on_lock_wait: Callable[[str], None] | None = None,
) -> Filled:
    """:func:`fill_file` without ``check``, holding one record's fields and figures at a time: the same bytes
    written, the same problems, in memory that grows with the file's bytes and lines, not with its records'
    fields (docs/performance.md). A summary template other than the shipped one may read every record's
    figures, so with one the fill is :func:`fill_file`'s."""
    path = Path(path)
    config = config or config_for(path)
    if not mirrors(config.templates):
        r = fill_file(path, config=config, root=root, on_lock_wait=on_lock_wait)
        return Filled(r.ledger, r.diagnostics, r.filled, r.skipped, r.changed, r.written)

    def compute_data(data: bytearray) -> _InPlace:
        lines, bom = decode_lines(data, path)
        data.clear()  # read: the lines hold the text now, and the guard a digest of the bytes
        return _InPlace(lines, bom, str(path), config, root)

    def new_bytes(r: _InPlace) -> bytearray | None:
        return r.data if r.changed else None

    result, written = rewrite_data(path, compute_data, new_bytes, "filling", on_lock_wait=on_lock_wait)
    return Filled(result.ledger, result.diagnostics, result.filled, result.skipped, result.changed, written)


class _InPlace:
    """One fill in place, run on a file's lines: each record read, figured, filled and written out in turn, the
    sessions' totals added up on the way, and the summary written last."""

    #: How many values the read stage remembers before it starts over (the memo is for repeated values).
    KNOWN = 20_000

    def __init__(self, lines: Lines, bom: bool, path: str, config: Config, root: str | Path | None) -> None:
        ledger, records = parse_deferred(lines, path, bom=bom)
        self.config = config
        self.computer = Computer(ledger, config, root=root)
        self.diagnostics = ledger_problems(ledger)
        self.repeats = Repeats(ledger, config)
        self.repeated: list[Diagnostic] = []  # LK210, said after the summary's problems, as fill_from says them
        self.totals: dict[str, Totals] = {}
        self.filled: list[str] = []
        self.out = _Out(ledger)
        self.known: Known = {}
        self.ledger = ledger  # what each record is read against, during the walk
        self.ledger = ledger = self._walk(ledger, records)  # then with the records a suppression is for
        sessions = [Session(key, (), running) for key, running in self.totals.items()]
        summary, problems = _summary_lines(ledger, sessions, config)
        self.diagnostics += problems + self.repeated
        self.out.finish(summary)
        self.data = self.out.data
        measurer = self.computer.measurer
        self.skipped = tuple(s.shown for s in measurer.skipped) if measurer is not None else ()
        self.changed = self.out.changed

    def _walk(self, ledger: Ledger, records: Iterator[Record]) -> Ledger:
        """Every record in turn; the ledger back, with the fields of the records a suppression comment is for
        (its scope may be one of their fields: checks/suppress.py)."""
        targets = {target_line(ledger, s) for s in ledger.suppressions}
        kept: dict[int, Record] = {}
        for i, record in enumerate(records):
            if targets and any(record.line <= t <= record.end_line for t in targets):
                kept[i] = record
            self._record(record)
            self.out.upto(record.end_line)
        if kept:
            ledger = ledger._replace(records=tuple(kept.get(i, r) for i, r in enumerate(ledger.records)))
        return ledger

    def _record(self, record: Record) -> None:
        """One record's figures, problems and edits, and its share of its session's totals, as fill_from has them."""
        if len(self.known) > self.KNOWN:
            self.known.clear()
        v = read_values(record, self.ledger, self.config.divisor, self.known)
        f = self.computer.compute(v)
        self.diagnostics += v.problems_of(FIGURE_KEYS)
        self.diagnostics += f.problems
        self.diagnostics += contradictions(f, self.config)
        edits = record_edits_for(f)
        if edits:
            self.out.edit(edits)
            self.filled.append(f.run_id)
        self.repeated += self.repeats.of(v)
        session = self.totals.get(v.session)
        if session is None:
            session = self.totals[v.session] = Totals()
        session.add(f)


class _Out:
    """The new file's bytes, written as the walk goes: each line as it was, or with its placeholders filled
    (proved so, line by line, as :func:`_prove_only_owned_changed` proves a whole text), and from the summary's
    heading on, held back until the summary is rendered."""

    BATCH = 4096  # lines written out at a time

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.contents, self.endings = ledger.lines.contents, ledger.lines.endings
        summary = ledger.summary
        self.hold = summary.heading_line - 1 if summary is not None else len(self.contents)
        self.data = bytearray(BOM_UTF8 if ledger.bom else b"")
        self.at = 0  # the first line (0-based) not yet written out
        self.new: dict[int, str] = {}  # lines changed and not yet written out
        self.patterns: dict[str, re.Pattern[str] | None] = {}
        #: Whether the new text differs from the old (BOMs aside, as FillResult.changed compares them).
        self.changed = False

    def edit(self, edits: list[Edit]) -> None:
        """A record's edits, made as :func:`apply` makes them, each line it changes proved to be fill's change."""
        contents, new = self.contents, self.new
        _edit_lines(edits, contents, new)
        for n, _start, _end, _text in edits:
            old, line = contents[n - 1], new[n - 1]
            if line == old:
                continue
            self.changed = True
            if not _fills(self.patterns, old, line):
                _refuse(self.ledger, f"line {n}")

    def upto(self, end: int) -> None:
        """Write out the lines before line ``end`` (0-based), a batch at a time, but for those held back."""
        end = min(end, self.hold)
        if end - self.at >= self.BATCH:
            self._write(self.at, end)
            self.at = end

    def finish(self, summary: list[str] | None) -> None:
        """Write out the rest, the summary's owned lines replaced by ``summary`` (None: left as they are)."""
        s = self.ledger.summary
        if summary is None or s is None:
            self._write(self.at, len(self.contents))
            return
        for n in range(s.first, s.last + 1):
            if not _owned(self.contents[n - 1]):
                _refuse(self.ledger, f"line {n} of the summary")
        for n, line in enumerate(summary, s.first):
            if not _owned(line):
                _refuse(self.ledger, f"the new summary's line {n}")
        endings, gained = _summary_endings(self.ledger, len(summary))
        was = zip(self.contents[s.first - 1 : s.last], self.endings[s.first - 1 : s.last], strict=True)
        if gained is not None or "".join(map(add, summary, endings)) != "".join(c + e for c, e in was):
            self.changed = True
        if gained is None:
            self._write(self.at, s.first - 1)
        else:
            self._write(self.at, s.first - 2)
            self._write(s.first - 2, s.first - 1, [gained])
        self._write(0, len(summary), endings, summary)
        self._write(s.last, len(self.contents))

    def _write(self, a: int, b: int, endings: list[str] | None = None, contents: list[str] | None = None) -> None:
        """Lines a..b-1 (of ``contents``, else the ledger's with the changes made), with ``endings`` (else their
        own), a batch at a time."""
        new = self.new if contents is None else {}
        changed = iter(sorted(k for k in new if a <= k < b))  # once: lines held back may have many changes
        k = next(changed, b)
        for i in range(a, b, self.BATCH):
            j = min(i + self.BATCH, b)
            batch = (self.contents if contents is None else contents)[i:j]
            while k < j:
                batch[k - i] = new.pop(k)
                k = next(changed, b)
            ends = self.endings[i:j] if endings is None else endings[i - a : j - a]
            self.data += Lines(batch, ends).join().encode("utf-8")


# --- one record ----------------------------------------------------------------------------------------


def record_edits_for(figures: Figures) -> list[Edit]:
    """The edits that fill a record's waiting figures, or none when any of them cannot be had (or a problem
    stops the record): a record is filled whole or not at all."""
    if figures.blocked:
        return []
    edits: list[Edit] = []
    for f in figures.values.record.fields:
        spec = FIELDS.get(f.key)
        if spec is None or spec.computed is None:
            continue
        place = _first_placeholder(f)
        if place is None:
            continue  # written: a figure is filled once
        value = _figure(figures, spec.computed, f)
        if value is None:
            return []
        edits.append(_edit(f, place, write_figure(spec.kind, value)))
    return edits


#: Where a field's first placeholder is: its line, its columns [start, end), and that line's value text with
#: the placeholder's end in it (what follows it, for a utilization's %).
Place = tuple[int, int, int, str, int]


def _first_placeholder(f: Field) -> Place | None:
    """Where the field's first placeholder is, or None when it holds none (as :attr:`Field.waiting` reads)."""
    if not f.more:
        # The value is on the key's line alone, as nearly always: one search finds whether it waits and where,
        # without making every placeholder's span (Field.placeholders) to take the first.
        m = PLACEHOLDER.search(f.value) if "[fill" in f.value else None
        if m is None:
            return None
        offset = f.value_column - 1
        return f.line, offset + m.start(), offset + m.end(), f.value, m.end()
    spans = f.placeholders
    if not spans:
        return None
    span = spans[0]
    part = next(p for p in f.parts if p.line == span.line)
    return span.line, span.start, span.end, part.text, span.end - (part.column - 1)


def _figure(figures: Figures, name: str, f: Field) -> object:
    if name == "exact":
        return figures.exact.get((f.arg or "").strip())
    if name == "cost":
        return figures.cost.amount if figures.cost is not None else None
    value: object = getattr(figures, name)
    return value


def _edit(f: Field, place: Place, text: str) -> Edit:
    """The edit that writes ``text`` over the placeholder (and the % a utilization's lacks)."""
    line, start, end, value, after = place
    if f.key == "UTILIZATION" and not value[after:].lstrip().startswith("%"):
        text += "%"
    return tuple.__new__(Edit, (line, start, end, text))  # skips the generated __new__


# --- the summary and the new text ----------------------------------------------------------------------


def _summary_lines(
    ledger: Ledger, sessions: list[Session], config: Config
) -> tuple[list[str] | None, list[Diagnostic]]:
    """The summary's new lines (None: leave it as it is), and why it is left when it is."""
    summary = ledger.summary
    if summary is None:
        return None, []
    path = ledger.display_path
    problems = [
        Diagnostic(
            path,
            line,
            1,
            "LK110",
            "this section is also titled as the cumulative summary; fill re-renders "
            f"only the first, at line {summary.heading_line}",
        )
        for line in summary.others
    ]
    if summary.foreign:
        problems.append(_kept(ledger, summary.foreign[0], "holds text fill does not own"))
        return None, problems
    project = Project(summary.project_id, tuple(sessions))
    body = mirrored_body(project, config.templates)
    if body is None:
        from .render import render  # jinja2 only for a template writing/summary.py does not mirror

        body = render(SUMMARY_TEMPLATE, {"sessions": project.sessions, "project": project}, config.templates)
    lines = body.rstrip("\n").split("\n") if body.strip() else []
    _check_rendered(lines)
    dropped = _dropped_key(ledger.lines.contents[summary.first - 1 : summary.last], lines)
    if dropped is not None:
        offset, key = dropped
        problems.append(_kept(ledger, summary.first + offset, f"has {key}, which the summary template does not write,"))
        return None, problems
    return lines, problems


def _kept(ledger: Ledger, line: int, what: str) -> Diagnostic:
    assert ledger.summary is not None
    s = ledger.summary
    return Diagnostic(
        ledger.display_path,
        line,
        1,
        "LK109",
        f"the cumulative summary {what} at line {line}, among its "
        f"items; fill leaves the summary as it is: move that text out of the summary items (lines "
        f"{s.first}-{s.last})",
    )


def _item_keys(lines: list[str]) -> dict[str, set[str]]:
    """The keys written under each kind of summary item (SESSION_ID, PROJECT_ID) in these lines."""
    keys: dict[str, set[str]] = {}
    kind = None
    for line in lines:
        key = summary_key(line)
        if key is None:
            continue
        if not line[:1].isspace():
            kind = key
            keys.setdefault(kind, set())
        elif kind is not None:
            keys[kind].add(key)
    return keys


def _dropped_key(old: list[str], new: list[str]) -> tuple[int, str] | None:
    """A key a person wrote under a summary item that neither the schema nor the new rendering writes there
    (re-rendering would drop it): its offset in ``old`` and the key."""
    rendered = _item_keys(new)
    kind = None
    for offset, line in enumerate(old):
        key = summary_key(line)
        if key is None:
            continue
        if not line[:1].isspace():
            kind = key
        elif kind is not None and key not in SUMMARY_ITEMS.get(kind, ()) and key not in rendered.get(kind, set()):
            return offset, key
    return None


def _check_rendered(lines: list[str]) -> None:
    """The summary template writes summary items only: anything else would become fill's to replace."""
    for n, line in enumerate(lines, 1):
        if not _owned(line):
            raise TemplateError(
                f"template summary.md.j2 writes {line.strip()!r} at its line {n}: the summary block holds only "
                f"{' and '.join(SUMMARY_ITEMS)} items with '- KEY: value' items under them"
            )


def apply(ledger: Ledger, edits: list[Edit], summary: list[str] | None) -> str:
    """The ledger's text with the edits made and (when given) the summary's owned lines replaced."""
    contents = list(ledger.lines.contents)
    endings = list(ledger.lines.endings)
    changed: dict[int, str] = {}
    _edit_lines(edits, contents, changed)
    for i, line in changed.items():
        contents[i] = line
    if summary is not None and ledger.summary is not None:
        first, last = ledger.summary.first, ledger.summary.last
        new_endings, gained = _summary_endings(ledger, len(summary))
        if gained is not None:
            endings[first - 2] = gained
        contents[first - 1 : last] = summary
        endings[first - 1 : last] = new_endings
    return Lines(contents, endings).join()


def _edit_lines(edits: list[Edit], contents: Sequence[str], changed: dict[int, str]) -> None:
    """Make ``edits`` on the lines ``contents`` holds, each line they change put in ``changed`` (by its 0-based
    index; a line already there is edited further)."""
    # By (line, start), backwards: right to left within a line, so each edit's columns are still those it names.
    for n, start, end, text in sorted(edits, key=itemgetter(0, 1), reverse=True):
        line = changed.get(n - 1, contents[n - 1])
        changed[n - 1] = line[:start] + text + line[end:]


def _fills(patterns: dict[str, re.Pattern[str] | None], old: str, line: str) -> bool:
    """Whether ``line`` is ``old`` with its placeholders filled (each old line's pattern made once, in ``patterns``)."""
    pattern = patterns[old] if old in patterns else patterns.setdefault(old, filled_pattern(old))
    return pattern is not None and pattern.fullmatch(line) is not None


def _summary_endings(ledger: Ledger, count: int) -> tuple[list[str], str | None]:
    """The endings of the ``count`` lines that replace the summary's owned lines, and the ending the line before
    them gains (a heading that ended the file without one), if it gains one."""
    assert ledger.summary is not None
    first, last = ledger.summary.first, ledger.summary.last
    endings = ledger.lines.endings
    newline = endings[ledger.summary.heading_line - 1] or ledger.lines.newline()
    gained = None
    if last >= first:
        tail = endings[last - 1]  # the owned block's last line ending stays as it was
    else:
        tail = newline
        # Inserting after a heading that ends the file without a newline: give it one.
        if not endings[first - 2]:
            gained = newline
    new_endings = [newline] * count
    if new_endings:
        new_endings[-1] = tail
    return new_endings, gained


def _prove_only_owned_changed(ledger: Ledger, text: str, summary_rewritten: bool) -> None:
    """After an edit, prove it touched only what fill owns, or refuse to write.

    Outside the summary's owned lines every line is as it was, or is the same line with its placeholders
    filled (as verify's history check reads a fill), its ending kept (a heading that ended the file may gain
    one before the summary). The owned lines, before and after, hold nothing but summary items: nothing a
    person wrote among them is replaced.
    """
    summary = ledger.summary if summary_rewritten else None
    count = len(ledger.lines.contents)
    head = summary.first - 1 if summary else count
    walk = _Walk(ledger, text, head)
    walk.lines(0, head)
    new_summary: list[str] = []
    if summary is not None:
        # The new summary is the new text's lines after the head but for as many as the old text has after it.
        new_summary = [walk.line()[0] for _ in range(walk.lines_left() - (count - summary.last))]
        walk.old += sum(walk.lengths[head : summary.last])
        walk.lines(summary.last, count)
    if walk.new != len(text):
        _refuse(ledger, f"line {count + 1}")  # the new text goes on past the old one's last line
    if summary is not None:
        for n in range(summary.first, summary.last + 1):
            if not _owned(ledger.lines.contents[n - 1]):
                _refuse(ledger, f"line {n} of the summary")
        for n, line in enumerate(new_summary, head + 1):
            if not _owned(line):
                _refuse(ledger, f"the new summary's line {n}")


class _Walk:
    """The new text walked beside the old one's lines, for :func:`_prove_only_owned_changed`.

    It is walked, not split: each run of old lines without a placeholder is compared whole, in C, with the
    new text where it must stand, and only a line that holds one is read from the new text and judged.
    Splitting the new text would hold a second copy of every line of a large ledger.
    """

    def __init__(self, ledger: Ledger, text: str, head: int) -> None:
        self.ledger, self.text, self.head = ledger, text, head
        self.contents, self.endings = ledger.lines.contents, ledger.lines.endings
        self.lengths = list(map(add, map(len, self.contents), map(len, self.endings)))  # with the ending
        self.old = self.new = 0  # where the walk stands in the old text and in the new
        self.eol = re.compile(r"\r\n|\r|\n")  # the endings Lines.split reads (re keeps it compiled)
        self.patterns: dict[str, re.Pattern[str] | None] = {}  # records repeat their lines: each one's, once

    def lines(self, first: int, end: int) -> None:
        """Old lines ``first``..``end - 1`` stand, as kept, in the new text from where the walk stands.

        The loop runs once per line that holds a placeholder (every figure of every record): it keeps what it
        reads in locals, and leaves anything but a run that stands whole or a line filled as it should be to
        :meth:`_judge`, which names the line that differs."""
        contents, endings, lengths = self.contents, self.endings, self.lengths
        text, old_text, search, patterns = self.text, self.ledger.text, self.eol.search, self.patterns
        p, q = self.old, self.new
        run = first  # the first old line of the run of lines without a placeholder
        marked = compress(range(first, end), map(contains, islice(contents, first, end), repeat("[fill")))
        for i in chain(marked, (end,)):
            if i > run:
                n = sum(lengths[run:i])
                ending = endings[i - 1]
                if (ending == "\n" or ending == "\r\n") and text.startswith(old_text[p : p + n], q):
                    p, q = p + n, q + n  # the run stands whole: its last line's ending is part of it
                else:  # any other ending, or a line that differs: one line at a time
                    self.old, self.new = p, q
                    self._run(run, i)
                    p, q = self.old, self.new
            run = i + 1
            if i == end:
                break
            m = search(text, q)
            old = contents[i]
            if m is not None and text[m.start() : m.end()] == endings[i]:
                line = text[q : m.start()]
                if line == old or _fills(patterns, old, line):
                    p, q = p + lengths[i], m.end()
                    continue
            self.old, self.new = p, q
            self._judge(i)
            p, q = self.old, self.new
        self.old, self.new = p, q

    def lines_left(self) -> int:
        """How many lines the new text has from where the walk stands, as Lines.split counts them."""
        text, q = self.text, self.new
        ended = text.count("\n", q) + text.count("\r", q) - text.count("\r\n", q)
        return ended + (q < len(text) and text[-1] not in "\r\n")

    def line(self) -> tuple[str, str]:
        """The new text's line where the walk stands, and its ending; the walk moves past it."""
        text, q = self.text, self.new
        m = self.eol.search(text, q)
        k, self.new = (m.start(), m.end()) if m else (len(text), len(text))
        return text[q:k], text[k : self.new]

    def _run(self, first: int, end: int) -> None:
        """Old lines ``first``..``end - 1``, without a placeholder, stand where the walk stands: compared whole
        when the last one ends as a line ends there (a CR that a LF now follows is a CRLF, and a last line
        without an ending has nothing after it), else one by one (the heading that ended the file may gain an
        ending before the summary), naming the line that differs."""
        p, q, text = self.old, self.new, self.text
        n = sum(self.lengths[first:end])
        ending = self.endings[end - 1]
        whole = text.startswith(self.ledger.text[p : p + n], q)
        if ending == "\r":
            whole = whole and not text.startswith("\n", q + n)
        elif ending == "":
            whole = whole and q + n == len(text) and end != self.head
        if whole:
            self.old, self.new = p + n, q + n
            return
        for j in range(first, end):
            self._judge(j)

    def _judge(self, i: int) -> None:
        """Old line ``i`` stands where the walk stands, as written or with its placeholders filled, or fill refuses."""
        line, ending = self.line()
        self.old += self.lengths[i]
        old = self.contents[i]
        if ending != self.endings[i] and not (i == self.head - 1 and self.endings[i] == ""):
            _refuse(self.ledger, f"line {i + 1}")
        if line != old and not _fills(self.patterns, old, line):
            _refuse(self.ledger, f"line {i + 1}")


def _owned(line: str) -> bool:
    """A blank line, a summary item, or a ``- KEY: value`` item under one."""
    if not line.strip():
        return True
    key = summary_key(line)
    if key is None:
        return False
    return key in SUMMARY_ITEMS if not line[:1].isspace() else True


def _refuse(ledger: Ledger, what: str) -> None:
    raise LedgerkitError(
        f"internal error: fill would change {what}, which it does not own; nothing was written "
        "(this is a ledgerkit bug: please report it)",
        ledger.display_path,
    )
