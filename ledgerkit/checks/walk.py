"""The append-only guarantee over a whole history: every committed version against the one before it.

A ledger edited in a commit that skipped the hook (``git commit --no-verify``, a push from elsewhere) still
breaks the history, however clean the commits after it look: each commit is compared with its first parent,
so the problem is reported once, naming the commit that introduced it. Frozen paths are checked over the same
range: a commit that touched a file under one is reported too.

Every blob is read once, from one ``git cat-file --batch`` process, in the order the walk needs them, and
outlined once (the comparison reads no field): the cost is one git log per name the ledger had, one cat-file,
and a linear comparison each.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path

from ..diagnostics import Diagnostic
from ..errors import LedgerkitError
from ..reading.parse import Outline, outline
from .committed import committed_outline
from .git import Change, Commit, GitError, Repository, Version
from .history import append_only_problems

#: What each status letter of a change under a frozen path did to the file.
_DID = {"A": "added", "M": "changed", "T": "changed (its type)", "D": "removed", "R": "renamed", "C": "copied"}


class CommitDiagnostic(Diagnostic):
    """A problem a commit introduced: ``commit`` (full id), its short id, author and author date."""

    __slots__ = ("commit", "short", "author", "date")
    fields = (*Diagnostic.fields, *__slots__)

    def __init__(
        self,
        path: str,
        line: int,
        column: int,
        code: str,
        message: str,
        commit: str = "",
        short: str = "",
        author: str = "",
        date: str = "",
    ) -> None:
        super().__init__(path, line, column, code, message)
        self.commit = commit
        self.short = short
        self.author = author
        self.date = date

    def detail(self) -> str:
        return f"in commit {self.short} ({self.author}, {self.date}): {self.message}"


def in_commit(diagnostic: Diagnostic, commit: Commit, path: str | None = None) -> CommitDiagnostic:
    """``diagnostic`` as introduced by ``commit`` (at ``path`` when given)."""
    d = diagnostic
    return CommitDiagnostic(
        path or d.path, d.line, d.column, d.code, d.message, commit.id, commit.short, commit.author_name, commit.date
    )


def history_problems(
    repository: Repository, path: Path, *, since: str | None = None, until: str = "HEAD"
) -> list[CommitDiagnostic]:
    """Every commit in ``since..until`` (all of them without ``since``) that broke the ledger's history.

    Each version is compared with the one its commit replaced, following renames; a version that cannot be
    read as text is LK610, and the comparisons that need it are skipped.
    """
    versions = repository.history(path, since, until, read=False)
    reader = _Reader(repository, versions, path)
    found: list[CommitDiagnostic] = []
    try:
        for version in versions:
            problems = _check_version(reader, version, _shown(repository, path, version.path))
            if problems and len(version.commit.parents) > 1:
                problems = _made_by_the_merge(repository, reader, version, problems)
            found.extend(problems)
    finally:
        reader.close()
    return found


def _made_by_the_merge(
    repository: Repository, reader: _Reader, version: Version, problems: list[CommitDiagnostic]
) -> list[CommitDiagnostic]:
    """The problems a merge made itself: those it shows against every parent. Against the first parent alone
    it repeats each problem of the branch it merged (already named at the commit that made it), as a pull
    request's merge commit does (actions/checkout's default for pull requests)."""
    now = reader.ledger(version.blob) if version.blob is not None else outline("", None)
    if isinstance(now, LedgerkitError):
        return problems
    kept = {(d.line, d.column, d.code) for d in problems}
    others = [(parent, version.path) for parent in version.commit.parents[1:]]
    for data in repository.files_at(others, path=version.path):
        base = _outlined(data, version.path) if data is not None else None
        if isinstance(base, Outline):  # a parent without the file, or unreadable there, clears nothing
            kept &= {(d.line, d.column, d.code) for d in append_only_problems(base, now)}
    return [d for d in problems if (d.line, d.column, d.code) in kept]


def _check_version(reader: _Reader, version: Version, shown: str) -> list[CommitDiagnostic]:
    # The reader streams the blobs in the order _Reader lists them: the one before, then this one.
    base = reader.ledger(version.before.blob) if version.before is not None else None
    now = reader.ledger(version.blob) if version.blob is not None else outline("", shown)
    if isinstance(now, LedgerkitError):
        message = f"this version cannot be read: {now.message}"
        return [in_commit(Diagnostic(shown, 1, 1, "LK610", message), version.commit)]
    if base is None or isinstance(base, LedgerkitError):
        return []  # added (nothing before it to keep), or unreadable before (named at the commit that wrote it)
    return [in_commit(d, version.commit, shown) for d in append_only_problems(base, now)]


class _Reader:
    """The versions' blobs, streamed in the order the walk asks for them and outlined once each."""

    def __init__(self, repository: Repository, versions: Sequence[Version], path: Path) -> None:
        order: list[str] = []
        for version in versions:
            for blob in (version.before.blob if version.before else None, version.blob):
                if blob is not None and (not order or order[-1] != blob):
                    order.append(blob)
        self._stream: Iterator[tuple[str, bytes | None]] = repository.read_blobs(order, path=path)
        self._recent: OrderedDict[str, Outline | LedgerkitError] = OrderedDict()

    def ledger(self, blob: str) -> Outline | LedgerkitError:
        """The outlined blob, or why it cannot be read; the walk asks in the order given, so two are kept."""
        while blob not in self._recent:
            oid, data = next(self._stream, (blob, None))
            if data is None:
                raise GitError(f"blob {blob} was asked for out of the order read: a bug in ledgerkit")
            if oid not in self._recent:  # a blob met again (a merge's first parent) is kept, not outlined again
                self._recent[oid] = _outlined(data, oid)
            self._recent.move_to_end(oid)
            while len(self._recent) > 2:
                self._recent.popitem(last=False)
        return self._recent[blob]

    def close(self) -> None:
        for _ in self._stream:  # what is left (nothing, after a whole walk) lets cat-file finish cleanly
            pass


