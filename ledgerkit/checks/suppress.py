"""Silencing one known case in the ledger: ``<!-- ledgerkit: ignore LK512 -->`` on the line before a record or a
field silences those codes (or prefixes) there, and nowhere else. A suppression that silences nothing is a
warning (LK801), so a stale one does not linger once its cause is gone."""

from __future__ import annotations

from collections.abc import Sequence

from ..diagnostics import Diagnostic
from ..reading.parse import Ledger, Suppression


def target_line(ledger: Ledger, s: Suppression) -> int:
    """The line a suppression is for: the next one that is not blank (it may be past the last)."""
    contents = ledger.lines.contents
    target = s.line + 1
    while target <= len(contents) and not contents[target - 1].strip():
        target += 1
    return target


def _scope(ledger: Ledger, s: Suppression) -> tuple[int, int]:
    """The lines a suppression covers: the record or field on the next line that is not blank."""
    target = target_line(ledger, s)
    for record in ledger.records:
        if record.line == target:
            return record.line, record.end_line
        if record.line < target <= record.end_line:
            for f in record.fields:
                if f.line == target:
                    return f.line, max(f.last, f.line)
    return target, target


def suppress(ledger: Ledger, diagnostics: Sequence[Diagnostic], *, report_unused: bool) -> list[Diagnostic]:
    """The diagnostics not silenced by the ledger's suppressions, and (``report_unused``) LK801 for each
    suppression that silenced nothing."""
    if not ledger.suppressions:
        return list(diagnostics)
    scopes = [(s, _scope(ledger, s)) for s in ledger.suppressions]
    used: set[int] = set()
    kept = []
    for d in diagnostics:
        hit = next(
            (
                i
                for i, (s, (a, b)) in enumerate(scopes)
                if d.path == ledger.display_path and a <= d.line <= b and d.code.startswith(s.codes)
            ),
            None,
        )
        if hit is None:
            kept.append(d)
        else:
            used.add(hit)
    if report_unused:
        for i, (s, _) in enumerate(scopes):
            if i not in used:
                kept.append(
                    Diagnostic(
                        ledger.display_path,
                        s.line,
                        s.column,
                        "LK801",
                        f"this suppression of {', '.join(s.codes)} silences nothing; remove it",
                    )
                )
    return kept
