"""Parse a ledger's text into records, fields and sections, each with its place in the original text.

mistune finds the Markdown block structure (so code, quotes and HTML are never mistaken for records);
this module then reads the ``- KEY: value`` lines of each record's lists itself, keeping line and
column of every value so that edits can be made as spans on the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Any

from ..figures.numbers import read_int
from ..files.textfile import Lines, decode, read_bytes
from .blocks import blocks

#: The fields of the reference ledger's schema (section 4), in its order. RUN_ID is the heading.
SCHEMA_FIELDS = (
    "LOCAL_TS",
    "UTC_TS",
    "SCOPE",
    "CONTEXT_ID",
    "SOURCE_FILES",
    "CHAR_COUNT",
    "TOKEN_ESTIMATE",
    "BUDGET_C",
    "UTILIZATION",
    "DISTRIBUTION",
    "THRESHOLD_ACTION",
    "NOTES",
)

#: ``[fill]``, ``[fill_after_measure]``, any ``[fill_…]``; not ``[assign_when_available]``.
PLACEHOLDER = re.compile(r"\[fill(?:_[^\]\s]*)?\]")

_RUN_ID_HEADING = re.compile(r"^RUN_ID:[ \t]*(?P<id>\S.*?)[ \t]*$")
_ITEM = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>[-*+]|\d{1,9}[.)])(?:(?P<space>[ \t]+)|$)")
_FIELD = re.compile(r"^(?P<key>[A-Z][A-Z0-9_]*)(?:[ \t]*\((?P<arg>[^)]*)\))?[ \t]*:(?P<space>[ \t]*)")
_SHARE = re.compile(r"^(?P<name>.*\S)[ \t]*:[ \t]*(?P<percent>\d+(?:\.\d+)?)[ \t]*%(?P<rest>.*)$")
_LEVEL = re.compile(r"^(?P<percent>\d+(?:\.\d+)?)[ \t]*%[ \t]*(?P<text>.*)$")
_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})")

_ALLOCATION_HEADING = re.compile(r"allocation|배분", re.IGNORECASE)
_THRESHOLD_HEADING = re.compile(r"threshold|임계", re.IGNORECASE)
_SUMMARY_HEADING = re.compile(r"cumulative summary|누계", re.IGNORECASE)
# The records' section: "6) 원장(append-only)", "Ledger (append-only)", "Ledger"; not the title "Token
# Budget Ledger — 토큰 예산 원장 (v0.1)" nor "4) 원장 스키마(Schema)", which only name the ledger.
_LEDGER_HEADING = re.compile(
    r"append-only|^[ \t]*(?:\d+[.)][ \t]*)?(?:ledger|원장)[ \t]*(?:\([^)]*\))?[ \t]*$", re.IGNORECASE
)
SUMMARY_KEYS = ("SESSION_ID", "PROJECT_ID")


# --- the data ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A nested item under a field: a source, a share, a note. ``line``/``column`` are 1-based."""

    line: int
    column: int
    text: str


@dataclass(frozen=True)
class Field:
    """One ``- KEY: value`` item of a record, with the nested items under it."""

    key: str
    arg: str | None
    line: int
    column: int  # of the key
    value: str  # the text after ``KEY:``, leading blanks removed
    value_column: int  # 1-based column where ``value`` starts
    entries: tuple[Entry, ...] = ()

    @property
    def name(self) -> str:
        """The key as written in diagnostics: ``CHAR_COUNT``, ``TOKEN_COUNT (o200k_base)``."""
        return self.key if self.arg is None else f"{self.key} ({self.arg})"

    @cached_property
    def placeholders(self) -> tuple[re.Match[str], ...]:
        return tuple(PLACEHOLDER.finditer(self.value))


@dataclass(frozen=True)
class Share:
    """A percentage share: an allocation policy line or a DISTRIBUTION entry."""

    name: str
    percent: Fraction
    line: int
    column: int


@dataclass(frozen=True)
class Record:
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
        """The value of a field, or None when the record lacks it."""
        f = self.field(key)
        return None if f is None else f.value

    @property
    def context_id(self) -> str | None:
        return self.get("CONTEXT_ID")

    @property
    def distribution(self) -> list[Share | Entry]:
        """The DISTRIBUTION entries read as shares (an unreadable entry is returned as the Entry)."""
        f = self.field("DISTRIBUTION")
        return [] if f is None else [parse_share(e) or e for e in f.entries]