def _outlined(data: bytes, oid: str) -> Outline | LedgerkitError:
    """The version outlined (any Markdown file may be given: pre-commit passes them all), or why it cannot be."""
    try:
        return committed_outline(data, oid)
    except LedgerkitError as error:
        return error


def _shown(repository: Repository, given: Path, name: str) -> str:
    """How to name the ledger as it was called in a commit: as given, or its old name in the same form."""
    if name == _relative(repository, given):
        return str(given)
    return _display(repository, name, absolute=given.is_absolute())


def _relative(repository: Repository, path: Path) -> str:
    try:
        return Path(os.path.realpath(path)).relative_to(repository.top).as_posix()
    except ValueError:
        return ""


def _display(repository: Repository, name: str, *, absolute: bool = False) -> str:
    """A repository path as the user sees it: relative to the current folder, or absolute."""
    full = repository.top / name
    if absolute:
        return str(full)
    try:
        return os.path.relpath(full)
    except ValueError:  # another drive on Windows
        return str(full)


# --- frozen paths ----------------------------------------------------------------------------------------


def frozen_problems(
    repository: Repository, root: Path, patterns: Sequence[str], *, since: str | None = None, until: str = "HEAD"
) -> list[CommitDiagnostic]:
    """LK609 for each commit in ``since..until`` that added, changed, removed or renamed a file under
    ``patterns`` (globs relative to ``root``), at that file."""
    shown = ", ".join(patterns)
    return [_frozen(repository, change, shown) for change in repository.changes(since, until, patterns, root=root)]


def _frozen(repository: Repository, change: Change, patterns: str) -> CommitDiagnostic:
    did = _DID.get(change.status, "changed")
    if change.old_path is not None:
        did = f"{did} from {change.old_path}"
    message = f"{change.path} was {did}, under a frozen path ({patterns}); nothing may write there"
    return in_commit(Diagnostic(_display(repository, change.path), 1, 1, "LK609", message), change.commit)
