"""The one exception family: problems that stop a run (unreadable ledger, bad configuration).

Problems *in* a ledger are not exceptions but :class:`ledgerkit.diagnostics.Diagnostic` values.
The CLI turns a :class:`LedgerkitError` into one line on stderr and exit code 2.
"""

from __future__ import annotations

from pathlib import Path


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
