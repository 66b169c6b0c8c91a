"""The ``ledgerkit`` command: parses options, calls the library (``ledgerkit.api``), prints, picks the exit code.

Exit codes, documented once: 0 clean; 1 problems found, or --check/--diff would change a file; 2 usage or
I/O error (one line, in the machine format when one is asked for); 130 interrupted (Ctrl-C).
Only click is imported at start-up: every command imports what it needs when it runs.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from ._version import __version__
from .errors import LedgerkitError

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
    from .diagnostics import fatal

    where = "" if path is None else (f"{path}: " if line is None else f"{path}:{line}: ")
    click.echo(f"ledgerkit: {where}{message}", err=True)
    if output_format in ("json", "github"):
        click.echo(fatal(message, output_format, path, line), nl=False)


def _ledgerkit_error(exc: LedgerkitError, output_format: str) -> None:
    lines = getattr(exc, "lines", None)
    if callable(lines):  # a configuration with several problems: one line each, all of them
        for line in lines():
            click.echo(f"ledgerkit: {line}", err=True)
        if output_format in ("json", "github"):
            from .diagnostics import fatal

            click.echo(fatal(str(exc), output_format, exc.path, exc.line), nl=False)
        return
    _fatal(exc.message, output_format, exc.path, exc.line)


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


class _Group(click.Group):
    """Every problem that stops a run becomes one line and exit code 2; Ctrl-C is exit code 130."""

    command_class = _Command

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **kw: Any
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        standalone = kw.pop("standalone_mode", True)
        if not standalone:
            return super().main(argv, prog_name, standalone_mode=False, **kw)
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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="ledgerkit")
def cli() -> None:
    """Fill, verify and report on a Markdown token budget ledger.

    \b
    Exit codes: 0 clean; 1 problems found (or --check would change a file);
    2 usage or I/O error; 130 interrupted.
    """


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


def _settings(
    config_file: Path | None = None,
    templates: Path | None = None,
    root: Path | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
) -> Any:
    from .api import Settings

    return Settings(config_file, templates, root, _codes(select, "--select"), _codes(ignore, "--ignore"))


def _codes(values: Sequence[str], option: str) -> tuple[str, ...]:
    from .diagnostics import CODES

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
            click.echo(message, err=True)

    def each(self, paths: Sequence[Path], work: Callable[[Path], None], *, ledgers_only: bool = True) -> None:
        """Run ``work`` on every ledger the paths name (folders recursed); a problem that stops one file is
        reported and the rest still run. A file whose bytes never name RUN_ID is skipped unread, so any
        Markdown file (a Latin-1 NOTES.md too) can be given, as pre-commit does."""
        from .api import ledger_paths
        from .files.read import read_bytes
        from .reading.parse import may_hold_ledger

        for path in ledger_paths(paths):
            try:
                if not ledgers_only or may_hold_ledger(read_bytes(path)):
                    work(path)
            except LedgerkitError as exc:
                self.failed.append(exc)
                if self.output_format == "json":
                    click.echo(f"ledgerkit: {exc}", err=True)  # and in the JSON array at the end
                else:
                    _ledgerkit_error(exc, self.output_format)  # in order, beside what the other files said

    def finish(self, *, would_change: bool = False) -> NoReturn:
        from .diagnostics import FORMATTERS, has_errors

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
        import json

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
        return json.dumps(items, ensure_ascii=False, indent=2) + "\n"

    def _github_changes(self) -> str:
        from .diagnostics import github_annotation

        return "".join(
            github_annotation("error", p, n, 1, "ledgerkit fill", f"fill would write: {text}")
            for p, n, text in self.changes
        )


def _lock_wait(run: _Run) -> Callable[[str], None]:
    return lambda message: run.say(f"ledgerkit: {message}")


@cli.command()
@click.argument("ledgers", nargs=-1, type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if filling would change a file.")
@click.option("--diff", is_flag=True, help="Write nothing; print the unified diff of what filling would change.")
@_steering
@_templates
@_diagnostics_format
@_quiet
@_verbose
def fill(
    ledgers: tuple[Path, ...],
    check: bool,
    diff: bool,
    root: Path | None,
    config_file: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    templates: Path | None,
    output_format: str,
    quiet: bool,
    verbose: bool,
) -> None:
    """Measure each record's SOURCE_FILES and fill its [fill] placeholders.

    Fills CHAR_COUNT, TOKEN_ESTIMATE, BUDGET_C, UTILIZATION, THRESHOLD_ACTION, TOKEN_COUNT and
    COST_ESTIMATE where they hold a placeholder, and re-renders the cumulative summary. Every other byte
    stays as written. LEDGER may be a folder: every Markdown file holding a ledger beneath it. Markdown
    files without records are skipped, so the command can be given every Markdown file.

    \b
    Example:
      ledgerkit fill ledger.md
      ledgerkit fill --check --diff ledger.md
      ledgerkit fill --check --format github ledgers/
    """
    from .writing.fill import fill_file

    settings = _settings(config_file, templates, root, select, ignore)
    run = _Run(output_format, quiet, verbose)
    would_change = False

    def work(path: Path) -> None:
        nonlocal would_change
        config = settings.config(path)
        result = fill_file(path, config=config, root=root, check=check or diff, on_lock_wait=_lock_wait(run))
        run.diagnostics.extend(settings.steer(result.diagnostics, config, result.ledger))
        _say_skipped(run, result.figures.skipped)
        if not result.ledger.records and result.ledger.summary is None:
            return
        if diff and result.changed:
            click.echo(result.diff(), nl=False)
        if result.changed and (check or diff):
            would_change = True
            run.changes.extend(_changed_lines(result))
            run.say(f"{path}: would fill {_records(len(result.filled))}")
        elif result.written:
            run.say(f"{path}: filled {_records(len(result.filled))}")
        else:
            run.say(f"{path}: clean", verbose_only=True)

    run.each(ledgers, work)
    run.finish(would_change=would_change)


def _changed_lines(result: Any) -> list[tuple[str, int, str]]:
    """One entry per line of the ledger that fill would change, in line order: the line and what fill would
    write there. Lines a block adds (a longer summary) go with the block's last line, or, where fill only
    inserts, with the line they would follow, so no line is named twice and none past the ledger's end."""
    import difflib

    old, new = result.ledger.text.splitlines(), result.text.splitlines()
    at: dict[int, list[str]] = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        last = max(i2, i1, 1)  # the block's last old line (1-based); an insertion goes with the line before it
        for k in range(max(i2 - i1, j2 - j1)):
            line = min(i1 + 1 + k, last)
            at.setdefault(line, []).extend(new[j1 + k : j1 + k + 1] or ["(this line removed)"])
    path = result.ledger.display_path
    return [(path, line, "\n".join(texts)) for line, texts in sorted(at.items())]


