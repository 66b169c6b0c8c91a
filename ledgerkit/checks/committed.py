"""A committed version as the append-only history reads it: its records' extents and its lines, no field.

verify compares the working copy with the version at git's HEAD, and the history walk each committed version
with the one before it; neither reads a committed version's fields, so none is parsed whole: an outline costs
about a third of a parse (issue 12).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from ..files.text import check_utf8, decode
from ..reading.parse import Ledger, Outline, may_hold_ledger, outline, outline_beside
from .git import committed_version


class Committed(NamedTuple):
    """A committed version read and checked as UTF-8, to be outlined when the working copy's parse is at hand."""

    name: str
    data: bytes | None  # None: its bytes hold no ledger (any Markdown file, a Latin-1 NOTES.md too)

    def outline(self, working: Ledger | None = None, working_data: bytes | None = None) -> Outline:
        """The version outlined; read off ``working``'s parse (of the bytes ``working_data``) for the lines the two
        share where that reads them as an outline of its own would (an appended record, the hook's usual case:
        only the lines after it are scanned then), else outlined on its own."""
        if self.data is None:
            return outline("", self.name)
        if working is not None and working_data is not None:
            within = outline_beside(self.data, working, working_data, self.name)
            if within is not None:
                return within
        return outline(decode(self.data, self.name)[0], self.name)


def committed(data: bytes, name: str) -> Committed:
    """A committed version's bytes as ``name``, checked but not decoded; text that is not UTF-8 is a
    LedgerkitError, raised here as decoding it would."""
    if not may_hold_ledger(data):
        return Committed(name, None)
    check_utf8(data, name)
    return Committed(name, data)


def committed_outline(data: bytes, name: str) -> Outline:
    """A committed version's bytes, outlined as ``name``: no record when they hold no ledger; text that is not
    UTF-8 is a LedgerkitError."""
    return outline(decode(data, name)[0] if may_hold_ledger(data) else "", name)


def from_git(path: str | Path, rev: str | None = None) -> Committed | None:
    """The ledger as committed at ``rev`` (default HEAD), checked; None when it is new there, or (for the default)
    outside git. Every error is :func:`ledgerkit.checks.git.committed_version`'s."""
    found = committed_version(path, rev)
    return None if found is None else committed(found.data, _name(path, rev))


def outline_from_git(path: str | Path, rev: str | None = None) -> Outline | None:
    """:func:`from_git`, outlined (decoded once, not checked first)."""
    found = committed_version(path, rev)
    return None if found is None else committed_outline(found.data, _name(path, rev))


def _name(path: str | Path, rev: str | None) -> str:
    """How a committed version is named in what is said of it: ``HEAD:ledger.md``."""
    return f"{rev or 'HEAD'}:{path}"
