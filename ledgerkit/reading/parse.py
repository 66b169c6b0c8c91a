"""Parse a ledger's text into records, fields and sections, each with its place in the original text.

The block structure (``blocks.py``) keeps code, quotes and HTML from ever being read as records; this
module then reads the ``- KEY: value`` items of each record's lists itself, keeping line and column of
every value so that edits are spans on the original text. Values stay text here: the read stage
(``values.py``) turns them into typed values with the schema.
"""

from __future__ import annotations

import gc
import re
from codecs import BOM_UTF8
from collections.abc import Callable, Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from ..files.read import read_bytes
from ..files.text import Held, Lines, decode, decode_lines
from ..schema import (
    FIELDS,
    FILLED,
    PLACEHOLDER,
    RUN_ID_HEADING,
    SESSION_BUDGET,
    SUMMARY_ITEMS,
    read_integer,
    read_level,
    read_share,
)
from .blocks import Block, blocks, opens_heading

_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>[-*+]|\d{1,9}[.)])(?:(?P<space>[ \t]+)|$)")
_FIELD = re.compile(r"^(?P<key>[A-Z][A-Z0-9_]*)(?:[ \t]*\((?P<arg>[^)]*)\))?[ \t]*:(?P<space>[ \t]*)")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_SUPPRESS = re.compile(r"<!--\s*ledgerkit:\s*ignore\s+(?P<codes>[A-Z0-9,\s]+?)\s*-->")

_ALLOCATION_HEADING = re.compile(r"allocation|배분", re.IGNORECASE)
_THRESHOLD_HEADING = re.compile(r"threshold|임계", re.IGNORECASE)
# The one section fill re-renders: its title, once a leading "7)" is set aside, is the summary's own
# ("누계/요약(Cumulative Summary)", "Cumulative Summary", "누계"); a heading that only mentions it
# ("Archive of the cumulative summary") is another section.
_SUMMARY_TITLE = re.compile(
    r"^(?:누계(?:/요약)?|요약|cumulative\s+summary)(?:[ \t]*\((?:누계(?:/요약)?|요약|cumulative\s+summary)\))?$",
    re.IGNORECASE,
)
_NUMBERING = re.compile(r"^[ \t]*(?:\d+[.)]?[ \t]+|\d+[.)])")
# The records' section: "6) 원장(append-only)", "Ledger (append-only)", "Ledger"; not the title "Token
# Budget Ledger — 토큰 예산 원장 (v0.1)" nor "4) 원장 스키마(Schema)", which only name the ledger.
_LEDGER_HEADING = re.compile(
    r"append-only|^[ \t]*(?:\d+[.)][ \t]*)?(?:ledger|원장)[ \t]*(?:\([^)]*\))?[ \t]*$", re.IGNORECASE
)


# --- the data ----------------------------------------------------------------------------------------


class Entry(NamedTuple):
    """A nested item under a field (a source, a share, a note), or a line of a field's value.

    ``line`` and ``column`` (where ``text`` starts) are 1-based.
    """

    line: int
    column: int
    text: str


class Span(NamedTuple):
    """A placeholder's place: line (1-based) and columns [start, end) (0-based) on that line."""

    line: int
    start: int
    end: int


class Field(NamedTuple):
    """One ``- KEY: value`` item of a record, with the nested items under it.

    ``value`` is the text after ``KEY:`` on the item's line; ``more`` holds the lines that continue it
    (a placeholder written on the line after its key), before the first nested item.
    """

    key: str
    arg: str | None
    line: int
    column: int  # of the key
    value: str  # leading blanks removed
    value_column: int  # 1-based column where ``value`` starts
    entries: tuple[Entry, ...] = ()
    more: tuple[Entry, ...] = ()
    last: int = 0  # the item's last line

    @property
    def name(self) -> str:
        """The key as written in diagnostics: ``CHAR_COUNT``, ``TOKEN_COUNT (o200k_base)``."""
        return self.key if self.arg is None else f"{self.key} ({self.arg})"

    @property
    def parts(self) -> tuple[Entry, ...]:
        """The value's text line by line: its own line, then the continuation lines."""
        first = Entry(self.line, self.value_column, self.value)
        return (first, *self.more) if self.more else (first,)

    @property
    def text(self) -> str:
        """The whole value as one line of text (continuation lines joined by a blank)."""
        if not self.more:
            return self.value
        return " ".join(p.text.strip() for p in self.parts if p.text.strip())

    @property
    def placeholders(self) -> tuple[Span, ...]:
        """Every placeholder in the value, in order."""
        if not self.more and "[fill" not in self.value:
            return ()
        return tuple(
            Span(p.line, p.column - 1 + m.start(), p.column - 1 + m.end())
            for p in self.parts
            for m in PLACEHOLDER.finditer(p.text)
        )

    @property
    def waiting(self) -> bool:
        """True when the value holds a placeholder: a figure still to be filled."""
        if not self.more:
            return "[fill" in self.value and PLACEHOLDER.search(self.value) is not None
        return bool(self.placeholders)

    @property
    def empty(self) -> bool:
        return not self.value.strip() and not any(p.text.strip() for p in self.more)


class Record(NamedTuple):
    """A ``### RUN_ID:`` section: its heading line through its last non-blank line."""

    run_id: str
    line: int
    column: int  # of the run id
    end_line: int
    fields: tuple[Field, ...]

    def field(self, key: str, arg: str | None = None) -> Field | None:
        """The first field with this key (and argument, when given)."""
        for f in self.fields:
            if f.key == key and (arg is None or f.arg == arg):
                return f
        return None

    def get(self, key: str) -> str | None:
        """The value of a field as written, or None when the record lacks it."""
        f = self.field(key)
        return None if f is None else f.text

    @property
    def context_id(self) -> str | None:
        return self.get("CONTEXT_ID")