def _say_skipped(run: _Run, skipped: Sequence[str]) -> None:
    if skipped:
        shown = ", ".join(skipped[:5]) + (", ..." if len(skipped) > 5 else "")
        files = f"{len(skipped)} file" + ("s" if len(skipped) != 1 else "")
        run.say(f"ledgerkit: skipped {files} met through a glob or folder that are not text: {shown}")


def _records(n: int) -> str:
    what = f"{n} record" + ("" if n == 1 else "s")
    return f"{what} and the summary" if n else "the summary"


@cli.command()
@click.argument("ledgers", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--base",
    "base_rev",
    metavar="REV",
    help="Compare with the ledger as committed at this git revision (default: HEAD).",
)
@click.option(
    "--base-file", type=click.Path(dir_okay=False, path_type=Path), help="Compare with this file instead of git."
)
@click.option("--no-base", is_flag=True, help="Skip the append-only comparison.")
@click.option(
    "--require-filled", is_flag=True, help="A placeholder still waiting is an error (LK108): CI before merging."
)
@click.option(
    "--history",
    is_flag=True,
    help="Check every commit of each ledger against the one before it (after --base REV only), then the "
    "working copy against HEAD; also the frozen paths.",
)
@click.option(
    "--pre-commit",
    "hook",
    is_flag=True,
    help="As the pre-commit hook: over the range pre-commit names (PRE_COMMIT_FROM_REF/TO_REF) check each "
    "commit; at commit time, the staged ledgers against HEAD.",
)
@_steering
@_diagnostics_format
@_quiet
@_verbose
def verify(
    ledgers: tuple[Path, ...],
    base_rev: str | None,
    base_file: Path | None,
    no_base: bool,
    require_filled: bool,
    history: bool,
    hook: bool,
    root: Path | None,
    config_file: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    output_format: str,
    quiet: bool,
    verbose: bool,
) -> None:
    """Check allocations, figures, the schema and the append-only history. Writes nothing.

    Against a base version of the same ledger (by default the one committed in git's HEAD, so a
    pre-commit run compares what is staged with HEAD; a renamed ledger is followed), every earlier record
    must still be there, in order, byte for byte, except that a placeholder may have become a value. A
    base git cannot give is a problem (LK608), never a silent pass. Markdown files without records (now and
    in the base) are skipped. Warnings do not change the exit code.

    With --history every committed version is checked against the one before it, so a commit that
    rewrote a record (say with `git commit --no-verify`) is named however clean the later ones are; each
    problem names its commit. Commits touching a `frozen:` path of the configuration are LK609.

    \b
    Example:
      ledgerkit verify ledger.md
      ledgerkit verify --base origin/main --require-filled --format github ledgers/
      ledgerkit verify --history --base origin/main ledgers/
    """
    from .api import pre_commit_range, verify_path

    if sum(map(bool, (base_rev, base_file, no_base))) > 1:
        raise click.UsageError("give at most one of --base, --base-file and --no-base")
    if base_file is not None and len(ledgers) > 1:
        raise click.UsageError("--base-file compares one ledger; give one")
    if (history or hook) and (base_file is not None or no_base):
        raise click.UsageError("--history and --pre-commit read git: they take --base, not --base-file or --no-base")
    settings = _settings(config_file, None, root, select, ignore)
    run = _Run(output_format, quiet, verbose)
    span = pre_commit_range(os.environ) if hook else None
    if history or span is not None:
        _verify_history(run, ledgers, settings, span or (base_rev, "HEAD"), require_filled, working=span is None)
    base: Any = None if no_base else (base_file if base_file is not None else (base_rev or "HEAD"))

    def work(path: Path) -> None:
        found = verify_path(
            path, base=base, settings=settings, require_filled=require_filled, strict_base=base_rev is not None
        )
        if found is None:
            return  # holds no ledger, nor did its base
        run.diagnostics.extend(found)
        if not found:
            run.say(f"{path}: clean", verbose_only=True)

    run.each(ledgers, work, ledgers_only=False)  # verify_path skips a file only when its base held no ledger
    run.finish()


