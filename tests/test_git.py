"""ledgerkit.checks.git against real repositories built with git commands in temporary folders."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ledgerkit.checks import git as git_module
from ledgerkit.checks.committed import outline_from_git
from ledgerkit.checks.git import (
    GitError,
    MissingRevision,
    Repository,
    open_repository,
)
from ledgerkit.errors import LedgerkitError
from ledgerkit.reading.parse import parse

from .conftest import Processes, ledger, record

#: The tests' own git runs with no GIT_* of an outer hook, and each repository sets its own identity.
CLEAN = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, env={**CLEAN, **(env or {})}, timeout=60
    )
    return done.stdout.decode("utf-8", "surrogateescape")


def new_repo(path: Path, branch: str = "main") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    git(path, "config", "user.name", "Ledger Tester")
    git(path, "config", "user.email", "tester@ledgerkit.invalid")
    git(path, "config", "commit.gpgsign", "false")
    return path


def commit(repo: Path, message: str, *paths: str) -> str:
    git(repo, "add", "-A", *paths)
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def text(*numbers: int) -> str:
    return ledger(*(record(n) for n in numbers))


def write(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8"))
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a committed ledger of two records and an unrelated file."""
    root = new_repo(tmp_path / "repo")
    write(root / "ledger.md", text(1, 2))
    write(root / "notes.txt", "unrelated\n")
    commit(root, "a ledger")
    return root


