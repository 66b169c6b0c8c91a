"""A ledger's versions from git: the base of a working copy, every committed version, changes under frozen paths.

The API returns bytes and facts about commits; parsing ledgers is the caller's job. Every git process runs
with a bounded wait, without a terminal prompt or a pager, in the C locale, with the repository found from
the ledger's own path (never from a hook's GIT_DIR), and every way git can fail is a :class:`GitError`
that says what to do: an unavailable base is never a silent "no base".
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, NamedTuple, NoReturn, Self

from ..errors import LedgerkitError

if TYPE_CHECKING:
    import subprocess

#: Seconds any one git process may stay silent before it is stopped.
TIMEOUT = 60.0

#: Hex digits of a short commit id (git's %h would follow --no-abbrev, which the raw blob ids need).
SHORT = 12

#: Variables that tell git which repository, index or objects to use. A hook exports some of them (pre-commit
#: runs with GIT_INDEX_FILE, a worktree or submodule hook with GIT_DIR), and they would point a git started
#: for another repository at the wrong one: the repository is always found from the ledger's path instead.
_LOCATION_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_SHALLOW_FILE",
    "GIT_GRAFT_FILE",
    "GIT_REPLACE_REF_BASE",
    "GIT_NAMESPACE",
    "GIT_QUARANTINE_PATH",
    "GIT_LITERAL_PATHSPECS",
    "GIT_GLOB_PATHSPECS",
    "GIT_NOGLOB_PATHSPECS",
    "GIT_ICASE_PATHSPECS",
    "GIT_EXTERNAL_DIFF",
    "GIT_DIFF_OPTS",
)

#: Settings that would change the output parsed here (log.follow turns a one-path log into --follow,
#: log.showSignature adds gpg text to it) or start a daemon.
_CONFIG = (
    "-c",
    "core.quotepath=off",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "log.follow=false",
    "-c",
    "log.showSignature=false",
    "-c",
    "color.ui=never",
)

#: One commit's facts, NUL-separated; the record separator marks where a commit starts. %D is restricted to no
#: ref at all (--decorate-refs below), so it holds only the pseudo-decoration "grafted" of a shallow clone.
_FORMAT = "%x1e%H%x00%P%x00%an%x00%ae%x00%aI%x00%s%x00%D%x00"
_FIELDS = 7
_NO_REFS = "--decorate-refs=refs/ledgerkit/no-ref-matches-this/"
#: -l0: no limit on rename detection, which a large commit would otherwise skip, hiding a rename + forgery.
_LOG = ("log", "-z", "--raw", "--no-abbrev", "-M", "-l0", "--full-history", "--topo-order", "--no-color")
_LOG_FACTS = ("--encoding=UTF-8", "--no-show-signature", _NO_REFS, f"--format={_FORMAT}")

#: Renames followed before the search gives up: each is one more git log call.
_MAX_RENAMES = 64


class GitError(LedgerkitError):
    """git cannot answer: not installed, refusing the repository, a missing revision, a corrupt repository."""


class MissingRevision(GitError):
    """A revision that is not in this clone; ``hint`` says how to get it (or is empty)."""

    def __init__(self, revision: str, hint: str = "", path: str | Path | None = None) -> None:
        super().__init__(f"{revision}: no such git revision{hint}", path)
        self.revision = revision
        self.hint = hint


class Commit(NamedTuple):
    """Facts about one commit as recorded: author unmapped by .mailmap, author date in strict ISO 8601."""

    id: str
    short: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    date: str
    subject: str


class BaseVersion(NamedTuple):
    """A ledger as committed at ``rev``: the commit, the name it had there and its blob (a cache key)."""

    rev: str
    commit: str
    path_at_rev: str
    blob: str
    data: bytes


class FileAt(NamedTuple):
    """A file's content in one commit: its name there, its blob id and its bytes (None when not read)."""

    path: str
    blob: str
    data: bytes | None


class Version(NamedTuple):
    """One committed version of a file, with the version it replaced (``before``, in the first parent).

    ``status`` is A (added: ``before`` is None), M, T (type changed), R (renamed from ``before.path``) or D
    (deleted, or renamed to another name: ``blob`` and ``data`` are None). ``path`` is its name in ``commit``.
    """

    commit: Commit
    status: str
    path: str
    blob: str | None
    data: bytes | None
    before: FileAt | None


class Change(NamedTuple):
    """A commit that added (A), modified (M, T), deleted (D) or renamed (R, from ``old_path``) a file."""

    commit: Commit
    status: str
    path: str
    old_path: str | None


class _Entry(NamedTuple):
    """One line of git's raw diff: the two sides' blob ids (None when absent), status letter and paths."""

    old_blob: str | None
    new_blob: str | None
    status: str
    old_path: bytes
    new_path: bytes


def open_repository(path: str | Path, *, timeout: float = TIMEOUT) -> Repository | None:
    """The git work tree holding ``path`` (a file or folder), or None when there is none.

    The work tree is found without running git, by the nearest ``.git`` (a folder, or a file as in a linked
    worktree or a submodule). What can be seen without git is checked here (git missing, a ``.git`` file
    pointing nowhere); what only git can tell (dubious ownership, a corrupt repository) is a GitError from
    the first query, so opening costs no process and the common base lookup costs one.
    """
    start = Path(os.path.realpath(path))
    if not start.is_dir():
        start = start.parent
    for folder in (start, *start.parents):
        dot_git = folder / ".git"
        if os.path.lexists(dot_git):  # a broken .git is this repository's problem, not a reason to look higher
            break
    else:
        return None
    if not _git_installed():
        raise GitError(f"{folder} is a git work tree, but git is not installed (or not on PATH): install git")
    return Repository(folder, _git_dir(dot_git), timeout=timeout)


