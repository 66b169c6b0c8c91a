"""The library is the product: every command is a top-level function, and no public name shadows a module."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import ledgerkit

from .conftest import REPO, ledger, record


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


def test_each_command_reads_each_source_file_at_most_once(tmp_path, monkeypatch):
    # Figures are computed once and every view consumes them: a rollup with exact counts, a report, an
    # export and a comparison read a source no more often than the records naming it need it measured (once).
    from collections import Counter

    from ledgerkit.measuring import files

    from .conftest import make_files

    make_files(tmp_path, {"a.md": "alpha\n" * 50, "b.md": "beta\n" * 20, "ledgerkit.yaml": "encoding: o200k_base\n"})
    records = [record(1, ("a.md", "b.md")), record(2, ("a.md", "a.md:1-3")), record(3, ("b.md",), context="S2")]
    path = tmp_path / "ledger.md"
    path.write_text(ledger(*records), encoding="utf-8")
    opened: Counter[str] = Counter()
    real = files.open_regular

    def counting(name, **kwargs):
        opened[os.path.basename(name)] += 1
        return real(name, **kwargs)

    monkeypatch.setattr(files, "open_regular", counting)
    runs = {
        "rollup": lambda: ledgerkit.rollup(path, "S1", format="html"),
        "report": lambda: ledgerkit.report([path], format="json"),
        "export": lambda: ledgerkit.export([path], format="csv"),
        "compare": lambda: ledgerkit.compare([path], ["S1", "S2"], format="json"),
    }
    for name, run in runs.items():
        opened.clear()
        assert run().text
        assert opened and max(opened.values()) == 1, (name, opened)


def test_a_base_may_be_a_file_a_parsed_ledger_or_its_outline(sample, tmp_path):
    from ledgerkit.reading.parse import outline

    base = tmp_path / "base.md"
    base.write_bytes(sample.read_bytes())
    text = sample.read_text(encoding="utf-8")
    sample.write_text(text.replace("GG-SESS-20250816-1620", "GG-SESS-20250816-1621", 1), encoding="utf-8")
    found = ledgerkit.verify_file(sample, base=base)
    assert "LK605" in {d.code for d in found}
    assert ledgerkit.verify_file(sample, base=ledgerkit.parse(text, str(base))) == found
    assert ledgerkit.verify_file(sample, base=outline(text, str(base))) == found
    assert ledgerkit.verify(ledgerkit.load(sample), base=ledgerkit.load(base)) == found
