"""The sources a record lists, as written: the same source listed twice is counted once, and said (LK210)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic
from ..reading.parse import Field, Ledger
from .context import Context, at

if TYPE_CHECKING:
    from ..measuring.specs import SourceSpec


def check_sources(ledger: Ledger, context: Context) -> list[Diagnostic]:
    from ..measuring.specs import parse_source, repeated, source_specs

    folder = _folder_in_root(ledger, context)
    out: list[Diagnostic] = []
    # Records name the same few sources again and again: each text is read once, to find the records that may
    # list one twice; only those are read again, where they are, for the diagnostic.
    read: dict[str, SourceSpec | None] = {}
    for record in ledger.records:
        f = record.field("SOURCE_FILES")
        if f is None or len(f.entries) + (1 if f.value.strip() else 0) < 2:
            continue  # one source cannot be listed twice
        specs = []
        for text in _texts(f):
            spec = read.get(text, _UNSEEN)
            if spec is _UNSEEN:
                spec = read[text] = parse_source(text)
            if spec is not None:
                specs.append(spec)
        # The same text twice is the same spec object twice, which ``repeated`` (comparing by identity) passes.
        if len({id(s) for s in specs}) == len(specs) and not repeated(specs, folder):
            continue
        for spec, first in repeated(source_specs(record), folder):
            if spec.written == first.written:
                what = f"is listed twice in record {record.run_id} (also at line {first.line})"
            else:
                what = f"names the same file as {first.written} (line {first.line}) in record {record.run_id}"
            message = f"source {spec.written} {what}; it is counted once"
            out.append(at(ledger, spec.line, spec.column, "LK210", message))
    return out


_UNSEEN: Any = object()


def _texts(f: Field) -> list[str]:
    """The texts of the entries ``specs.source_specs`` reads: the nested items, and the inline value."""
    texts = [e.text for e in f.entries]
    if f.value.strip() and not f.placeholders:
        texts.insert(0, f.value)
    return texts


def _folder_in_root(ledger: Ledger, context: Context) -> str | None:
    """The ledger's folder relative to its source root (posix), or None when it lies outside it."""
    from ..measuring.specs import source_root

    folder = os.path.realpath(ledger.folder)
    root = os.path.realpath(source_root(ledger.path, context.config))
    rel = os.path.relpath(folder, root)
    return None if rel == ".." or rel.startswith("../") else ("" if rel == "." else rel.replace(os.sep, "/"))