def _verify_history(
    run: _Run,
    ledgers: Sequence[Path],
    settings: Any,
    span: tuple[str | None, str],
    require_filled: bool,
    *,
    working: bool,
) -> NoReturn:
    """verify --history (``working``: then the working copy against HEAD) and the hook over a range."""
    from .api import ledger_paths, verify_frozen, verify_history

    since, until = span

    def work(path: Path) -> None:
        found = verify_history(
            path, since=since, until=until, settings=settings, require_filled=require_filled, working=working
        )
        if found is None:
            return
        run.diagnostics.extend(found)
        if not found:
            run.say(f"{path}: clean", verbose_only=True)

    run.each(ledgers, work, ledgers_only=False)
    try:
        run.diagnostics.extend(verify_frozen(ledger_paths(ledgers), since=since, until=until, settings=settings))
    except LedgerkitError as exc:
        run.failed.append(exc)
        _ledgerkit_error(exc, run.output_format)
    run.finish()


# --- init and append -------------------------------------------------------------------------------------


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--budget",
    type=click.IntRange(min=1, max=10**15),
    help="SESSION_BUDGET_C in tokens (default: the configuration's budget, else 130000).",
)
@click.option(
    "--lang",
    type=click.Choice(["ko", "en"]),
    default="ko",
    show_default=True,
    help="Headings in Korean with English terms (as the reference ledger), or in English.",
)
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@_config
@_templates
@_quiet
def init(
    path: Path,
    budget: int | None,
    lang: str,
    force: bool,
    config_file: Path | None,
    templates: Path | None,
    quiet: bool,
) -> None:
    """Write a new, empty ledger at PATH with the reference ledger's sections.

    Budget, estimation, allocation, thresholds, schema, how to log, the ledger (append-only), the
    cumulative summary, a checklist and the revision history, from templates/ledger.LANG.md.j2. The
    allocation, thresholds and divisor come from the configuration. An existing file is kept unless
    --force is given.

    \b
    Example:
      ledgerkit init ledger.md --budget 130000 --lang en
    """
    from .writing.init import init_file

    config = _settings(config_file, templates).config(path)
    new = init_file(path, budget=budget, lang=lang, config=config, force=force)
    budget_c = new.budget.value if new.budget is not None else None
    if not quiet:
        click.echo(
            f"{path}: new ledger ({lang}), SESSION_BUDGET_C {budget_c}; add records with: ledgerkit append {path} ...",
            err=True,
        )


