"""Reading one SOURCE_FILES entry: its path or glob, its line range, as the person wrote it.

An entry is ``path``, ``path:START-END``, ``path:N``, ``path#LSTART-LEND``, ``path#LSTART-END`` or
``path#LN`` (1-based, inclusive), maybe wrapped in backquotes, maybe followed by `` # comment``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ..config import find_git_top
from ..reading.parse import Entry
from ..schema import remembered

if TYPE_CHECKING:
    from ..config import Config
    from ..reading.parse import Record

_RANGE = re.compile(r"^(?P<path>.+?)(?::(?P<s1>\d+)(?:-(?P<e1>\d+))?|#L(?P<s2>\d+)(?:-L?(?P<e2>\d+))?)$")
_COMMENT = re.compile(r"(?:^|\s+)#(?:\s|$)")

#: A line number longer than this is past the end of any file: refused before int() reads it, so that an
#: entry of thousands of digits is a problem, not Python's 4,300-digit ValueError.
MAX_LINE_DIGITS = 18


class Problem(NamedTuple):
    """Why a source cannot be measured: a diagnostic code (LK2xx) and a message starting with a verb."""

    code: str
    message: str


class SourceSpec(NamedTuple):
    """One SOURCE_FILES entry: a path or glob, maybe a line range (1-based, inclusive).

    ``written`` is the entry as the person wrote it (without backquotes and comment), for display;
    ``problem`` is set when the line range cannot be read (LK207), and then ``start``/``end`` are None.
    """

    path: str
    start: int | None
    end: int | None
    line: int
    column: int
    written: str
    problem: Problem | None = None

    @property
    def is_glob(self) -> bool:
        return "*" in self.path


def range_suffix(start: int | None, end: int | None) -> str:
    """``:START-END`` (``:N`` for one line), or nothing for a whole file."""
    if start is None:
        return ""
    return f":{start}" + ("" if end == start else f"-{end}")


def parse_source(text: str, line: int = 0, column: int = 1) -> SourceSpec | None:
    """Read an entry written at ``line``/``column`` (1-based); None when it is empty or only a comment."""
    read = _read_entry(text)
    if read is None:
        return None
    path, start, end, shift, body, problem = read
    # tuple.__new__ skips the NamedTuple's generated __new__: one is made for every entry of every record.
    return tuple.__new__(SourceSpec, (path, start, end, line, column + shift, body, problem))


#: What an entry's text says, whatever its place: (path, start, end, the column shift to the path, the entry
#: as written, the problem with its range).
_Parts = tuple[str, int | None, int | None, int, str, Problem | None]


@remembered  # records name the same few sources again and again
def _read_entry(text: str) -> _Parts | None:
    body = (_COMMENT.split(text, maxsplit=1)[0] if "#" in text else text).strip()
    shift = len(text) - len(text.lstrip())
    if len(body) >= 2 and body[0] == body[-1] == "`":
        body, shift = body[1:-1].strip(), shift + 1
    if not body:
        return None
    m = _RANGE.match(body) if ":" in body or "#L" in body else None
    if not m:
        return body, None, None, shift, body, None
    first, last = (m.group("s1"), m.group("e1")) if m.group("s1") else (m.group("s2"), m.group("e2"))
    start, end, problem = _read_range(first, last or first)
    return m.group("path"), start, end, shift, body, problem


def _read_range(first: str, last: str) -> tuple[int | None, int | None, Problem | None]:
    if len(first) > MAX_LINE_DIGITS or len(last) > MAX_LINE_DIGITS:
        too_long = f"is not a range of lines (a line number has more than {MAX_LINE_DIGITS} digits)"
        return None, None, Problem("LK207", too_long)
    start, end = int(first), int(last)
    if start < 1 or end < start:
        return None, None, Problem("LK207", "is not a range of lines (1-based, start <= end)")
    return start, end, None


def repeated(specs: Iterable[SourceSpec], folder: str | None) -> list[tuple[SourceSpec, SourceSpec]]:
    """Each entry that names the same path and range as an earlier one, with that earlier one, judged from
    the text alone (no file is looked at): ``a.md``, ``./a.md`` and ``docs/../a.md`` are one path, and so is
    ``/sub/a.md`` when ``folder`` (the ledger's folder relative to the source root, ``""`` at the root)
    is ``sub``. With ``folder`` None a relative entry is compared only with relative ones."""
    first: dict[SameSource, SourceSpec] = {}
    out = []
    for spec in specs:
        key = same_source(spec, folder)
        if key is None:
            continue
        found = first.setdefault(key, spec)
        if found is not spec:
            out.append((spec, found))
    return out


#: What :func:`repeated` compares: the path, normalized and anchored as it is, and the line range.
SameSource = tuple[str, str, int | None, int | None]


def same_source(spec: SourceSpec, folder: str | None) -> SameSource | None:
    """What :func:`repeated` compares of an entry: two entries with the same key name the same path and range;
    None for an entry whose range cannot be read (it is not compared)."""
    if spec.problem is not None:
        return None
    if spec.path.startswith("/"):
        return "/", posixpath.normpath("/" + spec.path.lstrip("/")), spec.start, spec.end
    if folder is not None:
        return "/", posixpath.normpath(posixpath.join("/", folder, spec.path)), spec.start, spec.end
    return "", posixpath.normpath(spec.path), spec.start, spec.end


# --- the sources a record names -----------------------------------------------------------------------


def written_source(entry: Entry) -> str | None:
    """The entry as written (without backquotes and comment), as its spec's ``written`` has it, without making
    the spec; None when it names nothing."""
    read = _read_entry(entry.text)
    return None if read is None else read[4]


def spec_of(entry: Entry) -> SourceSpec | None:
    """Read an entry: ``path``, ``path:START-END``, ``path#LSTART-LEND``, ``path#L7``, `` # comment``."""
    return parse_source(entry.text, entry.line, entry.column)


def source_specs(record: Record) -> list[SourceSpec]:
    f = record.field("SOURCE_FILES")
    if f is None:
        return []
    entries = list(f.entries)
    inline = f.value.strip()
    if inline and not f.placeholders:
        entries.insert(0, Entry(f.line, f.value_column, f.value))
    return [spec for spec in map(spec_of, entries) if spec is not None]


def source_root(ledger_path: str | Path | None, config: Config, root: str | Path | None = None) -> Path:
    """Where a leading ``/`` points: --root, else the configuration, else the git top, else the ledger's folder."""
    if root is not None:
        return Path(root).resolve()
    if config.root is not None:
        return config.root
    folder = Path(ledger_path).resolve().parent if ledger_path else Path.cwd()
    return find_git_top(folder) or folder
