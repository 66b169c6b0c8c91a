"""The pre-commit hooks (`ledgerkit fill` and `ledgerkit verify` on the files pre-commit passes): first their
contract through the CLI, then run by the real framework.

The framework tests run `pre-commit try-repo <this checkout> HOOK --files ledger.md` in a temporary git
repository, as a user would try the hooks. try-repo installs the hook's environment (this checkout and its
dependencies, from the package index) into a store of its own for every call; PRE_COMMIT_HOME points at a
temporary folder so that nothing lands in the user's cache. try-repo takes the checkout's HEAD, plus the
staged and unstaged changes of tracked files (a "shadow repo"): files never added to git are not seen.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgerkit.cli import cli
from ledgerkit.reading.parse import load

from .conftest import REPO, ledger, make_files, record


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


# --- the contract, through the CLI ---------------------------------------------------------------------
# The hooks run `ledgerkit fill` and `ledgerkit verify` on the files pre-commit passes.


@pytest.mark.parametrize("command", ["fill", "verify"])
def test_an_empty_list_of_files_succeeds(command):
    # pre-commit calls a hook without files when the user sets always_run or pass_filenames: false.
    result = run(command)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("command", ["fill", "verify"])
def test_markdown_files_without_a_ledger_are_skipped(tmp_path, command):
    make_files(
        tmp_path,
        {
            "README.md": "# Hello\n\n- CHAR_COUNT: [fill]\n",
            # names RUN_ID, but holds no record
            "schema.md": "# Our fields\n\n- RUN_ID: `TB-LEDGER-YYYYMMDD-NNN`\n- SCOPE: TASK\n",
            "latin1.md": "# Caf\xe9\n".encode("latin-1"),  # not UTF-8, and no ledger in it
            "empty.md": "",
        },
    )
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = run(command, *(str(tmp_path / name) for name in sorted(before)))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_fill_says_what_it_filled_and_reports_what_it_cannot(tmp_path):
    make_files(tmp_path, {"a.md": "x" * 40, "l.md": ledger(record(1, ("a.md",)), record(2, ("missing.md",)))})
    path = tmp_path / "l.md"
    result = run("fill", str(path), str(tmp_path / "a.md"))
    line = path.read_text(encoding="utf-8").split("\n").index("  - missing.md") + 1
    assert result.exit_code == 1
    assert result.stdout == f"{path}:{line}:5: LK201 source missing.md not found\n"
    assert result.stderr == f"{path}: filled 1 record and the summary\n"
    assert load(path).records[0].get("CHAR_COUNT") == "40"


def test_fill_takes_root_and_config(tmp_path):
    make_files(
        tmp_path,
        {
            "src/a.md": "abcd",
            "l.md": ledger(record(1, ("/a.md",), token_estimate="[fill]")),
            "cfg.yaml": "divisor: 2\n",
        },
    )
    result = run(
        "fill", "--root", str(tmp_path / "src"), "--config", str(tmp_path / "cfg.yaml"), str(tmp_path / "l.md")
    )
    assert result.exit_code == 0
    record_ = load(tmp_path / "l.md").records[0]
    assert (record_.get("CHAR_COUNT"), record_.get("UTILIZATION")) == ("4", "0.20%")  # ceil(4 / 2) = 2 of 1000


def test_a_ledger_that_cannot_be_read_is_one_line_and_exit_2(tmp_path):
    make_files(tmp_path, {"bad.md": b"### RUN_ID: X\n\xff\n", "l.md": ledger(record(1, ("a.md",))), "a.md": "abcd"})
    result = run("fill", str(tmp_path / "bad.md"), str(tmp_path / "l.md"))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"ledgerkit: {tmp_path / 'bad.md'}: not UTF-8 text (byte 0xff at offset 14)"
    assert load(tmp_path / "l.md").records[0].get("CHAR_COUNT") == "4"  # the other file was still filled


def test_verify_checks_against_head(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    make_files(repo, {"l.md": ledger(record(1), record(2))})
    path = repo / "l.md"
    new = run("verify", str(path))
    assert (new.exit_code, new.stdout, new.stderr) == (0, "", "")  # new to git: no base, nothing wrong
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "ledger")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  - note\n", "  - a note rewritten\n", 1), encoding="utf-8")
    edited = run("verify", str(path))
    line = text.split("\n").index("  - note") + 1
    assert edited.exit_code == 1 and edited.stderr == ""
    assert edited.stdout.startswith(f"{path}:{line}:5: LK601 ")
    path.write_text(text + record(3), encoding="utf-8")  # an append (after the summary, as a person might)
    appended = run("verify", str(path))
    assert (appended.exit_code, appended.stdout) == (0, "")
    bad_base = run("verify", "--base", "no-such-rev", str(path))
    assert (
        bad_base.exit_code == 2 and bad_base.stderr == f"ledgerkit: {path}: --base no-such-rev: no such git revision\n"
    )


# --- the manifest --------------------------------------------------------------------------------------


def test_the_manifest_is_valid_and_its_entries_are_commands():
    from pre_commit.clientlib import load_manifest

    hooks = {h["id"]: h for h in load_manifest(str(REPO / ".pre-commit-hooks.yaml"))}
    assert set(hooks) == {"ledgerkit-fill", "ledgerkit-verify"}
    for hook in hooks.values():
        words = hook["entry"].split()
        assert words[0] == "ledgerkit"
        assert run(*words[1:], "--help").exit_code == 0
        assert hook["language"] == "python" and hook["types"] == ["markdown"]
        assert hook["pass_filenames"]
    # verify runs even when no Markdown file changed: over a range, a commit under a frozen path is checked.
    assert not hooks["ledgerkit-fill"]["always_run"] and hooks["ledgerkit-verify"]["always_run"]


# --- the real framework --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _env(home: Path) -> dict[str, str]:
    # A clean git environment: when the suite itself runs inside a git hook, GIT_DIR & co. point elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**env, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}


def _git(repo: Path, *args: str) -> str:
    cmd = [
        "git",
        "-c",
        "user.name=ledgerkit tests",
        "-c",
        "user.email=tests@ledgerkit.invalid",
        "-c",
        "commit.gpgsign=false",
        *args,
    ]
    return subprocess.run(
        cmd,
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    ).stdout


def _try_repo(repo: Path, home: Path, hook: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), hook, "--files", "ledger.md"],
        cwd=repo,
        env=_env(home),
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def git_repo(tmp_path) -> Path:
    """A git repository with a committed ledger (two records, both filled) and the source they name."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    make_files(repo, {"a.md": "x" * 400, "ledger.md": ledger(record(1, ("a.md",)), record(2, ("a.md",)))})
    assert run("fill", str(repo / "ledger.md")).exit_code == 0
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "a ledger")
    return repo


