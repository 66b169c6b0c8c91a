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
