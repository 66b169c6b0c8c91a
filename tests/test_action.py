"""action.yml, the composite GitHub Action: its script, run with bash on real git repositories.

No runner exists here, so the test does what the runner does with the one step: it substitutes the step's
``${{ ... }}`` expressions (the action's path, the inputs, the event), sets the step's ``env:`` and the
variables GitHub sets for a pull request (GITHUB_BASE_REF), and runs the ``run:`` block with bash in a clone
checked out as actions/checkout leaves it. The script installs ledgerkit with pip from the action's folder
(a snapshot of this checkout) into a virtual environment of the test's, from the local package index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO, make_files
from .test_verify_history import _edit, append, build, commit, git
from .test_verify_history import run as cli  # the CLI in a folder: exit code, stdout, stderr

ACTION = REPO / "action.yml"
CLEAN = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_", "PRE_COMMIT", "VIRTUAL_ENV"))}


def load_action() -> dict[str, Any]:
    from ruamel.yaml import YAML

    loaded: dict[str, Any] = YAML(typ="safe").load(ACTION.read_text(encoding="utf-8"))
    return loaded


def test_the_action_is_a_composite_with_the_documented_inputs() -> None:
    action = load_action()
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"ledgers", "base", "require-filled", "fill-check"}
    assert action["inputs"]["ledgers"]["required"] is True
    (step,) = action["runs"]["steps"]
    assert step["shell"] == "bash"
    assert 'pip install --quiet --disable-pip-version-check "${{ github.action_path }}"' in step["run"]
    # Inputs reach the script through env, never spliced into its text (a ledger name is never shell code).
    assert not re.search(r"\$\{\{\s*inputs\.", step["run"])


@pytest.fixture(scope="module")
def action_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The action's checkout: this working tree's tracked and new files (what `uses:` would fetch)."""
    folder = tmp_path_factory.mktemp("action")
    listed = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def runner_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin folder of a fresh virtual environment: the runner's python3 and pip, ledgerkit not installed."""
    venv = tmp_path_factory.mktemp("runner") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    return venv / "bin"


