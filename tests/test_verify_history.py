"""verify --history: every committed version against the one before it, each problem naming its commit.

The proof of issue 13: a ledger filled and appended over a dozen commits, one of them made with
``--no-verify`` that rewrote an earlier record in one of four ways, then clean commits. The commit is named
for each kind; the same history without it is clean; a rename keeps the history checked. The same history
through the real pre-commit framework is in test_hooks.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgerkit.api import verify_frozen, verify_history
from ledgerkit.cli import cli
from ledgerkit.writing.fill import fill_file

from .conftest import Processes, ledger, make_files, record

CLEAN = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and not k.startswith("PRE_COMMIT")}
SUMMARY_HEADING = "## 7) Cumulative Summary"


def git(repo: Path, *args: str, author: str = "Ledger Tester") -> str:
    env = {**CLEAN, "GIT_AUTHOR_NAME": author, "GIT_COMMITTER_NAME": author}
    env.update(GIT_AUTHOR_EMAIL="tester@ledgerkit.invalid", GIT_COMMITTER_EMAIL="tester@ledgerkit.invalid")
    done = subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env, timeout=60)
    return done.stdout.decode("utf-8")


def commit(repo: Path, message: str, *, author: str = "Ledger Tester") -> str:
    git(repo, "add", "-A")
    no_sign = ("-c", "commit.gpgsign=false")
    git(repo, *no_sign, "commit", "-q", "--no-verify", "--allow-empty", "-m", message, author=author)
    return git(repo, "rev-parse", "HEAD").strip()


def block(text: str, n: int) -> str:
    """Record ``n``'s block as written (from its heading to the ``---`` after it)."""
    found = re.search(rf"### RUN_ID: TB-LEDGER-20250816-{n:03d}\n.*?\n---\n\n", text, re.DOTALL)
    assert found is not None
    return found.group(0)


def _edit(text: str) -> str:
    one = block(text, 1)
    return text.replace(one, one.replace("  - note\n", "  - a note, rewritten\n"))


def _remove(text: str) -> str:
    return text.replace(block(text, 2), "")


def _reorder(text: str) -> str:
    one, two = block(text, 1), block(text, 2)
    return text.replace(one + two, two + one)


def _value(text: str) -> str:
    one = block(text, 1)
    return text.replace(one, one.replace("- CHAR_COUNT: 400\n", "- CHAR_COUNT: 399\n"))


#: Each way to rewrite an earlier record, and the code it must be reported with.
TAMPERING: dict[str, tuple[Callable[[str], str], str]] = {
    "edit": (_edit, "LK601"),
    "remove": (_remove, "LK602"),
    "reorder": (_reorder, "LK603"),
    "value": (_value, "LK605"),
}


@dataclass
class History:
    repo: Path
    path: Path
    commits: list[str]
    tampered: str | None = None  # the commit that rewrote a record


def append(path: Path, n: int) -> None:
    text = path.read_text(encoding="utf-8")
    at = text.index(SUMMARY_HEADING)
    path.write_text(text[:at] + record(n, ("a.md",)) + text[at:], encoding="utf-8")


