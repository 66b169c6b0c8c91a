"""Exact token figures: the counts of a record's measured sources, and the warning when TOKEN_ESTIMATE
undercounts the exact count by more than the configured margin.

Reading a TOKEN_COUNT is the read stage's (``reading/values.py``); only counting loads an encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING

from ..diagnostics import Diagnostic
from ..schema import format_percent

if TYPE_CHECKING:
    from ..config import Config
    from ..measuring.measure import MeasuredSource, SourceText
    from ..reading.parse import Field
    from ..reading.values import RecordValues
    from ..tokens.encodings import EncodingUnavailable


def source_text(text: SourceText, start: int | None, end: int | None) -> str:
    """The text whose tokens are counted: the source's lines with CRLF read as LF, as CHAR_COUNT reads them,
    so that a Windows checkout gives the same count."""
    piece = text.slice(start, end)
    return piece.replace("\r\n", "\n") if "\r" in piece else piece


def undercount(values: RecordValues, config: Config, estimate: int, exact: int, encoding: str) -> Diagnostic | None:
    """LK703 when the estimate falls short of the exact count by more than ``config.undercount_margin`` percent."""
    if exact <= 0 or estimate >= exact:
        return None
    shortfall = Fraction(exact - estimate, exact) * 100
    if shortfall <= config.undercount_margin:
        return None
    share = Fraction(estimate, exact)
    record = values.record
    f = record.field("TOKEN_ESTIMATE")
    line, column = (f.line, f.value_column) if f else (record.line, record.column)
    margin = format_percent(config.undercount_margin).rstrip("0").rstrip(".")
    return Diagnostic(
        values.path,
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


class TokenCounter:
    """Exact counts of measured sources: each (file, line range, encoding) counted once per run.

    Encodings are loaded on first use; one that is not available here is remembered, not retried.
    """

    def __init__(self) -> None:
        self._counts: dict[tuple[object, str], int] = {}
        self._unavailable: dict[str, EncodingUnavailable] = {}

    def count(self, sources: Sequence[MeasuredSource], encoding: str) -> int:
        """The sum of the exact counts of ``sources``; raises EncodingUnavailable (or EncodingError)."""
        from ..tokens import engine
        from ..tokens.encodings import EncodingUnavailable

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
            self._counts.update(zip(todo, counted, strict=True))
        return sum(self._counts[(ms.source.key, encoding)] for ms in sources)

    def count_for(
        self, values: RecordValues, sources: Sequence[MeasuredSource], encoding: str, field: Field | None
    ) -> tuple[int | None, Diagnostic | None]:
        """A record's exact count in ``encoding``, or LK702 (at ``field``, else the record) when it cannot be
        counted here."""
        from ..tokens.encodings import EncodingUnavailable

        try:
            return self.count(sources, encoding), None
        except EncodingUnavailable as exc:
            record = values.record
            line, column = (field.line, field.column) if field else (record.line, record.column)
            name = field.name if field else f"encoding {encoding}"
            return None, Diagnostic(values.path, line, column, "LK702", f"{name} cannot be counted here: {exc.message}")
