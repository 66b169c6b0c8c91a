"""The command line as a whole: every command explains itself with an example, and the shell completes it."""

from __future__ import annotations

import os
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from ledgerkit.cli import cli


def _commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and subcommand, as the words a user types after ``ledgerkit``."""
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
    return found


COMMANDS = _commands()


def test_the_commands_are_all_found():
    # A guard on the walk above: the commands that exist are found.
    assert {("fill",), ("verify",), ("init",), ("append",)} <= set(COMMANDS)


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(words):
    result = CliRunner().invoke(cli, [*words, "--help"], prog_name="ledgerkit")
    assert result.exit_code == 0 and result.stderr == ""
    help_text = result.stdout
    assert help_text.startswith(f"Usage: ledgerkit {' '.join(words)} ")
    description = help_text.split("\n\n", 2)[1].strip()
    assert len(description) > 20  # a sentence saying what it does, not a bare name
    assert "Example" in help_text
    example = help_text.split("Example", 1)[1]
    assert f"ledgerkit {' '.join(words[:1])}" in example  # the example runs this command


def test_the_top_level_help_lists_every_command_with_its_summary():
    help_text = CliRunner().invoke(cli, ["--help"], prog_name="ledgerkit").stdout
    for name, command in cli.commands.items():
        assert command.get_short_help_str(), name
        assert f"  {name} " in help_text


def _complete(words: str, env_extra: dict[str, str] | None = None) -> list[str]:
    """Ask click's bash completion for the words typed so far (the last may be partial)."""
    typed = words.split(" ")
    env = {"_LEDGERKIT_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(len(typed) - 1)}
    result = CliRunner().invoke(cli, [], env={**env, **(env_extra or {})}, prog_name="ledgerkit")
    assert result.exit_code == 0
    return [line.split(",", 1)[1] for line in result.stdout.splitlines()]


def test_completion_of_commands_options_and_choices():
    assert {"append", "fill", "init", "verify"} <= set(_complete("ledgerkit "))
    assert _complete("ledgerkit ap") == ["append"]
    assert _complete("ledgerkit verify l.md --base-") == ["--base-file"]
    assert {"--scope", "--context-id", "--source", "--fill", "--at", "--tz"} <= set(
        _complete("ledgerkit append l.md --")
    )
    assert _complete("ledgerkit append l.md --scope SE") == ["SESSION"]
    assert _complete("ledgerkit init l.md --lang ") == ["ko", "en"]
    assert _complete("ledgerkit append l.md --tz Asia/Seo") == ["Asia/Seoul"]


def test_completion_script_from_the_installed_command():
    # What the docs tell a user to run: eval "$(_LEDGERKIT_COMPLETE=bash_source ledgerkit)".
    env = {**os.environ, "_LEDGERKIT_COMPLETE": "bash_source"}
    result = subprocess.run([sys.executable, "-m", "ledgerkit"], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "_ledgerkit_completion()" in result.stdout
    assert "complete -o nosort -F _ledgerkit_completion ledgerkit" in result.stdout
    zsh = subprocess.run(
        [sys.executable, "-m", "ledgerkit"],
        env={**env, "_LEDGERKIT_COMPLETE": "zsh_source"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert zsh.returncode == 0 and "#compdef ledgerkit" in zsh.stdout
