"""The ``ledgerkit`` command: parses options, calls the library, prints, picks the exit code.

Exit codes: 0 clean; 1 problems found, or --check/--diff would change a file; 2 usage or I/O error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ._version import __version__
from .config import Config, config_for, load_config
from .diagnostics import FORMATTERS, Diagnostic, has_errors
from .errors import LedgerkitError
from .files.textfile import read_bytes
from .reading.parse import may_hold_ledger

EXIT_OK, EXIT_PROBLEMS, EXIT_ERROR = 0, 1, 2


class _Group(click.Group):
    """Turns a LedgerkitError into one line on stderr and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LedgerkitError as exc:
            click.echo(f"ledgerkit: {exc}", err=True)
            ctx.exit(EXIT_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ledgerkit")
def cli() -> None:
    """Fill, verify and report on a Markdown token budget ledger.

    \b
    Exit codes: 0 clean; 1 problems found (or --check would change a file);
    2 usage or I/O error.
    """


# --- shared options ------------------------------------------------------------------------------------

_root_option = click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder a leading / in SOURCE_FILES points to (default: config, else git top level, else "
    "the ledger's folder).",
)
_config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Configuration file to use instead of the ledgerkit.yaml or pyproject.toml found beside the ledger.",
)
_templates_option = click.option(
    "--templates",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of Jinja templates overriding the defaults, file by file.",
)
_format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(FORMATTERS)),
    default="text",
    show_default=True,
    help="How diagnostics are printed: path:line:col: CODE message, JSON, or GitHub Actions annotations.",
)


def _config(ledger: Path, config_file: Path | None, templates: Path | None = None) -> Config:
    config = load_config(config_file) if config_file else config_for(ledger)
    return config.with_overrides(templates=templates.resolve() if templates else None)


def _print_diagnostics(diagnostics: list[Diagnostic], output_format: str) -> None:
    if diagnostics or output_format == "json":
        click.echo(FORMATTERS[output_format](diagnostics), nl=False)


def _each_ledger(paths: tuple[Path, ...], work: Callable[[Path], None]) -> bool:
    """Run ``work`` on every path that may hold a ledger; an I/O error on one is reported and the rest
    still run. A file whose bytes never name RUN_ID is skipped before it is decoded, so any Markdown
    file (a Latin-1 NOTES.md too) can be given, as pre-commit does."""
    failed = False
    for path in paths:
        try:
            if may_hold_ledger(read_bytes(path)):
                work(path)
        except LedgerkitError as exc:
            click.echo(f"ledgerkit: {exc}", err=True)
            failed = True
    return failed


# --- fill ----------------------------------------------------------------------------------------------