def _git_installed() -> bool:
    """Whether ``git`` is on PATH: shutil.which's test, without importing shutil (and with it bz2 and lzma) on
    every run of the hook."""
    if os.name == "nt":  # PATHEXT and the current folder: shutil's own rules
        import shutil

        return shutil.which("git") is not None
    for folder in os.get_exec_path():
        candidate = os.path.join(folder, "git")
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return True
    return False


def _git_dir(dot_git: Path) -> Path | None:
    """The repository folder a ``.git`` names (itself, or the ``gitdir:`` of a ``.git`` file); None if unclear."""
    if dot_git.is_dir():
        return dot_git
    if not dot_git.is_file():
        return None
    try:
        with open(dot_git, "rb") as file:
            head = file.read(4096)
    except OSError:
        return None
    match = re.match(rb"gitdir: *(.+?)\r?\n?$", head)
    if match is None:
        raise GitError(f"{dot_git} is a file but not a 'gitdir:' pointer: repair it or remove it")
    target = dot_git.parent / os.fsdecode(match.group(1))
    if not target.is_dir():
        raise GitError(
            f"{dot_git} points to {target}, which does not exist (a worktree or submodule that was moved or "
            "removed?): run `git worktree prune` in the main repository, or remove the .git file"
        )
    return Path(os.path.realpath(target))