def build(
    repo: Path,
    *,
    tamper: str | None = None,
    rename_at: int | None = None,
    records: int = 6,
    tamper_after: int = 4,
    files: dict[str, str | bytes] | None = None,
) -> History:
    """A ledger appended and filled in two commits per record (``records`` records, so 2 x records commits);
    ``tamper``: after record ``tamper_after`` is filled, one more commit by Mallory, made with --no-verify;
    ``rename_at``: before record n is appended, the ledger (and its source) move to ledgers/; ``files``: more files
    in the first commit."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    make_files(repo, {"a.md": "x" * 400, "ledger.md": ledger(), **(files or {})})
    history = History(repo, repo / "ledger.md", [])
    for n in range(1, records + 1):
        if n == rename_at:
            (repo / "ledgers").mkdir()
            git(repo, "mv", "ledger.md", "ledgers/tokens.md")
            git(repo, "mv", "a.md", "ledgers/a.md")  # its source moves with it
            history.path = repo / "ledgers" / "tokens.md"
            history.commits.append(commit(repo, "move the ledger"))
        append(history.path, n)
        history.commits.append(commit(repo, f"record {n}"))
        fill_file(history.path)
        history.commits.append(commit(repo, f"fill record {n}"))
        if tamper is not None and n == tamper_after:
            change, _ = TAMPERING[tamper]
            history.path.write_text(change(history.path.read_text(encoding="utf-8")), encoding="utf-8")
            history.tampered = commit(repo, f"tidy the ledger ({tamper})", author="Mallory")
    return history


def run(repo: Path, *args: str) -> tuple[int, str, str]:
    cwd = os.getcwd()
    os.chdir(repo)
    try:
        result = CliRunner().invoke(cli, list(args))
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout, result.stderr


def history_items(repo: Path, *args: str) -> tuple[int, list[dict[str, object]]]:
    code, out, err = run(repo, "verify", "--history", "--format", "json", *args)
    assert code in (0, 1), err
    return code, json.loads(out)


# --- the proof -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_history_names_the_commit_that_rewrote_a_record(tmp_path: Path, kind: str) -> None:
    history = build(tmp_path / "repo", tamper=kind)
    assert len(history.commits) == 12 and history.tampered is not None
    code, items = history_items(history.repo, "ledger.md")
    assert code == 1
    committed = [i for i in items if "commit" in i]
    assert committed and {i["commit"] for i in committed} == {history.tampered}
    assert TAMPERING[kind][1] in {i["code"] for i in committed}
    assert all(i["author"] == "Mallory" and i["short"] == history.tampered[:12] for i in committed)
    assert all(str(i["date"])[:4].isdigit() and i["path"] == "ledger.md" for i in committed)
    # In text, the commit stands beside path:line:col: CODE.
    _, out, _ = run(history.repo, "verify", "--history", "ledger.md")
    short = history.tampered[:12]
    line = next(line for line in out.splitlines() if short in line)
    assert re.match(rf"ledger\.md:\d+:\d+: LK60\d in commit {short} \(Mallory, \d{{4}}-\d\d-\d\dT[^)]*\): ", line)
    # The github annotation carries it in its message.
    _, out, _ = run(history.repo, "verify", "--history", "--format", "github", "ledger.md")
    assert re.search(rf"^::error file=ledger\.md,line=\d+,col=\d+,title=LK60\d::LK60\d in commit {short} ", out, re.M)


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_plain_verify_misses_what_history_catches(tmp_path: Path, kind: str) -> None:
    # The first measurement: HEAD already holds the edit, so the working copy against HEAD is clean.
    history = build(tmp_path / "repo", tamper=kind)
    code, items = history_items(history.repo, "ledger.md")
    assert code == 1 and any("commit" in i for i in items)
    plain = run(history.repo, "verify", "--format", "json", "ledger.md")
    assert not [i for i in json.loads(plain[1]) if str(i["code"]).startswith("LK6")]


def test_a_clean_history_of_the_same_length_has_no_problem(tmp_path: Path) -> None:
    history = build(tmp_path / "repo", records=6)
    history.commits.append(commit(history.repo, "an empty commit"))
    assert len(history.commits) == 13
    assert run(history.repo, "verify", "--history", "ledger.md") == (0, "", "")


def test_base_limits_the_walk_to_the_commits_after_it(tmp_path: Path) -> None:
    history = build(tmp_path / "repo", tamper="edit")
    before = history.commits[7]  # record 4 filled, just before the rewrite
    code, items = history_items(history.repo, "--base", before, "ledger.md")
    assert code == 1 and {i.get("commit") for i in items} == {history.tampered}
    after = history.tampered
    assert run(history.repo, "verify", "--history", "--base", after, "ledger.md") == (0, "", "")


def test_the_working_copy_is_checked_against_head_too(tmp_path: Path) -> None:
    history = build(tmp_path / "repo")
    history.path.write_text(_edit(history.path.read_text(encoding="utf-8")), encoding="utf-8")
    code, items = history_items(history.repo, "ledger.md")
    assert code == 1 and [(i["code"], "commit" in i) for i in items] == [("LK601", False)]


@pytest.mark.parametrize("tamper_after", [2, 5])  # before the rename, and after it
def test_a_renamed_ledger_keeps_its_history_checked(tmp_path: Path, tamper_after: int) -> None:
    history = build(tmp_path / "repo", tamper="value", rename_at=4, tamper_after=tamper_after)
    shown = "ledger.md" if tamper_after < 4 else os.path.join("ledgers", "tokens.md")
    code, items = history_items(history.repo, "ledgers/tokens.md")
    committed = [i for i in items if "commit" in i]
    assert code == 1 and {(i["commit"], i["code"], i["path"]) for i in committed} == {
        (history.tampered, "LK605", shown)
    }
    clean = build(tmp_path / "clean", rename_at=4)
    assert run(clean.repo, "verify", "--history", "ledgers/tokens.md") == (0, "", "")


def test_the_library_gives_the_same(tmp_path: Path) -> None:
    history = build(tmp_path / "repo", tamper="remove")
    found = verify_history(history.path)
    assert found and {getattr(d, "commit", None) for d in found} >= {history.tampered}
    assert [d.code for d in found if getattr(d, "commit", None)] == ["LK602"]


def test_outside_git_history_is_a_usage_error(tmp_path: Path) -> None:
    make_files(tmp_path, {"ledger.md": ledger(record(1))})
    code, out, err = run(tmp_path, "verify", "--history", "ledger.md")
    assert (code, out) == (2, "") and "not in a git repository" in err


def test_history_takes_no_base_file(tmp_path: Path) -> None:
    history = build(tmp_path / "repo", records=1)
    code, _, err = run(history.repo, "verify", "--history", "--no-base", "ledger.md")
    assert code == 2 and "--history" in err


def test_a_base_the_clone_lacks_says_how_to_fetch_it(tmp_path: Path) -> None:
    history = build(tmp_path / "repo", records=3)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{history.repo}", str(clone))
    code, out, err = run(clone, "verify", "--history", "--base", history.commits[1], "--format", "github", "ledger.md")
    assert code == 2
    assert "no such git revision" in out and "fetch-depth: 0" in out and "git fetch --unshallow" in out
    assert out.startswith("::error") and "git fetch --unshallow" in err


# --- cost ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("records", [2, 12])
def test_the_walk_costs_the_same_git_processes_however_long_the_history(
    tmp_path: Path, processes: Processes, records: int
) -> None:
    history = build(tmp_path / "repo", records=records)
    processes.argv.clear()  # building the history ran git too
    assert verify_history(history.path) == []
    assert sorted(processes.verbs()) == ["cat-file", "cat-file", "log"]  # the walk's log and reader, then the base


# --- frozen paths ----------------------------------------------------------------------------------------


def test_a_commit_touching_a_frozen_path_is_named_with_the_file(tmp_path: Path) -> None:
    history = build(tmp_path / "repo", records=2)
    repo = history.repo
    make_files(repo, {"ledgerkit.yaml": "frozen: [ssot/**]\n", "ssot/truth.md": "the truth\n", "ssot/b.txt": "b\n"})
    created = commit(repo, "the source of truth")
    make_files(repo, {"ssot/truth.md": "a quieter truth\n"})
    changed = commit(repo, "edit it", author="Mallory")
    (repo / "ssot" / "b.txt").unlink()
    removed = commit(repo, "remove one")
    make_files(repo, {"notes/free.md": "anything\n"})
    commit(repo, "not frozen")
    code, items = history_items(repo, "--base", created, "ledger.md")
    frozen = [(i["code"], i["commit"], i["path"], i["line"]) for i in items]  # sorted by path
    assert code == 1 and frozen == [
        ("LK609", removed, os.path.join("ssot", "b.txt"), 1),
        ("LK609", changed, os.path.join("ssot", "truth.md"), 1),
    ]
    messages = [str(i["message"]) for i in items]
    assert "was removed" in messages[0] and "was changed, under a frozen path (ssot/**)" in messages[1]
    # The whole history names the commit that created them as well: nothing may write there, ever.
    whole = {(d.code, getattr(d, "commit", None)) for d in verify_frozen([history.path])}
    assert ("LK609", created) in whole and len(whole) == 3


# --- merges ------------------------------------------------------------------------------------------------


def _merged_pull_request(tmp_path: Path, *, tamper: bool) -> tuple[History, str, str | None]:
    """main with three records; a branch that (optionally) rewrites record 1, then appends record 4; merged
    with --no-ff, as a pull request's merge commit. (history, the base, the rewriting commit)."""
    history = build(tmp_path / "repo", records=3)
    base = history.commits[-1]
    git(history.repo, "checkout", "-q", "-b", "feature")
    tampered = None
    if tamper:
        history.path.write_text(_edit(history.path.read_text(encoding="utf-8")), encoding="utf-8")
        tampered = commit(history.repo, "tidy", author="Mallory")
    append(history.path, 4)
    fill_file(history.path)
    commit(history.repo, "record 4")
    git(history.repo, "checkout", "-q", "main")
    git(history.repo, "-c", "commit.gpgsign=false", "merge", "-q", "--no-ff", "-m", "Merge feature", "feature")
    return history, base, tampered