@cli.command()
@click.argument("ledgers", nargs=-1, type=click.Path(path_type=Path))
@_root_option
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if filling would change a file.")
@click.option("--diff", is_flag=True, help="Write nothing; print the unified diff of what filling would change.")
@_config_option
@_templates_option
@_format_option
def fill(
    ledgers: tuple[Path, ...],
    root: Path | None,
    check: bool,
    diff: bool,
    config_file: Path | None,
    templates: Path | None,
    output_format: str,
) -> None:
    """Measure each record's SOURCE_FILES and fill its [fill] placeholders.

    Fills CHAR_COUNT, TOKEN_ESTIMATE, BUDGET_C, UTILIZATION and THRESHOLD_ACTION where they hold a
    placeholder, and re-renders the cumulative summary. Every other byte stays as written. Markdown
    files without records are skipped, so the command can be given every Markdown file.

    \b
    Example:
      ledgerkit fill ledger.md
      ledgerkit fill --check --diff ledger.md
    """
    from .writing.fill import fill_file

    diagnostics: list[Diagnostic] = []
    would_change = False

    def work(path: Path) -> None:
        nonlocal would_change
        config = _config(path, config_file, templates)
        result = fill_file(path, config=config, root=root, check=check or diff)
        diagnostics.extend(result.diagnostics)
        if not result.ledger.records and result.ledger.summary is None:
            return
        if diff and result.changed:
            click.echo(result.diff(), nl=False)
        if result.changed and (check or diff):
            would_change = True
            click.echo(f"{path}: would fill {_records(len(result.filled))}", err=True)
        elif result.written:
            click.echo(f"{path}: filled {_records(len(result.filled))}", err=True)

    failed = _each_ledger(ledgers, work)
    _print_diagnostics(diagnostics, output_format)
    sys.exit(EXIT_ERROR if failed else EXIT_PROBLEMS if has_errors(diagnostics) or would_change else EXIT_OK)


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
@_config_option
@_format_option
def verify(
    ledgers: tuple[Path, ...],
    base_rev: str | None,
    base_file: Path | None,
    no_base: bool,
    config_file: Path | None,
    output_format: str,
) -> None:
    """Check allocations, figures, the schema and the append-only history. Writes nothing.

    Against a base version of the same ledger (by default the one committed in git's HEAD, so a
    pre-commit run compares what is staged with HEAD), every earlier record must still be there, in
    order, byte for byte, except that a placeholder may have become a value. Markdown files without
    records are skipped. Warnings do not change the exit code.

    \b
    Example:
      ledgerkit verify ledger.md
      ledgerkit verify --base origin/main --format github ledger.md
    """
    from .checks.git import base_from_git
    from .checks.verify import verify as verify_ledger
    from .reading.parse import load

    if sum(map(bool, (base_rev, base_file, no_base))) > 1:
        raise click.UsageError("give at most one of --base, --base-file and --no-base")
    if base_file is not None and len(ledgers) > 1:
        raise click.UsageError("--base-file compares one ledger; give one")
    diagnostics: list[Diagnostic] = []

    def work(path: Path) -> None:
        ledger = load(path)
        if not ledger.records:
            return
        if no_base:
            base = None
        elif base_file is not None:
            base = load(base_file)
        else:
            base = base_from_git(path, base_rev)
        diagnostics.extend(verify_ledger(ledger, base=base, config=_config(path, config_file)))

    failed = _each_ledger(ledgers, work)
    _print_diagnostics(diagnostics, output_format)
    sys.exit(EXIT_ERROR if failed else EXIT_PROBLEMS if has_errors(diagnostics) else EXIT_OK)


def _records(n: int) -> str:
    what = f"{n} record" + ("" if n == 1 else "s")
    return f"{what} and the summary" if n else "the summary"


# --- init ----------------------------------------------------------------------------------------------


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--budget",
    type=click.IntRange(min=1),
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
@_config_option
@_templates_option
def init(
    path: Path, budget: int | None, lang: str, force: bool, config_file: Path | None, templates: Path | None
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

    new = init_file(path, budget=budget, lang=lang, config=_config(path, config_file, templates), force=force)
    budget_c = new.budget.value if new.budget is not None else None
    click.echo(
        f"{path}: new ledger ({lang}), SESSION_BUDGET_C {budget_c}; add records with: ledgerkit append {path} ...",
        err=True,
    )


# --- append --------------------------------------------------------------------------------------------


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
@_root_option
@_config_option
@_templates_option
@_format_option
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

    new = NewRecord(scope, context_id, sources, notes)
    result = append_file(
        ledger,
        new,
        at=parse_at(at) if at else None,
        tz=tz,
        config=_config(ledger, config_file, templates),
        fill_figures=fill_figures,
        root=root,
    )
    message = f"{ledger}:{result.line}: appended {result.run_id}"
    if result.filled is not None:
        message += " and filled " + (_records(len(result.filled.filled)) if result.filled.changed else "nothing")
    click.echo(message, err=True)
    _print_diagnostics(result.diagnostics, output_format)
    sys.exit(EXIT_PROBLEMS if has_errors(result.diagnostics) else EXIT_OK)


# --- count ---------------------------------------------------------------------------------------------


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--encoding",
    "-e",
    "encodings",
    multiple=True,
    metavar="NAME",
    help="Encoding to count with, repeatable: o200k_base (default), cl100k_base, another tiktoken "
    "encoding it has cached, an OpenAI model name, or a model family (claude, gemini, ...: "
    "an estimate).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: files, total, encodings, skipped.")