def test_framework_fill_fails_on_placeholders_then_passes_once_staged(git_repo, pre_commit_home):
    assert (
        run(
            "append",
            str(git_repo / "ledger.md"),
            "--scope",
            "SESSION",
            "--context-id",
            "S1",
            "--source",
            "a.md",
            "--at",
            "2025-08-16T17:00",
            "--tz",
            "Asia/Seoul",
        ).exit_code
        == 0
    )
    _git(git_repo, "add", "ledger.md")
    first = _try_repo(git_repo, pre_commit_home, "ledgerkit-fill")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "ledgerkit fill" in first.stdout and "Failed" in first.stdout
    assert "- files were modified by this hook" in first.stdout
    assert "ledger.md: filled 1 record and the summary" in first.stdout
    assert load(git_repo / "ledger.md").records[-1].get("CHAR_COUNT") == "400"
    _git(git_repo, "add", "ledger.md")  # the person reviewed the figures and stages them
    second = _try_repo(git_repo, pre_commit_home, "ledgerkit-fill")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Passed" in second.stdout and "filled" not in second.stdout


def test_the_documented_config_snippets_are_valid(tmp_path):
    import re

    from pre_commit.clientlib import load_config, load_manifest

    ids = {h["id"] for h in load_manifest(str(REPO / ".pre-commit-hooks.yaml"))}
    doc = (REPO / "docs" / "pre-commit.md").read_text(encoding="utf-8")
    snippets = re.findall(r"```yaml\n(.*?)```", doc, re.DOTALL)
    assert len(snippets) == 2
    remote, local = snippets
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(
        remote.replace("<URL of the ledgerkit git repository>", "https://example.invalid/ledgerkit.git"),
        encoding="utf-8",
    )
    hooks = load_config(str(config))["repos"][0]["hooks"]
    assert [h["id"] for h in hooks] == ["ledgerkit-fill", "ledgerkit-verify"] and set(ids) >= {h["id"] for h in hooks}
    assert hooks[0]["args"] == ["--root", "."]
    assert all(re.search(h["files"], "ledgers/tokens.md") and not re.search(h["files"], "README.md") for h in hooks)
    config.write_text(local, encoding="utf-8")
    (hook,) = load_config(str(config))["repos"][0]["hooks"]
    assert run(*hook["entry"].split()[1:], "--help").exit_code == 0


