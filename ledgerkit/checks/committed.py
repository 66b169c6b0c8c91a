"""A committed version as the append-only history reads it: its records' extents and its lines, no field.

verify compares the working copy with the version at git's HEAD, and the history walk each committed version
with the one before it; neither reads a committed version's fields, so none is parsed whole: an outline costs
about a third of a parse (issue 12).
"""

from __future__ import annotations

from pathlib import Path

from ..files.text import decode
from ..reading.parse import Outline, may_hold_ledger, outline
from .git import committed_version


def committed_outline(data: bytes, name: str) -> Outline:
    """A committed version's bytes, outlined as ``name``: no record when they hold no ledger (any Markdown
    file, a Latin-1 NOTES.md too); text that is not UTF-8 is a LedgerkitError."""
    if not may_hold_ledger(data):
        return outline("", name)
    text, _bom = decode(data, name)
    return outline(text, name)


def outline_from_git(path: str | Path, rev: str | None = None) -> Outline | None:
    """The ledger as committed at ``rev`` (default HEAD), outlined; None when it is new there, or (for the
    default) outside git. Every error is :func:`ledgerkit.checks.git.committed_version`'s."""
    found = committed_version(path, rev)
    if found is None:
        return None
    return committed_outline(found.data, f"{rev or 'HEAD'}:{path}")
