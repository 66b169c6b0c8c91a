"""The base version of a ledger, from git: the ledger as committed at a revision."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..errors import LedgerkitError
from ..files.textfile import decode
from ..reading.parse import Ledger, parse


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, check=False)
    except OSError:  # git is not installed
        return subprocess.CompletedProcess(args, 127, b"", b"git not found")


def base_from_git(path: str | Path, rev: str | None = None) -> Ledger | None:
    """The ledger as committed at ``rev`` (default HEAD); None when it is not in git there.

    With the default, a ledger outside a git repository, or new to it, has no base. A revision named
    explicitly must exist: otherwise it is a LedgerkitError.
    """
    path = Path(path)
    folder = path.resolve().parent
    if _git(folder, "rev-parse", "--git-dir").returncode != 0:
        if rev is not None:
            raise LedgerkitError(f"--base {rev}: {folder} is not in a git repository", path)
        return None
    commit = rev or "HEAD"
    if _git(folder, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}").returncode != 0:
        if rev is not None:
            raise LedgerkitError(f"--base {rev}: no such git revision", path)
        return None  # a repository without commits yet
    shown = _git(folder, "show", f"{commit}:./{path.resolve().name}")
    if shown.returncode != 0:
        return None  # the ledger is new at that revision
    text, bom = decode(shown.stdout, f"{commit}:{path}")
    return parse(text, f"{commit}:{path}", bom=bom)