@pytest.fixture(params=["spawned", "subprocess"])
def batch(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each way the base's cat-file process is run: spawned directly (Linux), and through subprocess (the
    other systems), which would otherwise go untested here."""
    if request.param == "spawned" and not (hasattr(os, "posix_spawnp") and hasattr(os, "pidfd_open")):
        pytest.skip("os.posix_spawnp with pidfd_open is Linux's")
    if request.param == "subprocess":
        monkeypatch.setattr(git_module, "_cat_file", git_module._CatFile)
    return str(request.param)


# --- open_repository -------------------------------------------------------------------------------------


def test_outside_a_work_tree_there_is_no_repository(tmp_path: Path) -> None:
    write(tmp_path / "l.md", text(1))
    assert open_repository(tmp_path / "l.md") is None
    assert outline_from_git(tmp_path / "l.md") is None
    with pytest.raises(LedgerkitError, match="is not in a git repository"):
        outline_from_git(tmp_path / "l.md", "HEAD")


def test_a_repository_is_found_from_a_file_a_folder_or_a_file_not_written_yet(repo: Path) -> None:
    (repo / "sub").mkdir()
    for start in (repo / "ledger.md", repo / "sub", repo / "sub" / "not-yet.md", repo):
        found = open_repository(start)
        assert found is not None and found.top == repo.resolve()


def test_opening_runs_no_git(repo: Path, processes: Processes) -> None:
    assert open_repository(repo / "ledger.md") is not None
    assert processes.argv == []


def test_git_missing_is_an_error_that_says_so(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "no-bin-here"))
    with pytest.raises(GitError, match="git is not installed"):
        open_repository(repo / "ledger.md")


def test_a_dot_git_file_pointing_nowhere_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "w" / ".git", "gitdir: ../gone/.git/worktrees/w\n")
    write(tmp_path / "w" / "l.md", text(1))
    with pytest.raises(GitError, match="does not exist.*git worktree prune"):
        open_repository(tmp_path / "w" / "l.md")


# --- base: the common case -------------------------------------------------------------------------------


def test_base_of_a_tracked_file_is_one_git_process(repo: Path, processes: Processes, batch: str) -> None:
    write(repo / "ledger.md", text(1, 2, 3))  # the working copy moved on; the base is what HEAD holds
    repository = open_repository(repo / "ledger.md")
    assert repository is not None
    base = repository.base(repo / "ledger.md")
    assert processes.verbs() == ["cat-file"]
    assert base is not None
    assert base.data == text(1, 2).encode() and base.path_at_rev == "ledger.md" and base.rev == "HEAD"
    assert base.commit == git(repo, "rev-parse", "HEAD").strip()
    assert base.blob == git(repo, "rev-parse", "HEAD:ledger.md").strip()  # the cache key across runs


def test_a_base_larger_than_a_pipe_holds_arrives_whole(repo: Path, batch: str) -> None:
    big = text(*range(1, 2001))  # about a megabyte: git writes it over many reads of the pipe
    write(repo / "ledger.md", big)
    commit(repo, "a long ledger")
    repository = open_repository(repo / "ledger.md")
    assert repository is not None
    base = repository.base(repo / "ledger.md")
    assert base is not None and base.data == big.encode()
    assert len(base.data) > 8 * 65536  # far more than a pipe holds (64 KiB on Linux)


def test_base_at_another_revision_and_in_a_subfolder(repo: Path) -> None:
    write(repo / "docs" / "l.md", text(1))
    first = commit(repo, "docs ledger")
    write(repo / "docs" / "l.md", text(1, 2))
    commit(repo, "append")
    repository = open_repository(repo / "docs")
    assert repository is not None
    older = repository.base(repo / "docs" / "l.md", "HEAD~1")
    assert older is not None and older.data == text(1).encode() and older.commit == first
    assert older.path_at_rev == "docs/l.md"


def test_a_file_new_at_the_revision_has_no_base(repo: Path, batch: str) -> None:
    repository = open_repository(repo)
    assert repository is not None
    write(repo / "new.md", text(1))
    assert repository.base(repo / "new.md") is None
    git(repo, "add", "new.md")  # staged, still not in HEAD
    assert repository.base(repo / "new.md") is None


def test_a_repository_without_commits_has_no_base(tmp_path: Path, batch: str) -> None:
    root = new_repo(tmp_path / "empty")
    write(root / "l.md", text(1))
    repository = open_repository(root / "l.md")
    assert repository is not None and repository.base(root / "l.md") is None
    assert repository.history(root / "l.md") == []


def test_base_through_a_linked_worktree(repo: Path, tmp_path: Path, batch: str) -> None:
    git(repo, "worktree", "add", "-q", "-b", "side", str(tmp_path / "linked"))
    linked = tmp_path / "linked"
    assert (linked / ".git").is_file()
    write(linked / "ledger.md", text(1, 2, 3))
    commit(linked, "append on the side")
    repository = open_repository(linked / "ledger.md")
    assert repository is not None and repository.top == linked.resolve()
    base = repository.base(linked / "ledger.md")
    assert base is not None and base.data == text(1, 2, 3).encode()
    main = open_repository(repo / "ledger.md")
    assert main is not None and main.base(repo / "ledger.md").data == text(1, 2).encode()  # type: ignore[union-attr]


# --- base: renames ---------------------------------------------------------------------------------------


def forged() -> str:
    return text(1, 2).replace("- note", "- a forged note", 1)


def test_git_mv_then_a_forged_value_is_compared_with_the_old_name(repo: Path) -> None:
    git(repo, "mv", "ledger.md", "renamed.md")
    write(repo / "renamed.md", forged())
    repository = open_repository(repo)
    assert repository is not None
    base = repository.base(repo / "renamed.md")
    assert base is not None and base.path_at_rev == "ledger.md" and base.data == text(1, 2).encode()


def test_mv_then_add_all_is_followed(repo: Path) -> None:
    (repo / "ledger.md").rename(repo / "moved.md")
    write(repo / "moved.md", forged())
    git(repo, "add", "-A")
    base = open_repository(repo).base(repo / "moved.md")  # type: ignore[union-attr]
    assert base is not None and base.path_at_rev == "ledger.md"


def test_mv_without_add_is_followed_through_the_working_tree(repo: Path, processes: Processes) -> None:
    target = repo / "sub dir" / "mövéd 'ledger'.md"
    target.parent.mkdir()
    (repo / "ledger.md").rename(target)
    write(target, forged())
    status_before = git(repo, "status", "--porcelain")
    index_before = (repo / ".git" / "index").read_bytes()
    objects_before = sorted(p.name for p in (repo / ".git" / "objects").rglob("*"))
    processes.argv.clear()
    base = open_repository(repo).base(target)  # type: ignore[union-attr]
    assert processes.verbs()[0] == "cat-file"  # more only because the first answer said "not there"
    assert base is not None and base.path_at_rev == "ledger.md" and base.data == text(1, 2).encode()
    # The search wrote nothing of the user's: same index, same objects, same status.
    assert (repo / ".git" / "index").read_bytes() == index_before
    assert sorted(p.name for p in (repo / ".git" / "objects").rglob("*")) == objects_before
    assert git(repo, "status", "--porcelain") == status_before


def test_a_copy_is_not_a_rename(repo: Path) -> None:
    shutil.copy(repo / "ledger.md", repo / "copy.md")  # the original is still there: copy.md is new
    assert open_repository(repo).base(repo / "copy.md") is None  # type: ignore[union-attr]


# --- base: git cannot answer -----------------------------------------------------------------------------


def test_a_missing_revision_is_an_error(repo: Path, batch: str) -> None:
    repository = open_repository(repo)
    assert repository is not None
    with pytest.raises(MissingRevision) as caught:
        repository.base(repo / "ledger.md", "no-such-branch")
    assert caught.value.message == "no-such-branch: no such git revision"  # no hint that would not apply
    with pytest.raises(GitError, match="--base no-such-branch: no such git revision$"):
        outline_from_git(repo / "ledger.md", "no-such-branch")


@pytest.mark.parametrize("rev", ["--output=/tmp/x", "a\nb", ""])
def test_a_revision_that_reads_as_an_option_or_breaks_a_line_is_refused(repo: Path, rev: str) -> None:
    with pytest.raises(GitError, match="is not a git revision"):
        open_repository(repo).base(repo / "ledger.md", rev)  # type: ignore[union-attr]


def test_a_shallow_clone_says_how_to_get_the_revision(repo: Path, tmp_path: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    write(repo / "ledger.md", text(1, 2, 3))
    commit(repo, "append")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    repository = open_repository(clone)
    assert repository is not None
    with pytest.raises(MissingRevision) as caught:
        repository.base(clone / "ledger.md", first)
    assert "shallow" in caught.value.message and "git fetch --unshallow" in caught.value.message
    assert "fetch-depth: 0" in caught.value.message
    git(clone, "fetch", "-q", "--unshallow")  # the advice works
    assert repository.base(clone / "ledger.md", first).data == text(1, 2).encode()  # type: ignore[union-attr]


def test_an_unfetched_remote_branch_says_how_to_fetch_it(repo: Path, tmp_path: Path) -> None:
    git(repo, "branch", "feature")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--single-branch", "--branch", "main", f"file://{repo}", str(clone))
    repository = open_repository(clone)
    assert repository is not None
    with pytest.raises(MissingRevision) as caught:
        repository.base(clone / "ledger.md", "origin/feature")
    fix = "git fetch origin feature:refs/remotes/origin/feature"
    assert caught.value.message.endswith(f"origin/feature is not fetched: run `{fix}`")
    git(clone, *fix.split()[1:])  # the advice works
    assert repository.base(clone / "ledger.md", "origin/feature") is not None


def not_root() -> bool:
    return not hasattr(os, "geteuid") or os.geteuid() != 0


@pytest.mark.skipif(not_root(), reason="a repository owned by another user needs root to make (chown)")
def test_dubious_ownership_is_an_error_with_the_exact_fix(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # no global safe.directory of this machine's user
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    subprocess.run(["chown", "-R", "65534:65534", str(repo)], check=True)
    repository = open_repository(repo / "ledger.md")
    assert repository is not None
    with pytest.raises(GitError) as caught:
        repository.base(repo / "ledger.md")
    message = caught.value.message
    fix = f"git config --global --add safe.directory {repo.resolve()}"
    assert "dubious ownership" in message and message.endswith(fix)
    with pytest.raises(GitError, match="dubious ownership"):
        outline_from_git(repo / "ledger.md")  # the CLI's default base: an error, never "no base"
    with pytest.raises(GitError, match="dubious ownership"):
        repository.history(repo / "ledger.md")
    subprocess.run(fix.split(), check=True, env={**CLEAN, "HOME": str(home)})  # the advice works
    assert Repository(repository.top, repository.git_dir).base(repo / "ledger.md") is not None


def test_a_damaged_repository_is_an_error(repo: Path, batch: str) -> None:
    head = git(repo, "rev-parse", "HEAD").strip()
    loose = repo / ".git" / "objects" / head[:2] / head[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not a zlib stream")
    with pytest.raises(GitError):
        open_repository(repo).base(repo / "ledger.md")  # type: ignore[union-attr]


def test_an_empty_dot_git_folder_is_an_error(tmp_path: Path, batch: str) -> None:
    (tmp_path / "r" / ".git").mkdir(parents=True)
    write(tmp_path / "r" / "l.md", text(1))
    repository = open_repository(tmp_path / "r" / "l.md")
    assert repository is not None
    with pytest.raises(GitError, match="finds no repository"):
        repository.base(tmp_path / "r" / "l.md")


def fake_git(folder: Path, script: str) -> Path:
    folder.mkdir()
    fake = folder / "git"
    fake.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    fake.chmod(0o755)
    return folder


def test_a_git_that_hangs_is_stopped_at_the_bound(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: str
) -> None:
    monkeypatch.setenv("PATH", str(fake_git(tmp_path / "bin", f"exec {shutil.which('sleep')} 30")))
    repository = open_repository(repo / "ledger.md", timeout=0.5)
    assert repository is not None
    with pytest.raises(GitError, match="did not answer within 0.5 s"):
        repository.base(repo / "ledger.md")  # the cat-file process
    with pytest.raises(GitError, match="did not finish within 0.5 s"):
        repository.history(repo / "ledger.md")  # a git log


# --- the environment of a hook ---------------------------------------------------------------------------


def test_another_repositorys_git_variables_are_ignored(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = new_repo(tmp_path / "other")
    write(other / "ledger.md", "someone else's\n")
    commit(other, "other")
    # What a hook of `other` exports (a relative GIT_DIR too), while ledgerkit reads a ledger of `repo`.
    monkeypatch.chdir(other)
    monkeypatch.setenv("GIT_DIR", ".git")
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    git(repo, "mv", "ledger.md", "renamed.md")
    base = open_repository(repo).base(repo / "renamed.md")  # type: ignore[union-attr]
    assert base is not None and base.data == text(1, 2).encode() and base.path_at_rev == "ledger.md"


HOOK = """\
#!/bin/sh
exec {python} - <<'EOF'
import json, os, sys
sys.path.insert(0, {source!r})
from ledgerkit.checks.git import open_repository
path = {path!r}
repository = open_repository(path)
base = repository.base(path)
with open({out!r}, "w") as out:
    json.dump({{"index": os.environ.get("GIT_INDEX_FILE"), "name": base and base.path_at_rev,
               "data": base and base.data.decode()}}, out)
