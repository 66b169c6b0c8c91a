"""Measure a record's sources: the ledger-facing adapter over :mod:`.specs`, :mod:`.resolve` and :mod:`.files`.

It reads a record's SOURCE_FILES entries, resolves them under the source root, reads each file once per
run and turns every problem into a Diagnostic at the entry's line and column. The modules below it know
nothing of ledgers: they take written text, folders and paths and return plain data and problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ..config import Config
from ..diagnostics import Diagnostic
from ..reading.parse import Ledger, Record
from .files import FileText, SourceError, SourceReader, SourceText, StreamedText
from .resolve import Resolution, Resolver, Skipped, Source
from .specs import Problem, SourceSpec, source_root, source_specs, spec_of

__all__ = [
    "FileText",
    "MeasuredSource",
    "Measurement",
    "Measurer",
    "Problem",
    "Resolution",
    "Resolver",
    "Skipped",
    "Source",
    "SourceError",
    "SourceReader",
    "SourceSpec",
    "SourceText",
    "StreamedText",
    "spec_of",
    "source_root",
    "source_specs",
]

#: Reading problems that mean "not text": a glob's or folder's member with one is left out, not an error.
NOT_TEXT = frozenset({"LK203", "LK204", "LK209"})


def problem_message(spec: SourceSpec, problem: Problem) -> str:
    """A problem with an entry as one sentence naming the entry as written."""
    if problem.code == "LK206":
        return f"source glob {spec.path!r} {problem.message}"
    return f"source {spec.written} {problem.message}"


class MeasuredSource(NamedTuple):
    """One file and range measured: its characters, and its text for whoever counts tokens next."""

    source: Source
    chars: int
    text: SourceText


@dataclass(frozen=True)
class Measurement:
    chars: int
    sources: tuple[MeasuredSource, ...]
    skipped: tuple[Skipped, ...] = ()  # members of globs and folders left out: not text


class Measurer:
    """Resolves and measures the sources of one ledger's records against one source root.

    ``skipped`` gathers, over the run, every member of a glob or folder left out because it is not text
    (binary, not UTF-8, not a regular file), once each, for a closing line.
    """

    def __init__(
        self, ledger: Ledger, config: Config, root: str | Path | None = None, reader: SourceReader | None = None
    ) -> None:
        self.ledger = ledger
        self.root = source_root(ledger.path, config, root)
        self.folder = ledger.folder
        self.reader = reader or SourceReader()
        self.resolver = Resolver(self.root, self.folder)
        self.skipped: list[Skipped] = []
        self._skipped_seen: set[str] = set()
        # What each path and range measured to when it met no problem and left nothing out: records name
        # the same few sources again and again, and each is resolved, read and counted once per run.
        # Each file as the entry named it, with what it measured to (its MeasuredSource, maybe of another entry).
        self._clean: dict[tuple[str, int | None, int | None], list[tuple[Source, MeasuredSource]]] = {}

    def _diag(self, spec: SourceSpec, code: str, message: str) -> Diagnostic:
        return Diagnostic(self.ledger.display_path, spec.line, spec.column, code, message)

    def resolve(self, spec: SourceSpec) -> tuple[list[Source], list[Diagnostic]]:
        """The files an entry names (a glob or folder may name several, sorted), or diagnostics."""
        found = self.resolver.resolve(spec)
        self._skip(found.skipped)
        return found.sources, [self._diag(spec, p.code, problem_message(spec, p)) for p in found.problems]

    def _skip(self, skipped: list[Skipped]) -> None:
        for s in skipped:
            if s.shown not in self._skipped_seen:
                self._skipped_seen.add(s.shown)
                self.skipped.append(s)

    def measure_source(self, source: Source) -> MeasuredSource:
        """Raises SourceError when the file cannot be measured."""
        text = self.reader.read(source.real, checked=True)  # the resolver saw a regular file there
        # tuple.__new__ skips the NamedTuple's generated __new__: one is made for every file measured.
        return tuple.__new__(MeasuredSource, (source, text.count(source.start, source.end), text))

    def measure(self, record: Record) -> tuple[Measurement | None, list[Diagnostic]]:
        """CHAR_COUNT of a record's sources (each file and range once), or every reason it cannot be had."""
        specs_ = source_specs(record)
        if not specs_:
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
        items, skipped, diagnostics = self._measure_all(specs_)
        if diagnostics:
            return None, diagnostics
        return Measurement(sum(m.chars for m in items), tuple(items), tuple(skipped)), []

    def measure_each(self, specs_: list[SourceSpec]) -> tuple[list[MeasuredSource], list[Diagnostic]]:
        """Each distinct file and range the entries name, measured, and a diagnostic for each that cannot be."""
        items, _, diagnostics = self._measure_all(specs_)
        return items, diagnostics

    def measure_entries(self, specs_: list[SourceSpec]) -> tuple[list[MeasuredSource], list[Skipped], list[Diagnostic]]:
        """As :meth:`measure_each`, with the members of globs and folders left out because they are not text."""
        return self._measure_all(specs_)

    def _measure_all(self, specs_: list[SourceSpec]) -> tuple[list[MeasuredSource], list[Skipped], list[Diagnostic]]:
        diagnostics: list[Diagnostic] = []
        skipped: list[Skipped] = []
        measured: dict[tuple[str, int | None, int | None], MeasuredSource] = {}
        for spec in specs_:
            skipped.extend(self._measure_spec(spec, measured, diagnostics))
        self._skip(skipped)
        return list(measured.values()), skipped, diagnostics

    def _measure_spec(
        self,
        spec: SourceSpec,
        measured: dict[tuple[str, int | None, int | None], MeasuredSource],
        diagnostics: list[Diagnostic],
    ) -> list[Skipped]:
        """Measure one entry's files into ``measured`` (each file and range once); its members left out."""
        if spec.problem is None and self._measured_before(spec, measured):
            return []
        found = self.resolver.resolve(spec)
        if found.problems:
            diagnostics.extend(self._diag(spec, p.code, problem_message(spec, p)) for p in found.problems)
        left_out = found.skipped
        texts: list[tuple[Source, MeasuredSource]] = []  # each file of the entry that gave text, with it
        for source in found.sources:
            key = source.key
            got = measured.get(key)
            if got is None:
                try:
                    got = measured[key] = self.measure_source(source)
                except SourceError as exc:
                    if not source.named and exc.code in NOT_TEXT:
                        left_out.append(Skipped(source.shown_label, exc.problem))
                    else:
                        diagnostics.append(self._diag(spec, exc.code, self._read_message(spec, source, exc)))
                    continue
            texts.append((source, got))
        if not texts and not found.problems:
            diagnostics.extend(self._empty(spec, bool(found.sources), left_out))
        self._remember(spec, found, texts)
        return left_out

    def _remember(self, spec: SourceSpec, found: Resolution, texts: list[tuple[Source, MeasuredSource]]) -> None:
        """Keep what an entry measured to when every file it names was measured, nothing was left out and
        nothing went wrong: the next entry with its path and range is measured from it."""
        if found.sources and len(texts) == len(found.sources) and not found.problems and not found.skipped:
            self._clean[spec.path, spec.start, spec.end] = texts

    def _measured_before(
        self, spec: SourceSpec, measured: dict[tuple[str, int | None, int | None], MeasuredSource]
    ) -> bool:
        """Measure an entry into ``measured`` as an earlier one with its path and range was, when that met
        no problem: its files, as this entry names them, without resolving, reading or counting again."""
        clean = self._clean.get((spec.path, spec.start, spec.end))
        if clean is None:
            return False
        new = tuple.__new__  # skips the NamedTuples' generated __new__: this runs for nearly every entry
        for (_, real, shown, display, _, _, named), (_, chars, text) in clean:  # a Source, a MeasuredSource
            if (real, spec.start, spec.end) not in measured:
                source = new(Source, (spec, real, shown, display, spec.start, spec.end, named))
                measured[source.key] = new(MeasuredSource, (source, chars, text))
        return True

    def _empty(self, spec: SourceSpec, had_sources: bool, left_out: list[Skipped]) -> list[Diagnostic]:
        """An entry that gave no text: all it held was left out, or it held nothing."""
        if left_out:
            names = ", ".join(s.shown for s in left_out)
            return [self._diag(spec, "LK206", f"source {spec.written} holds no text file ({names})")]
        if not had_sources:
            return [self._diag(spec, "LK206", f"source {spec.written} holds no file")]
        return []

    @staticmethod
    def _read_message(spec: SourceSpec, source: Source, exc: SourceError) -> str:
        if source.named:
            return f"source {spec.written} {exc.message}"
        return f"source {source.shown_label} (from {spec.written}) {exc.message}"
