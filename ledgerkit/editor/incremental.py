"""Parse a buffer again after a keystroke by reading only the record it changed, when that gives exactly what
parsing the whole text gives.

Typing inside one line of a record's field (a value, a source, a note) cannot change the text's block
structure when the line keeps its list marker and indentation and neither its old nor its new text holds
anything that opens or closes a block (a fence, HTML, a heading, a quote, a table, a break) or a blank line:
the record still starts and ends where it did, and its lines are read the same on their own as within the
whole text. Then the record alone is parsed (with ``parse``, the library's one reader) and put in place; in
every other case the whole text is parsed. tests/test_lsp.py checks the two agree over random edits.
"""

from __future__ import annotations

import re

from ..files.text import Lines
from ..reading.parse import Entry, Field, Ledger, Record, parse

# What may open or close a block, or change how a list item is read, anywhere in a line.
_STRUCTURE = re.compile(r"[`~<>#|\t\\]|^\s*$|^\s*(?:[-*_=+]\s*){3,}$|^\s*\d+[.)]")
# A list item's start: its indentation and marker (kept as it was, the item stays the item it was), then text
# that starts no block of its own (a nested item, a break, indented code).
_MARKER = re.compile(r"^( *[-*+] {1,4})(?![-*+=_ ]|\d+[.)])")


def reparse(previous: Ledger, text: str) -> Ledger | None:
    """The ledger of ``text`` from ``previous`` (the parse of the text before one edit), or None when only a
    whole parse can tell."""
    if text.startswith("\ufeff") or previous.bom or previous.ledger_section is None:
        return None
    lines = Lines.split(text)
    changed = _changed_line(previous.lines, lines)
    if changed is None:
        return None
    if changed == 0:
        return previous._replace(text=text, lines=lines)
    index = _record_index(previous, changed)
    if index is None or not _same_shape(previous.lines.contents[changed - 1], lines.contents[changed - 1]):
        return None
    new = _record_alone(previous, lines, previous.records[index])
    if new is None:
        return None
    records = (*previous.records[:index], new, *previous.records[index + 1 :])
    return previous._replace(text=text, lines=lines, records=records)


def _changed_line(old: Lines, new: Lines) -> int | None:
    """The one line (1-based) that differs, 0 when none does, None when more changed (or a line ending)."""
    if len(new.contents) != len(old.contents) or new.endings != old.endings:
        return None
    changed = [i for i, (a, b) in enumerate(zip(old.contents, new.contents, strict=True)) if a != b]
    if len(changed) > 1:
        return None
    return changed[0] + 1 if changed else 0


def _record_alone(previous: Ledger, lines: Lines, record: Record) -> Record | None:
    """The record's new lines parsed on their own, in place; None unless they still are that one record."""
    span = slice(record.line - 1, record.end_line)
    piece = "".join(c + e for c, e in zip(lines.contents[span], lines.endings[span], strict=True))
    alone = parse(piece, previous.path)
    if len(alone.records) != 1 or alone.suppressions or alone.budget is not None:
        return None
    new = _shifted(alone.records[0], record.line - 1)
    if new.run_id != record.run_id or new.end_line != record.end_line or new.column != record.column:
        return None
    return new


def _record_index(ledger: Ledger, line: int) -> int | None:
    """The record whose body (not its heading) holds ``line``, inside the ledger section."""
    section = ledger.ledger_section
    assert section is not None
    for i, record in enumerate(ledger.records):
        if record.line < line <= record.end_line:
            inside = section.heading_line < record.line and record.end_line <= section.last
            return i if inside else None
        if record.line >= line:
            return None
    return None


def _same_shape(before: str, after: str) -> bool:
    """Both lines are list items with the same marker and indentation, and hold nothing that makes a block."""
    a, b = _MARKER.match(before), _MARKER.match(after)
    if a is None or b is None or a.group(1) != b.group(1):
        return False
    return not (_STRUCTURE.search(before) or _STRUCTURE.search(after))


def _shifted(record: Record, by: int) -> Record:
    return Record(
        record.run_id,
        record.line + by,
        record.column,
        record.end_line + by,
        tuple(_field(f, by) for f in record.fields),
    )


def _field(f: Field, by: int) -> Field:
    return f._replace(
        line=f.line + by,
        last=f.last + by,
        entries=tuple(Entry(e.line + by, e.column, e.text) for e in f.entries),
        more=tuple(Entry(e.line + by, e.column, e.text) for e in f.more),
    )