class Repository:
    """One git work tree, queried through bounded git processes; paths are relative to ``top`` in answers."""

    def __init__(self, top: Path, git_dir: Path | None = None, *, timeout: float = TIMEOUT) -> None:
        self.top = top
        self.git_dir = git_dir
        self.timeout = timeout
        self._environment: dict[str, str] | None = None

    def __repr__(self) -> str:
        return f"Repository({str(self.top)!r})"

    # --- the base of a working copy -------------------------------------------------------------------

    def base(self, path: str | Path, rev: str = "HEAD") -> BaseVersion | None:
        """The file as committed at ``rev``, under the name it had there; None when it is new at ``rev``.

        A file not at ``rev`` under its current name is looked up under the name it had: a rename staged
        in the index (``git mv``, ``mv`` + ``git add -A``), else one between ``rev`` and the working tree
        (``mv`` without ``add``). None also when the repository has no commits yet. A revision this clone
        lacks is a MissingRevision. The common case (the file is there under its name) is one git process.
        """
        name = self._name(path)
        _check_revision(rev, path)
        unsafe = _unsafe_in_batch(name)
        with _cat_file(self, path) as batch:
            commit = batch.get(f"{rev}^{{commit}}".encode())
            found = None if commit is None or unsafe else batch.get(commit.oid.encode() + b":" + name)
        if commit is None:
            self._check_unborn(rev, path)
            return None
        if found is None:  # cat-file says "missing" alike for a name not there and an object lost: tell them apart
            found = self._object_at(commit.oid, name, path)
        if found is not None and found.kind == "blob":
            return BaseVersion(rev, commit.oid, os.fsdecode(name), found.oid, found.data)
        old = self._name_before(commit.oid, name, path)
        if old is None:
            return None
        found = self._object_at(commit.oid, old, path)
        if found is None or found.kind != "blob":
            raise GitError(f"git named {os.fsdecode(old)!r} as this file's name in {rev}, but it is not there", path)
        return BaseVersion(rev, commit.oid, os.fsdecode(old), found.oid, found.data)

    def _check_unborn(self, rev: str, path: str | Path) -> None:
        """Pass when ``rev`` is HEAD on a branch without commits yet; otherwise raise why ``rev`` is missing."""
        if rev in ("HEAD", "@"):
            branch = os.fsdecode(self._run(["symbolic-ref", "-q", "HEAD"], path, ok=(0, 1)).strip())
            if branch and not self._run(["rev-parse", "-q", "--verify", "--end-of-options", branch], path, ok=(0, 1)):
                return  # HEAD is a branch with no commit yet
            raise GitError("HEAD names a commit that is not in the repository: it is damaged (see `git fsck`)", path)
        raise self._missing(rev, path)

    def _object_at(self, commit: str, name: bytes, path: str | Path) -> _Object | None:
        """The blob at ``commit:name`` for any name (a newline too); None when no file has that name there.

        A name the tree lists whose object cannot be read is a damaged repository, never "not there".
        """
        listed = self._run(["--literal-pathspecs", "ls-tree", "-z", "--full-tree", commit, "--", name], path)
        for line in listed.split(b"\0"):
            meta, _, listed_name = line.partition(b"\t")
            fields = meta.split(b" ")
            if listed_name != name or len(fields) != 3:
                continue
            if fields[1] != b"blob":
                return None  # a folder or a submodule by that name: not this file
            with _CatFile(self, path) as batch:
                found = batch.get(fields[2])
            if found is None:
                raise GitError(
                    f"{os.fsdecode(name)} is in {commit[:SHORT]} but its content ({fields[2].decode()}) is missing "
                    "from the repository: it is damaged (see `git fsck`)",
                    path,
                )
            return found
        return None

    def _name_before(self, commit: str, name: bytes, path: str | Path) -> bytes | None:
        """The name ``name`` had in ``commit``, by git's rename detection: staged first, then the working tree."""
        staged = self._run(["diff-index", "--cached", "-z", "-M", "-l0", "--name-status", commit], path)
        old = _renamed_to(staged, name)
        if old is not None or not os.path.lexists(self.top / os.fsdecode(name)):
            return old
        # Not staged: compare `commit` with the working tree, through a scratch index read from `commit` (never
        # the user's) plus an entry for the file, so that git reads it from the working tree. The entry names
        # the empty blob without writing it (`add -N` would): nothing is written to the repository.
        import hashlib
        import tempfile

        empty = hashlib.new("sha1" if len(commit) == 40 else "sha256", b"blob 0\0").hexdigest()
        with tempfile.TemporaryDirectory(prefix="ledgerkit-git-") as scratch:
            index = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            self._run(["read-tree", commit], path, env=index)
            self._run(["update-index", "--add", "--cacheinfo", "100644", empty, name], path, env=index)
            working = self._run(["diff-index", "-z", "-M", "-l0", "--name-status", commit], path, env=index)
        return _renamed_to(working, name)

    # --- history ------------------------------------------------------------------------------------------

    def history(
        self, path: str | Path, since: str | None = None, until: str = "HEAD", *, read: bool = True
    ) -> list[Version]:
        """Every committed version of a file, oldest first, following renames, each with the one it replaced.

        Each Version's ``before`` is the file in that commit's first parent (for a merge too: the line it was
        merged into), so every commit is checked against what it changed, in any shape of history. With
        ``since``, only commits in ``since..until``; the oldest one's ``before`` is the starting point (``since``
        itself for a branch made on top of it). Commits on merged branches are listed as well (every one that
        changed the file, not the first-parent line only). One git log per name the file has had, one cat-file
        for the blobs (none with ``read=False``: then stream them with :meth:`read_blobs`).
        """
        name = self._name(path)
        for rev in (until, since):
            if rev is not None:
                _check_revision(rev, path)
        found = self._walk(name, since, until, path)
        if not read or not found:
            return found
        wanted = {v.blob for v in found if v.blob} | {v.before.blob for v in found if v.before}
        data = dict(self.read_blobs(sorted(wanted), path=path))
        return [
            Version(
                v.commit,
                v.status,
                v.path,
                v.blob,
                None if v.blob is None else data[v.blob],
                None if v.before is None else FileAt(v.before.path, v.before.blob, data[v.before.blob]),
            )
            for v in found
        ]

    def _walk(self, name: bytes, since: str | None, until: str, path: str | Path) -> list[Version]:
        """The versions under each name in turn: a rename found under one name starts a walk of the old name."""
        segments: list[list[Version]] = []
        chosen: dict[str, Version] = {}
        pending: dict[bytes, list[str]] = {name: [until]}
        walked: set[tuple[bytes, str]] = set()
        while pending:
            if len(segments) > _MAX_RENAMES:
                raise GitError(f"more than {_MAX_RENAMES} renames to follow: giving up", path)
            current, starts = next(iter(pending.items()))
            del pending[current]
            walked.update((current, start) for start in starts)
            segment = []
            for logged in self._log(current, starts, since, path):
                version = _version(logged.commit, logged.entries, current)
                if version is None or logged.commit.id in chosen:
                    continue
                chosen[logged.commit.id] = version
                segment.append(version)
                if version.status == "R" and version.before is not None and logged.commit.parents:
                    older, parent = os.fsencode(version.before.path), logged.commit.parents[0]
                    if (older, parent) not in walked:
                        pending.setdefault(older, []).append(parent)
            segments.append(segment)
        # Older names were reached from the parents of the commits that renamed them: they come first.
        return [version for segment in reversed(segments) for version in reversed(segment)]

    def _log(self, name: bytes, starts: Sequence[str], since: str | None, path: str | Path) -> list[_Logged]:
        """Each commit from ``starts`` (not from ``since``) that changed ``name``, with its whole raw diff.

        The whole diff (--full-diff) lets git's rename detection see where an added file came from.
        """
        args: list[str | bytes] = ["--literal-pathspecs", *_LOG, "--full-diff", "--diff-merges=first-parent"]
        args += [*_LOG_FACTS, "--end-of-options", *starts]
        if since is not None:
            args.append(f"^{since}")
        return _complete(_parse_log(self._log_output([*args, "--", name], path), path), path)

    def _log_output(self, args: Sequence[str | bytes], path: str | Path) -> bytes:
        """git log's output; a branch without commits has none, a revision this clone lacks is MissingRevision."""
        try:
            return self._run(args, path)
        except _Failed as failed:
            if "does not have any commits yet" in failed.stderr:
                return b""
            bad = re.search(r"(?:bad revision|ambiguous argument) '\^?([^']*)'", failed.stderr)
            if bad is not None and bad.group(1) in ("HEAD", "@"):
                self._check_unborn(bad.group(1), path)
                return b""
            if bad is not None:
                raise self._missing(bad.group(1), path) from None
            # A full commit id this clone lacks (a shallow clone's older commit) is a "bad object": the revision
            # asked for is missing, and the repository is not damaged.
            lost = re.search(r"bad object \^?(\S+)", failed.stderr)
            asked = {os.fsdecode(a).lstrip("^") for a in args}
            if lost is not None and lost.group(1) in asked:
                raise self._missing(lost.group(1), path) from None
            raise

    def read_blobs(self, blobs: Iterable[str], *, path: str | Path | None = None) -> Iterator[tuple[str, bytes]]:
        """Each blob's bytes, in the order given, from one ``git cat-file --batch`` process."""
        ids = list(blobs)
        if not ids:
            return
        with _CatFile(self, path) as batch:
            for oid, found in zip(ids, batch.stream(oid.encode() for oid in ids), strict=True):
                if found is None or found.kind != "blob":
                    raise GitError(f"blob {oid} is missing from the repository: it is damaged or incomplete", path)
                yield oid, found.data

    def files_at(self, wanted: Sequence[tuple[str, str]], *, path: str | Path | None = None) -> list[bytes | None]:
        """Each file's bytes in a commit, for (commit, name) pairs; None where that commit has no such file.

        One ``git cat-file --batch`` for them all (a name the batch protocol cannot carry goes through ls-tree).
        """
        found: list[bytes | None] = []
        with _CatFile(self, path) as batch:
            for commit, name in wanted:
                _check_revision(commit, path or self.top)
                raw = os.fsencode(name)
                got = self._object_at(commit, raw, path or self.top) if _unsafe_in_batch(raw) else None
                if got is None and not _unsafe_in_batch(raw):
                    got = batch.get(commit.encode() + b":" + raw)
                found.append(got.data if got is not None and got.kind == "blob" else None)
        return found

    # --- changes under frozen paths -----------------------------------------------------------------------

    def changes(self, since: str | None, until: str, pathspecs: Sequence[str], *, root: str | Path) -> list[Change]:
        """Each commit in ``since..until`` that added, changed, deleted or renamed a file matching a glob.

        Globs are relative to ``root`` (a folder in the work tree), as git's ``:(glob)`` pathspecs: ``*``
        stays within a folder, ``**`` crosses folders, a folder name covers all below it. A merge is listed
        for a file only when it differs from every parent (the merge itself wrote it); the commits it merged
        are listed on their own. Oldest first, one git log call.
        """
        if not pathspecs:
            return []
        for rev in (until, since):
            if rev is not None:
                _check_revision(rev, root)
        specs = [_glob_pathspec(self._folder(root), pattern, root) for pattern in pathspecs]
        args: list[str | bytes] = [*_LOG, "--diff-merges=combined", *_LOG_FACTS, "--end-of-options", until]
        if since is not None:
            args.append(f"^{since}")
        logged = _complete(_parse_log(self._log_output([*args, "--", *specs], root), root), root)
        return [
            Change(
                each.commit,
                entry.status,
                os.fsdecode(entry.old_path if entry.status == "D" else entry.new_path),
                os.fsdecode(entry.old_path) if entry.status == "R" else None,
            )
            for each in reversed(logged)
            for entry in each.entries
        ]

    # --- processes ------------------------------------------------------------------------------------

    def _name(self, path: str | Path) -> bytes:
        """The path of a file as git names it in this repository (relative to the top, with slashes)."""
        real = Path(os.path.realpath(path))
        try:
            relative = real.relative_to(self.top)
        except ValueError:
            raise GitError(f"{real} is not inside the git work tree {self.top}", path) from None
        if not relative.parts or relative.parts[0] == ".git":
            raise GitError(f"{real} is not a file of the git work tree {self.top}", path)
        return os.fsencode("/".join(relative.parts))

    def _folder(self, root: str | Path) -> str:
        real = Path(os.path.realpath(root))
        try:
            return "/".join(real.relative_to(self.top).parts)
        except ValueError:
            raise GitError(f"{real} is not inside the git work tree {self.top}", root) from None

    def _env(self) -> dict[str, str]:
        """The environment every git process gets: no prompt, no pager, C locale, no borrowed repository."""
        if self._environment is None:
            env = {k: v for k, v in os.environ.items() if k not in _LOCATION_VARIABLES}
            index = self._hook_index()
            if index is not None:
                env["GIT_INDEX_FILE"] = index
            if self.top.parent != self.top:
                # git must read this work tree's repository or none: where the .git found here is broken, git's
                # own search would go on upwards and answer from an enclosing repository, about another file.
                env["GIT_CEILING_DIRECTORIES"] = str(self.top.parent)
            env.update(
                GIT_TERMINAL_PROMPT="0",
                GIT_PAGER="cat",
                PAGER="cat",
                GIT_EDITOR=":",
                LC_ALL="C",
                GIT_OPTIONAL_LOCKS="0",  # a query never takes the index lock a committing git holds
                GIT_NO_REPLACE_OBJECTS="1",  # the base is what was committed, not what `git replace` says
            )
            self._environment = env
        return self._environment

    def _hook_index(self) -> str | None:
        """GIT_INDEX_FILE when it is this repository's (a hook during `git commit -a` or `commit PATH`)."""
        value = os.environ.get("GIT_INDEX_FILE")
        if not value or self.git_dir is None:
            return None
        index = Path(os.path.realpath(value))  # relative to the working folder, as git in the hook reads it
        homes = [self.git_dir]
        common = self.git_dir / "commondir"
        if common.is_file():
            try:
                homes.append(Path(os.path.realpath(self.git_dir / common.read_text("utf-8").strip())))
            except (OSError, UnicodeError):
                pass
        if index.is_file() and any(index.is_relative_to(home) for home in homes):
            return str(index)
        return None

    def _command(self, args: Sequence[str | bytes]) -> list[str | bytes]:
        return ["git", "--no-pager", *_CONFIG, "-C", str(self.top), *args]

    def _run(
        self,
        args: Sequence[str | bytes],
        path: str | Path | None,
        *,
        ok: tuple[int, ...] = (0,),
        env: dict[str, str] | None = None,
    ) -> bytes:
        """The stdout of one git process, bounded by the timeout; a failure is a GitError (a _Failed)."""
        import subprocess  # not at import: the hook's one process for the base is spawned without it

        environment = self._env() if env is None else {**self._env(), **env}
        try:
            done = subprocess.run(
                self._command(args),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                env=environment,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise GitError(f"git {_verb(args)} did not finish within {self.timeout:g} s: stopped", path) from None
        except OSError as error:
            raise _cannot_run(error, path) from None
        if done.returncode in ok:
            return done.stdout
        stderr = done.stderr.decode("utf-8", "replace")
        raise _Failed(stderr, self._failure(args, stderr, path))

    def _failure(self, args: Sequence[str | bytes], stderr: str, path: str | Path | None) -> GitError:
        """The GitError for a git that failed: what happened and what to do."""
        if "dubious ownership" in stderr:
            where = re.search(r"safe\.directory (.+)$", stderr, re.MULTILINE)
            folder = where.group(1).strip() if where else str(self.top)
            return GitError(
                f"git refuses to read the repository at {folder}: it belongs to another user (git's "
                f"'dubious ownership' check), so its history cannot be compared. If you trust it, run: "
                f"git config --global --add safe.directory {folder}",
                path,
            )
        if "not a git repository" in stderr:
            return GitError(f"{self.top} has a .git, but git finds no repository there: repair or remove it", path)
        if re.search(r"corrupt|bad object|loose object|unable to read|packfile|not a tree object|bad tree", stderr):
            return GitError(
                f"git {_verb(args)} failed: the repository is damaged (see `git fsck`): {_first(stderr)}", path
            )
        if re.search(r"unrecognized argument|unknown option", stderr):
            return GitError(f"git is too old for `git {_verb(args)}` here: ledgerkit needs git 2.31 or newer", path)
        return GitError(f"git {_verb(args)} failed: {_first(stderr)}", path)

    def _missing(self, rev: str, path: str | Path | None) -> MissingRevision:
        """Why ``rev`` is not here, with the fix for the usual causes: a shallow clone, an unfetched branch."""
        hints = []
        shallow = self._run(["rev-parse", "--is-shallow-repository"], path, ok=(0, 128)).strip() == b"true"
        if shallow:
            hints.append(
                "this clone is shallow (it lacks older commits): run `git fetch --unshallow`, "
                "or set `fetch-depth: 0` in actions/checkout"
            )
        remotes = self._run(["remote"], path, ok=(0, 128)).decode("utf-8", "replace").split()
        remote = next((r for r in remotes if rev.startswith(f"{r}/") and len(rev) > len(r) + 1), None)
        if remote is not None:
            branch = rev[len(remote) + 1 :]
            hints.append(f"{rev} is not fetched: run `git fetch {remote} {branch}:refs/remotes/{rev}`")
        return MissingRevision(rev, "".join(f"; {hint}" for hint in hints), path)


class _Failed(GitError):
    """A git process that failed, with its stderr (C locale) for the callers that recognise a case."""

    def __init__(self, stderr: str, error: GitError) -> None:
        super().__init__(error.message, error.path)
        self.stderr = stderr


def _cannot_run(error: OSError, path: str | Path | None) -> GitError:
    """git could not be started at all (not on PATH, not executable)."""
    return GitError(f"cannot run git: {error.strerror or error}: install git or fix PATH", path)


def _first(stderr: str) -> str:
    """git's own reason: its first fatal or error line, else its first line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return next((line for line in lines if line.startswith(("fatal:", "error:"))), lines[0] if lines else "no message")


def _verb(args: Sequence[str | bytes]) -> str:
    return next((os.fsdecode(a) for a in args if not os.fsdecode(a).startswith("-")), "")


def _check_revision(rev: str, path: str | Path) -> None:
    """A revision must not read as an option or break the line-based batch protocol."""
    if not rev or rev.startswith("-") or any(c in rev for c in "\n\r\0"):
        raise GitError(f"{rev!r} is not a git revision", path)


def _unsafe_in_batch(name: bytes) -> bool:
    """cat-file --batch reads a line and drops a trailing CR: such names go through ls-tree instead."""
    return b"\n" in name or name.endswith(b"\r")


def _glob_pathspec(folder: str, pattern: str, root: str | Path) -> str:
    """``pattern`` (relative to ``folder``) as a ``:(glob)`` pathspec; a pattern that leaves it is an error."""
    clean = pattern.replace("\\", "/").strip()
    parts = [part for part in clean.split("/") if part not in ("", ".")]
    if clean.startswith("/") or ".." in parts or clean.startswith(":"):
        raise GitError(f"frozen path {pattern!r} must stay inside {root}", root)
    prefix = re.sub(r"([*?\[\\])", r"\\\1", folder)
    return ":(glob)" + "/".join(p for p in (prefix, "/".join(parts)) if p)


def _renamed_to(out: bytes, name: bytes) -> bytes | None:
    """The old name of a rename to ``name`` in `git diff-index -z --name-status -M` output."""
    fields = out.split(b"\0")
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i]
        if status[:1] in (b"R", b"C"):
            if fields[i + 2] == name and status[:1] == b"R":
                return fields[i + 1]
            i += 3
        else:
            i += 2
    return None


# --- log output -----------------------------------------------------------------------------------------


class _Logged(NamedTuple):
    commit: Commit
    grafted: bool
    entries: list[_Entry]


def _parse_log(out: bytes, path: str | Path | None) -> list[_Logged]:
    """Commits and their raw diff entries from `git log -z --raw --format=_FORMAT`, newest first.

    Fields are taken by count, never by content, so names and subjects holding any byte but NUL parse.
    """
    tokens = out.split(b"\0")
    commits: list[_Logged] = []
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip(b"\n")
        if not token:
            i += 1
        elif token.startswith(b"\x1e"):
            if i + _FIELDS > len(tokens):
                raise GitError("git log's output ended inside a commit", path)
            commits.append(_Logged(*_commit([token[1:], *tokens[i + 1 : i + _FIELDS]]), []))
            i += _FIELDS
        elif token.startswith(b":") and commits:
            entry, i = _entry(token, tokens, i + 1, path)
            commits[-1].entries.append(entry)
        else:
            raise GitError(f"unexpected git log output: {token[:60]!r}", path)
    return commits


def _commit(fields: list[bytes]) -> tuple[Commit, bool]:
    """A commit's facts, and whether it is a shallow clone's boundary (git shows it with no parents)."""
    full, parents, name, email, date, subject, decoration = (f.decode("utf-8", "replace") for f in fields)
    commit = Commit(full, full[:SHORT], tuple(parents.split()), name, email, date, subject)
    return commit, "grafted" in decoration.split(", ")


def _entry(meta: bytes, tokens: list[bytes], i: int, path: str | Path | None) -> tuple[_Entry, int]:
    """One raw entry (``:modes blobs status``, then one path or two) and the index after it."""
    parents = len(meta) - len(meta.lstrip(b":"))
    fields = meta[parents:].split(b" ")
    if len(fields) != 2 * (parents + 1) + 1:
        raise GitError(f"unexpected git raw diff line: {meta[:80]!r}", path)
    blobs = fields[parents + 1 : 2 * (parents + 1)]
    status = fields[-1].decode("ascii", "replace")
    two = parents == 1 and status[:1] in ("R", "C")
    names = tokens[i : i + (2 if two else 1)]
    if len(names) != (2 if two else 1):
        raise GitError("git log's output ended inside a diff entry", path)
    old_blob = None if all(b.strip(b"0") == b"" for b in blobs[:-1]) else blobs[0].decode()
    new_blob = None if blobs[-1].strip(b"0") == b"" else blobs[-1].decode()
    if parents > 1:  # a merge's combined entry: one name, a letter per parent
        status = "A" if old_blob is None else "D" if new_blob is None else "M"
    return _Entry(old_blob, new_blob, status[:1], names[0], names[-1]), i + len(names)


def _complete(logged: list[_Logged], path: str | Path | None) -> list[_Logged]:
    """The commits, unless one is a shallow clone's boundary that shows files as added: history is cut there."""
    for each in logged:
        if each.grafted and each.entries:
            raise GitError(
                f"this clone is shallow: commit {each.commit.short} is its boundary and the commits before it are "
                "missing, so this history cannot be checked: run `git fetch --unshallow`, or set `fetch-depth: 0` "
                "in actions/checkout",
                path,
            )
    return logged


def _version(commit: Commit, entries: list[_Entry], name: bytes) -> Version | None:
    """The file ``name`` in one commit's raw diff (against its first parent), or None if it is not there."""
    for entry in entries:
        if entry.new_path == name and entry.status != "D":
            before = None
            if entry.old_blob is not None:
                before = FileAt(os.fsdecode(entry.old_path), entry.old_blob, None)
            return Version(commit, entry.status, os.fsdecode(name), entry.new_blob, None, before)
    for entry in entries:
        if entry.old_path == name and entry.status in ("D", "R") and entry.old_blob is not None:
            before = FileAt(os.fsdecode(name), entry.old_blob, None)
            return Version(commit, "D", os.fsdecode(name), None, None, before)
    return None


# --- cat-file -------------------------------------------------------------------------------------------


class _Object(NamedTuple):
    oid: str
    kind: str
    data: bytes


class _Batch:
    """What both ways of running ``git cat-file --batch`` share: git's stderr kept in a scratch file, and the
    GitError a stopped batch becomes."""

    _repository: Repository
    _path: str | Path | None
    _errors: IO[bytes]

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is None:
            self.close()  # git's failure, if any, is raised
        else:
            self._abandon()  # whatever stopped the reader: git is stopped too

    def close(self) -> None:
        raise NotImplementedError

    def _abandon(self) -> None:
        raise NotImplementedError

    def _stopped(self, *, expired: bool) -> NoReturn:
        """Stop git and raise why: its silence past the bound, or what its stderr says."""
        self._abandon()
        if expired:
            raise GitError(f"git cat-file did not answer within {self._repository.timeout:g} s: stopped", self._path)
        raise self._error()

    def _error(self) -> GitError:
        self._errors.seek(0)
        stderr = self._errors.read(65536).decode("utf-8", "replace")
        self._errors.close()
        if not stderr.strip():
            return GitError("git cat-file stopped without saying why", self._path)
        return self._repository._failure(["cat-file"], stderr, self._path)


class _CatFile(_Batch):
    """One ``git cat-file --batch`` process: objects by name, one at a time or streamed, each wait bounded."""

    def __init__(self, repository: Repository, path: str | Path | None) -> None:
        self._repository = repository
        self._path = path
        import subprocess

        self._errors = _scratch_file()  # a file, not a pipe: git's stderr can never fill and block it
        try:
            self._process = subprocess.Popen(
                repository._command(["cat-file", "--batch"]),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._errors,
                env=repository._env(),
            )
        except OSError as error:
            self._errors.close()
            raise _cannot_run(error, path) from None
        self._watchdog = _Watchdog(self._process, repository.timeout)
        self._closed = False

    def get(self, spec: bytes) -> _Object | None:
        """The object ``spec`` names (``rev``, ``rev:path``, an id), None when git says it is missing."""
        self._write(spec + b"\n")
        return self._read()

    def stream(self, specs: Iterable[bytes]) -> Iterator[_Object | None]:
        """Each object in turn; a thread writes the requests so neither side's pipe can fill and block."""
        requests = [spec + b"\n" for spec in specs]
        stdin = self._stdin()
        writer = threading.Thread(target=_write_all, args=(stdin, requests), daemon=True)
        writer.start()
        try:
            for _ in requests:
                yield self._read()
        except BaseException:  # a reader that stops early (or fails) must not leave the writer blocked
            self._abandon()
            raise
        finally:
            writer.join(self._repository.timeout)

    def close(self) -> None:
        """Wait for git to finish and report its failure, if any."""
        if self._closed:
            return
        try:
            if self._process.stdin is not None and not self._process.stdin.closed:
                self._process.stdin.close()
        except OSError:
            pass
        import subprocess

        try:
            code = self._process.wait(self._repository.timeout)
        except subprocess.TimeoutExpired:
            self._abandon()
            raise GitError("git cat-file did not finish: stopped", self._path) from None
        self._finish()
        if code != 0:
            raise self._error()

    def _stdin(self) -> IO[bytes]:
        stdin = self._process.stdin
        assert stdin is not None
        return stdin

    def _write(self, data: bytes) -> None:
        try:
            stdin = self._stdin()
            stdin.write(data)
            stdin.flush()
        except (BrokenPipeError, ValueError):  # git already exited: its stderr says why
            self._fail()

    def _read(self) -> _Object | None:
        stdout = self._process.stdout
        assert stdout is not None
        self._watchdog.arm()
        try:
            header = stdout.readline()
            if header.endswith((b" missing\n", b" ambiguous\n")):
                return None
            fields = header.split()
            if len(fields) != 3 or not fields[2].isdigit():
                self._fail()
            size = int(fields[2])
            data = stdout.read(size + 1)
            if len(data) != size + 1:
                self._fail()
            return _Object(fields[0].decode(), fields[1].decode(), data[:-1])
        finally:
            self._watchdog.disarm()

    def _fail(self) -> NoReturn:
        self._stopped(expired=self._watchdog.expired)

    def _abandon(self) -> None:
        if self._closed:
            return
        import subprocess

        self._process.kill()
        try:
            self._process.wait(self._repository.timeout)
        except subprocess.TimeoutExpired:
            pass
        self._finish()

    def _finish(self) -> None:
        self._closed = True
        self._watchdog.stop()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


def _cat_file(repository: Repository, path: str | Path | None) -> _CatFile | _SpawnedCatFile:
    """A ``git cat-file --batch`` for a few objects asked one at a time: spawned directly where the system
    allows (Linux), else through subprocess."""
    if hasattr(os, "posix_spawnp") and hasattr(os, "pidfd_open"):
        return _SpawnedCatFile(repository, path)
    return _CatFile(repository, path)


#: POSIX fixes SIGKILL's number; the signal module (an enum of every signal) would be one more import.
_SIGKILL = 9


class _SpawnedCatFile(_Batch):
    """:class:`_CatFile`'s ``get`` and ``close`` for the base of a working copy, which the pre-commit hook reads
    on every commit: the process is started with ``os.posix_spawnp`` and read through ``poll`` against a
    deadline, so neither subprocess (about 2 ms to import) nor a watchdog thread is needed (issue 12). Linux
    only: the wait for the process's exit is bounded through its pidfd."""

    def __init__(self, repository: Repository, path: str | Path | None) -> None:
        import select

        self._repository = repository
        self._path = path
        self._timeout = repository.timeout
        self._errors = _scratch_file()  # a file, not a pipe: git's stderr can never fill and block it
        child_stdin, self._stdin = os.pipe()
        self._stdout, child_stdout = os.pipe()
        try:
            # Python opens every descriptor non-inheritable, so git gets these three and nothing else.
            actions = [
                (os.POSIX_SPAWN_DUP2, child_stdin, 0),
                (os.POSIX_SPAWN_DUP2, child_stdout, 1),
                (os.POSIX_SPAWN_DUP2, self._errors.fileno(), 2),
            ]
            command = repository._command(["cat-file", "--batch"])
            self._pid = os.posix_spawnp(command[0], command, repository._env(), file_actions=actions)
        except OSError as error:
            for fd in (self._stdin, self._stdout):
                os.close(fd)
            self._errors.close()
            raise _cannot_run(error, path) from None
        finally:
            os.close(child_stdin)
            os.close(child_stdout)
        self._exit = os.pidfd_open(self._pid)
        self._readable = select.poll()
        self._readable.register(self._stdout, select.POLLIN)
        self._buffer = bytearray()
        self._closed = False

    def get(self, spec: bytes) -> _Object | None:
        """The object ``spec`` names, None when git says it is missing; git's silence past the bound stops it."""
        try:
            os.write(self._stdin, spec + b"\n")  # a few bytes: a pipe takes them whole, never blocking
        except OSError:  # git already exited: its stderr says why
            self._fail(expired=False)
        deadline = time.monotonic() + self._timeout
        while (end := self._buffer.find(b"\n") + 1) == 0:
            self._read_more(1 << 16, deadline)
        header = bytes(self._buffer[:end])
        if header.endswith((b" missing\n", b" ambiguous\n")):
            del self._buffer[:end]
            return None
        fields = header.split()
        if len(fields) != 3 or not fields[2].isdigit():
            self._fail(expired=False)
        size = int(fields[2])
        while len(self._buffer) < end + size + 1:  # the object and git's newline after it
            self._read_more(end + size + 1 - len(self._buffer), deadline)
        with memoryview(self._buffer) as view:
            data = bytes(view[end : end + size])  # one copy, however large the ledger
        del self._buffer[: end + size + 1]
        return _Object(fields[0].decode(), fields[1].decode(), data)

    def _read_more(self, wanted: int, deadline: float) -> None:
        """Add what git has written (up to ``wanted`` bytes) to the buffer; at the end of git's output, or when
        git stays silent past the deadline, stop git and raise why."""
        left = deadline - time.monotonic()
        if left <= 0 or not self._readable.poll(left * 1000):
            self._fail(expired=True)
        chunk = os.read(self._stdout, max(wanted, 1 << 16))
        if not chunk:
            self._fail(expired=False)
        self._buffer += chunk

    def close(self) -> None:
        """Let git finish (its stdin closed) within the bound and report its failure, if any."""
        if self._closed:
            return
        self._close_stdin()
        if not self._exited(self._timeout):
            self._abandon()
            raise GitError("git cat-file did not finish: stopped", self._path)
        if self._reap() != 0:
            raise self._error()
        self._errors.close()

    def _close_stdin(self) -> None:
        if self._stdin >= 0:
            os.close(self._stdin)
            self._stdin = -1  # never closed twice: the number may belong to another file by then

    def _exited(self, seconds: float) -> bool:
        import select

        waiting = select.poll()
        waiting.register(self._exit, select.POLLIN)
        return bool(waiting.poll(seconds * 1000))

    def _reap(self, *, wait: bool = True) -> int:
        """git's exit code (after it exited: ``wait`` then returns at once), or -1 when it has not exited."""
        pid, status = os.waitpid(self._pid, 0 if wait else os.WNOHANG)
        self._closed = True
        for fd in (self._stdout, self._exit):
            os.close(fd)
        return os.waitstatus_to_exitcode(status) if pid else -1

    def _fail(self, *, expired: bool) -> NoReturn:
        self._stopped(expired=expired)

    def _abandon(self) -> None:
        if self._closed:
            return
        self._close_stdin()
        os.kill(self._pid, _SIGKILL)
        # A killed process exits at once; should it not within the bound, it is left rather than waited on.
        self._reap(wait=self._exited(self._timeout))


def _scratch_file() -> IO[bytes]:
    """An anonymous file, gone when closed: in memory where the system has memfd_create (Linux), which spares the
    hook tempfile's imports, else tempfile's."""
    if hasattr(os, "memfd_create"):
        try:
            return open(os.memfd_create("ledgerkit-git-stderr"), "w+b")  # noqa: SIM115 - closed by its owner
        except OSError:
            pass  # memfd_create refused (a sandbox's seccomp filter): a file on disk will do
    import tempfile

    return tempfile.TemporaryFile()


def _write_all(stdin: IO[bytes], requests: list[bytes]) -> None:
    try:
        for request in requests:
            stdin.write(request)
        stdin.close()
    except (BrokenPipeError, ValueError, OSError):
        pass  # git stopped: the reader reports why


class _Watchdog:
    """Kills a process that stays silent past its deadline while a read waits on it."""

    def __init__(self, process: subprocess.Popen[bytes], timeout: float) -> None:
        self._process = process
        self._timeout = timeout
        self._deadline: float | None = None
        self._stopped = False
        self.expired = False
        self._condition = threading.Condition()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def arm(self) -> None:
        with self._condition:
            self._deadline = time.monotonic() + self._timeout
            self._condition.notify()

    def disarm(self) -> None:
        with self._condition:
            self._deadline = None

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def _watch(self) -> None:
        with self._condition:
            while not self._stopped:
                if self._deadline is None:
                    self._condition.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left <= 0:
                    self.expired = True
                    self._process.kill()
                    return
                self._condition.wait(left)


# --- the CLI's entry point, until it uses Repository directly -------------------------------------------


def committed_version(path: str | Path, rev: str | None = None) -> BaseVersion | None:
    """The ledger's version committed at ``rev`` (default HEAD); None when it is new there.

    Outside a git work tree the default has no base, while a revision named explicitly is an error. Any
    way git cannot answer (dubious ownership, a damaged repository, a missing revision) is a GitError.
    """
    path = Path(path)
    repository = open_repository(path)
    if repository is None:
        if rev is not None:
            raise LedgerkitError(f"--base {rev}: {path.resolve().parent} is not in a git repository", path)
        return None
    try:
        found = repository.base(path, rev or "HEAD")
    except MissingRevision as missing:
        if rev is None:
            raise
        raise GitError(f"--base {rev}: no such git revision{missing.hint}", path) from None
    return found