@dataclass(frozen=True)
class Budget:
    """Section 0's ``SESSION_BUDGET_C``."""

    value: int | None
    line: int
    column: int
    text: str


@dataclass(frozen=True)
class Summary:
    """The cumulative summary section (derived; re-rendered by fill).

    ``first``..``last`` (1-based, inclusive) are the lines it owns: the SESSION_ID and PROJECT_ID items.
    When it has none, ``first`` is the line to insert at and ``last`` is ``first - 1``.
    """

    heading_line: int
    first: int
    last: int
    project_id: str | None


@dataclass(frozen=True)
class Section:
    """A level-1/2 section: its heading line and its last line (before the next such heading), 1-based."""

    heading_line: int
    last: int


@dataclass(frozen=True)
class Ledger:
    """A parsed ledger. ``text`` excludes the BOM; ``lines`` keeps every line ending as written."""

    path: str | None
    text: str
    bom: bool
    lines: Lines
    records: tuple[Record, ...]
    budget: Budget | None = None
    allocation: tuple[Share, ...] = ()
    allocation_line: int | None = None
    threshold_notes: dict[Fraction, str] = field(default_factory=dict)
    summary: Summary | None = None
    ledger_section: Section | None = None  # where records are appended

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


def parse(text: str, path: str | None = None, *, bom: bool = False) -> Ledger:
    """Parse ledger text (without its BOM) into a :class:`Ledger`."""
    if text.startswith("\ufeff"):
        text, bom = text[1:], True
    lines = Lines.split(text)
    records: list[Record] = []
    budget: Budget | None = None
    allocation: list[Share] = []
    allocation_line: int | None = None
    notes: dict[Fraction, str] = {}
    summary: Summary | None = None
    ledger_section: Section | None = None

    section: str | None = None  # the level-1/2 section we are in, by kind
    section_line = 0
    summary_items: list[tuple[int, int, Field]] = []
    current: dict[str, Any] | None = None  # the record being read

    def close_record(next_line: int) -> None:
        nonlocal current
        if current is not None:
            end = _last_text_line(lines.contents, current["line"], next_line - 1)
            records.append(Record(current["id"], current["line"], current["column"], end, tuple(current["fields"])))
            current = None

    for block in blocks(lines.contents):
        if block.kind in ("heading", "thematic_break"):
            close_record(block.first)
        if block.kind == "heading":
            heading = lines.contents[block.first - 1]
            m = _RUN_ID_HEADING.match(block.text)
            if block.level == 3 and m:
                column = heading.index(m.group("id")) + 1 if m.group("id") in heading else 1
                current = {"id": m.group("id"), "line": block.first, "column": column, "fields": []}
                continue
            if block.level <= 2:
                if section == "summary":
                    summary = _summary(lines.contents, section_line, summary_items, block.first)
                if section == "ledger" and ledger_section is None:
                    ledger_section = Section(section_line, block.first - 1)
                section, section_line = _section_kind(block.text), block.first
                summary_items = []
                if section == "allocation":
                    allocation_line = block.first
            continue
        if block.kind != "list":
            continue
        for item in _items(lines.contents, block.first, block.last):
            if current is not None:
                if item.field is not None:
                    current["fields"].append(item.field)
            elif item.field is not None and item.field.key == "SESSION_BUDGET_C" and budget is None:
                f = item.field
                value = read_int(f.value)
                budget = Budget(value, f.line, f.value_column, f.value)
            elif section == "allocation":
                share = parse_share(Entry(item.line, item.column, item.text))
                if share is not None:
                    allocation.append(share)
            elif section == "thresholds":
                m = _LEVEL.match(item.text)
                if m:
                    notes[Fraction(m.group("percent"))] = m.group("text").strip()
            elif section == "summary" and item.field is not None and item.field.key in SUMMARY_KEYS:
                summary_items.append((item.line, item.last, item.field))
    close_record(len(lines.contents) + 1)
    if section == "summary":
        summary = _summary(lines.contents, section_line, summary_items, len(lines.contents) + 1)
    if section == "ledger" and ledger_section is None:
        ledger_section = Section(section_line, len(lines.contents))
    return Ledger(
        path=path,
        text=text,
        bom=bom,
        lines=lines,
        records=tuple(records),
        budget=budget,
        allocation=tuple(allocation),
        allocation_line=allocation_line,
        threshold_notes=notes,
        summary=summary,
        ledger_section=ledger_section,
    )


