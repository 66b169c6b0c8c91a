"""``ledgerkit fill``, ``init`` and ``append``: the commands that write a ledger."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import printable
from .common import (
    _command,
    _config,
    _diagnostics_format,
    _quiet,
    _root,
    _Run,
    _say_skipped,
    _show,
    _steering,
    _templates,
    _verbose,
    _with_settings,
)

if TYPE_CHECKING:
    from ..api import Settings
    from ..writing.fill import Filled


def _lock_wait(run: _Run) -> Callable[[str], None]:
    return lambda message: run.say(f"ledgerkit: {message}")


@_command()
@click.argument("ledgers", nargs=-1, type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if filling would change a file.")
@click.option("--diff", is_flag=True, help="Write nothing; print the unified diff of what filling would change.")
@_steering
@_templates
@_diagnostics_format
@_quiet
@_verbose
@_with_settings
def fill(
    ledgers: tuple[Path, ...],
    check: bool,
    diff: bool,
    output_format: str,
    quiet: bool,
    verbose: bool,
    settings: Settings,
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
    from ..writing.fill import FillResult, fill_file, fill_in_place

    run = _Run(output_format, quiet, verbose)
    would_change = False

    def work(path: Path) -> None:
        nonlocal would_change
        config = settings.config(path)
        wait = _lock_wait(run)
        if check or diff:
            result: FillResult | Filled = fill_file(
                path, config=config, root=settings.root, check=True, on_lock_wait=wait
            )
        else:  # one record at a time: what is written, and its problems, are the same
            result = fill_in_place(path, config=config, root=settings.root, on_lock_wait=wait)
        run.diagnostics.extend(settings.steer(result.diagnostics, config, result.ledger))
        _say_skipped(run, result.skipped)
        if not result.ledger.records and result.ledger.summary is None:
            return
        if isinstance(result, FillResult) and result.changed:
            if diff:
                _show(result.diff())
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
    inserts, with the line they would follow, so no line is named twice and none past the ledger's end.
    Lines are the ledger's own, and found in linear time (FillResult.changed_lines)."""
    new = result.new_lines.contents
    at: dict[int, list[str]] = {}
    for tag, i1, i2, j1, j2 in result.changed_lines():
        if tag == "equal":
            continue
        last = max(i2, i1, 1)  # the block's last old line (1-based); an insertion goes with the line before it
        for k in range(max(i2 - i1, j2 - j1)):
            line = min(i1 + 1 + k, last)
            at.setdefault(line, []).extend(new[j1 + k : j1 + k + 1] or ["(this line removed)"])
    path = result.ledger.display_path
    return [(path, line, "\n".join(texts)) for line, texts in sorted(at.items())]


def _records(n: int) -> str:
    what = f"{n} record" + ("" if n == 1 else "s")
    return f"{what} and the summary" if n else "the summary"


# --- init and append -------------------------------------------------------------------------------------


@_command()
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
@_with_settings
def init(
    path: Path,
    budget: int | None,
    lang: str,
    force: bool,
    quiet: bool,
    settings: Settings,
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
    from ..writing.init import init_file

    config = settings.config(path)
    new = init_file(path, budget=budget, lang=lang, config=config, force=force)
    budget_c = new.budget.value if new.budget is not None else None
    if not quiet:
        said = f"{path}: new ledger ({lang}), SESSION_BUDGET_C {budget_c}; "
        said += f"add records with: ledgerkit append {path} ..."
        click.echo(printable(said), err=True)


def _complete_zone(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    import zoneinfo

    return sorted(z for z in zoneinfo.available_timezones() if z.lower().startswith(incomplete.lower()))


@_command()
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
@_with_settings
def append(
    ledger: Path,
    scope: str,
    context_id: str,
    sources: tuple[str, ...],
    notes: tuple[str, ...],
    fill_figures: bool,
    at: str | None,
    tz: str | None,
    output_format: str,
    quiet: bool,
    settings: Settings,
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
    from ..writing.append import NewRecord, append_file, parse_at

    run = _Run(output_format, quiet)
    config = settings.config(ledger)
    new = NewRecord(scope, context_id, sources, notes)
    result = append_file(
        ledger,
        new,
        at=parse_at(at) if at else None,
        tz=tz,
        config=config,
        fill_figures=fill_figures,
        root=settings.root,
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
