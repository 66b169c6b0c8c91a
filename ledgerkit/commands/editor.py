"""``ledgerkit watch`` and ``ledgerkit lsp``: the commands that run until stopped."""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import LedgerkitError, printable
from .common import _command, _steering, _templates, _with_settings

if TYPE_CHECKING:
    from ..api import Settings

# --- the editor: watch and the language server -------------------------------------------------------------


@_command()
@click.argument("ledgers", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Write nothing: only report the problems and what fill would change.")
@_steering
@_templates
@_with_settings
def watch(
    ledgers: tuple[Path, ...],
    check: bool,
    settings: Settings,
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
    from ..editor import MISSING_EXTRA, missing

    if missing("watchfiles"):
        raise LedgerkitError(MISSING_EXTRA)
    from ..editor.watch import watch_ledgers

    sys.exit(watch_ledgers(list(ledgers), settings=settings, check=check, say=lambda line: click.echo(printable(line))))


@_command()
@click.option("--stdio", is_flag=True, help="Talk over standard input and output (the only way; accepted for clients).")
@_steering
@_templates
@_with_settings
def lsp(
    stdio: bool,
    settings: Settings,
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
    from ..editor import MISSING_EXTRA, missing

    if missing("pygls", "lsprotocol"):
        raise LedgerkitError(MISSING_EXTRA)
    from ..editor.server import serve

    serve(settings)