def test_framework_verify_fails_on_an_edit_of_an_earlier_record(git_repo, pre_commit_home):
    path = git_repo / "ledger.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  - a.md\n", "  - b.md\n", 1), encoding="utf-8")
    _git(git_repo, "add", "ledger.md")
    result = _try_repo(git_repo, pre_commit_home, "ledgerkit-verify")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ledgerkit verify" in result.stdout and "Failed" in result.stdout
    line = text.split("\n").index("  - a.md") + 1
    assert f"ledger.md:{line}:5: LK601 " in result.stdout
    assert "files were modified" not in result.stdout and path.read_text(encoding="utf-8") != text


def test_framework_verify_passes_on_an_append(git_repo, pre_commit_home):
    assert (
        run(
            "append",
            str(git_repo / "ledger.md"),
            "--scope",
            "SESSION",
            "--context-id",
            "S1",
            "--source",
            "a.md",
            "--fill",
            "--at",
            "2025-08-16T17:00",
            "--tz",
            "Asia/Seoul",
        ).exit_code
        == 0
    )
    _git(git_repo, "add", "ledger.md")
    result = _try_repo(git_repo, pre_commit_home, "ledgerkit-verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ledgerkit verify" in result.stdout and "Passed" in result.stdout


# --- the hook over a range, from a pinned revision ------------------------------------------------------
# These install the hooks the way a user's .pre-commit-config.yaml does: `repo:` a clone of this checkout
# (its working tree, committed there, so what is tested is what is here) and `rev:` that clone's HEAD sha.
# pre-commit builds the hook's environment once per (repo, rev) in PRE_COMMIT_HOME, shared by these tests.


@pytest.fixture(scope="module")
def ledgerkit_clone(tmp_path_factory) -> tuple[Path, str]:
    """A git repository holding this checkout's working tree as one commit; (its path, its HEAD sha)."""
    import shutil

    clone = tmp_path_factory.mktemp("ledgerkit-clone")
    listed = _git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, clone / name)
    _git(clone, "init", "-q", "-b", "main")
    _git(clone, "add", "-A")
    _git(clone, "commit", "-q", "-m", "ledgerkit as checked out")
    return clone, _git(clone, "rev-parse", "HEAD").strip()


def _config(clone: tuple[Path, str], *hooks: str) -> str:
    listed = "".join(f"      - id: {hook}\n" for hook in hooks)
    return f"repos:\n  - repo: {clone[0]}\n    rev: {clone[1]}\n    hooks:\n{listed}"