def test_a_merge_commit_is_not_blamed_for_what_the_branch_it_merged_did(tmp_path: Path) -> None:
    history, base, tampered = _merged_pull_request(tmp_path, tamper=True)
    merge = git(history.repo, "rev-parse", "HEAD").strip()
    for since in (base, None):
        found = verify_history(history.path, since=since)
        assert found is not None
        assert [(d.code, getattr(d, "commit", None)) for d in found] == [("LK601", tampered)], merge


def test_a_merge_that_rewrites_a_record_itself_is_named(tmp_path: Path) -> None:
    history, base, _ = _merged_pull_request(tmp_path, tamper=False)
    git(history.repo, "reset", "-q", "--hard", "HEAD~1")  # undo the merge, then merge again, editing in it
    git(history.repo, "-c", "commit.gpgsign=false", "merge", "-q", "--no-ff", "--no-commit", "feature")
    history.path.write_text(_value(history.path.read_text(encoding="utf-8")), encoding="utf-8")
    merge = commit(history.repo, "Merge feature, and tidy")
    found = verify_history(history.path, since=base)
    assert found is not None and [(d.code, getattr(d, "commit", None)) for d in found] == [("LK605", merge)]


def test_a_version_that_is_not_utf8_is_named_and_other_markdown_is_skipped(tmp_path: Path) -> None:
    history = build(tmp_path / "repo", records=2)
    good = history.path.read_bytes()
    history.path.write_bytes(good.replace(b"  - note\n", b"  - caf\xe9\n", 1))
    broken = commit(history.repo, "latin-1")
    history.path.write_bytes(good)
    commit(history.repo, "utf-8 again")
    make_files(history.repo, {"NOTES.md": "# Caf\xe9\n".encode("latin-1")})
    commit(history.repo, "notes")
    code, items = history_items(history.repo, "ledger.md", "NOTES.md")
    assert code == 1 and [(i["code"], i["commit"], i["line"]) for i in items] == [("LK610", broken, 1)]
    assert "not UTF-8 text" in str(items[0]["message"])


