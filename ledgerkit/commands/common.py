"""What the commands share: their options, a run over ledgers, and one line (in the format asked for) for every
problem that stops a run. Imports nothing of ledgerkit's stages at import; each command imports what it needs
when it runs."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from ..errors import LedgerkitError, printable, printable_lines

#: The exit codes (the cli's docstring says what each means).
EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
DIAGNOSTIC_FORMATS = ("text", "json", "github")

# --- one line for every problem that stops a run -------------------------------------------------------


def _asked_format(args: Sequence[str]) -> str:
    """The --format a command line asks for, read before (or without) click parsing it."""
    for i, arg in enumerate(args):
        if arg == "--json":
            return "json"
        if arg == "--format" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--format="):
            return arg.split("=", 1)[1]
    return "text"


def _fatal(message: str, output_format: str, path: str | None = None, line: int | None = None) -> None:
    """A problem that stops the run: one line on stderr, and in a machine format on stdout too."""
    from ..diagnostics import fatal

    click.echo(fatal(message, "text", path, line), nl=False, err=True)
    if output_format in ("json", "github"):
        click.echo(fatal(message, output_format, path, line), nl=False)


def _ledgerkit_error(exc: LedgerkitError, output_format: str) -> None:
    lines = getattr(exc, "lines", None)
    if callable(lines):  # a configuration with several problems: one line each, all of them
        for line in lines():
            _fatal(line, "text")
        if output_format in ("json", "github"):
            from ..diagnostics import fatal

            click.echo(fatal(str(exc), output_format, exc.path, exc.line), nl=False)
        return
    _fatal(exc.message, output_format, exc.path, exc.line)


def _show(data: str | bytes) -> None:
    """A command's output (a report, a table, a diff) on stdout, as UTF-8 bytes. A terminal is shown it with each
    control character written as its escape (a ledger's or a file name's ESC would otherwise recolour, retitle or
    write the clipboard of the terminal showing it); a pipe or a file gets it byte for byte (click would strip
    escape sequences from text, and a diff would no longer apply)."""
    isatty = getattr(sys.stdout, "isatty", None)
    if isatty is not None and isatty():
        text = data.decode("utf-8", "backslashreplace") if isinstance(data, bytes) else data
        data = printable_lines(text).encode("utf-8", "backslashreplace")  # a name's byte that is not UTF-8: \udcff
    elif isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")  # such a byte as it was
    click.echo(data, nl=False)


class _Command(click.Command):
    """A command whose ``--format`` takes ``json`` also takes ``--json``, a hidden alias (count and models had
    ``--json`` before ``--format``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, _json_alias(self, args))


def _json_alias(command: click.Command, args: list[str]) -> list[str]:
    """``--json`` as ``--format=json`` where the command has no --json of its own; never an option's value
    (``--note --json``) nor anything after ``--``."""
    options = {name: p for p in command.params if isinstance(p, click.Option) for name in p.opts}
    fmt = options.get("--format")
    if "--json" in options or fmt is None or "json" not in getattr(fmt.type, "choices", ()):
        return args
    out: list[str] = []
    takes_value = False
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        out.append("--format=json" if arg == "--json" and not takes_value else arg)
        option = options.get(arg)
        takes_value = not takes_value and option is not None and not option.is_flag and not option.count
    return out


def _command() -> Callable[[Callable[..., Any]], click.Command]:
    """``@click.command()`` for a ledgerkit command (``--json`` taken where ``--format`` takes json)."""
    return click.command(cls=_Command)


# --- shared options ------------------------------------------------------------------------------------


def _option(*decls: str, **attrs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(*decls, **attrs)


_root = _option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder a leading / in SOURCE_FILES points to (default: the configuration's root, else the git top "
    "level, else the ledger's folder). Any folder may be chosen here.",
)
_config = _option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Configuration file to use instead of the ledgerkit.yaml or pyproject.toml found beside the ledger.",
)
_templates = _option(
    "--templates",
    type=click.Path(path_type=Path),
    help="Folder of Jinja templates overriding the defaults, file by file.",
)
_select = _option(
    "--select", multiple=True, metavar="CODE", help="Report only these codes or prefixes (LK5, LK512). Repeatable."
)
_ignore = _option("--ignore", multiple=True, metavar="CODE", help="Leave out these codes or prefixes. Repeatable.")
_quiet = _option("-q", "--quiet", is_flag=True, help="Print only problems.")
_verbose = _option("-v", "--verbose", is_flag=True, help="Say what was done, also when nothing changed.")
_diagnostics_format = _option(
    "--format",
    "output_format",
    type=click.Choice(DIAGNOSTIC_FORMATS),
    default="text",
    show_default=True,
    help="How problems are printed: path:line:col: CODE message, JSON, or GitHub Actions annotations.",
)
_output = _option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (atomically) instead of standard output; never over a file the command read.",
)
_encoding = _option(
    "--encoding",
    "-e",
    metavar="NAME",
    help="Count exact tokens with this encoding or model too (default: the configuration's encoding, if any).",
)


