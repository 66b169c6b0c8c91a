"""Export every record as typed data (JSON, JSON Lines, CSV) for pandas, DuckDB or a spreadsheet.

Integers stay integers, the utilization is a number (percent, as written: ``3.79``), timestamps are ISO
8601, sources a list; figures are as ``fill`` would leave them. In CSV a list or mapping is one cell
holding its JSON, so nothing is lost.
"""

from __future__ import annotations

import csv
import io
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
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for r in rows:
            writer.writerow([_cell(r[c]) for c in columns])
        return buffer.getvalue()
    raise ValueError(f"unknown export format {fmt!r}")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value