EOF
"""


@pytest.mark.parametrize("how", ["commit", "commit -a", "commit PATH"])
def test_base_inside_a_real_pre_commit_hook(repo: Path, tmp_path: Path, how: str) -> None:
    out = tmp_path / "hook.json"
    hook = repo / ".git" / "hooks" / "pre-commit"
    source = str(Path(__file__).resolve().parent.parent)
    hook.write_text(
        HOOK.format(python=sys.executable, source=source, path=str(repo / "renamed.md"), out=str(out)), "utf-8"
    )
    hook.chmod(0o755)
    git(repo, "mv", "ledger.md", "renamed.md")
    write(repo / "renamed.md", text(1, 2, 3))
    if how == "commit":
        git(repo, "add", "renamed.md")
        git(repo, "commit", "-q", "-m", "rename and append")
    elif how == "commit -a":
        git(repo, "commit", "-q", "-a", "-m", "rename and append")
    else:
        git(repo, "commit", "-q", "-m", "rename and append", "--", "renamed.md", "ledger.md")
    seen = json.loads(out.read_text("utf-8"))
    assert seen["index"]  # git did hand the hook an index of its own
    assert seen["name"] == "ledger.md" and seen["data"] == text(1, 2)


# --- history ---------------------------------------------------------------------------------------------


def appended(repo: Path, path: Path, numbers: range, *, first: str | None = None) -> list[str]:
    """Commit the ledger once per record number; the commit ids, oldest first."""
    ids = []
    for n in numbers:
        write(path, text(*range(1, n + 1)))
        ids.append(commit(repo, f"record {n}"))
    return ids


def test_history_is_every_version_oldest_first_with_the_one_it_replaced(tmp_path: Path, processes: Processes) -> None:
    root = new_repo(tmp_path / "r")
    ids = appended(root, root / "ledger.md", range(1, 6))
    write(root / "other.txt", "x")
    commit(root, "not the ledger")
    processes.argv.clear()
    versions = open_repository(root).history(root / "ledger.md")  # type: ignore[union-attr]
    assert processes.verbs() == ["log", "cat-file"]  # one walk, one reader, whatever the number of commits
    assert [v.commit.id for v in versions] == ids
    assert [v.data for v in versions] == [text(*range(1, n + 1)).encode() for n in range(1, 6)]
    assert versions[0].status == "A" and versions[0].before is None
    for older, newer in zip(versions, versions[1:], strict=False):
        assert newer.status == "M" and newer.before is not None
        assert (newer.before.blob, newer.before.data) == (older.blob, older.data)
    assert versions[2].commit.subject == "record 3" and versions[2].commit.short == ids[2][:12]
    assert versions[2].commit.author_name == "Ledger Tester" and versions[2].commit.parents == (ids[1],)
    assert versions[2].commit.date[:4].isdigit() and versions[2].commit.date[10] == "T"


@pytest.mark.parametrize("commits", [2, 40])
def test_history_costs_two_git_processes_however_long_it_is(tmp_path: Path, processes: Processes, commits: int) -> None:
    root = new_repo(tmp_path / "r")
    appended(root, root / "ledger.md", range(1, commits + 1))
    processes.argv.clear()
    versions = open_repository(root).history(root / "ledger.md")  # type: ignore[union-attr]
    assert len(versions) == commits and processes.verbs() == ["log", "cat-file"]


def test_history_follows_renames_a_deletion_and_a_re_add(tmp_path: Path) -> None:
    root = new_repo(tmp_path / "r")
    odd = 'a "quoted" ledger\nwith a newline, ünïcödé and spaces.md'
    write(root / "first.md", text(1))
    c1 = commit(root, "first")
    git(root, "mv", "first.md", odd)
    c2 = commit(root, "renamed to an odd name")
    write(root / odd, text(1, 2))
    c3 = commit(root, "append")
    (root / "docs").mkdir()
    git(root, "mv", odd, "docs/ledger.md")
    write(root / "docs" / "ledger.md", text(1, 2, 3))
    c4 = commit(root, "moved and appended in one commit")
    git(root, "rm", "-q", "docs/ledger.md")
    c5 = commit(root, "deleted")
    write(root / "docs" / "ledger.md", text(1, 2, 3, 4))
    c6 = commit(root, "back again")
    versions = open_repository(root).history(root / "docs" / "ledger.md")  # type: ignore[union-attr]
    assert [(v.commit.id, v.status, v.path) for v in versions] == [
        (c1, "A", "first.md"),
        (c2, "R", odd),
        (c3, "M", odd),
        (c4, "R", "docs/ledger.md"),
        (c5, "D", "docs/ledger.md"),
        (c6, "A", "docs/ledger.md"),
    ]
    assert versions[1].before is not None and versions[1].before.path == "first.md"
    assert versions[3].before is not None and versions[3].before.data == text(1, 2).encode()
    assert versions[4].data is None and versions[4].before.data == text(1, 2, 3).encode()  # type: ignore[union-attr]
    assert versions[5].before is None and versions[5].data == text(1, 2, 3, 4).encode()
    assert open_repository(root).base(root / "docs" / "ledger.md").path_at_rev == "docs/ledger.md"  # type: ignore[union-attr]


def test_history_of_a_range_starts_from_the_version_it_was_built_on(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    ids = appended(repo, repo / "ledger.md", range(3, 6))
    versions = open_repository(repo).history(repo / "ledger.md", since=base)  # type: ignore[union-attr]
    assert [v.commit.id for v in versions] == ids
    assert versions[0].before is not None and versions[0].before.data == text(1, 2).encode()  # the base itself
    until = open_repository(repo).history(repo / "ledger.md", since=base, until=ids[1])  # type: ignore[union-attr]
    assert [v.commit.id for v in until] == ids[:2]
    assert open_repository(repo).history(repo / "ledger.md", since=ids[-1]) == []  # type: ignore[union-attr]
    with pytest.raises(MissingRevision, match="nope: no such git revision"):
        open_repository(repo).history(repo / "ledger.md", since="nope")  # type: ignore[union-attr]


def pull_request(repo: Path) -> tuple[dict[str, str], Path]:
    """main and a branch that renames the ledger and appends, while main appends too; then merged."""
    ids = {"base": git(repo, "rev-parse", "HEAD").strip()}
    git(repo, "checkout", "-q", "-b", "pr")
    git(repo, "mv", "ledger.md", "renamed.md")
    ids["rename"] = commit(repo, "pr: rename")
    write(repo / "renamed.md", text(1, 2, 3))
    ids["append"] = commit(repo, "pr: append")
    git(repo, "checkout", "-q", "main")
    write(repo / "ledger.md", text(1, 2, 4))
    ids["main"] = commit(repo, "main: append")
    # A pull request's merge ref: first parent the base branch, second the branch's head.
    git(repo, "checkout", "-q", "--detach", "main")
    subprocess.run(["git", "merge", "-q", "--no-edit", "pr"], cwd=repo, env=CLEAN, capture_output=True, check=False)
    write(repo / "renamed.md", text(1, 2, 4, 3))
    (repo / "ledger.md").unlink(missing_ok=True)
    ids["merge"] = commit(repo, "merge pr into main")
    return ids, repo / "renamed.md"


def test_history_through_a_merge_compares_each_commit_with_its_first_parent(repo: Path) -> None:
    ids, path = pull_request(repo)
    versions = open_repository(repo).history(path, since="main")  # type: ignore[union-attr]
    by_commit = {v.commit.id: v for v in versions}
    # Every commit of the branch is there (not only the merge), and the merge is compared with main.
    assert list(by_commit) == [ids["rename"], ids["append"], ids["merge"]]
    assert by_commit[ids["rename"]].before.path == "ledger.md"  # type: ignore[union-attr]
    assert by_commit[ids["rename"]].before.data == text(1, 2).encode()  # type: ignore[union-attr]
    assert by_commit[ids["append"]].before.data == text(1, 2).encode()  # type: ignore[union-attr]
    merge = by_commit[ids["merge"]]
    assert merge.before is not None and merge.before.path == "ledger.md" and merge.before.data == text(1, 2, 4).encode()
    assert merge.data == text(1, 2, 4, 3).encode()
    whole = open_repository(repo).history(path)  # type: ignore[union-attr]
    assert {v.commit.id for v in whole} == {ids["rename"], ids["append"], ids["merge"], ids["main"], ids["base"]}
    assert [v.commit.id for v in whole].index(ids["base"]) == 0
    # Each version's `before` is the file in its first parent: check against git itself.
    for version in whole:
        if version.commit.parents:
            parent = version.commit.parents[0]
            assert version.before is not None
            assert git(repo, "rev-parse", f"{parent}:{version.before.path}").strip() == version.before.blob


def test_a_branch_merged_into_the_pull_request_has_each_commit_listed(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "side")
    write(repo / "ledger.md", text(1, 2).replace("- note", "- tampered", 1))
    tamper = commit(repo, "side: tamper")
    write(repo / "ledger.md", text(1, 2))
    restore = commit(repo, "side: restore")
    git(repo, "checkout", "-q", "main")
    write(repo / "ledger.md", text(1, 2, 3))
    own = commit(repo, "pr: append")
    git(repo, "merge", "-q", "--no-edit", "side")
    versions = open_repository(repo).history(repo / "ledger.md", since=base)  # type: ignore[union-attr]
    listed = [v.commit.id for v in versions]
    assert tamper in listed and restore in listed and own in listed  # a tampering undone later is still seen
    assert listed.index(tamper) < listed.index(restore)


def test_history_without_reading_then_streamed(repo: Path, processes: Processes) -> None:
    appended(repo, repo / "ledger.md", range(3, 5))
    repository = open_repository(repo)
    assert repository is not None
    processes.argv.clear()
    versions = repository.history(repo / "ledger.md", read=False)
    assert all(v.data is None for v in versions) and processes.verbs() == ["log"]
    blobs = [v.blob for v in versions if v.blob]
    streamed = list(repository.read_blobs(blobs))
    assert [oid for oid, _ in streamed] == blobs
    assert streamed[-1][1] == text(1, 2, 3, 4).encode()
    assert processes.verbs() == ["log", "cat-file"]


def test_a_shallow_clone_refuses_a_history_it_cannot_see_whole(repo: Path, tmp_path: Path) -> None:
    appended(repo, repo / "ledger.md", range(3, 5))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{repo}", str(clone))
    repository = open_repository(clone)
    assert repository is not None
    with pytest.raises(GitError, match="shallow.*git fetch --unshallow"):
        repository.history(clone / "ledger.md")
    assert len(repository.history(clone / "ledger.md", since="HEAD~1")) == 1  # a range inside the clone is fine


# --- changes under frozen paths --------------------------------------------------------------------------


def test_changes_under_frozen_globs(tmp_path: Path) -> None:
    root = new_repo(tmp_path / "r")
    write(root / "proj" / "ssot" / "facts.csv", "a\n")
    write(root / "proj" / "ssot" / "deep" / "more.csv", "b\n")
    write(root / "proj" / "free.csv", "c\n")
    start = commit(root, "start")
    write(root / "proj" / "ssot" / "facts.csv", "a changed\n")
    changed = commit(root, "change a frozen file")
    write(root / "proj" / "free.csv", "c changed\n")
    commit(root, "change a free file")
    git(root, "mv", "proj/ssot/deep/more.csv", "proj/ssot/deep/moved.csv")
    moved = commit(root, "rename inside")
    git(root, "mv", "proj/ssot/facts.csv", "proj/facts.csv")
    out = commit(root, "move out")
    write(root / "proj" / "ssot" / "new file [1].csv", "n\n")
    added = commit(root, "add")
    repository = open_repository(root)
    assert repository is not None
    found = repository.changes(start, "HEAD", ["ssot"], root=root / "proj")
    assert [(c.commit.id, c.status, c.path, c.old_path) for c in found] == [
        (changed, "M", "proj/ssot/facts.csv", None),
        (moved, "R", "proj/ssot/deep/moved.csv", "proj/ssot/deep/more.csv"),
        (out, "D", "proj/ssot/facts.csv", None),
        (added, "A", "proj/ssot/new file [1].csv", None),
    ]
    top_level = repository.changes(start, "HEAD", ["*.csv"], root=root / "proj")  # `*` stays in its folder
    assert {c.path for c in top_level} == {"proj/free.csv", "proj/facts.csv"}
    deep = repository.changes(None, "HEAD", ["**/*.csv"], root=root / "proj" / "ssot")
    assert {c.path for c in deep} >= {"proj/ssot/deep/more.csv", "proj/ssot/deep/moved.csv"}
    assert repository.changes(start, "HEAD", [], root=root) == []
    with pytest.raises(GitError, match="must stay inside"):
        repository.changes(start, "HEAD", ["../elsewhere"], root=root / "proj")


def test_a_merge_is_a_change_only_where_it_wrote_itself(repo: Path) -> None:
    write(repo / "ssot" / "f.txt", "one\n")
    base = commit(repo, "frozen file")
    git(repo, "checkout", "-q", "-b", "pr")
    write(repo / "ledger.md", text(1, 2, 3))
    commit(repo, "pr: ledger only")
    git(repo, "checkout", "-q", "main")
    write(repo / "ssot" / "f.txt", "two\n")
    main_change = commit(repo, "main changed the frozen file")
    git(repo, "checkout", "-q", "pr")
    git(repo, "merge", "-q", "--no-edit", "main")  # main's change arrives: not the branch's doing
    repository = open_repository(repo)
    assert repository is not None
    assert repository.changes(main_change, "HEAD", ["ssot"], root=repo) == []
    write(repo / "ssot" / "f.txt", "three\n")
    git(repo, "commit", "-q", "--amend", "-a", "--no-edit")  # the merge itself writes there
    found = repository.changes(main_change, "HEAD", ["ssot"], root=repo)
    assert [(c.commit.subject.startswith("Merge"), c.status, c.path) for c in found] == [(True, "M", "ssot/f.txt")]
    assert len(repository.changes(base, "HEAD", ["ssot"], root=repo)) == 2  # main's own commit is in this range


def test_a_committed_markdown_file_that_is_not_utf8_and_holds_no_ledger_has_an_empty_base(repo: Path) -> None:
    # pre-commit passes every Markdown file: a committed Latin-1 NOTES.md must not stop verify.
    (repo / "NOTES.md").write_bytes("# Caf\xe9\n".encode("latin-1"))
    commit(repo, "notes")
    base = outline_from_git(repo / "NOTES.md")
    assert base is not None and base.records == ()


def test_the_base_verify_reads_is_the_outline_of_the_committed_ledger(repo: Path) -> None:
    write(repo / "ledger.md", text(1, 2, 3))  # the working copy moved on
    base = outline_from_git(repo / "ledger.md")
    parsed = parse(git(repo, "show", "HEAD:ledger.md"), f"HEAD:{repo / 'ledger.md'}")
    assert base is not None
    assert [tuple(r) for r in base.records] == [(r.run_id, r.line, r.column, r.end_line) for r in parsed.records]
    assert [r.run_id for r in base.records] == ["TB-LEDGER-20250816-001", "TB-LEDGER-20250816-002"]
    assert base.lines == parsed.lines and base.display_path == parsed.display_path == f"HEAD:{repo / 'ledger.md'}"
    (repo / "ledger.md").write_bytes("### RUN_ID: A\n- NOTES: caf\xe9\n".encode("latin-1"))
    commit(repo, "a ledger that is not UTF-8")
    with pytest.raises(LedgerkitError, match="not UTF-8"):
        outline_from_git(repo / "ledger.md")


def test_a_full_commit_id_a_shallow_clone_lacks_is_a_missing_revision_with_the_fix(repo: Path, tmp_path: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    write(repo / "ledger.md", text(1, 2, 3))
    commit(repo, "record 3")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{repo}", str(clone))
    repository = open_repository(clone / "ledger.md")
    assert repository is not None
    with pytest.raises(MissingRevision) as caught:
        repository.history(clone / "ledger.md", since=first)
    assert caught.value.revision == first and "fetch-depth: 0" in caught.value.hint


def test_files_at_reads_each_file_in_each_commit_from_one_process(repo: Path, processes: Processes) -> None:
    first = git(repo, "rev-parse", "HEAD").strip()
    write(repo / "ledger.md", text(1, 2, 3))
    second = commit(repo, "record 3")
    repository = open_repository(repo)
    assert repository is not None
    processes.argv.clear()
    found = repository.files_at([(first, "ledger.md"), (second, "ledger.md"), (second, "nothing.md")])
    assert found == [text(1, 2).encode(), text(1, 2, 3).encode(), None]
    assert processes.verbs() == ["cat-file"]