@click.option("--top", type=click.IntRange(min=1), metavar="N", help="List only the N largest files.")
@click.option(
    "--messages",
    is_flag=True,
    help="The paths are chat transcripts (JSON list or JSONL of role/content/name messages): count "
    "them with OpenAI's per-message overhead.",
)
@_config_option
def count(
    paths: tuple[str, ...],
    encodings: tuple[str, ...],
    as_json: bool,
    top: int | None,
    messages: bool,
    config_file: Path | None,
) -> None:
    """Count characters, the estimate and exact tokens of files, folders and SOURCE_FILES entries.

    PATH is a file, a folder (recursed; inside a git work tree, what .gitignore ignores is left out) or
    a SOURCE_FILES entry: path:START-END, path#L7, * and ** globs. Counting is offline and exact for
    OpenAI encodings; a model family's figure is an estimate and says so. The
    configuration found from the current folder gives the estimate's divisor and
    the default encoding.

    \b
    Example:
      ledgerkit count docs/ README.md:1-40 --encoding o200k_base --encoding cl100k_base
      ledgerkit count --messages chat.jsonl --json
    """
    from .reports.count import ProgressBar, count_messages, count_paths
    from .tokens.names import DEFAULT

    config = load_config(config_file) if config_file else config_for(Path.cwd() / "-")
    progress = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    counter = count_messages if messages else count_paths
    try:
        result = counter(paths, encodings or (config.encoding or DEFAULT,), divisor=config.divisor, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    click.echo(result.format_json(top) if as_json else result.format_text(top), nl=False)
    for problem in result.problems:
        click.echo(f"ledgerkit: {problem.path}: {problem.reason}", err=True)
    if result.skipped and not as_json:
        shown = ", ".join(p.path for p in result.skipped[:5]) + (", ..." if len(result.skipped) > 5 else "")
        files = f"{len(result.skipped)} file" + ("s" if len(result.skipped) != 1 else "")
        click.echo(f"ledgerkit: skipped {files} that are not UTF-8 text: {shown}", err=True)
    sys.exit(EXIT_ERROR if result.problems else EXIT_OK)


# --- reports -------------------------------------------------------------------------------------------

_output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (atomically) instead of standard output.",
)
_encoding_option = click.option(
    "--encoding",
    "-e",
    metavar="NAME",
    help="Count exact tokens with this encoding too (default: the configuration's encoding, if any).",
)


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    from .files.textfile import write_atomic

    if not output.parent.is_dir():
        raise LedgerkitError("no such folder", output.parent)
    write_atomic(output, text.encode("utf-8"))


