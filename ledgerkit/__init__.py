"""ledgerkit: treat a hand-written Markdown token budget ledger as data.

The library works without the command line::

    import ledgerkit
    ledger = ledgerkit.load("ledger.md")
    result = ledgerkit.fill(ledger)          # the filled text and every problem found; writes nothing
    ledgerkit.fill_file("ledger.md")         # fill in place, atomically
    problems = ledgerkit.verify(ledger)      # every problem, as Diagnostic values
    ledgerkit.init_file("new.md", lang="en")  # a new, empty ledger
    ledgerkit.append_file("new.md", ledgerkit.NewRecord("SESSION", "GG-SESS-1", ("a.md",)))

Importing ledgerkit imports none of its stages: each public name is loaded when it is first used, so
``import ledgerkit`` stays instant and loads neither jinja2 nor tiktoken.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .checks.verify import verify
    from .config import Config, config_for, load_config
    from .diagnostics import Diagnostic
    from .errors import ConfigError, LedgerkitError
    from .reading.parse import Field, Ledger, Record, load
    from .writing.append import NewRecord, append_file
    from .writing.fill import FillResult, fill, fill_file
    from .writing.init import init_file

#: Each public name and the module that defines it.
_PUBLIC = {
    "Config": "config",
    "ConfigError": "errors",
    "Diagnostic": "diagnostics",
    "Field": "reading.parse",
    "FillResult": "writing.fill",
    "Ledger": "reading.parse",
    "LedgerkitError": "errors",
    "NewRecord": "writing.append",
    "Record": "reading.parse",
    "append_file": "writing.append",
    "config_for": "config",
    "fill": "writing.fill",
    "fill_file": "writing.fill",
    "init_file": "writing.init",
    "load": "reading.parse",
    "load_config": "config",
    "verify": "checks.verify",
}

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
    "__version__",
    "append_file",
    "config_for",
    "fill",
    "fill_file",
    "init_file",
    "load",
    "load_config",
    "verify",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'ledgerkit' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
