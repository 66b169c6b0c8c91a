"""docs/workflow.md is a real transcript: every `$ command` in its console blocks is run, in order, in one
fresh folder, and must print what the page shows (stdout and stderr together, as a terminal shows them).

After a deliberate change of output, `LEDGERKIT_REGENERATE_GOLDEN=1 pytest tests/test_docs_workflow.py`
rewrites the outputs on the page from a real run; review the diff before committing it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import REPO

PAGE = REPO / "docs" / "workflow.md"
REGENERATE = os.environ.get("LEDGERKIT_REGENERATE_GOLDEN") == "1"
_BLOCK = re.compile(r"(```console\n)(.*?)(```)", re.DOTALL)


def _steps(block: str) -> list[tuple[str, str]]:
    """(command, expected output) pairs of a console block."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            steps[-1][1].append(line)
    return [(command, "".join(out + "\n" for out in output)) for command, output in steps]


def _environment(home: Path) -> dict[str, str]:
    # Fixed identity, dates and zone so that the transcript, commit ids included, is the same on every run.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "LEDGERKIT_", "_LEDGERKIT"))}
    env.update(
        {
            "PATH": os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
            "HOME": str(home),
            "TZ": "UTC",
            "LC_ALL": "C.UTF-8",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Duksan",
            "GIT_AUTHOR_EMAIL": "duksan@example.com",
            "GIT_COMMITTER_NAME": "Duksan",
            "GIT_COMMITTER_EMAIL": "duksan@example.com",
            "GIT_AUTHOR_DATE": "2025-08-16T18:00:00+09:00",
            "GIT_COMMITTER_DATE": "2025-08-16T18:00:00+09:00",
        }
    )
    return env


def test_the_workflow_page_is_what_the_commands_print(tmp_path):
    assert shutil.which("ledgerkit", path=os.path.dirname(sys.executable)), (
        "ledgerkit is not installed beside this Python"
    )
    page = PAGE.read_text(encoding="utf-8")
    blocks = _BLOCK.findall(page)
    assert len(blocks) >= 5
    work = tmp_path / "work"
    work.mkdir()
    env = _environment(tmp_path)
    actual_blocks = []
    for _, block, _ in blocks:
        actual = []
        for command, expected in _steps(block):
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=work,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
            )
            actual.append(f"$ {command}\n{done.stdout}")
            if not REGENERATE:
                assert done.stdout == expected, f"$ {command}"
        actual_blocks.append("".join(actual))
    if REGENERATE:
        it = iter(actual_blocks)
        PAGE.write_text(_BLOCK.sub(lambda m: m.group(1) + next(it) + m.group(3), page), encoding="utf-8")