def _json(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


def _figured(path: Path, config_file: Path | None, templates: Path | None, root: Path | None) -> Any:
    from .reading.parse import load
    from .reports.records import figured

    return figured(load(path), _config(path, config_file, templates), root)


def _finish(diagnostics: list[Diagnostic]) -> None:
    """Problems met while reporting go to stderr (stdout holds the report); they make the exit code 1."""
    if diagnostics:
        click.echo(FORMATTERS["text"](diagnostics), nl=False, err=True)
    sys.exit(EXIT_PROBLEMS if has_errors(diagnostics) else EXIT_OK)


@cli.command()
@click.argument("ledger", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--session", "session_id", required=True, metavar="ID", help="The session's CONTEXT_ID.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "json"]),
    default="md",
    show_default=True,
    help="Markdown (Unicode bars), one self-contained HTML page (SVG chart), or JSON.",
)
@_output_option
@_root_option
@_encoding_option
@_config_option
@_templates_option
def rollup(
    ledger: Path,
    session_id: str,
    fmt: str,
    output: Path | None,
    root: Path | None,
    encoding: str | None,
    config_file: Path | None,
    templates: Path | None,
) -> None:
    """One session's story: totals, records, utilization chart, threshold events, allocation, sources.

    Figures are those `ledgerkit fill` computes (nothing is written to the ledger); the sources are
    measured now, largest first, with exact token counts where an encoding is given or configured.
    Rendered from templates/rollup.md.j2 or rollup.html.j2; --templates overrides them.

    \b
    Example:
      ledgerkit rollup ledger.md --session GG-SESS-20250816-1620
      ledgerkit rollup ledger.md --session GG-SESS-20250816-1620 --format html -o rollup.html
    """
    from .reports.chart import chart
    from .reports.rollup import rollup as make_rollup
    from .writing.render import render

    f = _figured(ledger, config_file, templates, root)
    report = make_rollup(f, session_id, encoding=encoding)
    if fmt == "json":
        text = _json(report.as_json())
    else:
        context = {"rollup": report, "chart": chart(report.rows, report.thresholds)}
        text = render(f"rollup.{fmt}.j2", context, f.config.templates)
    _emit(text, output)
    _finish(f.diagnostics)


@cli.command()
@click.argument("ledgers", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "json", "csv"]),
    default="md",
    show_default=True,
    help="A Markdown table, JSON, or CSV.",
)
@_output_option
@_root_option
@_config_option
@_templates_option
def report(
    ledgers: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    root: Path | None,
    config_file: Path | None,
    templates: Path | None,
) -> None:
    """One row per session, across every ledger given: entries, tokens, peak, last action, first and last time.

    \b
    Example:
      ledgerkit report ledgers/*.md --format csv -o sessions.csv
    """
    from .reports.sessions import session_rows
    from .writing.render import render

    figured = [_figured(path, config_file, templates, root) for path in ledgers]
    rows = session_rows(figured)
    if fmt == "json":
        text = _json([r.as_json() for r in rows])
    elif fmt == "csv":
        from .reports.export import dumps
        from .reports.sessions import SESSION_COLUMNS

        text = dumps([r.as_json() for r in rows], "csv", SESSION_COLUMNS)
    else:
        text = render(
            "report.md.j2",
            {"rows": rows, "ledgers": [f.ledger.display_path for f in figured]},
            figured[0].config.templates,
        )
    _emit(text, output)
    _finish([d for f in figured for d in f.diagnostics])


@cli.command()
@click.argument("ledgers", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--session",
    "sessions",
    multiple=True,
    metavar="ID",
    help="A session's CONTEXT_ID: the baseline first, then the optimized one.",
)
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@_output_option
@_root_option
@_config_option
@_templates_option
def compare(
    ledgers: tuple[Path, ...],
    sessions: tuple[str, ...],
    fmt: str,
    output: Path | None,
    root: Path | None,
    config_file: Path | None,
    templates: Path | None,
) -> None:
    """Compare a baseline with an optimized session: tokens, characters, saving, peaks, sources added and dropped.

    Give one ledger and two --session (baseline first), or two ledgers: each whole, or with two --session,
    the first session from the first ledger and the second from the second. Sources are measured now.

    \b
    Example:
      ledgerkit compare ledger.md --session GG-SESS-A --session GG-SESS-B
      ledgerkit compare before.md after.md
    """
    from .reports.compare import compare as make_comparison
    from .reports.compare import side
    from .writing.render import render

    if len(ledgers) > 2:
        raise click.UsageError("compare takes one ledger with two --session, or two ledgers")
    if len(ledgers) == 1 and len(sessions) != 2:
        raise click.UsageError("with one ledger, name the two sessions: --session BASELINE --session OPTIMIZED")
    if len(ledgers) == 2 and len(sessions) not in (0, 2):
        raise click.UsageError("with two ledgers, give no --session (compare them whole) or two")
    figured = [_figured(path, config_file, templates, root) for path in ledgers]
    pairs = list(zip(figured * 2 if len(figured) == 1 else figured, sessions or (None, None), strict=False))
    a, b = (side(f, s) for f, s in pairs)
    comparison = make_comparison(a, b)
    if fmt == "json":
        text = _json(comparison.as_json())
    else:
        text = render("compare.md.j2", {"c": comparison}, figured[0].config.templates)
    _emit(text, output)
    _finish([d for f in figured for d in f.diagnostics])


