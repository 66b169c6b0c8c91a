"""The ``ledgerkit`` command: parses options, calls the library (``ledgerkit.api``), prints, picks the exit code.

Exit codes, documented once: 0 clean; 1 problems found, or --check/--diff would change a file; 2 usage or
I/O error (one line, in the machine format when one is asked for); 130 interrupted (Ctrl-C).
Only click is imported at start-up, and a command is built only when it runs (ledgerkit/commands/): each
imports what it needs then.
"""

from __future__ import annotations

import gc
import io
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from ._version import __version__
from .commands.common import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROBLEMS,
    _asked_format,
    _fatal,
    _ledgerkit_error,
)
from .errors import LedgerkitError, printable

#: Each command and the module of ledgerkit/commands/ that defines it, imported only when the command runs or
#: a listing asks for it: building every command's options took a few milliseconds of each run of the hook,
#: which runs one (issue 12).
_COMMANDS = {
    "fill": "write",
    "init": "write",
    "append": "write",
    "verify": "verify",
    "count": "reports",
    "rollup": "reports",
    "report": "reports",
    "compare": "reports",
    "plan": "reports",
    "models": "reports",
    "export": "reports",
    "watch": "editor",
    "lsp": "editor",
}


class _Group(click.Group):
    """Every problem that stops a run becomes one line and exit code 2; Ctrl-C is exit code 130. Commands are
    loaded when asked for (:data:`_COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _COMMANDS:
            import importlib

            module = importlib.import_module(f"{__package__}.commands.{_COMMANDS[cmd_name]}")
            command = getattr(module, cmd_name)
            assert isinstance(command, click.Command)
            self.add_command(command)
        return self.commands.get(cmd_name)

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **kw: Any
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        standalone = kw.pop("standalone_mode", True)
        if not standalone:
            return super().main(argv, prog_name, standalone_mode=False, **kw)
        _write_names_back()
        try:
            super().main(argv, prog_name, standalone_mode=False, **kw)
        except click.exceptions.Exit as done:
            sys.exit(done.exit_code)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx is not None else "ledgerkit"
            _fatal(f"{exc.format_message()} (see '{command} --help')", _asked_format(argv))
            sys.exit(EXIT_ERROR)
        except (KeyboardInterrupt, click.Abort):
            click.echo("ledgerkit: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except LedgerkitError as exc:
            _ledgerkit_error(exc, _asked_format(argv))
            sys.exit(EXIT_ERROR)
        except click.ClickException as exc:  # a file click could not open
            _fatal(exc.format_message(), _asked_format(argv))
            sys.exit(EXIT_ERROR)
        sys.exit(EXIT_OK)


def _write_names_back() -> None:
    """A file name that is not UTF-8 reaches Python as text holding surrogates (PEP 383). Under a UTF-8 locale
    stdout refuses them, so a report or a problem naming such a file ended in an internal error; the name is
    written back as its own bytes instead, as Python's stdout does in the C locale and as ``-o`` writes a
    report (Output.data)."""
    stdout = sys.stdout
    if isinstance(stdout, io.TextIOWrapper) and stdout.errors == "strict":
        stdout.reconfigure(errors="surrogateescape")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="ledgerkit")
def cli() -> None:
    """Fill, verify and report on a Markdown token budget ledger.

    \b
    Exit codes: 0 clean; 1 problems found (or --check would change a file);
    2 usage or I/O error; 130 interrupted.
    """


def main() -> NoReturn:
    """Console entry point: a traceback never reaches a user (LEDGERKIT_TRACEBACK=1 shows it)."""
    # One command per process, and what it builds (a ledger's records, values and figures) lives until it
    # ends: the cycle collector would walk those objects again and again and free nothing (40 % of a large
    # verify). Reference counting still frees everything else (issue 12). watch and lsp, which run until
    # stopped, turn it back on.
    gc.disable()
    try:
        cli.main(prog_name="ledgerkit")
        code: object = EXIT_OK
    except SystemExit as done:
        code = done.code
    except BrokenPipeError:  # `ledgerkit export ... | head`: the reader left; say nothing more
        _drop_output()
        code = EXIT_PROBLEMS
    except OSError as exc:  # a write the system refused (a full disk under `> file`): an I/O error, not a bug
        _drop_output()
        where = f"{exc.filename}: " if exc.filename else "cannot write the output: "
        _say(f"ledgerkit: {where}{exc.strerror or exc}")
        code = EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the last line of defence, by design
        if os.environ.get("LEDGERKIT_TRACEBACK"):
            raise
        click.echo(
            printable(
                f"ledgerkit: internal error: {type(exc).__name__}: {exc} "
                "(a bug: please report it; LEDGERKIT_TRACEBACK=1 shows where)"
            ),
            err=True,
        )
        code = EXIT_ERROR
    _exit(code)


def _drop_output() -> None:
    """Send what stdout still holds nowhere: its file refused it already, and the error says so once."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _say(line: str | None) -> None:
    """Write a line (None: nothing) to stderr and flush it, whatever state stderr is in."""
    try:
        if line is not None:
            print(printable(line), file=sys.stderr)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass  # stderr gone too: the exit code is all that is left


def _exit(code: object) -> NoReturn:
    """End the process once its output is flushed, without tearing the interpreter down: freeing every module
    and what the command built cost more than the command itself on a small ledger (about 7 ms of the hook's
    run, a tenth of it), and nothing is left to do (files are written and closed, counting workers stopped).
    mypy ends the same way."""
    if code is None:
        code = EXIT_OK
    elif not isinstance(code, int):  # sys.exit("message"): printed, exit code 1, as Python does
        _say(str(code))
        code = 1
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader left before the last of the output: say nothing more
        code = EXIT_PROBLEMS
    except ValueError:  # closed already (the language server closes it when its client leaves): nothing to flush
        pass
    except OSError as exc:  # a full disk under a redirection: the output is incomplete, and the person is told
        _say(f"ledgerkit: cannot write the output: {exc.strerror or exc}")
        code = EXIT_ERROR
    _say(None)
    os._exit(code)