def run_action(
    checkout: Path, folder: Path, bin_folder: Path, inputs: dict[str, str], github: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """The step as the runner runs it: expressions substituted, its env set, bash -e on its script."""
    (step,) = load_action()["runs"]["steps"]
    defaults = {name: str(spec.get("default", "")) for name, spec in load_action()["inputs"].items()}
    values = {**{f"inputs.{k}": v for k, v in {**defaults, **inputs}.items()}, "github.action_path": str(folder)}
    values["github.event.before"] = github.pop("event.before", "")

    def substitute(text: str) -> str:
        def one(match: re.Match[str]) -> str:
            assert match.group(1) in values, f"the test does not know the expression {match.group(1)}"
            return values[match.group(1)]

        return re.sub(r"\$\{\{\s*([\w.-]+)\s*\}\}", one, text)

    env = {**CLEAN, **{k: substitute(str(v)) for k, v in step["env"].items()}, **github}
    env["PATH"] = f"{bin_folder}{os.pathsep}{env['PATH']}"
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", substitute(step["run"])],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def pull_request(tmp_path: Path, *, tamper: bool, unfilled: bool = False) -> Path:
    """origin: main with a filled ledger, and a branch `feature` with more records (one commit rewriting an
    earlier record when ``tamper``; a record left unfilled when ``unfilled``); returns a full clone on it."""
    origin = build(tmp_path / "origin", records=3).repo
    git(origin, "checkout", "-q", "-b", "feature")
    if tamper:
        path = origin / "ledger.md"
        path.write_text(_edit(path.read_text(encoding="utf-8")), encoding="utf-8")
        commit(origin, "tidy", author="Mallory")
    make_files(origin, {"notes.txt": "later work\n"})
    commit(origin, "a clean commit after it")
    if unfilled:
        append(origin / "ledger.md", 4)
        commit(origin, "a record left unfilled")
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", "--branch", "feature", f"file://{origin}", str(checkout))
    return checkout


def test_a_pull_request_that_rewrote_a_record_fails_with_an_annotation_naming_the_commit(
    tmp_path: Path, action_folder: Path, runner_python: Path
) -> None:
    checkout = pull_request(tmp_path, tamper=True)
    tampered = git(checkout, "log", "-1", "--format=%H", "--author=Mallory").strip()
    result = run_action(checkout, action_folder, runner_python, {"ledgers": "ledger.md"}, {"GITHUB_BASE_REF": "main"})
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and errors[0].startswith("::error file=ledger.md,line=")
    assert f"title=LK601::LK601 in commit {tampered[:12]} (Mallory, " in errors[0]
    assert "::group::ledgerkit verify --history --format github --base origin/main --require-filled" in result.stdout
    assert (runner_python / "ledgerkit").exists()  # installed from the action's folder


def test_a_clean_pull_request_passes(tmp_path: Path, action_folder: Path, runner_python: Path) -> None:
    checkout = pull_request(tmp_path, tamper=False)
    result = run_action(checkout, action_folder, runner_python, {"ledgers": "ledger.md"}, {"GITHUB_BASE_REF": "main"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::error" not in result.stdout


def test_a_record_left_unfilled_is_annotated_by_verify_and_fill(
    tmp_path: Path, action_folder: Path, runner_python: Path
) -> None:
    checkout = pull_request(tmp_path, tamper=False, unfilled=True)
    result = run_action(checkout, action_folder, runner_python, {"ledgers": "."}, {"GITHUB_BASE_REF": "main"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"^::error file=ledger\.md,line=\d+,col=\d+,title=LK108::", result.stdout, re.M)
    assert re.search(
        r"^::error file=ledger\.md,line=\d+,col=1,title=ledgerkit fill::fill would write", result.stdout, re.M
    )
    assert (checkout / "ledger.md").read_text(encoding="utf-8").count("[fill") > 0  # --check wrote nothing


def test_a_shallow_checkout_says_to_fetch_the_whole_history(
    tmp_path: Path, action_folder: Path, runner_python: Path
) -> None:
    checkout = pull_request(tmp_path, tamper=False)
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{checkout}", str(shallow))
    git(shallow, "remote", "set-url", "origin", f"file://{tmp_path / 'origin'}")
    result = run_action(shallow, action_folder, runner_python, {"ledgers": "ledger.md"}, {"GITHUB_BASE_REF": "main"})
    assert result.returncode == 2, result.stdout + result.stderr
    (error,) = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert "origin/main: no such git revision" in error and "fetch-depth: 0" in error


def test_a_push_checks_the_commits_it_added(tmp_path: Path, action_folder: Path, runner_python: Path) -> None:
    checkout = pull_request(tmp_path, tamper=True)
    tampered = git(checkout, "log", "-1", "--format=%H", "--author=Mallory").strip()
    after = {"event.before": tampered}  # the push came after the rewrite: its own commits are clean
    assert run_action(checkout, action_folder, runner_python, {"ledgers": "ledger.md"}, after).returncode == 0
    before = {"event.before": git(checkout, "rev-parse", f"{tampered}~1").strip()}
    result = run_action(checkout, action_folder, runner_python, {"ledgers": "ledger.md"}, before)
    assert result.returncode == 1 and f"in commit {tampered[:12]}" in result.stdout


def test_no_ledger_named_is_an_error(tmp_path: Path, action_folder: Path, runner_python: Path) -> None:
    checkout = pull_request(tmp_path, tamper=False)
    result = run_action(checkout, action_folder, runner_python, {"ledgers": "  \n "}, {})
    assert result.returncode == 2 and "names no ledger" in result.stdout


# --- what CI shows: the output the action relies on (issue 13, points 3 and 4) ----------------------------


def _unfilled(tmp_path: Path) -> tuple[Path, list[int]]:
    from .conftest import ledger, record

    text = ledger(record(1, ("a.md",)))
    make_files(tmp_path, {"a.md": "x" * 40, "l.md": text})
    waiting = [n for n, line in enumerate(text.split("\n"), 1) if "[fill" in line and line.startswith("- ")]
    return tmp_path / "l.md", waiting


def test_require_filled_makes_each_waiting_placeholder_an_error(tmp_path: Path) -> None:
    path, waiting = _unfilled(tmp_path)
    assert cli(tmp_path, "verify", "l.md")[0] == 0  # a placeholder waiting is not an error by default
    code, out, _ = cli(tmp_path, "verify", "--require-filled", "--format", "json", "l.md")
    items = json.loads(out)
    assert code == 1 and {(i["code"], i["severity"]) for i in items} == {("LK108", "error")}
    assert [i["line"] for i in items] == waiting and len(waiting) == 4
    code, out, _ = cli(tmp_path, "verify", "--require-filled", "--format", "github", "l.md")
    assert code == 1 and out.count("title=LK108::LK108 ") == 4


def test_fill_check_annotates_the_lines_it_would_write_and_writes_nothing(tmp_path: Path) -> None:
    path, waiting = _unfilled(tmp_path)
    before = path.read_bytes()
    code, out, _ = cli(tmp_path, "fill", "--check", "--format", "github", "l.md")
    lines = out.splitlines()
    assert code == 1 and lines and all(line.startswith("::error file=l.md,line=") for line in lines)
    assert all(",col=1,title=ledgerkit fill::fill would write: " in line for line in lines)
    annotated = {int(re.search(r"line=(\d+)", line).group(1)) for line in lines}  # type: ignore[union-attr]
    assert set(waiting) <= annotated
    assert path.read_bytes() == before


def test_an_error_that_stops_the_run_is_written_in_the_format_asked_for(tmp_path: Path) -> None:
    path, _ = _unfilled(tmp_path)
    make_files(tmp_path, {"bad.md": b"### RUN_ID: X\n\xff\n"})
    code, out, err = cli(tmp_path, "verify", "--require-filled", "--format", "json", "bad.md", "l.md")
    items = json.loads(out)
    assert code == 2 and err.startswith("ledgerkit: bad.md: not UTF-8 text")
    assert [i["severity"] for i in items if i["path"] == "bad.md"] == ["fatal"]
    assert {i["code"] for i in items if i["path"] == "l.md"} == {"LK108"}  # the other file was still checked
    code, out, _ = cli(tmp_path, "verify", "--format", "github", "bad.md")
    assert code == 2 and out == "::error file=bad.md::ledgerkit: not UTF-8 text (byte 0xff at offset 14)\n"


def test_a_base_a_shallow_clone_lacks_says_so_in_plain_verify_too(tmp_path: Path) -> None:
    checkout = pull_request(tmp_path, tamper=False)
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{checkout}", str(shallow))
    code, out, _ = cli(shallow, "verify", "--base", "origin/main", "--format", "github", "ledger.md")
    assert code == 2 and out.startswith("::error file=ledger.md::ledgerkit: --base origin/main: no such git revision")
    assert "this clone is shallow" in out and "fetch-depth: 0" in out and "git fetch --unshallow" in out


# --- docs/ci.md's shell script -------------------------------------------------------------------------


def _documented_script() -> str:
    doc = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    (script,) = [s for s in re.findall(r"```sh\n(.*?)```", doc, re.DOTALL) if s.startswith("#!/usr/bin/env bash")]
    return script


@pytest.mark.parametrize("tamper", [True, False])
def test_the_documented_shell_script_checks_each_commit_after_the_base(tmp_path: Path, tamper: bool) -> None:
    origin = build(tmp_path / "origin", records=2, rename_at=2).repo  # the ledger moves to ledgers/
    git(origin, "checkout", "-q", "-b", "feature")
    path = origin / "ledgers" / "tokens.md"
    if tamper:
        path.write_text(_edit(path.read_text(encoding="utf-8")), encoding="utf-8")
        commit(origin, "tidy", author="Mallory")
    append(path, 3)
    commit(origin, "record 3")
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{origin}", str(checkout))
    script = tmp_path / "ledgers.sh"
    script.write_text(_documented_script(), encoding="utf-8")
    env = {**CLEAN, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{CLEAN['PATH']}"}
    result = subprocess.run(
        ["bash", str(script)], cwd=checkout, env=env, capture_output=True, text=True, check=False, timeout=600
    )
    # The clone was shallow: the script deepened it. The record left unfilled fails fill --check and LK108.
    assert git(checkout, "rev-parse", "--is-shallow-repository").strip() == "false"
    assert result.returncode == 1, result.stdout + result.stderr
    assert " LK108 " in result.stdout and "would fill 1 record" in result.stderr
    tampered = git(checkout, "log", "-1", "--format=%H", "--author=Mallory").strip()
    assert bool(tampered) == tamper
    assert (f"LK601 in commit {tampered[:12]} (Mallory, " in result.stdout) == tamper
    assert ("in commit" in result.stdout) == tamper