def _complete_zone(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    import zoneinfo

    return sorted(z for z in zoneinfo.available_timezones() if z.lower().startswith(incomplete.lower()))


@cli.command()
@click.argument("ledger", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--scope",
    required=True,
    type=click.Choice(["CONV", "UNIT", "TASK", "SESSION", "PROJECT"]),
    help="The record's SCOPE.",
)
@click.option("--context-id", required=True, metavar="ID", help="The record's CONTEXT_ID, e.g. GG-SESS-20250816-1620.")
@click.option(
    "--source",
    "sources",
    required=True,
    multiple=True,
    metavar="PATH",
    help="A SOURCE_FILES entry as the ledger reads it (/ is the source root; else relative to the ledger; "
    "PATH:10-20 for lines). Repeat for more.",
)
@click.option("--note", "notes", multiple=True, metavar="TEXT", help="A line of NOTES. Repeat for more.")
@click.option("--fill", "fill_figures", is_flag=True, help="Fill the figures at once, as `ledgerkit fill` does.")
@click.option(
    "--at",
    metavar="ISO-TIMESTAMP",
    help="The record's time (default: now), e.g. 2025-08-16T16:20 or 2025-08-16T07:20Z.",
)
@click.option(
    "--tz",
    metavar="ZONE",
    shell_complete=_complete_zone,
    help="IANA time zone of LOCAL_TS and of the RUN_ID's date (default: the machine's), e.g. Asia/Seoul.",
)
@_root
@_config
@_templates
@_diagnostics_format
@_quiet
def append(
    ledger: Path,
    scope: str,
    context_id: str,
    sources: tuple[str, ...],
    notes: tuple[str, ...],
    fill_figures: bool,
    at: str | None,
    tz: str | None,
    root: Path | None,
    config_file: Path | None,
    templates: Path | None,
    output_format: str,
    quiet: bool,
) -> None:
    """Add the next record at the end of LEDGER's ledger section.

    The record gets the next RUN_ID for its local date, LOCAL_TS with zone and offset and the matching
    UTC_TS, BUDGET_C from section 0, the configured DISTRIBUTION and placeholders for the figures
    (from templates/record.md.j2). Only the record's bytes are inserted; newline style and BOM stay.
    With --fill the figures are filled at once and problems are reported (exit 1).

    \b
    Example:
      ledgerkit append ledger.md --scope SESSION --context-id GG-SESS-20250816-1620 \\
        --source /docs/brief.md --source src/app.py:1-120 --note "first load" --fill
      ledgerkit append ledger.md --scope TASK --context-id T-42 --source notes.md \\
        --at 2025-08-16T16:20 --tz Asia/Seoul
    """
    from .writing.append import NewRecord, append_file, parse_at

    run = _Run(output_format, quiet)
    config = _settings(config_file, templates, root).config(ledger)
    new = NewRecord(scope, context_id, sources, notes)
    result = append_file(
        ledger,
        new,
        at=parse_at(at) if at else None,
        tz=tz,
        config=config,
        fill_figures=fill_figures,
        root=root,
        on_lock_wait=_lock_wait(run),
    )
    run.say(_appended(ledger, result))
    run.diagnostics.extend(result.diagnostics)
    run.finish()


def _appended(ledger: Path, result: Any) -> str:
    """What append did, plainly: a record that could not be filled is said to be so."""
    message = f"{ledger}:{result.line}: appended {result.run_id}"
    if result.filled is None:
        return message
    new = next((f for f in result.filled.figures.records if f.run_id == result.run_id), None)
    if new is not None and result.run_id not in result.filled.filled:
        return (
            message + "; its figures could not be filled (see the problems below), and the record keeps its "
            "placeholders"
        )
    return message + " and filled " + (_records(len(result.filled.filled)) if result.filled.changed else "nothing")


# --- count -----------------------------------------------------------------------------------------------


_OUTPUT_FORMATS = {
    "rollup": ("md", "html", "json"),
    "report": ("md", "json", "csv"),
    "compare": ("md", "json"),
    "plan": ("md", "json"),
    "export": ("json", "jsonl", "csv"),
    "count": ("text", "json"),
    "models": ("text", "json"),
}


def _output_format(command: str, default: str, what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(_OUTPUT_FORMATS[command]),
        default=default,
        show_default=True,
        help=what,
    )


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--encoding",
    "-e",
    "encodings",
    multiple=True,
    metavar="NAME",
    help="Encoding or model to count with, repeatable: o200k_base (default), cl100k_base, another tiktoken "
    "encoding it has cached, a model id (gpt-5, claude-opus-4-5: `ledgerkit models` lists them; a model "
    "whose tokenizer is not public is an estimate and says so).",
)
@_output_format("count", "text", "A table, or JSON: files, total, encodings, skipped.")
@click.option("--top", type=click.IntRange(min=1), metavar="N", help="List only the N largest files.")
@click.option(
    "--messages",
    is_flag=True,
    help="The paths are chat transcripts (JSON list or JSONL of role/content/name messages): count "
    "them with OpenAI's per-message overhead.",
)
@_config
@_quiet
def count(
    paths: tuple[str, ...],
    encodings: tuple[str, ...],
    fmt: str,
    top: int | None,
    messages: bool,
    config_file: Path | None,
    quiet: bool,
) -> None:
    """Count characters, the estimate and exact tokens of files, folders, SOURCE_FILES entries or stdin.

    PATH is a file, a folder (recursed; inside a git work tree, what .gitignore ignores is left out;
    outside one, hidden folders, virtual environments and node_modules), a SOURCE_FILES entry
    (path:START-END, path#L7, * and ** globs), or - for standard input. Counting is offline and exact
    for OpenAI encodings. The configuration found from the current folder gives the estimate's divisor
    and the default encoding.

    \b
    Example:
      ledgerkit count docs/ README.md:1-40 --encoding o200k_base --encoding cl100k_base
      git diff | ledgerkit count - -e gpt-5
      ledgerkit count --messages chat.jsonl --format json
    """
    from .api import count as count_tokens
    from .reports.count import ProgressBar

    progress = ProgressBar(sys.stderr) if sys.stderr.isatty() and not quiet else None
    stdin = sys.stdin.read() if list(paths) == ["-"] else None
    try:
        result = count_tokens(
            paths,
            encodings=encodings,
            messages=messages,
            stdin=stdin,
            settings=_settings(config_file),
            progress=progress,
        ).value
    finally:
        if progress is not None:
            progress.close()
    click.echo(result.format_json(top) if fmt == "json" else result.format_text(top), nl=False)
    for problem in result.problems:
        click.echo(f"ledgerkit: {problem.path}: {problem.reason}", err=True)
    if result.skipped and fmt != "json" and not quiet:
        shown = ", ".join(p.path for p in result.skipped[:5]) + (", ..." if len(result.skipped) > 5 else "")
        files = f"{len(result.skipped)} file" + ("s" if len(result.skipped) != 1 else "")
        click.echo(f"ledgerkit: skipped {files} that are not text: {shown}", err=True)
    sys.exit(EXIT_ERROR if result.problems else EXIT_OK)


