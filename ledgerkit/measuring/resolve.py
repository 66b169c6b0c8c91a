"""Resolving SOURCE_FILES entries to files under the source root: paths, ``*``/``**`` globs and folders.

A leading ``/`` is the source root; any other path is relative to the ledger's folder. Only ``*`` and ``**``
are wildcards (every other character is literal); ``*`` matches a hidden name only when the pattern's part
starts with a dot, and ``**`` enters no hidden folder, as Python's glob does. A folder is recursed
(:mod:`.folders`). Safety lives here, once: every candidate is checked to lie inside the real root before
anything of it is used; a symbolic link that leaves the root is never followed, for reading or for listing,
and the problem names only what the person wrote; ``**`` visits each real folder once, so links that loop
cannot make it explode; only regular files become sources.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .folders import FILE, GIT_TIMEOUT, LINK, OTHER, ListingError, folder_entries
from .specs import Problem, SourceSpec, range_suffix

DIR = "dir"
#: After this many entries name files in one folder, the folder is listed once instead of each file looked up.
LIST_AFTER = 8


class Source(NamedTuple):
    """A file an entry names, inside the root, maybe a line range of it.

    ``real`` is the real path (``path``: the same as a Path, made when asked); ``shown`` the path as the
    person wrote it (a glob's or folder's member: the written prefix joined with the member's own path);
    ``display`` the one root-relative name of the file (``/docs/a.md``), whatever the spelling; ``named``
    whether the entry names this file itself, rather than a glob or folder that holds it (a member that
    is not text is skipped, a named file is a problem). A named tuple: one is made for every file of
    every entry, so it must be cheap to make.
    """

    spec: SourceSpec
    real: str
    shown: str
    display: str
    start: int | None
    end: int | None
    named: bool = True

    @property
    def path(self) -> Path:
        return Path(self.real)

    @property
    def key(self) -> tuple[str, int | None, int | None]:
        """One file and range, however the entry spelled it."""
        return (self.real, self.start, self.end)

    @property
    def label(self) -> str:
        """The root-relative name with the range (``/docs/a.md:3-9``): one file, one label, in reports."""
        return self.display + range_suffix(self.start, self.end)

    @property
    def shown_label(self) -> str:
        """The name as written with the range (``docs/a.md:3-9``)."""
        return self.shown + range_suffix(self.start, self.end)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A member of a glob or folder left out because it is not text (here: not a regular file)."""

    shown: str
    problem: Problem


@dataclass(slots=True)  # one is made for every entry: slots make it cheaper to make
class Resolution:
    """What one entry resolves to: its files (sorted), the problems with the entry, the members left out."""

    sources: list[Source] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(slots=True)  # one is made for every path written
class _Found:
    """An entry's path resolved, before its line range is applied: cached per written path."""

    members: list[tuple[str, str, str]] = field(default_factory=list)  # (real path, shown, display)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    named: bool = True  # the path names a file, not a glob or a folder
    folder: bool = False


class Resolver:
    """Resolves entries against one source root and one ledger folder; each written path once per run."""

    def __init__(self, root: str | Path, folder: str | Path, *, git_timeout: float = GIT_TIMEOUT) -> None:
        self.root = Path(root)
        self.folder = Path(folder)
        self.git_timeout = git_timeout
        self._root_real = os.path.realpath(root)
        self._folder_real = os.path.realpath(folder)
        self._prefix = self._root_real.rstrip("/") + "/"
        self._found: dict[str, _Found] = {}
        # (base, written folder) -> its real path ending in "/", or "" when it leaves the root
        self._dirs: dict[tuple[str, str], str] = {}
        self._looked: dict[str, int] = {}  # real folder ("/" ended) -> names looked up in it
        self._listed: dict[str, dict[str, int]] = {}  # real folder ("/" ended) -> name -> file type, from one listing

    def inside(self, real: str) -> bool:
        """Whether a real path lies inside the root (or is the root)."""
        return real == self._root_real or real.startswith(self._prefix)

    def _display(self, real: str) -> str:
        return real if self._prefix == "/" else "/" + real[len(self._prefix) :]

    def resolve(self, spec: SourceSpec) -> Resolution:
        """The files an entry names (a glob or folder may name several, sorted), or its problems."""
        if spec.problem is not None:
            return Resolution(problems=[spec.problem])
        found = self._found.get(spec.path)
        if found is None:
            found = self._found[spec.path] = self._resolve(spec.path)
        start, end, named = spec.start, spec.end, found.named
        if found.folder and start is not None:
            return Resolution(problems=[Problem("LK202", "is a directory: a line range needs a file")])
        new = tuple.__new__  # skips Source's generated __new__: one is made for every file of every entry
        members = found.members
        if len(members) == 1:  # a file named: the common case, without a comprehension's frame
            ((real, shown, display),) = members
            sources = [new(Source, (spec, real, shown, display, start, end, named))]
        else:
            sources = [new(Source, (spec, real, shown, display, start, end, named)) for real, shown, display in members]
        return Resolution(sources, list(found.problems), list(found.skipped))

    def _resolve(self, written: str) -> _Found:
        if "\0" in written:
            return _Found(problems=[Problem("LK208", "cannot be read (its path holds a NUL character)")])
        if not written.isascii():
            try:
                os.fsencode(written)
            except UnicodeError:
                return _Found(problems=[Problem("LK208", "cannot be read (its path is not valid text)")])
        absolute = written.startswith("/")
        base = self._root_real if absolute else self._folder_real
        rel = written.lstrip("/") if absolute else written
        try:
            if "*" in written:
                return self._glob(base, rel, "/" if absolute else "")
            return self._path(base, rel, written)
        except ListingError as exc:
            return _Found(problems=[exc.problem])
        except (OSError, ValueError, RecursionError) as exc:  # a name too long; a chain of links too deep
            return _Found(problems=[_unreadable(exc)])

    # --- a path -------------------------------------------------------------------------------------

    def _path(self, base: str, rel: str, written: str) -> _Found:
        real = self._real(base, rel)
        if real is None:
            return _Found(problems=[self._leaves()])
        path, mode = real
        if mode is None:
            try:
                mode = os.lstat(path).st_mode
            except FileNotFoundError:
                return _Found(problems=[Problem("LK201", "not found" + self._looked_for(path, written))])
            except OSError as exc:
                return _Found(problems=[_unreadable(exc)])
        if stat.S_ISREG(mode):  # positional: the defaults' factories cost more than the rest of the call
            return _Found([(path, written, self._display(path))], [], [])
        if stat.S_ISDIR(mode):
            return self._folder(path, written)
        if stat.S_ISLNK(mode):  # realpath gives a link back when links loop
            return _Found(problems=[Problem("LK208", "cannot be read (its symbolic links loop)")])
        return _Found(problems=[Problem("LK209", "is not a regular file")])

    def _real(self, base: str, rel: str) -> tuple[str, int | None] | None:
        """The real path of ``base/rel`` and, when it took one, its lstat mode; None when it leaves the root.
        One realpath per folder rather than per file: a name lstat shows is no symbolic link needs none.
        When the folder already leaves the root, nothing outside the root is even looked at."""
        parent, _, name = rel.rpartition("/")
        if name in ("", ".", ".."):
            return self._inside_or_none(os.path.realpath(os.path.join(base, rel)))
        key = (base, parent)
        folder = self._dirs.get(key)
        if folder is None:
            real = os.path.realpath(os.path.join(base, parent)) if parent else base
            folder = self._dirs[key] = "" if not self.inside(real) else real if real.endswith("/") else real + "/"
        if not folder:
            return None
        # A plain name in a folder inside the root is inside the root: only a link needs looking at again.
        candidate = folder + name
        listed = self._listed.get(folder)
        mode = listed.get(name) if listed is not None else self._listed_mode(folder, name)
        if not mode:  # not listed, or listed as neither file, folder nor link
            try:
                mode = os.lstat(candidate).st_mode
            except OSError:
                return candidate, None  # missing or unreadable: the caller's lstat says which
        if stat.S_ISLNK(mode):
            return self._inside_or_none(os.path.realpath(candidate))
        return candidate, mode

    def _inside_or_none(self, real: str) -> tuple[str, None] | None:
        return (real, None) if self.inside(real) else None

    def _listed_mode(self, folder: str, name: str) -> int | None:
        """The file type of ``folder/name`` from one listing of the folder (not listed yet), taken once many
        entries name files in it: one system call for the folder instead of one per file. None or 0: ask lstat."""
        looked = self._looked[folder] = self._looked.get(folder, 0) + 1
        if looked < LIST_AFTER:
            return None
        listed = self._listed[folder] = {}
        try:
            with os.scandir(folder) as listing:
                for e in listing:  # a regular file first: most names are one, and it takes one question
                    listed[e.name] = stat.S_IFREG if e.is_file(follow_symlinks=False) else _ENTRY_MODES[_kind(e)]
        except OSError:
            pass
        return listed.get(name)

    def _looked_for(self, real: str, written: str) -> str:
        """Where a missing file was looked for, when that is not plain from what was written: the path in
        the source root (``/sub/docs/brief.md``: ``real`` lies inside it), or the whole path when the root
        is the file system's."""
        shown = self._display(real)
        if self._prefix == "/":
            return "" if shown == written else f" (looked for {shown})"
        return "" if shown == "/" + written.lstrip("/") else f" (looked for {shown} in the source root)"

    def _leaves(self) -> Problem:
        return Problem("LK205", f"leaves the source root {self.root}")

    # --- a folder -----------------------------------------------------------------------------------

    def _folder(self, real: str, written: str) -> _Found:
        found = _Found(named=False, folder=True)
        stem = written.rstrip("/")
        prefix = "/" if not stem and written else "" if stem in ("", ".") else stem + "/"
        for name, kind in folder_entries(real, self.git_timeout):
            self._member(found, os.path.join(real, name), kind, prefix + name)
        return found

    def _member(self, found: _Found, path: str, kind: str, shown: str) -> None:
        """Add one file met in a folder or glob: a symbolic link is resolved and must stay in the root."""
        if kind == LINK:
            real = os.path.realpath(path)
            if not self.inside(real):
                if not found.problems:
                    found.problems.append(self._leaves())
                return
            try:
                mode = os.lstat(real).st_mode
            except OSError:
                return  # a broken link: no file here
            if stat.S_ISDIR(mode) or stat.S_ISLNK(mode):  # a folder is not a member; a link back is a loop
                return
            path, kind = real, FILE if stat.S_ISREG(mode) else OTHER
        if kind == FILE:
            found.members.append((path, shown, self._display(path)))
        else:
            found.skipped.append(Skipped(shown, Problem("LK209", "is not a regular file")))

    # --- a glob -------------------------------------------------------------------------------------

    def _glob(self, base: str, rel: str, lead: str) -> _Found:
        found = _Found(named=False)
        parts = [p for p in rel.split("/") if p]
        # Each state is a real folder inside the root and the path it was reached by, as written.
        states: dict[str, str] = {base: lead}
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            after: dict[str, str] = {}
            visited: set[tuple[int, int]] = set()  # the real folders this part's ** has entered
            for folder, shown in states.items():
                if part == "**":
                    self._globstar(found, folder, shown, last, after, visited)
                elif part in (".", ".."):
                    up = folder if part == "." else os.path.dirname(folder)
                    if not self.inside(up):
                        found.problems[:1] = [self._leaves()]
                    elif not last:
                        after.setdefault(up, _join(shown, part))
                else:
                    self._part(found, folder, shown, part, last, after)
            states = after
        if not found.members and not found.skipped and not found.problems:
            found.problems.append(Problem("LK206", "matches no file"))
        found.members = _unique_sorted(found.members)
        found.skipped.sort(key=lambda s: s.shown)
        return found

    def _part(self, found: _Found, folder: str, shown: str, part: str, last: bool, after: dict[str, str]) -> None:
        """One part of the pattern, literal or with ``*``, matched in one folder."""
        if "*" not in part:
            path = os.path.join(folder, part)
            try:
                mode = os.lstat(path).st_mode
            except OSError:
                return
            self._step(found, path, _mode_kind(mode), _join(shown, part), last, after)
            return
        match = _pattern(part)
        try:
            with os.scandir(folder) as listing:
                entries = [e for e in listing if match(e.name)]
        except OSError:
            return
        for entry in entries:
            self._step(found, entry.path, _kind(entry), _join(shown, entry.name), last, after)

    def _step(self, found: _Found, path: str, kind: str, shown: str, last: bool, after: dict[str, str]) -> None:
        """A name a part matched: the last part wants files, the others folders to go on in."""
        if kind == LINK:
            real = os.path.realpath(path)
            if not self.inside(real):
                found.problems[:1] = [self._leaves()]
                return
            try:
                mode = os.stat(real).st_mode
            except OSError:
                return  # broken, or a loop
            path, kind = real, _mode_kind(mode)
        if kind == DIR:
            if not last:
                after.setdefault(path, shown)
        elif last:
            self._member(found, path, kind, shown)

    def _globstar(
        self, found: _Found, top: str, shown: str, last: bool, after: dict[str, str], visited: set[tuple[int, int]]
    ) -> None:
        """``**``: every folder under ``top`` (and ``top``), each real folder once; the files too when last.

        Folders reached without a symbolic link come first, so a file is shown by its own path when a link
        elsewhere also leads to it; links to folders inside the root are followed afterwards.
        """
        todo: list[tuple[str, str]] = [(top, shown)]
        linked: list[tuple[str, str]] = []
        while todo or linked:
            folder, where = todo.pop() if todo else linked.pop(0)
            try:
                st = os.stat(folder)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in visited:
                continue
            visited.add((st.st_dev, st.st_ino))
            if not last:
                after.setdefault(folder, where)
            try:
                with os.scandir(folder) as listing:
                    entries = [e for e in listing if not e.name.startswith(".")]
            except OSError:
                continue
            for entry in entries:
                self._globstar_entry(found, entry, _join(where, entry.name), last, todo, linked)

    def _globstar_entry(
        self,
        found: _Found,
        entry: os.DirEntry[str],
        shown: str,
        last: bool,
        todo: list[tuple[str, str]],
        linked: list[tuple[str, str]],
    ) -> None:
        kind = _kind(entry)
        if kind == DIR:
            todo.append((entry.path, shown))
        elif kind == LINK:
            real = os.path.realpath(entry.path)
            if not self.inside(real):
                found.problems[:1] = [self._leaves()]
            elif os.path.isdir(real):
                linked.append((real, shown))
            elif last:
                self._member(found, entry.path, LINK, shown)
        elif last:
            self._member(found, entry.path, kind, shown)


def _kind(entry: os.DirEntry[str]) -> str:
    """What a listed name is, from what the listing already knows (no stat where the file system tells)."""
    if entry.is_symlink():
        return LINK
    if entry.is_dir(follow_symlinks=False):
        return DIR
    return FILE if entry.is_file(follow_symlinks=False) else OTHER


# A listed kind as the file type lstat would give; 0 (not known: ask lstat) for anything else.
_ENTRY_MODES = {LINK: stat.S_IFLNK, DIR: stat.S_IFDIR, FILE: stat.S_IFREG, OTHER: 0}


def _mode_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return LINK
    if stat.S_ISDIR(mode):
        return DIR
    return FILE if stat.S_ISREG(mode) else OTHER


def _join(shown: str, name: str) -> str:
    return shown + name if not shown or shown.endswith("/") else shown + "/" + name


def _unique_sorted(members: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Sorted by the name shown; a file reached by several names is kept once, by the first."""
    seen: set[str] = set()
    out = []
    for member in sorted(members, key=lambda m: m[1]):
        if member[0] not in seen:
            seen.add(member[0])
            out.append(member)
    return out


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern(part: str) -> Callable[[str], bool]:
    """A matcher for one part with ``*``: every other character literal; a leading dot must be matched."""
    compiled = _PATTERNS.get(part)
    if compiled is None:
        body = ".*".join(re.escape(piece) for piece in part.split("*"))
        compiled = _PATTERNS[part] = re.compile(body, re.DOTALL)
    hidden_ok = part.startswith(".")
    full = compiled.fullmatch
    return lambda name: (hidden_ok or not name.startswith(".")) and full(name) is not None


def _unreadable(exc: BaseException) -> Problem:
    if isinstance(exc, OSError):
        return Problem("LK208", f"cannot be read ({exc.strerror or exc})")
    return Problem("LK208", f"cannot be read ({exc})")
