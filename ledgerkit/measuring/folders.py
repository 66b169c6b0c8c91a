"""The files a folder source stands for: git's view inside a work tree, a walk that leaves out what is not
a project's own text outside one.

Inside a git work tree: tracked files and untracked ones no .gitignore ignores (``git ls-files --cached
--others --exclude-standard``); a folder git itself ignores (a build or cache folder) was asked for by name,
so all its files count. Outside a work tree: every file except under hidden folders (``.git``, ``.cache``),
virtual environments (a folder holding ``pyvenv.cfg``, or named ``venv``) and ``node_modules``; the folder
named itself is always walked. Neither follows a symbolic link to a folder (git does not either), and the
walk visits each real folder once.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from .specs import Problem

if TYPE_CHECKING:
    import subprocess

#: Seconds git may take to list one folder before the folder is reported as unreadable.
GIT_TIMEOUT = 30.0
#: Folder names the walk outside git leaves out, besides hidden folders and virtual environments.
LEFT_OUT = frozenset({"node_modules", "venv"})

# What a listed name is, as lstat tells: a file, a symbolic link (to be resolved by the caller), or neither.
FILE, LINK, OTHER = "file", "link", "other"


class ListingError(Exception):
    """A folder whose files cannot be listed (git did not answer in time)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def folder_entries(folder: str, timeout: float = GIT_TIMEOUT) -> list[tuple[str, str]]:
    """The names under ``folder`` (relative, ``/``-separated, sorted) that count, each with its kind:
    FILE, LINK or OTHER (a FIFO, device or socket). ``folder`` is a real path; raises ListingError."""
    listed = _git_files(folder, timeout) if _in_work_tree(folder) else None
    return listed if listed is not None else _walk(folder)


def folder_files(folder: str | Path) -> list[str]:
    """The files under ``folder`` (relative posix paths, sorted) that count: its regular files and the
    symbolic links to files among them (``ledgerkit count`` and the tests read folders this way)."""
    real = os.path.realpath(folder)
    return [
        name
        for name, kind in folder_entries(real)
        if kind == FILE or (kind == LINK and os.path.isfile(os.path.join(real, name)))
    ]


def _in_work_tree(folder: str) -> bool:
    # Spawning git costs milliseconds: only where a .git above could make it a work tree.
    path = folder
    while True:
        if os.path.lexists(os.path.join(path, ".git")):
            return True
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent


def _git(folder: str, timeout: float, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    # core.fsmonitor off: a repository's configuration must not make listing it run a program.
    import subprocess  # only a folder entry lists through git: not imported on every fill

    command = ["git", "-c", "core.fsmonitor=false", "-C", folder, *args]
    try:
        return subprocess.run(command, capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ListingError(Problem("LK208", f"cannot be listed (git did not answer within {timeout:g} s)")) from None
    except OSError:  # git is not installed
        return None


def _git_files(folder: str, timeout: float) -> list[tuple[str, str]] | None:
    """git's list, or None when git has no say (not a work tree, or an ignored folder)."""
    ignored = _git(folder, timeout, "check-ignore", "-q", ".")
    if ignored is None or ignored.returncode != 1:  # 0: the folder is ignored; 128: not in a work tree
        return None
    done = _git(folder, timeout, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if done is None or done.returncode != 0:
        return None
    names = sorted({os.fsdecode(name) for name in done.stdout.split(b"\0") if name})
    real_dirs: dict[str, bool] = {"": True}
    out = []
    for name in names:
        parent = name.rpartition("/")[0]
        if not _real_dir(folder, parent, real_dirs):
            continue  # an index entry beyond a folder that is now a symbolic link: nothing of git's
        kind = _kind(os.path.join(folder, name))
        if kind is not None:
            out.append((name, kind))
    return out


def _real_dir(folder: str, rel: str, known: dict[str, bool]) -> bool:
    """Whether ``folder/rel`` is a folder reached without a symbolic link (each prefix checked once)."""
    if rel not in known:
        up = rel.rpartition("/")[0]
        try:
            mode = os.lstat(os.path.join(folder, rel)).st_mode
        except OSError:
            known[rel] = False
        else:
            known[rel] = stat.S_ISDIR(mode) and _real_dir(folder, up, known)
    return known[rel]


def _kind(path: str) -> str | None:
    """FILE, LINK or OTHER as lstat tells; None for a folder (a submodule) or a name that is gone (deleted)."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return FILE
    if stat.S_ISLNK(mode):
        return LINK
    return None if stat.S_ISDIR(mode) else OTHER


def _walk(folder: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    seen: set[tuple[int, int]] = set()
    try:
        top = os.stat(folder)
    except OSError:
        return found
    seen.add((top.st_dev, top.st_ino))
    todo = [("", folder)]
    while todo:
        rel, path = todo.pop()
        try:
            with os.scandir(path) as listing:
                entries = list(listing)
        except OSError:
            continue  # an unreadable folder inside: left out, as os.walk leaves it
        if rel and any(e.name == "pyvenv.cfg" for e in entries):
            continue  # a virtual environment
        for entry in entries:
            name = rel + entry.name
            if entry.is_dir(follow_symlinks=False):
                if entry.name.startswith(".") or entry.name in LEFT_OUT:
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) not in seen:  # a bind mount can show a folder twice
                    seen.add((st.st_dev, st.st_ino))
                    todo.append((name + "/", entry.path))
            elif entry.is_symlink():
                found.append((name, LINK))
            elif entry.is_file(follow_symlinks=False):
                found.append((name, FILE))
            else:
                found.append((name, OTHER))
    found.sort()
    return found
