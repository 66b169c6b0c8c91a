"""ledgerkit: treat a hand-written Markdown token budget ledger as data.

Every command is a function here; the command line only parses options, calls them and prints::

    import ledgerkit

    ledger = ledgerkit.load("ledger.md")
    result = ledgerkit.fill(ledger)                    # the filled text, its figures, every problem; writes nothing
    ledgerkit.fill_file("ledger.md")                   # fill in place, atomically
    problems = ledgerkit.verify_file("ledger.md", base="origin/main")
    print(ledgerkit.rollup("ledger.md", format="json").text)
    ledgerkit.init_file("new.md", lang="en")
    ledgerkit.append_file("new.md", ledgerkit.NewRecord("SESSION", "GG-SESS-1", ("a.md",)))

Importing ledgerkit imports none of its stages: each public name is loaded when it is first used, so
``import ledgerkit`` stays instant and loads neither jinja2 nor tiktoken nor the model catalog.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .api import (
        Output,
        Settings,
        compare,
        count,
        export,
        models,
        plan,
        report,
        rollup,
        verify_file,
        verify_frozen,
        verify_history,
        verify_path,
    )
    from .checks.verify import verify
    from .config import Config, config_for, load_config
    from .diagnostics import Diagnostic
    from .errors import ConfigError, LedgerkitError
    from .figures.compute import Figures, LedgerFigures, compute
    from .reading.parse import Field, Ledger, Record, load, parse
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
    "Figures": "figures.compute",
    "Ledger": "reading.parse",
    "LedgerFigures": "figures.compute",
    "LedgerkitError": "errors",
    "NewRecord": "writing.append",
    "Output": "api",
    "Record": "reading.parse",
    "Settings": "api",
    "append_file": "writing.append",
    "compare": "api",
    "compute": "figures.compute",
    "config_for": "config",
    "count": "api",
    "export": "api",
    "fill": "writing.fill",
    "fill_file": "writing.fill",
    "init_file": "writing.init",
    "load": "reading.parse",
    "load_config": "config",
    "models": "api",
    "parse": "reading.parse",
    "plan": "api",
    "report": "api",
    "rollup": "api",
    "verify": "checks.verify",
    "verify_file": "api",
    "verify_frozen": "api",
    "verify_history": "api",
    "verify_path": "api",
}

__all__ = [
    "Config",
    "ConfigError",
    "Diagnostic",
    "Field",
    "FillResult",
    "Figures",
    "Ledger",
    "LedgerFigures",
    "LedgerkitError",
    "NewRecord",
    "Output",
    "Record",
    "Settings",
    "__version__",
    "append_file",
    "compare",
    "compute",
    "config_for",
    "count",
    "export",
    "fill",
    "fill_file",
    "init_file",
    "load",
    "load_config",
    "models",
    "parse",
    "plan",
    "report",
    "rollup",
    "verify",
    "verify_file",
    "verify_frozen",
    "verify_history",
    "verify_path",
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