def parse_share(entry: Entry) -> Share | None:
    """``system: 10%`` (a trailing note such as ``(…)`` is ignored) as a Share, else None."""
    m = _SHARE.match(entry.text)
    if not m:
        return None
    return Share(m.group("name").strip(), Fraction(m.group("percent")), entry.line, entry.column)


def _section_kind(heading: str) -> str | None:
    if _SUMMARY_HEADING.search(heading):
        return "summary"
    if _ALLOCATION_HEADING.search(heading):
        return "allocation"
    if _THRESHOLD_HEADING.search(heading):
        return "thresholds"
    if _LEDGER_HEADING.search(heading):
        return "ledger"
    return None


def _summary(contents: list[str], heading: int, items: list[tuple[int, int, Field]], end: int) -> Summary:
    project = next((_raw_value(contents[f.line - 1]) for _, _, f in items if f.key == "PROJECT_ID"), None)
    if items:
        return Summary(heading, items[0][0], items[-1][1], project)
    return Summary(heading, heading + 1, heading, project)


def _raw_value(line: str) -> str:
    """A person's text after ``KEY: `` kept to the byte, trailing blanks included."""
    rest = line.split(":", 1)[1]
    return rest[1:] if rest.startswith(" ") else rest


def _last_text_line(contents: list[str], first: int, last: int) -> int:
    while last > first and not contents[last - 1].strip():
        last -= 1
    return last


# --- lists -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    line: int
    column: int  # of the text after the marker
    text: str
    last: int  # last line that belongs to the item (trailing blank lines excluded)
    field: Field | None


def _width(prefix: str) -> int:
    return len(prefix.expandtabs(4)) if "\t" in prefix else len(prefix)


def _items(contents: list[str], first: int, last: int) -> Iterator[_Item]:
    """The top-level items of the list on lines first..last, each with its nested entries."""
    starts: list[tuple[int, int, int, str]] = []  # (line, text column, content width, text)
    content_width = None
    for n in range(first, last + 1):
        line = contents[n - 1]
        m = _ITEM.match(line)
        if not m:
            continue
        indent = _width(m.group("indent"))
        if content_width is not None and indent >= content_width:
            continue  # nested
        text_start = m.end()
        content_width = _width(line[:text_start]) if m.group("space") else indent + 2
        starts.append((n, text_start + 1, content_width, line[text_start:].rstrip()))
    for i, (n, column, width, text) in enumerate(starts):
        end = starts[i + 1][0] - 1 if i + 1 < len(starts) else last
        end = _last_text_line(contents, n, end)
        entries = _entries(contents, n + 1, end, width)
        fm = _FIELD.match(text)
        field_ = None
        if fm:
            value = text[fm.end() :]
            field_ = Field(
                key=fm.group("key"),
                arg=fm.group("arg").strip() if fm.group("arg") is not None else None,
                line=n,
                column=column,
                value=value,
                value_column=column + fm.end(),
                entries=entries,
            )
        yield _Item(n, column, text, end, field_)


def _entries(contents: list[str], first: int, last: int, parent_width: int) -> tuple[Entry, ...]:
    """Nested items one level below a field; lines in fenced code and deeper items are skipped."""
    entries = []
    level = None
    fence: str | None = None
    for n in range(first, last + 1):
        line = contents[n - 1]
        fm = _FENCE.match(line) if ("`" in line or "~" in line) else None
        if fence is not None:
            if fm and fm.group(1)[0] == fence[0] and len(fm.group(1)) >= len(fence):
                fence = None
            continue
        if fm:
            fence = fm.group(1)
            continue
        m = _ITEM.match(line)
        if not m or not m.group("space"):
            continue
        indent = _width(m.group("indent"))
        if indent < parent_width:
            continue
        if level is None:
            level = indent
        if indent > level + 1:
            continue  # deeper: belongs to the entry above
        entries.append(Entry(n, m.end() + 1, line[m.end() :].rstrip()))
    return tuple(entries)
