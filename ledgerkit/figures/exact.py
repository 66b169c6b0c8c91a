"""Exact token figures in a ledger: ``TOKEN_COUNT (encoding)`` fields, the counts of a record's sources, and
the warning when TOKEN_ESTIMATE undercounts the exact count by more than the configured margin.

Reading and checking a TOKEN_COUNT loads no encoding (verify must stay cheap); only counting does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostic
from ..reading.parse import Field, Ledger, Record
from ..tokens.encodings import SHIPPED, EncodingUnavailable
from ..tokens.names import exact_problem
from .numbers import format_percent, read_int

if TYPE_CHECKING:
    from ..config import Config
    from ..measuring.measure import MeasuredSource, SourceText

KEY = "TOKEN_COUNT"


def source_text(text: SourceText, start: int | None, end: int | None) -> str:
    """The text whose tokens are counted: the source's lines with CRLF read as LF, as CHAR_COUNT reads them,
    so that a Windows checkout gives the same count."""
    piece = text.slice(start, end)
    return piece.replace("\r\n", "\n") if "\r" in piece else piece


@dataclass(frozen=True)
class WrittenCount:
    """One TOKEN_COUNT field: its encoding (None when unusable) and its value (None when waiting or unreadable)."""

    field: Field
    encoding: str | None
    value: int | None

    @property
    def waiting(self) -> bool:
        return bool(self.field.placeholders)


def read_token_counts(record: Record, ledger: Ledger) -> tuple[list[WrittenCount], list[Diagnostic]]:
    """A record's TOKEN_COUNT fields as written; every problem with them is a diagnostic."""
    path = ledger.display_path
    counts: list[WrittenCount] = []
    diagnostics: list[Diagnostic] = []
    seen: set[str] = set()
    for f in record.fields:
        if f.key != KEY:
            continue
        name = (f.arg or "").strip()
        if not name:
            problem: str | None = (
                f"{KEY} names no encoding: write {KEY} (o200k_base); shipped: {', '.join(sorted(SHIPPED))}"
            )
        else:
            problem = exact_problem(name)
        if problem is not None:
            diagnostics.append(
                Diagnostic(path, f.line, f.column, "LK701", problem if not name else f"{f.name}: {problem}")
            )
        elif name in seen:
            diagnostics.append(
                Diagnostic(
                    path, f.line, f.column, "LK101", f"{f.name} appears twice in record {record.run_id}; keep one"
                )
            )
        seen.add(name)
        value = None
        if len(f.placeholders) > 1:
            diagnostics.append(
                Diagnostic(
                    path,
                    f.line,
                    f.value_column,
                    "LK102",
                    f"{f.name} holds {len(f.placeholders)} placeholders; write one",
                )
            )
        elif not f.placeholders and f.value.strip():
            value = read_int(f.value)
            if value is None:
                diagnostics.append(
                    Diagnostic(
                        path, f.line, f.value_column, "LK103", f"{f.name} {f.value.strip()!r} is not a whole number"
                    )
                )
        counts.append(WrittenCount(f, None if problem else name, value))
    return counts, diagnostics


def undercount(
    record: Record, ledger: Ledger, config: Config, estimate: int, exact: int, encoding: str
) -> Diagnostic | None:
    """LK703 when the estimate falls short of the exact count by more than ``config.undercount_margin`` percent."""
    if exact <= 0 or estimate >= exact:
        return None
    shortfall = Fraction(exact - estimate, exact) * 100
    if shortfall <= config.undercount_margin:
        return None
    share = Fraction(estimate, exact)
    f = record.field("TOKEN_ESTIMATE")
    line, column = (f.line, f.value_column) if f else (record.line, record.column)
    margin = format_percent(config.undercount_margin).rstrip("0").rstrip(".")
    return Diagnostic(
        ledger.display_path,
        line,
        column,
        "LK703",
        f"TOKEN_ESTIMATE {estimate} undercounts the exact {encoding} count {exact} of record {record.run_id}: "
        f"estimate/exact = {_ratio(share)}, {format_percent(shortfall)}% short (margin {margin}%)",
    )


def _ratio(value: Fraction) -> str:
    """Three decimals, toward zero."""
    thousandths = int(value * 1000)
    return f"{thousandths // 1000}.{thousandths % 1000:03d}"


def check_token_counts(ledger: Ledger, config: Config) -> list[Diagnostic]:
    """verify's check of TOKEN_COUNT: readable, a known encoding, and the estimate within the margin.

    Works from the written figures only: no source is read and no encoding is loaded.
    """
    diagnostics: list[Diagnostic] = []
    for record in ledger.records:
        counts, problems = read_token_counts(record, ledger)
        diagnostics.extend(problems)
        if config.encoding is None:
            continue
        written = next((c.value for c in counts if c.encoding == config.encoding and c.value is not None), None)
        f = record.field("TOKEN_ESTIMATE")
        estimate = read_int(f.value) if f is not None and not f.placeholders else None
        if written is not None and estimate is not None:
            warning = undercount(record, ledger, config, estimate, written, config.encoding)
            if warning is not None:
                diagnostics.append(warning)
    return diagnostics


class TokenCounter:
    """Exact counts of measured sources for fill: each (file, line range, encoding) counted once per run.

    Encodings are loaded on first use; one that is not available here is remembered, not retried.
    """

    def __init__(self) -> None:
        self._counts: dict[tuple[object, str], int] = {}
        self._unavailable: dict[str, EncodingUnavailable] = {}

    def count(self, sources: Sequence[MeasuredSource], encoding: str) -> int:
        """The sum of the exact counts of ``sources``; raises EncodingUnavailable (or EncodingError)."""
        from ..tokens import engine

        if encoding in self._unavailable:
            raise self._unavailable[encoding]
        todo: dict[tuple[object, str], str] = {}
        for ms in sources:
            key = (ms.source.key, encoding)
            if key not in self._counts and key not in todo:
                todo[key] = source_text(ms.text, ms.source.start, ms.source.end)
        if todo:
            try:
                counted = engine.count(list(todo.values()), encoding)
            except EncodingUnavailable as exc:
                self._unavailable[encoding] = exc
                raise
            self._counts.update(zip(todo, counted, strict=False))
        return sum(self._counts[(ms.source.key, encoding)] for ms in sources)

    def fill(
        self,
        record: Record,
        ledger: Ledger,
        config: Config,
        sources: Sequence[MeasuredSource] | None,
        waiting: Sequence[WrittenCount],
        estimate: int | None,
    ) -> tuple[list[int] | None, list[Diagnostic]]:
        """The counts for a record's waiting TOKEN_COUNT fields (None when one cannot be had), and LK702/LK703.

        With ``config.encoding`` set, a record measured now is also checked for an undercounting estimate.
        """
        diagnostics: list[Diagnostic] = []
        if sources is None:
            return (None if waiting else []), diagnostics
        values: list[int] | None = []
        for c in waiting:
            if c.encoding is None:  # unusable, and reported by read_token_counts
                values = None
                continue
            try:
                n = self.count(sources, c.encoding)
            except EncodingUnavailable as exc:
                diagnostics.append(
                    Diagnostic(
                        ledger.display_path,
                        c.field.line,
                        c.field.column,
                        "LK702",
                        f"{c.field.name} cannot be counted here: {exc.message}",
                    )
                )
                values = None
                continue
            if values is not None:
                values.append(n)
        if config.encoding is not None and estimate is not None:
            warning = undercount(
                record, ledger, config, estimate, self.count(sources, config.encoding), config.encoding
            )
            if warning is not None:
                diagnostics.append(warning)
        return values, diagnostics
