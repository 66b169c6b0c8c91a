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
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # as help and completion list them: built when asked for
        command = group.get_command(ctx, name)
        assert command is not None, name
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
    return found


COMMANDS = _commands()


def test_the_commands_are_all_found():
    # A guard on the walk above: the commands that exist are found.
    assert {("fill",), ("verify",), ("init",), ("append",), ("export",), ("lsp",)} <= set(COMMANDS)


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
    ctx = click.Context(cli)
    names = cli.list_commands(ctx)
    assert len(names) == 13  # every command is listed, each built from its module when asked for
    for name in names:
        command = cli.get_command(ctx, name)
        assert command is not None and command.name == name
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


# --- one vocabulary (issue 15, point 2) -------------------------------------------------------------------


def _command(words: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for word in words:
        assert isinstance(command, click.Group)
        command = command.commands[word]
    return command


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_option_has_help_text(words):
    command = _command(words)
    missing = [p.opts[0] for p in command.params if isinstance(p, click.Option) and not (p.help or "").strip()]
    assert missing == []


def _formats(words: tuple[str, ...]) -> tuple[str, ...]:
    fmt = next((p for p in _command(words).params if isinstance(p, click.Option) and "--format" in p.opts), None)
    return tuple(getattr(fmt.type, "choices", ())) if fmt is not None else ()


@pytest.fixture
def ledgers(tmp_path, monkeypatch):
    from .conftest import ledger, make_files, record

    make_files(
        tmp_path,
        {
            "a.md": "x" * 400,
            "b.md": "y" * 40,
            "base.md": ledger(record(1, ("a.md",), context="A")),
            "opt.md": ledger(record(1, ("b.md",), context="B")),
        },
    )
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(cli, ["fill", "base.md", "opt.md"]).exit_code == 0
    return tmp_path


#: A run of each command whose --format offers json (append is run on two copies: it writes).
JSON_RUNS = {
    "fill": ["fill", "--check", "base.md"],
    "verify": ["verify", "--no-base", "base.md"],
    "append": [
        "append",
        "{copy}",
        "--scope",
        "TASK",
        "--context-id",
        "T",
        "--source",
        "nope.md",
        "--at",
        "2025-08-17T10:00",
    ],
    "count": ["count", "a.md"],
    "rollup": ["rollup", "base.md"],
    "report": ["report", "base.md"],
    "compare": ["compare", "base.md", "opt.md"],
    "plan": ["plan", "--source", "a.md", "--budget", "1000"],
    "models": ["models", "gpt-5"],
    "export": ["export", "base.md"],
}


def test_every_format_that_offers_json_is_covered():
    assert sorted(JSON_RUNS) == sorted(" ".join(w) for w in COMMANDS if "json" in _formats(w))


@pytest.mark.parametrize("name", sorted(JSON_RUNS))
def test_json_is_a_hidden_alias_of_format_json(ledgers, name):
    import shutil

    outputs = []
    for n, spelling in enumerate((["--format", "json"], ["--json"])):
        args = list(JSON_RUNS[name])
        if "{copy}" in args:
            copy = ledgers / f"copy{n}.md"
            shutil.copy(ledgers / "base.md", copy)
            args[args.index("{copy}")] = copy.name
        result = CliRunner().invoke(cli, [*args, *spelling])
        outputs.append((result.exit_code, result.stdout.replace("copy1.md", "copy0.md")))
    assert outputs[0] == outputs[1]
    assert outputs[0][1].lstrip().startswith(("[", "{"))  # JSON, not the text form
    assert "--json" not in CliRunner().invoke(cli, [name, "--help"]).stdout  # hidden


def test_json_as_an_options_value_is_left_alone(ledgers):
    result = CliRunner().invoke(
        cli, ["append", "base.md", "--scope", "TASK", "--context-id", "T", "--source", "a.md", "--note", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert "  - --json\n" in (ledgers / "base.md").read_text("utf-8")


# --- quiet and verbose -------------------------------------------------------------------------------------


def test_quiet_prints_only_problems(ledgers):
    from .conftest import ledger, make_files, record

    make_files(ledgers, {"docs/a.md": "a", "docs/p.png": b"\x89PNG\0"})
    make_files(ledgers, {"two.md": ledger(record(1, ("a.md",)), record(2, ("nope.md",)))})
    loud = CliRunner().invoke(cli, ["fill", "base.md", "two.md"])
    quiet = CliRunner().invoke(cli, ["fill", "-q", "base.md", "two.md"])
    assert quiet.exit_code == loud.exit_code == 1
    assert quiet.stdout == loud.stdout and "LK201" in quiet.stdout  # the problems, all of them
    assert loud.stderr and quiet.stderr == ""  # and nothing else
    plan = CliRunner().invoke(cli, ["plan", "-q", "--source", "docs", "--budget", "99"])
    assert plan.exit_code == 0 and plan.stderr == ""  # the skipped PNG is not a problem
    assert "docs/p.png" in CliRunner().invoke(cli, ["plan", "--source", "docs", "--budget", "99"]).stderr
    assert CliRunner().invoke(cli, ["verify", "-q", "--no-base", "base.md"]).output == ""


def test_verbose_says_clean_when_nothing_changed(ledgers):
    assert CliRunner().invoke(cli, ["fill", "base.md"]).stderr == ""  # filled already: nothing to say
    for command in (["fill", "-v", "base.md", "opt.md"], ["verify", "-v", "--no-base", "base.md", "opt.md"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 0
        assert result.stderr == "base.md: clean\nopt.md: clean\n", command


@pytest.mark.parametrize("command", ["watch", "lsp"])
def test_the_commands_that_run_until_stopped_collect_cycles(command, monkeypatch, tmp_path):
    """main() pauses the cycle collector for a command that ends; watch and the language server turn it back on."""
    import gc

    from ledgerkit.editor import server, watch

    seen: list[bool] = []
    monkeypatch.setattr(server, "serve", lambda settings: seen.append(gc.isenabled()))
    monkeypatch.setattr(watch, "watch_ledgers", lambda *a, **k: seen.append(gc.isenabled()) or 0)
    args = [command] + ([str(tmp_path / "ledger.md")] if command == "watch" else [])
    was = gc.isenabled()
    gc.disable()
    try:
        CliRunner().invoke(cli, args)
    finally:
        if was:
            gc.enable()
    assert seen == [True]


# --- the end of the process: output flushed, exit code kept, no teardown (issue 12) -----------------------


def _ledgerkit(*args: str, stdout: int = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "ledgerkit", *args]
    return subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, timeout=120, check=False)


def test_the_process_ends_with_all_its_output_and_its_exit_code(sample):
    """main() ends the process with os._exit once stdout and stderr are flushed: every byte of a long output
    arrives through a pipe, and each exit code is the command's (0 clean, 1 problems, 2 usage)."""
    exported = _ledgerkit("export", "--format", "json", str(sample))
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.endswith(b"]\n") and len(exported.stdout) > 1000
    import json

    assert json.loads(exported.stdout)[0]["run_id"]
    assert _ledgerkit("verify", "--no-base", "--require-filled", str(sample)).returncode == 1
    usage = _ledgerkit("verify", "--no-such-option")
    assert usage.returncode == 2 and usage.stderr.count(b"\n") == 1


def test_a_reader_that_left_ends_the_run_quietly(tmp_path):
    """`ledgerkit export ... | head`: once the reader has gone, the output has nowhere to go (a pipe whose
    reading end is closed, so every write fails): exit code 1 and nothing on stderr, neither a traceback nor
    Python's "Exception ignored" at the end."""
    from .conftest import ledger, make_files, record

    make_files(tmp_path, {"a.md": "x" * 40, "l.md": ledger(*(record(n) for n in range(1, 400)))})
    reading, writing = os.pipe()
    os.close(reading)
    try:
        done = _ledgerkit("export", "--format", "json", str(tmp_path / "l.md"), stdout=writing)
    finally:
        os.close(writing)
    assert (done.returncode, done.stderr) == (1, b"")


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="/dev/full (a device every write to fails) is Linux's")
@pytest.mark.parametrize("args", [["export", "--format", "json"], ["verify", "--format", "json"]])
def test_output_the_system_refuses_is_one_line_and_exit_2(sample, args):
    """Output redirected to a full disk (/dev/full: every write fails with ENOSPC) is an I/O error: one line
    saying so, exit code 2, never "internal error"."""
    with open("/dev/full", "wb") as full:
        done = _ledgerkit(*args, str(sample), stdout=full.fileno())
    assert (done.returncode, done.stderr) == (2, b"ledgerkit: cannot write the output: No space left on device\n")
