"""The one exception family: problems that stop a run (unreadable ledger, bad configuration).

Problems *in* a ledger are not exceptions but :class:`ledgerkit.diagnostics.Diagnostic` values.
The CLI turns a :class:`LedgerkitError` into one line on stderr and exit code 2; every message it prints
passes through :func:`printable` first.
"""

from __future__ import annotations

import re
from pathlib import Path

#: What a terminal acts on rather than shows: the C0 and C1 control characters and DEL (ESC starts an escape
#: sequence, which can move the cursor, recolour, retitle or write the clipboard), all but the tab; and the
#: bidirectional controls, which reorder what a person reads ("Trojan Source", CVE-2021-42574). The ranges of a
#: regular expression's character class.
CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\n\r{CONTROLS}]")
#: The same within text of many lines, whose newlines are its own: a carriage return just before one is harmless.
#: Compiled when first used (re caches it): the hook never shows a report.
_CONTROL_IN_LINES = f"[{CONTROLS}]|\r(?!\n)"


def printable(text: str) -> str:
    """A message as a terminal may show it: each control character in it (a file name's or a ledger's) written
    as its Python escape (``\\x1b``, ``\\n``, ``\\u202e``), so a message stays one line and shows what it
    names, in the order it is written."""
    if text.isprintable():
        return text
    return _CONTROL.sub(_escape, text)


def printable_lines(text: str) -> str:
    """Text of many lines (a report) as a terminal may show it: each control character written as its escape, as
    :func:`printable` writes it, but its newlines (and a carriage return just before one) and tabs kept."""
    return re.sub(_CONTROL_IN_LINES, _escape, text)


def _escape(found: re.Match[str]) -> str:
    return repr(found.group())[1:-1]


class LedgerkitError(Exception):
    """A problem that stops the run, optionally located at ``path:line``."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


class ConfigError(LedgerkitError):
    """The configuration (ledgerkit.yaml or [tool.ledgerkit]) is invalid."""


class TemplateError(LedgerkitError):
    """A Jinja template is missing or fails to render."""