# --- reports ---------------------------------------------------------------------------------------------


def _emit(out: Any, output: Path | None, quiet: bool = False) -> NoReturn:
    """The report to stdout or, atomically, to ``output`` (never over a file it read); its problems to stderr
    (they make the exit code 1)."""
    from .diagnostics import format_text, has_errors

    if output is None:
        click.echo(out.text, nl=False)
    else:
        _write_output(out, output)
    if out.diagnostics:
        click.echo(format_text(out.diagnostics), nl=False, err=True)
    sys.exit(EXIT_PROBLEMS if has_errors(out.diagnostics) else EXIT_OK)


def _write_output(out: Any, output: Path) -> None:
    from .api import same_file
    from .files.textfile import write_atomic

    for read in sorted(out.inputs, key=str):
        if output.exists() and same_file(output, read):
            raise click.UsageError(f"-o {output} is {read}, which this command read; it never writes over an input")
    if not output.parent.is_dir():
        raise LedgerkitError("no such folder", output.parent)
    write_atomic(output, out.text.encode("utf-8"))


@cli.command()
@click.argument("ledger", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--session", "session_id", metavar="ID", help="The session's CONTEXT_ID (default: the only one).")
@_output_format("rollup", "md", "Markdown (Unicode bars), one self-contained HTML page (an SVG chart), or JSON.")
@_output
@_encoding
@_steering
@_templates
def rollup(
    ledger: Path,
    session_id: str | None,
    fmt: str,
    output: Path | None,
    encoding: str | None,
    root: Path | None,
    config_file: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    templates: Path | None,
) -> None:
    """One session's story: totals against the budget, records, a utilization chart, threshold events,
    allocation, cost and sources.

    Figures are those `ledgerkit fill` computes (nothing is written to the ledger); the sources are
    measured now, largest first, with exact token counts where an encoding is given or configured.
    Without --session, the ledger's only session; with several, they are listed. Rendered from
    templates/rollup.md.j2 or rollup.html.j2; --templates overrides them.

    \b
    Example:
      ledgerkit rollup ledger.md
      ledgerkit rollup ledger.md --session GG-SESS-20250816-1620 --format html -o rollup.html
    """
    from .api import rollup as make_rollup

    settings = _settings(config_file, templates, root, select, ignore)
    _emit(make_rollup(ledger, session_id, format=fmt, encoding=encoding, settings=settings), output)


@cli.command()
@click.argument("ledgers", nargs=-1, required=True, type=click.Path(path_type=Path))
@_output_format("report", "md", "A Markdown table, JSON, or CSV.")
@click.option("--since", metavar="DATE", help="Only records on or after this day (UTC), e.g. 2025-08-01.")
@click.option("--until", metavar="DATE", help="Only records on or before this day (UTC), e.g. 2025-08-31.")
@_output
@_steering
@_templates
def report(
    ledgers: tuple[Path, ...],
    fmt: str,
    since: str | None,
    until: str | None,
    output: Path | None,
    root: Path | None,
    config_file: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    templates: Path | None,
) -> None:
    """One row per session, across every ledger given (folders too): entries, tokens against the budget,
    peak, last action, cost, first and last time.

    \b
    Example:
      ledgerkit report ledgers/ --format csv -o sessions.csv
      ledgerkit report ledger.md --since 2025-08-01 --until 2025-08-31
    """
    from .api import parse_day
    from .api import report as make_report

    settings = _settings(config_file, templates, root, select, ignore)
    first, last = (parse_day(since) if since else None), (parse_day(until) if until else None)
    _emit(make_report(ledgers, format=fmt, since=first, until=last, settings=settings), output)


@cli.command()
@click.argument("ledgers", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--session",
    "sessions",
    multiple=True,
    metavar="ID",
    help="A session's CONTEXT_ID: the baseline first, then the optimized one.",
)
@_output_format("compare", "md", "A Markdown comparison, or JSON.")
@_output
@_steering
@_templates
def compare(
    ledgers: tuple[Path, ...],
    sessions: tuple[str, ...],
    fmt: str,
    output: Path | None,
    root: Path | None,
    config_file: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    templates: Path | None,
) -> None:
    """Compare a baseline with an optimized session: tokens, characters, the saving in tokens and money,
    peaks, sources added and dropped.

    Give one ledger and two --session (baseline first), or two ledgers: each whole, or with two --session,
    the first session from the first ledger and the second from the second. Sources are measured now.

    \b
    Example:
      ledgerkit compare ledger.md --session GG-SESS-A --session GG-SESS-B
      ledgerkit compare before.md after.md
    """
    from .api import compare as make_comparison

    settings = _settings(config_file, templates, root, select, ignore)
    _emit(make_comparison(ledgers, sessions, format=fmt, settings=settings), output)


@cli.command()
@click.option(
    "--source",
    "sources",
    required=True,
    multiple=True,
    metavar="PATH",
    help="A source as in SOURCE_FILES: a file, a folder (recursed), a glob, path:START-END. Repeat for more.",
)
@click.option("--budget", type=click.IntRange(min=1, max=10**15), help="The budget in tokens.")
@click.option(
    "--model",
    "model_name",
    metavar="NAME",
    help="Take the budget from this model's context window less its output limit (`ledgerkit models` lists them).",
)
@click.option(
    "--full-window",
    is_flag=True,
    help="With --model: budget the whole context window, reserving nothing for the reply.",
)
@click.option(
    "--output-tokens",
    type=click.IntRange(min=0, max=10**9),
    default=0,
    metavar="N",
    help="The reply planned for: added to the window check and to the cost (input + output).",
)
@_encoding
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A ledger whose SESSION_BUDGET_C and section 3 advice to use (default: a new ledger's advice).",
)
@_output_format("plan", "md", "A Markdown plan, or JSON.")
@_root
@_config
@_templates
@_quiet
def plan(
    sources: tuple[str, ...],
    budget: int | None,
    model_name: str | None,
    full_window: bool,
    output_tokens: int,
    encoding: str | None,
    ledger: Path | None,
    fmt: str,
    root: Path | None,
    config_file: Path | None,
    templates: Path | None,
    quiet: bool,
) -> None:
    """What a record with these sources would measure, before anyone loads them. Exit 1 if over budget.

    Characters, the estimate, exact tokens (with --encoding, a model's encoding or the configuration's),
    utilization, the alert, what the ledger's policy says to do at that level, and the cost where a model
    is known. A relative path is relative to the current folder; a /path that does not exist is looked up
    under the source root. Folders are recursed as `count` recurses them; a binary file met in one is
    skipped and named.

    \b
    Example:
      ledgerkit plan --source docs/ --source notes.md:1-80 --model gpt-4.1
      ledgerkit plan --source 'src/**/*.py' --budget 130000 --ledger ledger.md --output-tokens 4000
    """
    from .api import plan as make_plan

    if full_window and model_name is None:
        raise click.UsageError("--full-window goes with --model")
    out = make_plan(
        sources,
        budget=budget,
        model=model_name,
        full_window=full_window,
        output_tokens=output_tokens,
        encoding=encoding,
        ledger=ledger,
        format=fmt,
        settings=_settings(config_file, templates, root),
    )
    click.echo(out.text, nl=False)
    _say_skipped(_Run(quiet=quiet), out.value.skipped)
    sys.exit(EXIT_PROBLEMS if out.value.over_budget else EXIT_OK)


@cli.command()
@click.argument("pattern", required=False)
@click.option("--provider", metavar="NAME", help="Only this provider's models (openai, anthropic, google, ...).")
@click.option("--all", "include_all", is_flag=True, help="Also deprecated and retired models.")
@_output_format("models", "text", "An aligned table, or JSON.")
@_config
def models(pattern: str | None, provider: str | None, include_all: bool, fmt: str, config_file: Path | None) -> None:
    """The models ledgerkit knows: context window, output limit, prices per million tokens, as-of date.

    From genai-prices (installed with ledgerkit; never fetched) and a small dated supplement, plus the
    models: of the configuration. PATTERN matches ids and aliases (a substring or a glob). The first line
    says how old the installed data is.

    \b
    Example:
      ledgerkit models
      ledgerkit models 'claude*' --format json
      ledgerkit models --provider openai --all
    """
    from .api import models as listed

    out = listed(
        pattern,
        provider=provider,
        include_all=include_all,
        format=fmt,
        settings=_settings(config_file),
    )
    click.echo(out.text, nl=False)


@cli.command()
@click.argument("ledgers", nargs=-1, required=True, type=click.Path(path_type=Path))
@_output_format("export", "json", "One JSON array, JSON Lines, or CSV.")
@click.option("--bom", is_flag=True, help="Start CSV with a byte order mark, for spreadsheets that need one for UTF-8.")
@_output
@_steering
def export(
    ledgers: tuple[Path, ...],
    fmt: str,
    bom: bool,
    output: Path | None,
    root: Path | None,
    config_file: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
) -> None:
    """Every record as typed data: integers, utilization as a number, ISO 8601 times, sources as a list.

    One object per record with the line where it starts, for pandas, DuckDB or a spreadsheet. In CSV,
    a list or mapping is one cell holding its JSON, and a cell that a spreadsheet would run as a formula
    starts with a quote.

    \b
    Example:
      ledgerkit export ledger.md --format jsonl -o records.jsonl
      ledgerkit export ledgers/ --format csv --bom -o records.csv
    """
    from .api import export as make_export

    if bom and fmt != "csv":
        raise click.UsageError("--bom goes with --format csv")
    settings = _settings(config_file, None, root, select, ignore)
    _emit(make_export(ledgers, format=fmt, bom=bom, settings=settings), output)


# --- the editor: watch and the language server -------------------------------------------------------------


@cli.command()
@click.argument("ledgers", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Write nothing: only report the problems and what fill would change.")
@_steering
@_templates
def watch(
    ledgers: tuple[Path, ...],
    check: bool,
    root: Path | None,
    config_file: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    templates: Path | None,
) -> None:
    """Fill the ledgers again whenever they or a source their records name changes, until Ctrl-C.

    Prints the problems and one line per change. Changes that arrive together are handled once; a save
    made while a fill works is never written over; a source added to a record is watched from then on.
    Needs the editor extra (pip install 'ledgerkit[editor]'). Ctrl-C ends it with exit code 0.

    \b
    Example:
      ledgerkit watch ledger.md
      ledgerkit watch --check ledgers/
    """
    gc.enable()  # runs until stopped: main() paused the collector for commands that end
    from .editor import MISSING_EXTRA, missing

    if missing("watchfiles"):
        raise LedgerkitError(MISSING_EXTRA)
    from .editor.watch import watch_ledgers

    settings = _settings(config_file, templates, root, select, ignore)
    sys.exit(watch_ledgers(list(ledgers), settings=settings, check=check, say=lambda line: click.echo(line)))


@cli.command()
@click.option("--stdio", is_flag=True, help="Talk over standard input and output (the only way; accepted for clients).")
@_steering
@_templates
def lsp(
    stdio: bool,
    root: Path | None,
    config_file: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    templates: Path | None,
) -> None:
    """A language server over stdio for Markdown files that hold a ledger (docs/editors.md).

    Diagnostics as you type, hover with a record's figures, code actions that fill and append, completion
    and an outline. Needs the editor extra (pip install 'ledgerkit[editor]'). Start it from your editor.

    \b
    Example:
      ledgerkit lsp
      ledgerkit lsp --root .
    """
    gc.enable()  # runs until stopped: main() paused the collector for commands that end
    from .editor import MISSING_EXTRA, missing

    if missing("pygls", "lsprotocol"):
        raise LedgerkitError(MISSING_EXTRA)
    from .editor.server import serve

    serve(_settings(config_file, templates, root, select, ignore))


def main() -> None:
    """Console entry point: a traceback never reaches a user (LEDGERKIT_TRACEBACK=1 shows it)."""
    # One command per process, and what it builds (a ledger's records, values and figures) lives until it
    # ends: the cycle collector would walk those objects again and again and free nothing (40 % of a large
    # verify). Reference counting still frees everything else (issue 12). watch and lsp, which run until
    # stopped, turn it back on.
    gc.disable()
    try:
        cli.main(prog_name="ledgerkit")
    except BrokenPipeError:  # `ledgerkit export ... | head`: the reader left; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_PROBLEMS)
    except Exception as exc:  # noqa: BLE001 - the last line of defence, by design
        if os.environ.get("LEDGERKIT_TRACEBACK"):
            raise
        click.echo(
            f"ledgerkit: internal error: {type(exc).__name__}: {exc} "
            "(a bug: please report it; LEDGERKIT_TRACEBACK=1 shows where)",
            err=True,
        )
        sys.exit(EXIT_ERROR)
