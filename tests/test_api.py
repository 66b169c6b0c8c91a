"""The library is the product: every command is a top-level function, and no public name shadows a module."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import ledgerkit

from .conftest import REPO


def test_every_public_name_resolves_and_none_shadows_a_submodule():
    for name in ledgerkit.__all__:
        assert getattr(ledgerkit, name) is not None
        try:
            module = importlib.import_module(f"ledgerkit.{name}")
        except ModuleNotFoundError:
            continue
        raise AssertionError(f"ledgerkit.{name} is both a public name and the module {module.__name__}")


def test_the_commands_are_functions_of_the_package(sample):
    assert json.loads(ledgerkit.rollup(sample, format="json").text)["entries"] == 2
    assert ledgerkit.verify_file(sample, base=None) == []
    assert ledgerkit.export([sample], format="jsonl").text.count("\n") == 2
    assert "| GG-SESS-20250816-1620 |" in ledgerkit.report([sample]).text


def test_import_ledgerkit_loads_no_stage():
    code = "import sys, ledgerkit; print(sorted(m for m in sys.modules if m.startswith('ledgerkit')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO, timeout=60)
    assert out.stdout.strip() == "['ledgerkit', 'ledgerkit._version']"


def test_the_readme_library_example_runs_and_uses_only_top_level_names(tmp_path, monkeypatch):
    import re
    import shutil

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## As a library", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    used = set(re.findall(r"ledgerkit\.(\w+)", block))
    assert used and used <= set(ledgerkit.__all__), used - set(ledgerkit.__all__)
    shutil.copytree(REPO / "sample_ledgers", tmp_path, dirs_exist_ok=True)
    (tmp_path / "token_budget_ledger.md").rename(tmp_path / "ledger.md")
    (tmp_path / "ledgers").mkdir()
    shutil.copy(tmp_path / "ledger.md", tmp_path / "ledgers" / "ledger.md")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "brief.md").write_text("a brief\n", encoding="utf-8")
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=T", "-c", "user.email=t@x", "commit", "-qm", "s"],
        ["update-ref", "refs/remotes/origin/main", "HEAD"],
    ):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True, timeout=60)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
