"""Export every record as typed data (JSON, JSON Lines, CSV) for pandas, DuckDB or a spreadsheet.

Integers stay integers, the utilization is a number (percent, as written: ``3.79``), timestamps are ISO
8601, sources a list; figures are as ``fill`` would leave them. In CSV a list or mapping is one cell
holding its JSON, so nothing is lost, and a text cell that a spreadsheet would run as a formula (it starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written quoted behind a ``'``, as OWASP's CSV
injection guidance recommends.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..figures.compute import LedgerFigures
from ..measuring.specs import written_source
from .formatting import iso, json_array, number, percent_number, usd

FORMATS = ("json", "jsonl", "csv")

#: The columns, in order (CSV header, and the keys of every JSON object).
COLUMNS = (
    "ledger",
    "line",
    "run_id",
    "scope",
    "context_id",
    "local_ts",
    "utc_ts",
    "sources",
    "char_count",
    "token_estimate",
    "budget",
    "utilization",
    "threshold_action",
    "token_counts",
    "distribution",
    "notes",
    "written_threshold_action",  # after the columns of version 1, so their positions stay
    "model",
    "cost_usd",
)


def records(figures: LedgerFigures) -> Iterator[dict[str, Any]]:
    """Every record of a ledger as a dict of typed values (None where a figure cannot be had), one at a time:
    an export writes each and lets it go."""
    ledger = figures.ledger.display_path
    for f in figures.records:
        v = f.values
        record, local = v.record, v.local_ts.written
        yield {
            "ledger": ledger,
            "line": record.line,
            "run_id": record.run_id,
            "scope": v.scope.written,
            "context_id": v.context_id,
            "local_ts": local.isoformat() if local else None,
            "utc_ts": iso(v.utc_ts.written),
            "sources": [s for s in map(written_source, v.sources) if s is not None],
            "char_count": f.chars,
            "token_estimate": f.tokens,
            "budget": f.budget,
            "utilization": percent_number(f.utilization),
            "threshold_action": f.action,
            "token_counts": {
                c.encoding: f.exact[c.encoding] for c in v.token_counts if c.encoding and c.encoding in f.exact
            },
            "distribution": {s.name: number(s.percent) for s in v.distribution},
            "notes": list(v.notes),
            "written_threshold_action": f.written_action,
            "model": f.model.key if f.model is not None else None,
            "cost_usd": usd(f.cost.amount) if f.cost is not None else None,
        }


def dumps(rows: Iterable[dict[str, Any]], fmt: str, columns: Sequence[str] = COLUMNS) -> bytes:
    """The rows as one JSON array, JSON Lines, or CSV (a header row of ``columns``, then a row each), in UTF-8
    as the export writes them. A file name's byte that is not UTF-8 is written back as itself in CSV, and as
    its escape (``\\udcff``) in JSON, which stays UTF-8."""
    if fmt == "json":
        return json_array(rows, end="\n")
    if fmt == "jsonl":  # a lone surrogate (a file name that is not UTF-8) as its escape, as json_array writes it
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8", "backslashreplace")
    if fmt == "csv":
        lines = [_csv_line(columns)]
        lines.extend(_csv_line([_cell(r[c]) for c in columns]) for r in rows)
        return "".join(lines).encode("utf-8", "surrogateescape")
    raise ValueError(f"unknown export format {fmt!r}")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


#: What makes a spreadsheet read a text cell as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_line(cells: Sequence[Any]) -> str:
    line = ",".join(map(_csv_field, cells))
    return ('""' if line == "" and len(cells) == 1 else line) + "\n"  # a lone empty field is not an empty line


def _csv_field(value: Any) -> str:
    """One CSV field as Python's csv module writes it (quoted only when it must be), except that a text cell a
    spreadsheet would run as a formula is neutralised: a ``'`` in front, and always quoted. A number is
    written as a number, so ``-5`` stays a negative number. A carriage return is quoted too, so csv.reader
    reads the field back whole."""
    if not isinstance(value, str):
        return str(value)
    if value.startswith(_FORMULA_START):
        return '"' + ("'" + value).replace('"', '""') + '"'
    if any(c in value for c in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value
