"""The documentation says what the code does: the two commands, the codes, the configuration keys."""

from __future__ import annotations

import re

from ledgerkit.config import KNOWN_KEYS
from ledgerkit.diagnostics import CODES

from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.DOTALL)


def test_the_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    section = README.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    install_and_fill, tests = [b.strip() for b in _shell_blocks(section)]
    assert "pip install ." in install_and_fill and install_and_fill.endswith(
        "ledgerkit fill sample_ledgers/token_budget_ledger.md"
    )
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == tests


def test_every_code_is_documented_once_with_its_severity():
    rows = re.findall(
        r"^\| (LK\d{3}) \| (error|warning) \| (.+) \|$", (REPO / "docs" / "codes.md").read_text(encoding="utf-8"), re.M
    )
    assert [code for code, _, _ in rows] == sorted(CODES)
    assert {code: (severity, summary) for code, severity, summary in rows} == CODES


def test_every_configuration_key_is_in_the_readme():
    block = README.split("## Configuration", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    documented = {line.split(":", 1)[0] for line in block.splitlines() if re.match(r"^[a-z_]+:", line)}
    assert documented == set(KNOWN_KEYS)


def test_the_readme_day_is_an_excerpt_of_the_tested_transcript():
    # docs/workflow.md is re-run by tests/test_docs_workflow.py; the README shows lines of it, in order.
    excerpt = README.split("## A day's work", 1)[1].split("```console\n", 1)[1].split("```", 1)[0].splitlines()
    transcript = (REPO / "docs" / "workflow.md").read_text(encoding="utf-8").splitlines()
    position = 0
    for line in excerpt:
        position = transcript.index(line, position) + 1