class Budget(NamedTuple):
    """Section 0's ``SESSION_BUDGET_C``: its value when readable whole, and where it is."""

    value: int | None
    line: int
    column: int
    text: str


class Share(NamedTuple):
    """A percentage share of the budget: a line of the allocation policy or a DISTRIBUTION entry."""

    name: str
    percent: Fraction
    line: int
    column: int


class Summary(NamedTuple):
    """The cumulative summary section, which fill re-renders.

    fill owns exactly the summary items (``- SESSION_ID:`` and ``- PROJECT_ID:`` with the keys the
    template writes under them) on lines ``first``..``last`` (1-based, inclusive); with no item, ``first``
    is the line to insert at and ``last`` is ``first - 1``. ``foreign`` lists the lines within that span
    that fill does not own (a person's text, a record, another item): while there is one, fill leaves
    the summary as it is and says why, so nothing a person wrote is ever dropped.
    """

    heading_line: int
    first: int
    last: int
    project_id: str | None
    foreign: tuple[int, ...] = ()
    others: tuple[int, ...] = ()  # heading lines of further sections with the summary's title


class Section(NamedTuple):
    """A level-1/2 section: its heading line and its last line (before the next such heading), 1-based."""

    heading_line: int
    last: int


class Suppression(NamedTuple):
    """``<!-- ledgerkit: ignore LK512 -->``: the codes it silences on the line after it."""

    line: int
    column: int
    codes: tuple[str, ...]


_NO_NOTES: Mapping[Fraction, str] = MappingProxyType({})


class Ledger(NamedTuple):
    """A parsed ledger. ``text`` excludes the BOM; ``lines`` keeps every line ending as written."""

    path: str | None
    text: str
    bom: bool
    lines: Lines
    records: tuple[Record, ...]
    budget: Budget | None = None
    allocation: tuple[Share, ...] = ()
    allocation_line: int | None = None
    threshold_notes: Mapping[Fraction, str] = _NO_NOTES
    summary: Summary | None = None
    ledger_section: Section | None = None  # where records are appended
    suppressions: tuple[Suppression, ...] = ()

    @property
    def display_path(self) -> str:
        return self.path if self.path is not None else "<ledger>"

    @property
    def folder(self) -> Path:
        return Path(self.path).resolve().parent if self.path else Path.cwd()

    def record_text(self, record: Record) -> str:
        """The record's lines as written (each with its line ending)."""
        c, e = self.lines.contents, self.lines.endings
        return "".join(c[i] + e[i] for i in range(record.line - 1, record.end_line))


# --- what the append-only history reads: a version's records as extents, and its lines ------------------


class Extent(NamedTuple):
    """A record's heading and extent without its fields: the RUN_ID, the heading's line, the id's column and
    the record's last line, as :class:`Record` has them."""

    run_id: str
    line: int
    column: int
    end_line: int


