"""``ledgerkit verify``: the pre-commit hook's command, alone in its module so that the hook builds no other
command's options (issue 12)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ..errors import LedgerkitError
from .common import _command, _diagnostics_format, _ledgerkit_error, _quiet, _Run, _steering, _verbose, _with_settings

if TYPE_CHECKING:
    from ..api import Settings


@_command()
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
@_with_settings
def verify(
    ledgers: tuple[Path, ...],
    base_rev: str | None,
    base_file: Path | None,
    no_base: bool,
    require_filled: bool,
    history: bool,
    hook: bool,
    output_format: str,
    quiet: bool,
    verbose: bool,
    settings: Settings,
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
    from ..api import pre_commit_range, verify_path

    if sum(map(bool, (base_rev, base_file, no_base))) > 1:
        raise click.UsageError("give at most one of --base, --base-file and --no-base")
    if base_file is not None and len(ledgers) > 1:
        raise click.UsageError("--base-file compares one ledger; give one")
    if (history or hook) and (base_file is not None or no_base):
        raise click.UsageError("--history and --pre-commit read git: they take --base, not --base-file or --no-base")
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
    settings: Settings,
    span: tuple[str | None, str],
    require_filled: bool,
    *,
    working: bool,
) -> NoReturn:
    """verify --history (``working``: then the working copy against HEAD) and the hook over a range."""
    from ..api import ledger_paths, verify_frozen, verify_history

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