# --- verify --pre-commit: what the hook runs -------------------------------------------------------------


def run_hook(repo: Path, env: dict[str, str], *files: str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    cwd = os.getcwd()
    os.chdir(repo)
    try:
        result = CliRunner(env=env).invoke(cli, ["verify", "--pre-commit", *files])
    finally:
        os.chdir(cwd)
    return result.exit_code, result.stdout, result.stderr


def test_the_hook_over_a_range_checks_its_commits_and_not_the_working_copy(tmp_path: Path) -> None:
    history = build(tmp_path / "repo", tamper="edit")
    assert history.tampered is not None
    history.path.write_text(_value(history.path.read_text(encoding="utf-8")), encoding="utf-8")  # not committed
    span = {"PRE_COMMIT_FROM_REF": history.commits[7], "PRE_COMMIT_TO_REF": history.tampered}
    code, out, _ = run_hook(history.repo, span, "ledger.md")
    assert code == 1 and out.count(" LK601 in commit ") == 1 and history.tampered[:12] in out
    after = {"PRE_COMMIT_FROM_REF": history.tampered, "PRE_COMMIT_TO_REF": "HEAD"}
    assert run_hook(history.repo, after, "ledger.md") == (0, "", "")  # the working copy's edit is not a commit
    # At commit time (no range): the working copy against HEAD.
    code, out, _ = run_hook(history.repo, {}, "ledger.md")
    assert code == 1 and " LK605 " in out and "in commit" not in out


def test_the_hook_needs_both_ends_of_a_range(tmp_path: Path) -> None:
    history = build(tmp_path / "repo", records=1)
    code, out, err = run_hook(history.repo, {"PRE_COMMIT_FROM_REF": "HEAD~1"}, "ledger.md")
    assert (code, out) == (2, "") and "--from-ref and --to-ref" in err


def test_the_hook_over_a_range_without_files_checks_the_frozen_paths_only(tmp_path: Path) -> None:
    history = build(tmp_path / "repo", records=1, files={"ledgerkit.yaml": "frozen: [ssot]\n", "ssot/a": "a\n"})
    span = {"PRE_COMMIT_FROM_REF": history.commits[0], "PRE_COMMIT_TO_REF": "HEAD"}
    assert run_hook(history.repo, span) == (0, "", "")
    make_files(history.repo, {"ssot/a": "b\n"})
    touched = commit(history.repo, "touch the frozen file")
    code, out, _ = run_hook(history.repo, span)
    assert code == 1 and out.startswith(f"{os.path.join('ssot', 'a')}:1:1: LK609 in commit {touched[:12]} ")
