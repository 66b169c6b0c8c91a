"""ledgerkit: treat a hand-written Markdown token budget ledger as data.

The library works without the command line::

    import ledgerkit
    ledger = ledgerkit.load("ledger.md")
    result = ledgerkit.fill(ledger)          # the filled text and every problem found; writes nothing
    ledgerkit.fill_file("ledger.md")         # fill in place, atomically
    problems = ledgerkit.verify(ledger)      # every problem, as Diagnostic values
    ledgerkit.init_file("new.md", lang="en")  # a new, empty ledger
    ledgerkit.append_file("new.md", ledgerkit.NewRecord("SESSION", "GG-SESS-1", ("a.md",)))

Importing ledgerkit loads neither jinja2 nor tiktoken: they are imported by the stages that need them.
"""

from __future__ import annotations

from .append import NewRecord, append_file
from .config import Config, config_for, load_config
from .diagnostics import Diagnostic
from .errors import ConfigError, LedgerkitError
from .fill import FillResult, fill, fill_file
from .init import init_file
from .parse import Field, Ledger, Record, load
from .verify import verify

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "Diagnostic",
    "Field",
    "FillResult",
    "Ledger",
    "LedgerkitError",
    "NewRecord",
    "Record",
    "append_file",
    "config_for",
    "fill",
    "fill_file",
    "init_file",
    "load",
    "load_config",
    "verify",
]
