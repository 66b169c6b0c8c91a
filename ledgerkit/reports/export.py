"""Export every record as typed data (JSON, JSON Lines, CSV) for pandas, DuckDB or a spreadsheet.

Integers stay integers, the utilization is a number (percent, as written: ``3.79``), timestamps are ISO
8601, sources a list; figures are as ``fill`` would leave them. In CSV a list or mapping is one cell
holding its JSON, so nothing is lost, and a text cell that a spreadsheet would run as a formula (it starts
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written quoted behind a ``'``, as OWASP's CSV
injection guidance recommends.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..figures.exact import read_token_counts
from ..measuring.measure import source_specs
from ..reading.parse import Share
from .formatting import iso, number
from .records import Figured, row

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
)


def records(figured: Figured) -> list[dict[str, Any]]:
    """Every record of a ledger as a dict of typed values (None where a figure cannot be had)."""
    out = []
    for entry in figured.entries:
        r = row(entry)
        record, figures = entry.record, entry.figures
        counts, _ = read_token_counts(record, figured.ledger)
        notes = record.field("NOTES")
        out.append(
            {
                "ledger": figured.ledger.display_path,
                "line": record.line,
                "run_id": record.run_id,
                "scope": (record.get("SCOPE") or "").strip() or None,
                "context_id": (record.context_id or "").strip() or None,
                "local_ts": r.local.isoformat() if r.local else None,
                "utc_ts": iso(r.utc),
                "sources": [s.written for s in source_specs(record)],
                "char_count": figures.chars,
                "token_estimate": figures.tokens,
                "budget": figures.budget,
                "utilization": number(figures.utilization),
                "threshold_action": figures.action,
                "token_counts": {c.encoding: c.value for c in counts if c.encoding and c.value is not None},
                "distribution": {s.name: number(s.percent) for s in record.distribution if isinstance(s, Share)},
                "notes": [e.text.strip() for e in notes.entries] if notes else [],
            }
        )
    return out


def dumps(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str] = COLUMNS) -> str:
    """The rows as one JSON array, JSON Lines, or CSV (a header row of ``columns``, then a row each)."""
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if fmt == "csv":
        lines = [_csv_line(columns)]
        lines.extend(_csv_line([_cell(r[c]) for c in columns]) for r in rows)
        return "".join(lines)
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
