"""``ledgerkit count``, ``rollup``, ``report``, ``compare``, ``plan``, ``models`` and ``export``: the commands that read
ledgers and sources and print what they find."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ..errors import LedgerkitError
from .common import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_PROBLEMS,
    _command,
    _config,
    _encoding,
    _fatal,
    _output,
    _quiet,
    _root,
    _Run,
    _say_skipped,
    _show,
    _steering,
    _templates,
    _with_settings,
)

if TYPE_CHECKING:
    from ..api import Settings

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


@_command()
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
@_with_settings
def count(
    paths: tuple[str, ...],
    encodings: tuple[str, ...],
    fmt: str,
    top: int | None,
    messages: bool,
    quiet: bool,
    settings: Settings,
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
    from ..api import count as count_tokens
    from ..reports.count import ProgressBar

    progress = ProgressBar(sys.stderr) if sys.stderr.isatty() and not quiet else None
    stdin = sys.stdin.read() if list(paths) == ["-"] else None
    try:
        result = count_tokens(
            paths,
            encodings=encodings,
            messages=messages,
            stdin=stdin,
            settings=settings,
            progress=progress,
        ).value
    finally:
        if progress is not None:
            progress.close()
    _show(result.format_json(top) if fmt == "json" else result.format_text(top))
    for problem in result.problems:
        _fatal(problem.reason, "text", problem.path)
    if fmt != "json":
        _say_skipped(_Run(quiet=quiet), [p.path for p in result.skipped], "that are not text")
    sys.exit(EXIT_ERROR if result.problems else EXIT_OK)


# --- reports ---------------------------------------------------------------------------------------------


def _emit(out: Any, output: Path | None, quiet: bool = False) -> NoReturn:
    """The report to stdout or, atomically, to ``output`` (never over a file it read); its problems to stderr
    (they make the exit code 1)."""
    from ..diagnostics import format_text, has_errors

    if output is None:
        _show(out.data)
    else:
        _write_output(out, output)
    if out.diagnostics:
        click.echo(format_text(out.diagnostics), nl=False, err=True)
    sys.exit(EXIT_PROBLEMS if has_errors(out.diagnostics) else EXIT_OK)


def _write_output(out: Any, output: Path) -> None:
    from ..api import same_file
    from ..files.textfile import write_atomic

    for read in sorted(out.inputs, key=str):
        if output.exists() and same_file(output, read):
            raise click.UsageError(f"-o {output} is {read}, which this command read; it never writes over an input")
    if not output.parent.is_dir():
        raise LedgerkitError("no such folder", output.parent)
    write_atomic(output, out.data)


@_command()
@click.argument("ledger", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--session", "session_id", metavar="ID", help="The session's CONTEXT_ID (default: the only one).")
@_output_format("rollup", "md", "Markdown (Unicode bars), one self-contained HTML page (an SVG chart), or JSON.")
@_output
@_encoding
@_steering
@_templates
@_with_settings
def rollup(
    ledger: Path,
    session_id: str | None,
    fmt: str,
    output: Path | None,
    encoding: str | None,
    settings: Settings,
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
    from ..api import rollup as make_rollup

    _emit(make_rollup(ledger, session_id, format=fmt, encoding=encoding, settings=settings), output)


@_command()
@click.argument("ledgers", nargs=-1, required=True, type=click.Path(path_type=Path))
@_output_format("report", "md", "A Markdown table, JSON, or CSV.")
@click.option("--since", metavar="DATE", help="Only records on or after this day (UTC), e.g. 2025-08-01.")
@click.option("--until", metavar="DATE", help="Only records on or before this day (UTC), e.g. 2025-08-31.")
@_output
@_steering
@_templates
@_with_settings
def report(
    ledgers: tuple[Path, ...],
    fmt: str,
    since: str | None,
    until: str | None,
    output: Path | None,
    settings: Settings,
) -> None:
    """One row per session, across every ledger given (folders too): entries, tokens against the budget,
    peak, last action, cost, first and last time.

    \b
    Example:
      ledgerkit report ledgers/ --format csv -o sessions.csv
      ledgerkit report ledger.md --since 2025-08-01 --until 2025-08-31
    """
    from ..api import parse_day
    from ..api import report as make_report

    first, last = (parse_day(since) if since else None), (parse_day(until) if until else None)
    _emit(make_report(ledgers, format=fmt, since=first, until=last, settings=settings), output)


@_command()
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
@_with_settings
def compare(
    ledgers: tuple[Path, ...],
    sessions: tuple[str, ...],
    fmt: str,
    output: Path | None,
    settings: Settings,
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
    from ..api import compare as make_comparison

    _emit(make_comparison(ledgers, sessions, format=fmt, settings=settings), output)


@_command()
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
@_with_settings
def plan(
    sources: tuple[str, ...],
    budget: int | None,
    model_name: str | None,
    full_window: bool,
    output_tokens: int,
    encoding: str | None,
    ledger: Path | None,
    fmt: str,
    quiet: bool,
    settings: Settings,
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
    from ..api import plan as make_plan

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
        settings=settings,
    )
    _show(out.data)
    _say_skipped(_Run(quiet=quiet), out.value.skipped)
    sys.exit(EXIT_PROBLEMS if out.value.over_budget else EXIT_OK)


@_command()
@click.argument("pattern", required=False)
@click.option("--provider", metavar="NAME", help="Only this provider's models (openai, anthropic, google, ...).")
@click.option("--all", "include_all", is_flag=True, help="Also deprecated and retired models.")
@_output_format("models", "text", "An aligned table, or JSON.")
@_config
@_with_settings
def models(pattern: str | None, provider: str | None, include_all: bool, fmt: str, settings: Settings) -> None:
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
    from ..api import models as listed

    out = listed(
        pattern,
        provider=provider,
        include_all=include_all,
        format=fmt,
        settings=settings,
    )
    _show(out.data)


@_command()
@click.argument("ledgers", nargs=-1, required=True, type=click.Path(path_type=Path))
@_output_format("export", "json", "One JSON array, JSON Lines, or CSV.")
@click.option("--bom", is_flag=True, help="Start CSV with a byte order mark, for spreadsheets that need one for UTF-8.")
@_output
@_steering
@_with_settings
def export(
    ledgers: tuple[Path, ...],
    fmt: str,
    bom: bool,
    output: Path | None,
    settings: Settings,
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
    from ..api import export as make_export

    if bom and fmt != "csv":
        raise click.UsageError("--bom goes with --format csv")
    _emit(make_export(ledgers, format=fmt, bom=bom, settings=settings), output)
