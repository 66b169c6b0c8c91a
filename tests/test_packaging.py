"""The wheel carries what a user needs: the default templates, the package data and py.typed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    # From a clean copy: setuptools reuses an in-tree build/ folder, whose stale files would pass.
    source = tmp_path_factory.mktemp("source") / "ledgerkit"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "__pycache__", ".hypothesis", ".pytest_cache"
        ),
    )
    # Offline: the build backend comes from the test environment, not from the package index.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("ledgerkit-*.whl")
    return zipfile.ZipFile(path)


def _shipped(folder: Path, package: str) -> set[str]:
    return {
        f"{package}/{p.relative_to(folder).as_posix()}"
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def test_templates_and_data_are_in_the_wheel(wheel):
    names = set(wheel.namelist())
    templates = _shipped(REPO / "templates", "ledgerkit/templates")
    assert "ledgerkit/templates/summary.md.j2" in templates
    assert templates <= names
    data = REPO / "ledgerkit" / "data"
    if data.exists():
        assert _shipped(data, "ledgerkit/data") <= names
    assert {"ledgerkit/py.typed", "ledgerkit/cli.py", "ledgerkit/__main__.py"} <= names


def test_the_wheel_declares_the_console_script(wheel):
    entry_points = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    assert "ledgerkit = ledgerkit.cli:main" in wheel.read(entry_points).decode()


def test_every_module_of_the_package_is_in_the_wheel(wheel):
    """pyproject.toml lists the packages by hand (for the templates' mapping): a folder left off that list
    would install without its modules, and ledgerkit would fail only when one of them is imported."""
    modules = {
        f"ledgerkit/{p.relative_to(REPO / 'ledgerkit').as_posix()}"
        for p in (REPO / "ledgerkit").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert "ledgerkit/commands/verify.py" in modules
    assert modules <= set(wheel.namelist())
