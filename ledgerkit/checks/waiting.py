"""The check ``verify --require-filled`` adds: no placeholder still waiting in any record (LK108), so CI can
insist that every record is filled before it is merged. The summary is derived and not checked."""

from __future__ import annotations

from ..diagnostics import Diagnostic
from ..reading.parse import Ledger
from .context import Context, at


def check_waiting(ledger: Ledger, context: Context) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for record in ledger.records:
        for f in record.fields:
            for span in f.placeholders:
                placeholder = ledger.lines.contents[span.line - 1][span.start : span.end]
                out.append(
                    at(
                        ledger,
                        span.line,
                        span.start + 1,
                        "LK108",
                        f"{f.name} of record {record.run_id} "
                        f"still holds {placeholder}; run ledgerkit fill and commit the figures",
                    )
                )
    return out
