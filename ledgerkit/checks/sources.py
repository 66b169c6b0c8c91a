"""The sources a record lists, as written: the same source listed twice is counted once, and said (LK210)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..diagnostics import Diagnostic
from ..reading.parse import Ledger
from .context import Context, at

if TYPE_CHECKING:
    from ..config import Config
    from ..measuring.specs import SameSource
    from ..reading.values import RecordValues


def check_sources(ledger: Ledger, context: Context) -> list[Diagnostic]:
    repeats = Repeats(ledger, context.config)
    return [d for figures in context.figures(ledger).records for d in repeats.of(figures.values)]


class Repeats:
    """LK210 for one ledger's records, a record at a time.

    Records name the same few sources again and again: each text is read once, into what ``repeated`` compares
    of it, to find the records that may list one source twice; only those are read again, where they are, for
    the diagnostic. A record's entries are its SOURCE_FILES entries as the read stage has them: the nested
    items, after the inline value unless it waits (the texts ``source_specs`` reads).
    """

    def __init__(self, ledger: Ledger, config: Config) -> None:
        self.ledger = ledger
        self.folder = _folder_in_root(ledger, config)
        self.keys: dict[str, SameSource | None] = {}

    def of(self, values: RecordValues) -> list[Diagnostic]:
        """Each source the record lists twice, after the first time."""
        entries = values.sources
        if len(entries) < 2:
            return []  # one source cannot be listed twice
        keys, folder = self.keys, self.folder
        found = []
        for entry in entries:
            text = entry.text
            key = keys.get(text, _UNSEEN)
            if key is _UNSEEN:  # imported once a text is new, not per record: an import statement costs 0.6 µs
                from ..measuring.specs import parse_source, same_source

                spec = parse_source(text)
                key = keys[text] = same_source(spec, folder) if spec is not None else None
            if key is not None:
                found.append(key)
        if len(set(found)) == len(found):
            return []  # no two entries name the same source: ``repeated`` finds nothing
        from ..measuring.specs import repeated, source_specs

        out = []
        record = values.record
        for spec, first in repeated(source_specs(record), folder):
            if spec.written == first.written:
                what = f"is listed twice in record {record.run_id} (also at line {first.line})"
            else:
                what = f"names the same file as {first.written} (line {first.line}) in record {record.run_id}"
            message = f"source {spec.written} {what}; it is counted once"
            out.append(at(self.ledger, spec.line, spec.column, "LK210", message))
        return out


_UNSEEN: Any = object()


def _folder_in_root(ledger: Ledger, config: Config) -> str | None:
    """The ledger's folder relative to its source root (posix), or None when it lies outside it."""
    from ..measuring.specs import source_root

    folder = os.path.realpath(ledger.folder)
    root = os.path.realpath(source_root(ledger.path, config))
    rel = os.path.relpath(folder, root)
    return None if rel == ".." or rel.startswith("../") else ("" if rel == "." else rel.replace(os.sep, "/"))