@cli.command()
@click.option(
    "--source",
    "sources",
    required=True,
    multiple=True,
    metavar="PATH",
    help="A source, written as in SOURCE_FILES (path:START-END, path#L7, globs). Repeat for more.",
)
@click.option("--budget", type=click.IntRange(min=1), help="The budget in tokens.")
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
@_encoding_option
@click.option(
    "--ledger",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A ledger whose SESSION_BUDGET_C and section 3 advice to use (default: a new ledger's advice).",
)
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@_root_option
@_config_option
@_templates_option
def plan(
    sources: tuple[str, ...],
    budget: int | None,
    model_name: str | None,
    full_window: bool,
    encoding: str | None,
    ledger: Path | None,
    fmt: str,
    root: Path | None,
    config_file: Path | None,
    templates: Path | None,
) -> None:
    """What a record with these sources would measure, before anyone loads them. Exit 1 if over budget.

    Characters, the estimate, exact tokens (with --encoding, a model's encoding or the configuration's),
    utilization, the alert and what the ledger's policy says to do at that level. A relative path is
    relative to the current folder; a /path that does not exist is looked up under the source root.

    \b
    Example:
      ledgerkit plan --source docs/ --source notes.md:1-80 --model gpt-4.1
      ledgerkit plan --source 'src/**/*.py' --budget 130000 --ledger ledger.md
    """
    from .reading.parse import load
    from .reports.plan import plan as make_plan
    from .writing.render import render

    if full_window and model_name is None:
        raise click.UsageError("--full-window goes with --model")
    config = _config(ledger if ledger is not None else Path.cwd() / "-", config_file, templates)
    result = make_plan(
        sources,
        config=config,
        ledger=load(ledger) if ledger else None,
        budget=budget,
        model_name=model_name,
        full_window=full_window,
        encoding=encoding,
        root=root,
    )
    click.echo(
        _json(result.as_json()) if fmt == "json" else render("plan.md.j2", {"plan": result}, config.templates), nl=False
    )
    sys.exit(EXIT_PROBLEMS if result.over_budget else EXIT_OK)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def models(as_json: bool) -> None:
    """The models `plan --model` knows: context window, output limit, prices, and where each figure is from.

    \b
    Example:
      ledgerkit models
      ledgerkit models --json
    """
    from .catalog import format_json, format_text
    from .catalog import models as listed

    found = listed()
    click.echo(format_json(found) if as_json else format_text(found), nl=False)


@cli.command()
@click.argument("ledgers", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl", "csv"]), default="json", show_default=True)
@_output_option
@_root_option
@_config_option
def export(
    ledgers: tuple[Path, ...], fmt: str, output: Path | None, root: Path | None, config_file: Path | None
) -> None:
    """Every record as typed data: integers, utilization as a number, ISO 8601 times, sources as a list.

    One object per record with the line where it starts, for pandas, DuckDB or a spreadsheet. In CSV,
    a list or mapping is one cell holding its JSON.

    \b
    Example:
      ledgerkit export ledger.md --format jsonl -o records.jsonl
      ledgerkit export ledger.md --format csv | duckdb -c "SELECT * FROM read_csv('/dev/stdin')"
    """
    from .reports.export import dumps, records

    figured = [_figured(path, config_file, None, root) for path in ledgers]
    _emit(dumps([r for f in figured for r in records(f)], fmt), output)
    _finish([d for f in figured for d in f.diagnostics])


def main() -> None:
    """Console entry point: a traceback never reaches a user (LEDGERKIT_TRACEBACK=1 shows it)."""
    try:
        cli.main(prog_name="ledgerkit")
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence, by design
        if os.environ.get("LEDGERKIT_TRACEBACK"):
            raise
        click.echo(
            f"ledgerkit: internal error: {type(exc).__name__}: {exc} "
            "(a bug: please report it; LEDGERKIT_TRACEBACK=1 shows where)",
            err=True,
        )
        sys.exit(EXIT_ERROR)