def _steering(f: Callable[..., Any]) -> Callable[..., Any]:
    return _root(_config(_select(_ignore(f))))


_SETTINGS = ("config_file", "templates", "root", "select", "ignore")


def _with_settings(f: Callable[..., Any]) -> Callable[..., Any]:
    """The command is given one ``settings`` (api.Settings) made of whichever of --config, --templates, --root,
    --select and --ignore it takes, in place of those options' values. Put it right above the ``def``."""

    @functools.wraps(f)
    def command(**options: Any) -> Any:
        given = {name: options.pop(name) for name in _SETTINGS if name in options}
        return f(settings=_settings(**given), **options)

    return command


def _settings(
    config_file: Path | None = None,
    templates: Path | None = None,
    root: Path | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
) -> Any:
    from ..api import Settings

    return Settings(config_file, templates, root, _codes(select, "--select"), _codes(ignore, "--ignore"))


def _codes(values: Sequence[str], option: str) -> tuple[str, ...]:
    from ..diagnostics import CODES

    codes = tuple(c.strip().upper() for value in values for c in value.split(",") if c.strip())
    for code in codes:
        if not any(known.startswith(code) for known in CODES) or not code.startswith("LK"):
            raise click.BadParameter(f"{code!r} is no code nor prefix of one (LK512, LK5, ...)", param_hint=option)
    return codes


# --- fill and verify: a run over ledgers ----------------------------------------------------------------


class _Run:
    """What a run over ledgers collects: problems, what stopped on a file, and lines fill would change."""

    def __init__(self, output_format: str = "text", quiet: bool = False, verbose: bool = False) -> None:
        self.output_format = output_format
        self.quiet = quiet
        self.verbose = verbose
        self.diagnostics: list[Any] = []
        self.failed: list[LedgerkitError] = []
        self.changes: list[tuple[str, int, str]] = []  # (path, line, the new line)

    def say(self, message: str, *, verbose_only: bool = False) -> None:
        if not self.quiet and (self.verbose or not verbose_only):
            click.echo(printable(message), err=True)

    def each(self, paths: Sequence[Path], work: Callable[[Path], None], *, ledgers_only: bool = True) -> None:
        """Run ``work`` on every ledger the paths name (folders recursed); a problem that stops one file is
        reported and the rest still run. A file whose bytes never name RUN_ID is skipped unread, so any
        Markdown file (a Latin-1 NOTES.md too) can be given, as pre-commit does."""
        from ..api import ledger_paths
        from ..files.read import read_bytes
        from ..reading.parse import may_hold_ledger

        for path in ledger_paths(paths):
            try:
                if not ledgers_only or may_hold_ledger(read_bytes(path)):
                    work(path)
            except LedgerkitError as exc:
                self.failed.append(exc)
                if self.output_format == "json":
                    _fatal(exc.message, "text", exc.path, exc.line)  # and in the JSON array at the end
                else:
                    _ledgerkit_error(exc, self.output_format)  # in order, beside what the other files said

    def finish(self, *, would_change: bool = False) -> NoReturn:
        from ..diagnostics import FORMATTERS, has_errors

        problems = sorted(self.diagnostics, key=lambda d: (d.path, d.line, d.column, d.code))
        if self.output_format == "json":
            click.echo(self._json(problems), nl=False)
        else:
            if problems:
                click.echo(FORMATTERS[self.output_format](problems), nl=False)
            if self.output_format == "github":
                click.echo(self._github_changes(), nl=False)
        failed = EXIT_ERROR if self.failed else EXIT_OK
        sys.exit(failed or (EXIT_PROBLEMS if has_errors(problems) or would_change else EXIT_OK))

    def _json(self, problems: list[Any]) -> str:
        from ..reports.formatting import json_text

        items = [{**d.as_dict(), "severity": d.severity} for d in problems]
        items += [
            {
                "path": p,
                "line": n,
                "column": 1,
                "code": None,
                "message": f"fill would write: {text}",
                "severity": "error",
            }
            for p, n, text in self.changes
        ]
        items += [
            {"path": e.path, "line": e.line, "column": None, "code": None, "message": e.message, "severity": "fatal"}
            for e in self.failed
        ]
        return json_text(items, end="\n")

    def _github_changes(self) -> str:
        from ..diagnostics import github_annotation

        return "".join(
            github_annotation("error", p, n, 1, "ledgerkit fill", f"fill would write: {text}")
            for p, n, text in self.changes
        )


def _say_skipped(
    run: _Run, skipped: Sequence[str], what: str = "met through a glob or folder that are not text"
) -> None:
    """The files left out because they are not text: how many, and the first five."""
    if skipped:
        shown = ", ".join(skipped[:5]) + (", ..." if len(skipped) > 5 else "")
        files = f"{len(skipped)} file" + ("s" if len(skipped) != 1 else "")
        run.say(f"ledgerkit: skipped {files} {what}: {shown}")
