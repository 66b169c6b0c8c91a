"""The sources a record lists, as written: the same source listed twice is counted once, and said (LK210)."""

from __future__ import annotations

import os

from ..diagnostics import Diagnostic
from ..measuring.measure import source_root, source_specs
from ..measuring.specs import repeated
from ..reading.parse import Ledger
from .context import Context, at


def check_sources(ledger: Ledger, context: Context) -> list[Diagnostic]:
    folder = _folder_in_root(ledger, context)
    out: list[Diagnostic] = []
    for record in ledger.records:
        for spec, first in repeated(source_specs(record), folder):
            if spec.written == first.written:
                what = f"is listed twice in record {record.run_id} (also at line {first.line})"
            else:
                what = f"names the same file as {first.written} (line {first.line}) in record {record.run_id}"
            message = f"source {spec.written} {what}; it is counted once"
            out.append(at(ledger, spec.line, spec.column, "LK210", message))
    return out


def _folder_in_root(ledger: Ledger, context: Context) -> str | None:
    """The ledger's folder relative to its source root (posix), or None when it lies outside it."""
    folder = os.path.realpath(ledger.folder)
    root = os.path.realpath(source_root(ledger.path, context.config))
    rel = os.path.relpath(folder, root)
    return None if rel == ".." or rel.startswith("../") else ("" if rel == "." else rel.replace(os.sep, "/"))
