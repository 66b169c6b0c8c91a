"""The pre-commit hooks: ``ledgerkit-fill`` and ``ledgerkit-verify`` over the files pre-commit passes.

pre-commit passes every staged file that matches the hook's ``files``/``types`` (by default every Markdown
file), in batches, possibly none at all. So a hook succeeds on an empty list, skips quietly a file that holds
no ledger, and reports each problem as ``path:line:col: CODE message``. The fill hook fails when it
changed a file, as formatters do, so that the person reviews the figures and stages them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .config import Config
from .diagnostics import Diagnostic, has_errors
from .errors import LedgerkitError
from .parse import parse
from .textfile import read_bytes

if TYPE_CHECKING:
    from .fill import FillResult

#: A ledger's text always holds this: a record heading, or section 4's field definitions.
_LEDGER_MARK = b"RUN_ID"


@dataclass
class HookResult:
    """What a hook found over its files: problems, files it rewrote, files it could not read."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    errors: list[LedgerkitError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 clean; 1 problems or a file changed; 2 a file could not be read or written."""
        if self.errors:
            return 2
        return 1 if self.changed or has_errors(self.diagnostics) else 0


def holds_ledger(path: str | Path) -> bool:
    """Whether a file may hold a ledger: its bytes name RUN_ID (a record heading or section 4's schema).

    Any Markdown file may be passed to a hook; one that names no RUN_ID is skipped unparsed, even when it is
    not UTF-8. One that does is read, and a file without records is then left alone by fill and verify.
    """
    return _LEDGER_MARK in read_bytes(path)


def fill_hook(
    paths: list[str | Path],
    *,
    config_for: Callable[[Path], Config],
    root: str | Path | None = None,
) -> HookResult:
    """Fill each ledger among ``paths`` in place; each record filled and a re-rendered summary is reported."""
    from .fill import fill_file

    result = HookResult()
    for name in paths:
        path = Path(name)
        try:
            if not holds_ledger(path):
                result.skipped.append(str(name))
                continue
            filled = fill_file(path, config=config_for(path), root=root)
        except LedgerkitError as exc:
            result.errors.append(exc)
            continue
        result.diagnostics.extend(filled.diagnostics)
        if filled.written:
            result.changed.append(str(name))
            result.diagnostics.extend(_what_changed(filled, str(name)))
    return result


def verify_hook(
    paths: list[str | Path],
    *,
    config_for: Callable[[Path], Config],
    base_rev: str | None = None,
) -> HookResult:
    """Verify each ledger among ``paths`` against the ledger in git's ``HEAD`` (or ``base_rev``); never writes.

    pre-commit stashes what is not staged before running hooks, so the file on disk is what is staged.
    """
    from .history import base_from_git
    from .parse import load
    from .verify import verify

    result = HookResult()
    for name in paths:
        path = Path(name)
        try:
            if not holds_ledger(path):
                result.skipped.append(str(name))
                continue
            ledger = load(path)
            if not ledger.records:
                result.skipped.append(str(name))
                continue
            base = base_from_git(path, base_rev)
        except LedgerkitError as exc:
            result.errors.append(exc)
            continue
        result.diagnostics.extend(verify(ledger, base=base, config=config_for(path)))
    return result


def _what_changed(filled: FillResult, path: str) -> list[Diagnostic]:
    after = parse(filled.text, path)
    diagnostics = []
    for record in after.records:
        if record.run_id in filled.filled:
            diagnostics.append(Diagnostic(path, record.line, record.column, "LK801",
                                          f"filled the figures of {record.run_id}: review them and stage the file"))
    before, now = filled.ledger.summary, after.summary
    if before is not None and now is not None:
        old = filled.ledger.lines.contents[before.first - 1 : before.last]
        new = after.lines.contents[now.first - 1 : now.last]
        if old != new:
            diagnostics.append(Diagnostic(path, now.heading_line, 1, "LK802",
                                          "re-rendered the cumulative summary: review it and stage the file"))
    return diagnostics