def _pre_commit(repo: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=repo,
        env=_env(home),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


@pytest.mark.parametrize("kind", ["edit", "remove", "reorder", "value"])
def test_framework_verify_over_a_range_names_the_commit_that_rewrote_a_record(
    tmp_path, ledgerkit_clone, pre_commit_home, kind
):
    from .test_verify_history import TAMPERING, build

    config = {".pre-commit-config.yaml": _config(ledgerkit_clone, "ledgerkit-verify")}
    history = build(tmp_path / "repo", tamper=kind, files=config)
    assert history.tampered is not None
    result = _pre_commit(history.repo, pre_commit_home, "run", "--from-ref", history.commits[0], "--to-ref", "HEAD")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ledgerkit verify" in result.stdout and "Failed" in result.stdout
    named = rf"ledger\.md:\d+:\d+: {TAMPERING[kind][1]} in commit {history.tampered[:12]} \(Mallory, "
    assert re.search(named, result.stdout)
    # At commit time (no range) the hook compares the working copy with HEAD, which already holds the rewrite:
    # no LK6xx there (a reorder still breaks the RUN_IDs' order, LK503, which needs no history).
    at_commit = _pre_commit(history.repo, pre_commit_home, "run", "--all-files")
    assert not re.search(r": LK6\d\d ", at_commit.stdout) and "in commit" not in at_commit.stdout


def test_framework_verify_over_the_last_commit_made_with_no_verify(tmp_path, ledgerkit_clone, pre_commit_home):
    from .test_verify_history import build

    config = {".pre-commit-config.yaml": _config(ledgerkit_clone, "ledgerkit-verify")}
    history = build(tmp_path / "repo", tamper="edit", tamper_after=6, files=config)  # the rewrite is HEAD
    assert history.tampered == _git(history.repo, "rev-parse", "HEAD").strip()
    result = _pre_commit(history.repo, pre_commit_home, "run", "--from-ref", "HEAD~1", "--to-ref", "HEAD")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"LK601 in commit {history.tampered[:12]} (Mallory, " in result.stdout
    clean = _pre_commit(history.repo, pre_commit_home, "run", "--from-ref", "HEAD~3", "--to-ref", "HEAD~1")
    assert clean.returncode == 0 and "Passed" in clean.stdout, clean.stdout + clean.stderr


def test_framework_verify_over_a_clean_range_passes(tmp_path, ledgerkit_clone, pre_commit_home):
    from .test_verify_history import build

    config = {".pre-commit-config.yaml": _config(ledgerkit_clone, "ledgerkit-verify")}
    history = build(tmp_path / "repo", files=config)
    result = _pre_commit(history.repo, pre_commit_home, "run", "--from-ref", history.commits[0], "--to-ref", "HEAD")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ledgerkit verify" in result.stdout and "Passed" in result.stdout


def test_framework_verify_at_commit_time_refuses_a_staged_edit(tmp_path, ledgerkit_clone, pre_commit_home):
    from .test_verify_history import _edit, build

    config = {".pre-commit-config.yaml": _config(ledgerkit_clone, "ledgerkit-verify")}
    history = build(tmp_path / "repo", records=2, files=config)
    installed = _pre_commit(history.repo, pre_commit_home, "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    history.path.write_text(_edit(history.path.read_text(encoding="utf-8")), encoding="utf-8")
    _git(history.repo, "add", "ledger.md")
    refused = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@ledgerkit.invalid", "commit", "-q", "-m", "edit"],
        cwd=history.repo,
        env=_env(pre_commit_home),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert refused.returncode == 1 and "LK601" in refused.stdout + refused.stderr
    assert "in commit" not in refused.stdout  # the staged copy, against HEAD: no commit made it yet


def test_framework_verify_over_a_range_reports_a_frozen_path(tmp_path, ledgerkit_clone, pre_commit_home):
    from .test_verify_history import build, commit

    files = {".pre-commit-config.yaml": _config(ledgerkit_clone, "ledgerkit-verify")}
    files.update({"ledgerkit.yaml": "frozen: [ssot]\n", "ssot/truth.txt": "the truth\n"})
    history = build(tmp_path / "repo", records=2, files=files)
    make_files(history.repo, {"ssot/truth.txt": "another truth\n"})
    touched = commit(history.repo, "only the frozen file, no Markdown")
    result = _pre_commit(history.repo, pre_commit_home, "run", "--from-ref", "HEAD~1", "--to-ref", "HEAD")
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"ssot/truth.txt:1:1: LK609 in commit {touched[:12]} " in result.stdout


# --- the documented snippet, copied ------------------------------------------------------------------------


def _documented_snippet() -> str:
    doc = (REPO / "docs" / "pre-commit.md").read_text(encoding="utf-8")
    return re.findall(r"```yaml\n(.*?)```", doc, re.DOTALL)[0]


def _user_repo(tmp_path: Path, config: str) -> Path:
    """A repository laid out as the snippet expects: a filled ledger under ledgers/, its source at the top."""
    repo = tmp_path / "user"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    make_files(repo, {"a.md": "x" * 400, "ledgers/tokens.md": ledger(record(1, ("/a.md",)), record(2, ("/a.md",)))})
    assert run("fill", "--root", str(repo), str(repo / "ledgers" / "tokens.md")).exit_code == 0
    (repo / ".pre-commit-config.yaml").write_text(config, encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "a ledger and the hooks")
    return repo


def test_the_documented_rev_is_the_release_tag_of_this_version():
    from ledgerkit import __version__

    (rev,) = re.findall(r"^\s+rev: (\S+)", _documented_snippet(), re.M)
    assert rev == f"v{__version__}"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert re.findall(r"^\s+rev: (\S+)", readme, re.M) == [rev]


def test_the_documented_snippet_runs_pinned_to_a_commit_sha(tmp_path, ledgerkit_clone, pre_commit_home):
    clone, sha = ledgerkit_clone
    snippet = _documented_snippet().replace("<URL of the ledgerkit git repository>", str(clone))
    repo = _user_repo(tmp_path, re.sub(r"(?m)^(\s+rev: )\S+", rf"\g<1>{sha}", snippet))
    clean = _pre_commit(repo, pre_commit_home, "run", "--all-files")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert re.search(r"ledgerkit fill\.+Passed", clean.stdout) and re.search(r"ledgerkit verify\.+Passed", clean.stdout)
    path = repo / "ledgers" / "tokens.md"
    path.write_text(path.read_text(encoding="utf-8").replace("  - note\n", "  - a rewritten note\n", 1), "utf-8")
    _git(repo, "add", "ledgers/tokens.md")
    edited = _pre_commit(repo, pre_commit_home, "run")
    assert edited.returncode == 1 and "ledgers/tokens.md:" in edited.stdout and " LK601 " in edited.stdout


def test_the_documented_snippet_as_copied_then_autoupdate_pins_a_sha(tmp_path, ledgerkit_clone, pre_commit_home):
    clone, sha = ledgerkit_clone
    repo = _user_repo(tmp_path, _documented_snippet().replace("<URL of the ledgerkit git repository>", str(clone)))
    updated = _pre_commit(repo, pre_commit_home, "autoupdate", "--bleeding-edge", "--freeze")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    config = (repo / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert re.search(rf"(?m)^\s+rev: {sha}\b", config)
    result = _pre_commit(repo, pre_commit_home, "run", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_documented_snippet_as_copied_runs_once_the_release_is_tagged(tmp_path, ledgerkit_clone, pre_commit_home):
    from ledgerkit import __version__

    clone, _ = ledgerkit_clone
    repo = _user_repo(tmp_path, _documented_snippet().replace("<URL of the ledgerkit git repository>", str(clone)))
    untagged = _pre_commit(repo, pre_commit_home, "run", "--all-files")
    assert untagged.returncode != 0 and f"v{__version__}" in untagged.stdout + untagged.stderr  # the failure
    _git(clone, "tag", f"v{__version__}")  # how a release is tagged
    tagged = _pre_commit(repo, pre_commit_home, "run", "--all-files")
    assert tagged.returncode == 0, tagged.stdout + tagged.stderr
