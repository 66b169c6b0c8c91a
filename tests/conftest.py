"""Shared test helpers: the sample ledger in a temporary folder, small ledgers and file trees built inline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from .tiktoken_reference import reference  # noqa: F401 - a fixture for every test module

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_ledgers"
REFERENCE = SAMPLE / "token_budget_ledger.md"
DATA = Path(__file__).resolve().parent / "data"
#: Set to rewrite the expected files from the current output; review the diff before committing it.
REGENERATE = os.environ.get("LEDGERKIT_REGENERATE_GOLDEN") == "1"


def check_golden(expected: Path, actual: str | bytes) -> None:
    """Compare output with its golden file, byte for byte (LEDGERKIT_REGENERATE_GOLDEN=1 rewrites it)."""
    data = actual.encode("utf-8") if isinstance(actual, str) else actual
    if REGENERATE:
        expected.parent.mkdir(parents=True, exist_ok=True)
        expected.write_bytes(data)
    assert data.decode("utf-8") == expected.read_bytes().decode("utf-8")  # a readable diff on failure


def make_files(root: Path, files: dict[str, str | bytes]) -> None:
    """Write a tree of files: {"a/b.md": "text", "bin": b"\\0"}; text is written as UTF-8, byte for byte."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))


HEADER = """\
# Ledger

## 0) Budget
- SESSION_BUDGET_C: {budget} tokens

---

## 6) Ledger (append-only)

"""

SUMMARY = """\
## 7) Cumulative Summary
- PROJECT_ID: [assign_when_available]
  - SESSION_COUNT: [fill]
  - TOKEN_ESTIMATE_TOTAL: [fill]
  - UTILIZATION_PEAK: [fill]%

---
"""


def record(
    n: int = 1,
    sources: tuple[str, ...] = ("a.md",),
    *,
    context: str = "S1",
    char_count: str = "[fill_after_measure]",
    token_estimate: str = "ceil(CHAR_COUNT / 4) = [fill]",
    budget: str = "1000",
    utilization: str = "[fill]%",
    action: str = "[fill]",
    extra: str = "",
    at: datetime | None = None,
) -> str:
    """One record in the reference ledger's shape; loaded at ``at`` (UTC) when given, else on 2025-08-16 at
    16:NN in Seoul."""
    if at is None:
        day, local_ts, utc_ts = "20250816", f"2025-08-16 16:{n % 60:02d}", f"2025-08-16T07:{n % 60:02d}:00Z"
    else:
        local = at + timedelta(hours=9)
        day, local_ts, utc_ts = f"{local:%Y%m%d}", f"{local:%Y-%m-%d %H:%M}", f"{at:%Y-%m-%dT%H:%M:%SZ}"
    lines = [
        f"### RUN_ID: TB-LEDGER-{day}-{n:03d}",
        f"- LOCAL_TS: {local_ts} KST (UTC+09:00)",
        f"- UTC_TS: {utc_ts}",
        "- SCOPE: SESSION",
        f"- CONTEXT_ID: {context}",
        "- SOURCE_FILES:",
        *[f"  - {s}" for s in sources],
        f"- CHAR_COUNT: {char_count}",
        f"- TOKEN_ESTIMATE: {token_estimate}",
        f"- BUDGET_C: {budget}",
        f"- UTILIZATION: {utilization}",
        "- DISTRIBUTION:",
        "  - system: 10%",
        "  - rolling_summary: 20%",
        "  - task_brief_and_acceptance: 30%",
        "  - evidence_snippets: 30%",
        "  - margin: 10%",
        f"- THRESHOLD_ACTION: {action}",
        "- NOTES:",
        "  - note",
    ]
    return "\n".join(lines) + "\n" + extra + "\n---\n\n"


def ledger(*records: str, budget: int = 1000, summary: bool = True) -> str:
    """A small ledger: budget section, the given records, and (optionally) the summary section."""
    return HEADER.format(budget=budget) + "".join(records) + (SUMMARY if summary else "")


def fill_cli(folder: Path, text: str) -> str:
    """What `ledgerkit fill` writes for this text, in the same folder (so the same sources and root)."""
    work = folder / "fill_copy.md"
    work.write_text(text, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "ledgerkit", "fill", "-q", str(work)], cwd=folder, timeout=120)
    try:
        return work.read_text(encoding="utf-8")
    finally:
        work.unlink()


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    """A copy of sample_ledgers/ (ledger, ledgerkit.yaml, source tree); returns the ledger's path."""
    dest = tmp_path / "sample"
    shutil.copytree(SAMPLE, dest)
    return dest / "token_budget_ledger.md"


@pytest.fixture(autouse=True, scope="session")
def _encoding_cache(tmp_path_factory) -> None:
    """ledgerkit's encoding cache (ledgerkit/tokens/encodings.py) goes to a temporary folder, never ~/.cache."""
    import os

    os.environ["LEDGERKIT_CACHE_DIR"] = str(tmp_path_factory.mktemp("ledgerkit-cache"))


@pytest.fixture(autouse=True)
def _cycle_collector_as_it_was():
    """ledgerkit.cli.main pauses the cycle collector for the one command a process runs; a test that calls it
    in this process gives it back, so no later test runs with it paused."""
    import gc

    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


class Processes:
    """Every process started through subprocess or os.posix_spawnp, with its argv."""

    def __init__(self) -> None:
        self.argv: list[list[str]] = []

    def verbs(self) -> list[str]:
        """The git subcommand of each process (the first word after git's own options)."""
        verbs = []
        for argv in self.argv:
            words = iter(argv[1:])
            for word in words:
                if word in ("-c", "-C"):
                    next(words)
                elif not word.startswith("-"):
                    verbs.append(word)
                    break
        return verbs


@pytest.fixture
def processes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Processes]:
    seen = Processes()
    real = subprocess.Popen

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, args, *rest, **kwargs):  # type: ignore[no-untyped-def]
            seen.argv.append([os.fsdecode(a) for a in args])
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Counting)
    spawn = getattr(os, "posix_spawnp", None)
    if spawn is not None:

        def spawning(path, argv, env, **kwargs):  # type: ignore[no-untyped-def]
            seen.argv.append([os.fsdecode(a) for a in argv])
            return spawn(path, argv, env, **kwargs)

        monkeypatch.setattr(os, "posix_spawnp", spawning)
    yield seen
