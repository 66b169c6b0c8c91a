"""Measure a record's sources: resolve SOURCE_FILES entries, read each file once, count characters.

CHAR_COUNT is the number of Unicode code points of the UTF-8 text, without a BOM, with CRLF counted as
one character (so a Windows checkout measures the same). A line range counts its lines with their line
endings, so ``path:1-N`` of an N-line file counts the same as ``path``.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from ..config import Config, find_git_top
from ..diagnostics import Diagnostic
from ..reading.parse import Entry, Ledger, Record

_RANGE = re.compile(r"^(?P<path>.+?)(?::(?P<s1>\d+)(?:-(?P<e1>\d+))?|#L(?P<s2>\d+)(?:-L?(?P<e2>\d+))?)$")
_COMMENT = re.compile(r"(?:^|\s+)#(?:\s|$)")


@dataclass(frozen=True)
class SourceSpec:
    """One SOURCE_FILES entry as written: a path or glob, maybe a line range (1-based, inclusive)."""

    path: str
    start: int | None
    end: int | None
    line: int
    column: int

    @property
    def is_glob(self) -> bool:
        return "*" in self.path

    @property
    def written(self) -> str:
        if self.start is None:
            return self.path
        return f"{self.path}:{self.start}" + ("" if self.end == self.start else f"-{self.end}")


def parse_source(entry: Entry) -> SourceSpec | None:
    """Read an entry: ``path``, ``path:START-END``, ``path#LSTART-LEND``, ``path#L7``, `` # comment``."""
    text = _COMMENT.split(entry.text, maxsplit=1)[0].strip()
    column = entry.column + (len(entry.text) - len(entry.text.lstrip()))
    if len(text) >= 2 and text[0] == text[-1] == "`":
        text, column = text[1:-1].strip(), column + 1
    if not text:
        return None
    start = end = None
    m = _RANGE.match(text)
    if m:
        text = m.group("path")
        s, e = (m.group("s1"), m.group("e1")) if m.group("s1") else (m.group("s2"), m.group("e2"))
        start = int(s)
        end = int(e) if e else start
    return SourceSpec(text, start, end, entry.line, column)


def expand_glob(base: str | Path, pattern: str) -> list[str]:
    """The names under ``base`` (relative to it, sorted) that a SOURCE_FILES glob matches: only ``*`` and
    ``**`` are wildcards, every other character is literal."""
    return sorted(glob.glob(glob.escape(pattern).replace("[*]", "*"), root_dir=base, recursive=True))


def source_specs(record: Record) -> list[SourceSpec]:
    f = record.field("SOURCE_FILES")
    if f is None:
        return []
    entries = list(f.entries)
    inline = f.value.strip()
    if inline and not f.placeholders:
        entries.insert(0, Entry(f.line, f.value_column, f.value))
    return [spec for spec in map(parse_source, entries) if spec is not None]


def source_root(ledger_path: str | Path | None, config: Config, root: str | Path | None = None) -> Path:
    """Where a leading ``/`` points: --root, else the configuration, else the git top, else the ledger's folder."""
    if root is not None:
        return Path(root).resolve()
    if config.root is not None:
        return config.root
    folder = Path(ledger_path).resolve().parent if ledger_path else Path.cwd()
    return find_git_top(folder) or folder


# --- reading files -------------------------------------------------------------------------------------


