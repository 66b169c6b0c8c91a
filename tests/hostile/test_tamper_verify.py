"""Every tampering caught through ``ledgerkit verify`` as a person and the hook run it: a ledger emptied of
its records, renamed and forged, or in a checkout git refuses, never passes silently."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgerkit.cli import cli

from ..conftest import ledger, make_files, record


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "T")
    make_files(
        tmp_path,
        {"a.md": "x" * 40, "ledger.md": ledger(record(1, ("a.md",), char_count="40", token_estimate="10"), record(2))},
    )
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "start")
    return tmp_path


def verify(folder: Path, *args: str):
    old = os.getcwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(cli, ["verify", *args], prog_name="ledgerkit")
    finally:
        os.chdir(old)


@pytest.mark.parametrize("left", ["# Ledger\n", "", "notes, no ledger here\n"])
def test_a_ledger_emptied_of_its_records_fails(repo, left):
    (repo / "ledger.md").write_text(left, encoding="utf-8")
    result = verify(repo, "ledger.md")
    assert result.exit_code == 1
    assert [line.split(" ")[1] for line in result.stdout.splitlines()] == ["LK602", "LK602"]


def test_a_renamed_and_forged_ledger_is_compared_with_its_old_name(repo):
    git(repo, "mv", "ledger.md", "renamed.md")
    forged = (repo / "renamed.md").read_text(encoding="utf-8").replace("- CHAR_COUNT: 40", "- CHAR_COUNT: 4")
    (repo / "renamed.md").write_text(forged, encoding="utf-8")
    git(repo, "add", "-A")
    result = verify(repo, "renamed.md")
    assert result.exit_code == 1 and " LK605 " in result.stdout


def test_a_checkout_git_refuses_is_a_problem_not_a_pass(repo):
    if os.geteuid() != 0:
        pytest.skip("making git refuse a checkout as 'dubious ownership' needs another owner: run as root")
    subprocess.run(["chown", "-R", "65534:65534", str(repo)], check=True, timeout=60)
    env = {"HOME": str(repo.parent / "home"), "GIT_CONFIG_GLOBAL": str(repo.parent / "no-such-gitconfig")}
    old = dict(os.environ)
    os.environ.update(env)
    try:
        result = verify(repo, "ledger.md")
    finally:
        os.environ.clear()
        os.environ.update(old)
    assert result.exit_code == 1
    assert " LK608 " in result.stdout and "safe.directory" in result.stdout


def test_an_explicit_base_git_lacks_stops_the_run_in_the_format_asked(repo):
    result = verify(repo, "--base", "no-such-rev", "--format", "json", "ledger.md")
    assert result.exit_code == 2
    assert '"severity": "fatal"' in result.stdout and "no-such-rev" in result.stdout
