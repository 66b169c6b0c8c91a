"""Every tampering caught: the ways a git base could silently become "none" each give a real base or a GitError.

The classes (issue 10): a checkout git refuses ("dubious ownership"), a renamed-and-forged ledger (any name,
any way of renaming), a repository whose HEAD or objects are damaged. The only honest "no base" is a ledger
new at the revision or a repository with no commit yet, and those are checked too, so that the line between
them stays where it is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ledgerkit.checks.committed import outline_from_git
from ledgerkit.checks.git import GitError, Repository, open_repository
from ledgerkit.errors import LedgerkitError

from ..conftest import ledger, record

CLEAN = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
ORIGINAL = ledger(record(1), record(2)).encode("utf-8")
FORGED = ORIGINAL.replace(b"- note", b"- a forged note", 1)


def git(repo: Path, *args: str | bytes) -> bytes:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=CLEAN, timeout=60).stdout


def committed(root: Path, name: str = "ledger.md") -> Path:
    """A repository at ``root`` with a ledger committed under ``name``, and another file beside it."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    for key, value in (("user.name", "T"), ("user.email", "t@ledgerkit.invalid"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    (root / name).write_bytes(ORIGINAL)
    (root / "other.txt").write_bytes(b"something else entirely\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "ledger")
    return root


def base_or_error(path: Path) -> object:
    """What verify would get: the base data, or the GitError; None only if the base silently vanished."""
    try:
        repository = open_repository(path)
        assert repository is not None
        found = repository.base(path)
    except GitError as error:
        return error
    return None if found is None else found.data


# --- renamed and forged ----------------------------------------------------------------------------------

#: File names as people and attackers write them: spaces, quotes, non-ASCII, glob and revision syntax,
#: a leading dash, a newline, a trailing carriage return.
PIECES = st.sampled_from(
    ["ledger", " ", "'", '"', "ü", "日本", "*", "?", "[x]", ":", "\\", "-", "#", "!", "\n", "\t", "~", "@{0}", "^"]
)
NAMES = st.lists(PIECES, min_size=1, max_size=5).map("".join).filter(lambda name: name.lower() != ".git")
ENDINGS = st.sampled_from([".md", "", "\r"])
HOW = st.sampled_from(["git mv", "mv + add -A", "mv only"])


def rename(root: Path, old: str, new: str, how: str) -> Path:
    target = root / new
    target.parent.mkdir(parents=True, exist_ok=True)
    if how == "git mv":
        git(root, "mv", "--", old, new)
    else:
        (root / old).rename(target)
    target.write_bytes(FORGED)
    if how == "mv + add -A":
        git(root, "add", "-A")
    return target


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(new=NAMES, ending=ENDINGS, folder=st.sampled_from(["", "sub dir/", "ü/"]), how=HOW)
def test_a_renamed_and_forged_ledger_is_compared_with_its_old_self(
    new: str, ending: str, folder: str, how: str
) -> None:
    assume(folder + new + ending != "ledger.md")
    with tempfile.TemporaryDirectory() as scratch:
        root = committed(Path(scratch) / "repo")
        target = rename(root, "ledger.md", folder + new + ending, how)
        assert base_or_error(target) == ORIGINAL


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(old=NAMES, how=HOW)
def test_any_old_name_is_found_and_its_history_followed(old: str, how: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = committed(Path(scratch) / "repo", old)
        target = rename(root, old, "ledger.md", how)
        assert base_or_error(target) == ORIGINAL
        if how != "mv only":
            git(root, "commit", "-q", "-m", "renamed and forged")
            versions = open_repository(target).history(target)  # type: ignore[union-attr]
            assert [(v.status, v.path) for v in versions] == [("A", old), ("R", "ledger.md")]
            assert versions[1].before is not None and versions[1].before.data == ORIGINAL


def test_the_honest_none_cases_stay_none(tmp_path: Path) -> None:
    root = committed(tmp_path / "repo")
    shutil.copy(root / "ledger.md", root / "copy.md")  # the original is still there: the copy is new
    assert base_or_error(root / "copy.md") is None
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    (empty / "ledger.md").write_bytes(ORIGINAL)
    git(empty, "add", "ledger.md")
    assert base_or_error(empty / "ledger.md") is None  # no commit yet: nothing to compare with


# --- git refuses the checkout ----------------------------------------------------------------------------


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="making another user's repository needs root"
)
def test_dubious_ownership_is_never_no_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = committed(tmp_path / "repo")
    git(root, "worktree", "add", "-q", "-b", "side", str(tmp_path / "linked"))
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    subprocess.run(["chown", "-R", "65534:65534", str(root), str(tmp_path / "linked")], check=True)
    for path in (root / "ledger.md", tmp_path / "linked" / "ledger.md"):
        result = base_or_error(path)
        assert isinstance(result, GitError) and "safe.directory" in result.message
        with pytest.raises(LedgerkitError, match="dubious ownership"):
            outline_from_git(path)
        repository = open_repository(path)
        assert repository is not None
        with pytest.raises(GitError, match="dubious ownership"):
            repository.history(path)
        with pytest.raises(GitError, match="dubious ownership"):
            repository.changes(None, "HEAD", ["*"], root=repository.top)


# --- a damaged repository --------------------------------------------------------------------------------


def _object(root: Path, spec: str) -> Path:
    oid = git(root, "rev-parse", spec).decode().strip()
    return root / ".git" / "objects" / oid[:2] / oid[2:]


def lose_the_blob(root: Path) -> None:
    _object(root, "HEAD:ledger.md").unlink()


def lose_the_tree(root: Path) -> None:
    _object(root, "HEAD^{tree}").unlink()


def lose_the_commit(root: Path) -> None:
    _object(root, "HEAD").unlink()


def branch_to_nowhere(root: Path) -> None:
    (root / ".git" / "refs" / "heads" / "main").write_text("1" * 40 + "\n", encoding="ascii")


def detached_at_nowhere(root: Path) -> None:
    (root / ".git" / "HEAD").write_text("2" * 40 + "\n", encoding="ascii")


def garbage_head(root: Path) -> None:
    (root / ".git" / "HEAD").write_bytes(b"\xff\xfe not a ref\n")


def no_objects(root: Path) -> None:
    shutil.rmtree(root / ".git" / "objects")


def empty_git_folder(root: Path) -> None:
    shutil.rmtree(root / ".git")
    (root / ".git").mkdir()


def garbage_git_file(root: Path) -> None:
    shutil.rmtree(root / ".git")
    (root / ".git").write_bytes(b"hello\n")


def git_file_to_nowhere(root: Path) -> None:
    shutil.rmtree(root / ".git")
    (root / ".git").write_bytes(b"gitdir: /nonexistent/worktrees/x\n")


def dangling_git_link(root: Path) -> None:
    shutil.rmtree(root / ".git")
    (root / ".git").symlink_to(root / "gone")


DAMAGE = [
    lose_the_blob,
    lose_the_tree,
    lose_the_commit,
    branch_to_nowhere,
    detached_at_nowhere,
    garbage_head,
    no_objects,
    empty_git_folder,
    garbage_git_file,
    git_file_to_nowhere,
    dangling_git_link,
]


@pytest.mark.parametrize("damage", DAMAGE, ids=[d.__name__ for d in DAMAGE])
def test_a_damaged_repository_is_never_no_base(tmp_path: Path, damage: object) -> None:
    outer = committed(tmp_path / "outer")  # a repository above must not be used instead of the damaged one
    root = committed(outer / "inner")
    damage(root)  # type: ignore[operator]
    result = base_or_error(root / "ledger.md")
    assert isinstance(result, GitError), result
    with pytest.raises(LedgerkitError):
        outline_from_git(root / "ledger.md")


@pytest.mark.parametrize("damage", [lose_the_blob, lose_the_commit, no_objects], ids=lambda d: d.__name__)
def test_a_damaged_history_is_an_error(tmp_path: Path, damage: object) -> None:
    root = committed(tmp_path / "repo")
    (root / "ledger.md").write_bytes(ORIGINAL + record(3).encode())
    git(root, "commit", "-q", "-am", "append")
    damage(root)  # type: ignore[operator]
    with pytest.raises(GitError):
        Repository(root.resolve(), (root / ".git").resolve()).history(root / "ledger.md")