class Placed(Protocol):
    """What the append-only history reads of a record: a :class:`Record` or an :class:`Extent`."""

    @property
    def run_id(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...
    @property
    def end_line(self) -> int: ...


class Outlined(Protocol):
    """What the append-only history reads of a version: its records' extents and its lines. A :class:`Ledger`
    is one, and so is the cheaper :class:`Outline` of a committed version, which holds no field to be misread."""

    @property
    def display_path(self) -> str: ...
    @property
    def lines(self) -> Lines: ...
    @property
    def records(self) -> Sequence[Placed]: ...


class Outline(NamedTuple):
    """A ledger's records as extents (the same as :func:`parse` finds) and its lines, nothing else: a base
    version for the append-only history, read at a fraction of a parse's cost."""

    path: str | None
    lines: Lines
    records: tuple[Extent, ...]

    @property
    def display_path(self) -> str:
        return self.path if self.path is not None else "<ledger>"


# --- entry points ------------------------------------------------------------------------------------


def may_hold_ledger(data: bytes) -> bool:
    """Whether a file's bytes may hold a ledger: they name RUN_ID (a record heading or the schema).

    Lets fill and verify skip any other file unparsed, even one that is not UTF-8.
    """
    return b"RUN_ID" in data


def load(path: str | Path) -> Ledger:
    """Read and parse a ledger file; I/O and encoding problems raise LedgerkitError."""
    text, bom = decode(read_bytes(path), path)
    return parse(text, path=str(path), bom=bom)


def load_lines(path: str | Path) -> Ledger:
    """:func:`load` for a reader that never needs the whole text (verify, the reports): the ledger
    :func:`parse_lines` gives, its lines decoded a piece at a time and its text not kept."""
    lines, bom = decode_lines(read_bytes(path), path)
    return parse_lines(lines, str(path), bom=bom)


def load_outline(path: str | Path) -> Outline:
    """:func:`load` as the append-only history reads a base file: its records' extents and its lines."""
    text, _bom = decode(read_bytes(path), path)
    return outline(text, path=str(path))


def parse(text: str, path: str | None = None, *, bom: bool = False) -> Ledger:
    """Parse ledger text (without its BOM) into a :class:`Ledger`."""
    if text.startswith("\ufeff"):
        text, bom = text[1:], True
    lines = Lines.split(text)
    return _parse(_Reader(lines.contents), text, path, bom, lines)


def parse_lines(lines: Lines, path: str | None = None, *, bom: bool = False) -> Ledger:
    """:func:`parse` of a text given as its lines (:func:`ledgerkit.files.text.decode_lines`), for a reader that
    never needs the whole text: the same ledger, but for its ``text``, which is not kept (``""``). verify reads a
    ledger this way: a large ledger's text would cost as much memory as its lines (issue 12)."""
    bom = _drop_bom(lines.contents) or bom
    return _parse(_Reader(lines.contents), "", path, bom, lines)


def parse_deferred(lines: Lines, path: str | None = None, *, bom: bool = False) -> tuple[Ledger, Iterator[Record]]:
    """:func:`parse_lines` for a reader that needs one record at a time: the ledger, whose records have no fields
    (their headings and extents only), and its records with their fields, each read only when the iterator
    reaches it, as :func:`parse` reads it (tests/test_parse.py proves it). A fill in place holds one record's
    fields at a time, however long the ledger."""
    bom = _drop_bom(lines.contents) or bom
    reader = _Reader(lines.contents, defer=True)
    ledger = _parse(reader, "", path, bom, lines)
    return ledger, reader.deferred(ledger.records)


def _drop_bom(contents: list[str]) -> bool:
    """Drop a BOM the first line still starts with, as :func:`parse` drops one the text starts with."""
    if contents and contents[0].startswith("\ufeff"):
        contents[0] = contents[0][1:]
        return True
    return False


def _parse(reader: _Reader, text: str, path: str | None, bom: bool, lines: Lines) -> Ledger:
    contents = lines.contents
    # Parsing allocates many small objects that all live as long as the ledger: collecting them midway
    # finds nothing to free and, on a large ledger, costs a fifth of the time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        for block in blocks(contents):
            reader.block(block)
        reader.finish()
    finally:
        if enabled:
            gc.enable()
    return Ledger(
        path=path,
        text=text,
        bom=bom,
        lines=lines,
        records=tuple(reader.records),
        budget=reader.budget,
        allocation=tuple(reader.allocation),
        allocation_line=reader.allocation_line,
        threshold_notes=reader.notes,
        summary=reader.summary,
        ledger_section=reader.ledger_section,
        suppressions=tuple(reader.suppressions),
    )


def outline(text: str, path: str | None = None) -> Outline:
    """The records' extents and the lines of ledger text (a BOM is dropped), exactly as :func:`parse` finds them
    (tests/test_parse.py proves it), without reading any field, section or comment."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = Lines.split(text)
    contents = lines.contents
    found: list[Extent] = []
    current: tuple[str, int, int] | None = None  # the open record's id, heading line and id column
    for block in blocks(contents):
        kind = block.kind
        if kind != "heading" and kind != "thematic_break":
            continue
        if current is not None:  # as _Reader._close_record
            run_id, line, column = current
            found.append(Extent(run_id, line, column, _last_text_line(contents, line, block.first - 1)))
            current = None
        heading = _record_heading(contents, block)
        if heading is not None:
            current = (heading[0], block.first, heading[1])
    if current is not None:
        run_id, line, column = current
        found.append(Extent(run_id, line, column, _last_text_line(contents, line, len(contents))))
    return Outline(path, lines, tuple(found))


def outline_beside(base: bytes, ledger: Ledger, working: bytes, path: str | None = None) -> Outline | None:
    """:func:`outline` of ``base``, the bytes of a version of ``ledger`` (the base the hook compares it with),
    checked as UTF-8 already, read off the ledger's parse, whose bytes are ``working``, where the two share their
    first lines: a block scan only of what follows them. None when what they share cannot be read that way: in
    the ledger it must be followed by a record's heading (an appended record), which shows that an ATX heading
    there joins no block before it; in ``base``, by its end or by an ATX heading at the margin. What comes before
    is then read the same with or without what follows (tests/test_parse.py proves it).

    The two are compared as bytes, neither decoded whole: the lines they share are whole characters, since a LF
    is never part of another character's bytes in UTF-8."""
    a = 3 if base.startswith(BOM_UTF8) else 0  # as decode drops a BOM
    b = 3 if working.startswith(BOM_UTF8) else 0
    if base.startswith(BOM_UTF8, a):
        return None  # outline would drop a second BOM: its lines would not be the bytes' (parse's second BOM
        # needs no such care: the base's bytes, which start with none, share none with the working copy's then)
    contents, endings = ledger.lines.contents, ledger.lines.endings
    shared = _shared(base, a, working, b)
    if shared == len(base) - a == len(working) - b:
        return Outline(path, ledger.lines, tuple(_extent(r, 0) for r in ledger.records))
    q = max(base.rfind(b"\n", a, a + shared) + 1, a)  # the shared bytes' whole lines
    n = base.count(b"\n", a, q) + base.count(b"\r", a, q) - base.count(b"\r\n", a, q)
    if not any(r.line == n + 1 for r in ledger.records):
        return None  # nothing shows that a heading after the shared lines would be read as one (an open fence...)
    if base.startswith(BOM_UTF8, q):
        return None  # outline would drop it as a BOM: here it is a line's first character
    rest = outline(base[q:].decode("utf-8"))
    if rest.lines.contents and not opens_heading(rest.lines.contents[0]):
        return None
    extents = [_extent(r, 0) for r in ledger.records if r.line <= n] + [_extent(r, n) for r in rest.records]
    lines = Lines(contents[:n] + rest.lines.contents, endings[:n] + rest.lines.endings)
    return Outline(path, lines, tuple(extents))


def _shared(a: bytes, i: int, b: bytes, j: int, chunk: int = 1 << 16) -> int:
    """How many bytes ``a`` from ``i`` and ``b`` from ``j`` start with in common, compared a chunk at a time."""
    end = min(len(a) - i, len(b) - j)
    for k in range(0, end, chunk):
        piece = a[i + k : i + min(k + chunk, end)]
        if not b.startswith(piece, j + k):
            other = b[j + k : j + k + len(piece)]
            return k + next(x for x, (p, o) in enumerate(zip(piece, other, strict=True)) if p != o)
    return end


def _extent(r: Placed, offset: int) -> Extent:
    return tuple.__new__(Extent, (r.run_id, r.line + offset, r.column, r.end_line + offset))


def section_kind(heading: str) -> str | None:
    """What a level-1/2 section holds, by its heading: summary, allocation, thresholds, ledger or None."""
    title = _NUMBERING.sub("", heading, count=1).strip()
    if _SUMMARY_TITLE.match(title):
        return "summary"
    if _ALLOCATION_HEADING.search(heading):
        return "allocation"
    if _THRESHOLD_HEADING.search(heading):
        return "thresholds"
    if _LEDGER_HEADING.search(heading):
        return "ledger"
    return None


# --- the walk over blocks ------------------------------------------------------------------------------


class _Open:
    """The record being read."""

    __slots__ = ("column", "fields", "line", "lists", "run_id")

    def __init__(self, run_id: str, line: int, column: int, fields: list[Field]) -> None:
        self.run_id, self.line, self.column, self.fields = run_id, line, column, fields
        self.lists: list[tuple[int, int]] = []  # its lists' first and last lines, when their fields wait


class _Reader:
    """Walks the blocks once, keeping what each section and record holds.

    ``defer``: a record's lists are noted, not read (``lists``), and :meth:`deferred` reads them later, one
    record at a time."""

    #: How many distinct lines the memos of a deferred read hold before they start over (each entry costs a
    #: few hundred bytes; a ledger's repeated lines are met again within a few records).
    MEMO = 20_000

    def __init__(self, contents: list[str], *, defer: bool = False) -> None:
        self.contents = contents
        self.defer = defer
        self.lists: list[tuple[tuple[int, int], ...]] = []  # each deferred record's lists
        self.records: list[Record] = []
        self.budget: Budget | None = None
        self.allocation: list[Share] = []
        self.allocation_line: int | None = None
        self.notes: dict[Fraction, str] = {}
        self.summary: Summary | None = None
        self.ledger_section: Section | None = None
        self.suppressions: list[Suppression] = []
        self.section: str | None = None  # the level-1/2 section we are in, by kind
        self.section_line = 0
        self.current: _Open | None = None
        self.summary_blocks: list[Block] = []
        self.other_summaries: list[int] = []
        self.heads: dict[str, FieldHead | None] = {}  # plain_fields' reading of each item line met
        self.bodies: dict[str, BodyLine] = {}  # and of each line under an item
        # and the shapes of the records' lists; their values held once only where every record's fields are
        # kept: a deferred read lets each record's go, and holding its values would keep them (fill in place)
        self.shapes = Shapes(hold=not defer)

    def block(self, block: Block) -> None:
        kind = block.kind
        if kind == "heading":
            self._close_record(block.first)
            self._heading(block)
            return
        if kind == "thematic_break":
            self._close_record(block.first)
        elif kind == "list":
            self._list(block)
        elif kind == "block_html":
            self._html(block)
        if self.section == "summary" and self.summary is None:
            self.summary_blocks.append(block)

    def finish(self) -> None:
        end = len(self.contents) + 1
        self._close_record(end)
        self._close_section(end)
        if self.summary is not None and self.other_summaries:
            s = self.summary
            self.summary = Summary(
                s.heading_line, s.first, s.last, s.project_id, s.foreign, tuple(self.other_summaries)
            )

    # -- headings and sections

    def _heading(self, block: Block) -> None:
        record = _record_heading(self.contents, block)
        if record is not None:
            self.current = _Open(record[0], block.first, record[1], [])
            if self.section == "summary" and self.summary is None:
                self.summary_blocks.append(block)  # a record inside the summary section is not fill's
            return
        if block.level > 2:
            if self.section == "summary" and self.summary is None:
                self.summary_blocks.append(block)
            return
        self._close_section(block.first)
        kind = section_kind(block.text)
        if kind == "summary" and self.summary is not None:
            self.other_summaries.append(block.first)
            kind = None
        self.section, self.section_line = kind, block.first
        if kind == "allocation":
            self.allocation_line = block.first

    def _close_section(self, next_line: int) -> None:
        if self.section == "summary" and self.summary is None:
            self.summary = _summary(self.contents, self.section_line, self.summary_blocks)
        if self.section == "ledger" and self.ledger_section is None:
            self.ledger_section = Section(self.section_line, next_line - 1)
        self.section = None

    def _close_record(self, next_line: int) -> None:
        if self.current is not None:
            c = self.current
            end = _last_text_line(self.contents, c.line, next_line - 1)
            self.records.append(tuple.__new__(Record, (c.run_id, c.line, c.column, end, tuple(c.fields))))
            if self.defer:
                self.lists.append(tuple(c.lists))
            self.current = None

    def deferred(self, records: Sequence[Record]) -> Iterator[Record]:
        """``records`` (the ones this reader found, without fields) with their fields, read one at a time."""
        for record, lists in zip(records, self.lists, strict=True):
            if len(self.heads) + len(self.bodies) > self.MEMO:
                self.heads.clear()
                self.bodies.clear()
            fields: list[Field] = []
            for first, last in lists:
                fields.extend(self._fields(first, last))
            yield record._replace(fields=tuple(fields))

    # -- what lists hold

    def _fields(self, first: int, last: int) -> list[Field]:
        """The fields of a record's list on lines first..last."""
        fields = plain_fields(self.contents, first, last, self.heads, self.bodies, self.shapes)
        if fields is None:
            fields = [f for item in items(self.contents, first, last) if (f := item.field)]
        return fields

    def _list(self, block: Block) -> None:
        if self.current is not None:
            if self.defer:
                self.current.lists.append((block.first, block.last))
            else:
                self.current.fields.extend(self._fields(block.first, block.last))
            return
        if self.section == "summary" and self.summary is None:
            return  # read whole when the section ends
        for item in items(self.contents, block.first, block.last):
            self._item(item)

    def _item(self, item: Item) -> None:
        f = item.field
        if f is not None and f.key == SESSION_BUDGET and self.budget is None:
            self.budget = Budget(read_integer(f.value), f.line, f.value_column, f.value)
        elif self.section == "allocation":
            share = read_share(item.text)
            if share is not None:
                self.allocation.append(Share(share[0], share[1], item.line, item.column))
        elif self.section == "thresholds":
            level = read_level(item.text)
            if level is not None:
                self.notes[level[0]] = level[1]

    def _html(self, block: Block) -> None:
        for n in range(block.first, block.last + 1):
            line = self.contents[n - 1]
            if "ledgerkit" in line:
                for m in _SUPPRESS.finditer(line):
                    codes = tuple(c for c in re.split(r"[\s,]+", m.group("codes")) if c)
                    self.suppressions.append(Suppression(n, m.start() + 1, codes))


def _record_heading(contents: list[str], block: Block) -> tuple[str, int] | None:
    """The RUN_ID and its 1-based column when the heading ``block`` opens a record (``### RUN_ID: X``)."""
    m = RUN_ID_HEADING.match(block.text) if block.level == 3 else None
    if m is None:
        return None
    heading = contents[block.first - 1]
    run_id = m.group("id")
    return run_id, heading.index(run_id) + 1 if run_id in heading else 1


# --- the summary -----------------------------------------------------------------------------------------


def _summary(contents: list[str], heading: int, found: list[Block]) -> Summary:
    """The summary section's owned items and whatever else stands among them."""
    owned: list[Item] = []
    foreign: list[int] = []
    for block in found:
        if block.kind == "blank_line":
            continue
        if block.kind != "list":
            foreign.extend(range(block.first, block.last + 1))
            continue
        for item in items(contents, block.first, block.last):
            if item.field is not None and item.field.key in SUMMARY_ITEMS:
                owned.append(item)
                foreign.extend(_unowned_lines(contents, item))
            else:
                foreign.extend(n for n in range(item.line, item.last + 1) if contents[n - 1].strip())
    project = next((_raw_value(contents[i.line - 1]) for i in owned if i.field and i.field.key == "PROJECT_ID"), None)
    if not owned:
        return Summary(heading, heading + 1, heading, project)
    first, last = owned[0].line, owned[-1].last
    inside = tuple(n for n in sorted(set(foreign)) if first <= n <= last)
    return Summary(heading, first, last, project, inside)


def _unowned_lines(contents: list[str], item: Item) -> Iterator[int]:
    """Lines under an owned summary item that are not ``- KEY: value`` items, as the template writes them."""
    for n in range(item.line + 1, item.last + 1):
        line = contents[n - 1]
        if line.strip() and summary_key(line) is None:
            yield n


def summary_key(line: str) -> str | None:
    """The KEY of a ``- KEY: value`` line, else None."""
    m = _ITEM.match(line)
    fm = _FIELD.match(line[m.end() :]) if m and m.group("space") else None
    return fm.group("key") if fm else None


def _raw_value(line: str) -> str:
    """A person's text after ``KEY: `` kept to the byte, trailing blanks included."""
    rest = line.split(":", 1)[1]
    return rest[1:] if rest.startswith(" ") else rest


def _last_text_line(contents: list[str], first: int, last: int) -> int:
    while last > first and not contents[last - 1].strip():
        last -= 1
    return last


# --- lists -------------------------------------------------------------------------------------------


class Item(NamedTuple):
    """A top-level item of a list: where its text starts, the text, its last line, and its field."""

    line: int
    column: int  # of the text after the marker
    text: str
    last: int  # last line that belongs to the item (trailing blank lines excluded)
    field: Field | None


def _width(prefix: str) -> int:
    return len(prefix.expandtabs(4)) if "\t" in prefix else len(prefix)


def _item_start(line: str, content_width: int | None) -> tuple[int, int, int] | None:
    """(indent, where the text starts, the content width) when ``line`` starts a top-level item."""
    if line.startswith("- ") and line[2:3] not in (" ", "\t"):
        return 0, 2, 2  # the common case, without a regex
    m = _ITEM.match(line)
    if not m:
        return None
    indent = _width(m.group("indent"))
    if content_width is not None and indent >= content_width:
        return None  # nested
    text_start = m.end()
    width = _width(line[:text_start]) if m.group("space") else indent + 2
    return indent, text_start, width


def items(contents: list[str], first: int, last: int) -> Iterator[Item]:
    """The top-level items of the list on lines first..last, each with its nested entries."""
    starts: list[tuple[int, int, int]] = []  # (line, where the text starts, content width)
    content_width: int | None = None
    for n in range(first, last + 1):
        line = contents[n - 1]
        if line[:2] == "- " and line[2:3] not in (" ", "\t", ""):
            starts.append((n, 2, 2))  # the common case, without a regex
            content_width = 2
            continue
        if line[:2] == "  " and content_width == 2:
            continue  # nested under the item above: the common case again
        found = _item_start(line, content_width)
        if found is not None:
            _, text_start, content_width = found
            starts.append((n, text_start, content_width))
    count = len(starts)
    for i, (n, text_start, width) in enumerate(starts):
        end = starts[i + 1][0] - 1 if i + 1 < count else last
        while end > n and not contents[end - 1].strip():
            end -= 1
        yield _make_item(contents, n, text_start, width, end)


def _plain_starts(lines: list[str]) -> list[int] | None:
    """Where the items of a plain record list start, or None when the list is not plain: every line ``- text``
    at the margin, indented by spaces, or blank; no tab, no fence character anywhere."""
    joined = "\n".join(lines)
    if "\t" in joined or "`" in joined or "~" in joined:
        return None
    starts: list[int] = []
    for i, line in enumerate(lines):
        head = line[:2]
        if head == "- ":
            if line[2:3] in (" ", ""):
                return None
            starts.append(i)
        elif head != "  " and line.strip():
            return None
    return starts


#: What a line ``- KEY (arg): value`` of a plain list holds: (key, arg, value, the value's 1-based column).
FieldHead = tuple[str, str | None, str, int]


def _field_head(line: str) -> FieldHead | None:
    text = line[2:].rstrip()
    fm = _FIELD.match(text) if "A" <= text[:1] <= "Z" else None
    if fm is None:
        return None
    key, arg, _space = fm.groups()
    after = fm.end()
    return key, arg.strip() if arg is not None else None, text[after:], 3 + after


def plain_fields(
    contents: list[str],
    first: int,
    last: int,
    heads: dict[str, FieldHead | None] | None = None,
    bodies: dict[str, BodyLine] | None = None,
    shapes: Shapes | None = None,
) -> list[Field] | None:
    """The fields of a record's list in one pass, when the list is plain: every item ``- KEY: value`` at the
    margin, everything else indented by spaces, no tab, no fence. The same fields as :func:`items` gives
    (tests/test_parse.py proves it), at a fraction of the cost; None when the list is not plain.

    ``heads`` and ``bodies``, kept across the records of a ledger, hold what each item line and each line under
    one read: records repeat most of their lines (``- SCOPE: SESSION``, ``  - system: 10%``), each read once.
    ``shapes``, kept likewise, holds the shapes of the lists read so far (:class:`Shapes`): a list of a shape
    met before is read with one regular expression."""
    lines = contents[first - 1 : last]
    if shapes is not None:
        known = shapes.read(lines, first)
        if known is not None:
            return known
    starts = _plain_starts(lines)
    if starts is None:
        return None
    if heads is None:
        heads = {}
    if bodies is None:
        bodies = {}
    fields: list[Field] = []
    new = tuple.__new__
    starts.append(len(lines))
    for k in range(len(starts) - 1):
        i = starts[k]
        line = lines[i]
        head = heads.get(line, _UNSEEN)
        if head is _UNSEEN:
            head = heads[line] = _field_head(line)
        if head is None:
            continue
        end = starts[k + 1] - 1
        while end > i and not lines[end].strip():
            end -= 1
        more, entries = _plain_body(lines, i + 1, end, first, bodies) if end > i else _NO_BODY
        key, arg, value, column = head
        # tuple.__new__ skips the NamedTuple's generated __new__: a third of the cost of a field. An item's last
        # line is its own or that of its last entry or continuation most often: one number for both.
        at = first + i
        last = at if end == i else _same_number(first + end, entries, more)
        fields.append(new(Field, (key, arg, at, 3, value, column, entries, more, last)))
    if shapes is not None:
        shapes.learn(lines, first, fields)
    return fields


def _same_number(line: int, entries: tuple[Entry, ...], more: tuple[Entry, ...]) -> int:
    """``line``, as the object an entry or continuation line on it holds already."""
    for e in entries[-1:] + more[-1:]:
        if e.line == line:
            return e.line
    return line


_UNSEEN: Any = object()
_NO_BODY: tuple[tuple[Entry, ...], tuple[Entry, ...]] = ((), ())


# --- the shapes of plain lists ---------------------------------------------------------------------------------
#
# A ledger's records are written from one template: their lists differ in the text of their values, and in little
# else. A shape is learnt from one list read line by line: a pattern of its lines in which each value is a group
# (the rest of each line is literal), and a function that builds the fields of any list the pattern matches from
# the values it captured. Each line's pattern matches only lines that plain_fields reads as it read the line
# learnt from (an item with the same key, argument and value column, an entry or continuation line with the same
# indent and column, a blank line), but for the value's text; plain_fields' reading is made of those readings
# alone, so it is the same, value for value, as the shape's. tests/test_parse.py holds lists of one shape with
# other values to it.

#: A value as plain_fields reads it: the rest of its line, not starting with a blank, trailing blanks left out.
_VALUE = r"(\S(?:[^\n]*\S)?)[^\S\n]*"


def _line_pattern(line: str) -> tuple[str, bool]:
    """The pattern of one line of a plain list, and whether it captures the line's value. A line whose value
    starts with a blank other than a space, or that reads no value, is literal."""
    if line[:2] == "- " and line[2:3] not in (" ", ""):
        head = _field_head(line)
        if head is None:
            return re.escape(line), False
        value, column = head[2], head[3]
        if not value:
            # "- KEY:" and any blanks: the item's text, stripped, ends at its colon.
            return re.escape(line[: column - 1]) + r"[^\S\n]*", False
        if value[0].isspace():
            return re.escape(line), False
        return re.escape(line[: column - 1]) + _VALUE, True
    read = _body_line(line)
    if read is None:
        return " *", False  # spaces alone: a blank line
    nested, _indent, column, text = read
    if not text or line[column - 1].isspace():
        return re.escape(line), False
    # A continuation line's text may not start like an entry ("- x"): that line would read as one.
    return re.escape(line[: column - 1]) + ("" if nested else "(?![-*+] )") + _VALUE, True


_Build = Callable[[tuple[str, ...], int], list[Field]]


class _Shape:
    """A plain list's shape: the pattern of its text (its lines joined by newlines) and how to build the fields
    of a list that matches it from the groups captured and the list's first line."""

    __slots__ = ("build", "pattern")

    def __init__(self, pattern: re.Pattern[str], build: _Build) -> None:
        self.pattern, self.build = pattern, build


class Shapes:
    """The shapes of the plain lists of one ledger, by their number of lines.

    Learning a shape costs about a millisecond (its pattern compiled, its builder's source), and reading a list by
    its shape saves about a third of reading it line by line: a shape pays only in a ledger of hundreds of records.
    So a size's shape is learnt once ``after`` lists of the size were read line by line (a small ledger, the hook's
    usual one, learns none), at most a few per size and a few dozen in all, so that a ledger of lists all unlike
    pays a bounded price for them."""

    PER_SIZE = 4
    MOST = 48

    def __init__(self, after: int = 64, *, hold: bool = True) -> None:
        self.after = after
        self.by_size: dict[int, list[_Shape]] = {}
        self.missed: dict[int, int] = {}  # lists of each size read line by line
        self.learnt = 0
        self.held = Held() if hold else None  # the values read lately, each held once (``hold``)

    def read(self, lines: list[str], first: int) -> list[Field] | None:
        """The fields of a plain list of a shape learnt, else None."""
        known = self.by_size.get(len(lines))
        if known is None:
            return None
        joined = "\n".join(lines)
        if "\t" in joined or "`" in joined or "~" in joined:
            return None  # not plain (a value's pattern takes any character)
        for shape in known:
            m = shape.pattern.fullmatch(joined)
            if m is not None:
                # A value read lately is handed back as the string first read: a 50,000-record ledger's
                # million values are 150,000 texts.
                groups = m.groups()
                return shape.build(groups if self.held is None else tuple(self.held.each(groups)), first)
        return None

    def learn(self, lines: list[str], first: int, fields: list[Field]) -> None:
        size = len(lines)
        missed = self.missed[size] = self.missed.get(size, 0) + 1
        if missed < self.after:
            return
        known = self.by_size.setdefault(size, [])
        if len(known) < self.PER_SIZE and self.learnt < self.MOST:
            known.append(_learn(lines, first, fields))
            self.learnt += 1


def _learn(lines: list[str], first: int, fields: list[Field]) -> _Shape:
    """The shape of a plain list read as ``fields``: its pattern, and a builder written as Python source (the
    fields as tuple displays, with the captured values and the line numbers put in), which builds a record's
    fields in a third of the time a loop over a description of them takes."""
    patterns: list[str] = []
    group: dict[int, int] = {}  # the group of each line (0-based, from the list's first) that captures one
    for i, line in enumerate(lines):
        pattern, captures = _line_pattern(line)
        if captures:
            group[i] = len(group)
        patterns.append(pattern)

    def text(line: int, written: str) -> str:
        j = group.get(line - first)
        return f"g[{j}]" if j is not None else repr(written)

    # Each line number is made once and shared by every field and entry on that line (an item's line is its last
    # too, most often): a number past 256 is an object of its own, and they were a fifth of a parsed ledger.
    numbers: dict[int, str] = {}

    def number(line: int) -> str:
        offset = line - first
        if offset not in numbers:
            numbers[offset] = f"n{offset}"
        return numbers[offset]

    def entries(found: tuple[Entry, ...]) -> str:
        shown = "".join(f"new(Entry, ({number(e.line)}, {e.column}, {text(e.line, e.text)})), " for e in found)
        return f"({shown})"

    shown = [
        f"new(Field, ({f.key!r}, {f.arg!r}, {number(f.line)}, {f.column}, {text(f.line, f.value)}, "
        f"{f.value_column}, {entries(f.entries)}, {entries(f.more)}, {number(f.last)})),"
        for f in fields
    ]
    made = "".join(f"    {name} = b + {offset}\n" for offset, name in numbers.items())
    source = "def build(g, b):\n" + made + "    return [\n        " + "\n        ".join(shown) + "\n    ]\n"
    scope: dict[str, Any] = {"new": tuple.__new__, "Field": Field, "Entry": Entry}
    exec(source, scope)  # the source is made above of reprs and integers alone
    return _Shape(re.compile("\n".join(patterns)), scope["build"])


#: What a line under a plain list's item holds: (True, indent, column, text) for a nested item, (False, 0,
#: column, text) for other text, None for a blank line.
BodyLine = tuple[bool, int, int, str] | None


def _body_line(line: str) -> BodyLine:
    stripped = line.lstrip(" ")
    head = stripped[:2]
    if head == "- " or head == "* " or head == "+ ":
        text = stripped[2:]
        if text[:1] == " ":
            text = text.lstrip(" ")
        return True, len(line) - len(stripped), len(line) - len(text) + 1, text.rstrip()
    text = stripped.rstrip()
    if text:  # a line of blanks other than spaces (a form feed, U+2028) is no text, as _body reads it
        return False, 0, len(line) - len(stripped) + 1, text
    return None


def _plain_body(
    lines: list[str], first: int, last: int, base: int, bodies: dict[str, BodyLine]
) -> tuple[tuple[Entry, ...], tuple[Entry, ...]]:
    """:func:`_body` for a plain list (spaces only, no fence): ``base`` turns an index into a line number;
    ``bodies`` holds each line's reading, kept across records like ``plain_fields``' ``heads``."""
    more: list[Entry] = []
    entries: list[Entry] = []
    new = tuple.__new__
    level = -1
    for i in range(first, last + 1):
        line = lines[i]
        read = bodies.get(line, _UNSEEN)
        if read is _UNSEEN:
            read = bodies[line] = _body_line(line)
        if read is None:
            continue
        nested, indent, column, text = read
        if nested:
            if level < 0:
                level = indent
            if indent > level + 1:
                continue  # deeper: belongs to the entry above
            entries.append(new(Entry, (base + i, column, text)))
        elif level < 0:
            more.append(new(Entry, (base + i, column, text)))
    return tuple(more), tuple(entries)


def _make_item(contents: list[str], n: int, text_start: int, width: int, end: int) -> Item:
    line = contents[n - 1]
    text = line[text_start:].rstrip()
    column = text_start + 1
    fm = _FIELD.match(text) if "A" <= text[:1] <= "Z" else None
    if fm is None:
        return Item(n, column, text, end, None)
    more, entries = _body(contents, n + 1, end, width) if end > n else ((), ())
    arg = fm.group("arg")
    after = fm.end()
    f = Field(
        fm.group("key"),
        arg.strip() if arg is not None else None,
        n,
        column,
        text[after:],
        column + after,
        entries,
        more,
        end,
    )
    return Item(n, column, text, end, f)


def _body(contents: list[str], first: int, last: int, parent_width: int) -> tuple[tuple[Entry, ...], tuple[Entry, ...]]:
    """A field's continuation lines (before its first nested item) and its nested items one level below.

    Lines in fenced code and deeper items are skipped.
    """
    more: list[Entry] = []
    entries: list[Entry] = []
    level: int | None = None
    fence: str | None = None
    for n in range(first, last + 1):
        line = contents[n - 1]
        if fence is not None or "`" in line or "~" in line:
            fence, skip = _fenced(line, fence)
            if skip:
                continue
        found = _nested(line)
        if found is None:
            if level is None and not entries and line.strip():
                text = line.lstrip(" \t")
                more.append(Entry(n, len(line) - len(text) + 1, text.rstrip()))
            continue
        indent, start = found
        if indent < parent_width:
            continue
        if level is None:
            level = indent
        if indent > level + 1:
            continue  # deeper: belongs to the entry above
        entries.append(Entry(n, start + 1, line[start:].rstrip()))
    return tuple(more), tuple(entries)


def _nested(line: str) -> tuple[int, int] | None:
    """(indent, where the text starts) when the line is a list item, else None."""
    stripped = line.lstrip(" ")
    if stripped[:2] in ("- ", "* ", "+ ") and "\t" not in line[: len(line) - len(stripped) + 2]:
        indent = len(line) - len(stripped)
        start = indent + 2
        while start < len(line) and line[start] == " ":
            start += 1
        return indent, start
    m = _ITEM.match(line)
    if not m or not m.group("space"):
        return None
    return _width(m.group("indent")), m.end()


def _fenced(line: str, fence: str | None) -> tuple[str | None, bool]:
    """(the fence open after this line, whether this line is part of a fence and so no entry)."""
    fm = _FENCE.match(line)
    if fence is not None:
        if fm and fm.group(1)[0] == fence[0] and len(fm.group(1)) >= len(fence):
            return None, True
        return fence, True
    if fm:
        return fm.group(1), True
    return None, False


# --- a line before and after a fill ------------------------------------------------------------------------

#: Anything a placeholder outside a figure field may become: text without brackets, trimmed.
_ANY_VALUE = r"(?:[^\[\]\s](?:[^\[\]]*[^\[\]\s])?)"


def filled_from(before: str, after: str) -> bool:
    """True when ``after`` is ``before`` with its placeholders replaced by values, nothing else changed.

    In a figure field each placeholder may become only what that field's kind holds (the schema's
    ``FILLED``); elsewhere any text without brackets.
    """
    pattern = filled_pattern(before)
    return pattern is not None and pattern.fullmatch(after) is not None


def filled_pattern(before: str) -> re.Pattern[str] | None:
    """What :func:`filled_from` matches a line after a fill against, whole; None when ``before`` holds no
    placeholder. A line's own: a caller judging many lines keeps it for lines that repeat (records do)."""
    pieces = PLACEHOLDER.split(before)
    if len(pieces) == 1:
        return None
    value = _ANY_VALUE
    m = _ITEM.match(before)
    fm = _FIELD.match(before[m.end() :]) if m and m.group("space") else None
    if fm is not None:
        spec = FIELDS.get(fm.group("key"))
        if spec is not None and spec.figure:
            value = f"(?:{FILLED[spec.kind]})"
    return re.compile(value.join(re.escape(piece) for piece in pieces))