class SourceError(Exception):
    """Why a file cannot be measured: a diagnostic code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class FileText:
    """A source file's text (BOM removed) with its character count and, on demand, its lines."""

    text: str
    chars: int
    _ends: list[int] | None = field(default=None, repr=False)  # cumulative characters at each line end

    @classmethod
    def from_bytes(cls, data: bytes) -> FileText:
        if b"\0" in data:
            raise SourceError("LK203", "is a binary file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(
                "LK204", f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
            ) from None
        if text.startswith("\ufeff"):
            text = text[1:]
        return cls(text, len(text) - text.count("\r\n"))

    @property
    def line_count(self) -> int:
        return len(self._line_ends())

    def _line_ends(self) -> list[int]:
        if self._ends is None:
            pieces = self.text.replace("\r\n", "\n").split("\n")
            counts = [len(p) + 1 for p in pieces[:-1]] + ([len(pieces[-1])] if pieces[-1] else [])
            self._ends = list(accumulate(counts))
        return self._ends

    def count(self, start: int | None, end: int | None) -> int:
        """Characters of lines start..end (1-based, inclusive), or of the whole file."""
        if start is None or end is None:
            return self.chars
        ends = self._line_ends()
        if start < 1 or end < start:
            raise SourceError("LK207", "is not a range of lines (1-based, start <= end)")
        if end > len(ends):
            lines = f"{len(ends)} line" + ("" if len(ends) == 1 else "s")
            raise SourceError("LK207", f"goes beyond the end of the file ({lines})")
        return ends[end - 1] - (ends[start - 2] if start > 1 else 0)

    def slice(self, start: int | None, end: int | None) -> str:
        """The text of lines start..end (the whole file when no range), CRLF kept as written."""
        if start is None or end is None:
            return self.text
        pieces = self.text.split("\n")  # a CR of CRLF stays with its line
        lines = [p + "\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
        return "".join(lines[start - 1 : end])


class SourceReader:
    """Reads each file at most once per run, however many records name it."""

    def __init__(self) -> None:
        self._cache: dict[Path, FileText | SourceError] = {}
        self.reads = 0

    def read(self, path: Path) -> FileText:
        cached = self._cache.get(path)
        if cached is None:
            try:
                self.reads += 1
                cached = FileText.from_bytes(path.read_bytes())
            except SourceError as exc:
                cached = exc
            except FileNotFoundError:
                cached = SourceError("LK201", "not found")
            except IsADirectoryError:
                cached = SourceError("LK202", "is a directory")
            except OSError as exc:
                cached = SourceError("LK208", f"cannot be read ({exc.strerror or exc})")
            self._cache[path] = cached
        if isinstance(cached, SourceError):
            raise cached
        return cached


# --- resolving and measuring ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A resolved source: a real file inside the root, maybe a line range."""

    spec: SourceSpec
    path: Path
    display: str  # "/" + the path relative to the root, with forward slashes
    start: int | None
    end: int | None

    @property
    def key(self) -> tuple[Path, int | None, int | None]:
        return (self.path, self.start, self.end)

    @property
    def label(self) -> str:
        if self.start is None:
            return self.display
        return f"{self.display}:{self.start}" + ("" if self.end == self.start else f"-{self.end}")


@dataclass(frozen=True)
class MeasuredSource:
    source: Source
    chars: int
    text: FileText


@dataclass(frozen=True)
class Measurement:
    chars: int
    sources: tuple[MeasuredSource, ...]


class Measurer:
    """Resolves and measures the sources of one ledger's records against one source root."""

    def __init__(
        self, ledger: Ledger, config: Config, root: str | Path | None = None, reader: SourceReader | None = None
    ) -> None:
        self.ledger = ledger
        self.root = source_root(ledger.path, config, root)
        self._root_real = os.path.realpath(self.root)
        self.folder = ledger.folder
        self.reader = reader or SourceReader()
        self._resolved: dict[str, tuple[list[tuple[Path, str]], list[tuple[str, str]]]] = {}

    def _diag(self, spec: SourceSpec, code: str, message: str) -> Diagnostic:
        return Diagnostic(self.ledger.display_path, spec.line, spec.column, code, message)

    def _inside(self, real: str) -> bool:
        return real == self._root_real or real.startswith(self._root_real.rstrip(os.sep) + os.sep)

    def resolve(self, spec: SourceSpec) -> tuple[list[Source], list[Diagnostic]]:
        """The files an entry names (a glob may name several, sorted), or diagnostics."""
        files, problems = self._resolve_path(spec.path)
        sources = [Source(spec, real, display, spec.start, spec.end) for real, display in files]
        return sources, [self._diag(spec, code, message) for code, message in problems]

    def _resolve_path(self, written: str) -> tuple[list[tuple[Path, str]], list[tuple[str, str]]]:
        # Many records name the same paths: resolve each written path once per run.
        cached = self._resolved.get(written)
        if cached is not None:
            return cached
        if written.startswith("/"):
            base, rel = self.root, written.lstrip("/")
        else:
            base, rel = self.folder, written
        files: list[tuple[Path, str]] = []
        problems: list[tuple[str, str]] = []
        if "*" in written:
            candidates = [base / name for name in expand_glob(base, rel)]
            candidates = [c for c in candidates if c.is_file() or not self._inside(os.path.realpath(c))]
            if not candidates:
                problems.append(("LK206", f"source glob {written!r} matches no file"))
        else:
            candidates = [base / rel]
        for candidate in candidates:
            real = os.path.realpath(candidate)
            if not self._inside(real):
                shown = written if "*" not in written else f"{written!r} match {candidate.name!r}"
                problems.append(("LK205", f"source {shown} leaves the source root {self.root}"))
                continue
            files.append((Path(real), "/" + Path(os.path.relpath(real, self._root_real)).as_posix()))
        self._resolved[written] = (files, problems)
        return files, problems

    def measure_source(self, source: Source) -> MeasuredSource:
        """Raises SourceError when the file cannot be measured."""
        text = self.reader.read(source.path)
        return MeasuredSource(source, text.count(source.start, source.end), text)

    def measure(self, record: Record) -> tuple[Measurement | None, list[Diagnostic]]:
        """CHAR_COUNT of a record's sources (each file and range once), or every reason it cannot be had."""
        specs = source_specs(record)
        if not specs:
            f = record.field("SOURCE_FILES")
            line, column = (f.line, f.column) if f else (record.line, 1)
            return None, [
                Diagnostic(
                    self.ledger.display_path,
                    line,
                    column,
                    "LK104",
                    f"record {record.run_id} names no SOURCE_FILES to measure",
                )
            ]
        items, diagnostics = self.measure_each(specs)
        if diagnostics:
            return None, diagnostics
        return Measurement(sum(m.chars for m in items), tuple(items)), []

    def measure_each(self, specs: list[SourceSpec]) -> tuple[list[MeasuredSource], list[Diagnostic]]:
        """Each distinct file and range the entries name, measured, and a diagnostic for each that cannot be."""
        diagnostics: list[Diagnostic] = []
        measured: dict[tuple[Path, int | None, int | None], MeasuredSource] = {}
        for spec in specs:
            sources, problems = self.resolve(spec)
            diagnostics.extend(problems)
            for source in sources:
                if source.key in measured:
                    continue
                try:
                    measured[source.key] = self.measure_source(source)
                except SourceError as exc:
                    shown = spec.written if not spec.is_glob else f"{source.display} (from {spec.path})"
                    diagnostics.append(self._diag(spec, exc.code, f"source {shown} {exc.message}"))
        return list(measured.values()), diagnostics
