"""What every check is given: the configuration, the base version, and the ledger's figures as written."""

from __future__ import annotations

from collections.abc import Callable

from ..config import Config
from ..diagnostics import Diagnostic
from ..figures.compute import LedgerFigures, compute
from ..reading.parse import Ledger, Outlined


class Context:
    """What a check may need besides the ledger: the configuration, the base version (or None), and the
    ledger's figures as written (computed once, measuring nothing). Of the base the checks read only its
    records' extents and its lines (the append-only history): a Ledger or the outline of a committed version."""

    __slots__ = ("config", "base", "_figures")

    def __init__(self, config: Config, base: Outlined | None = None) -> None:
        self.config = config
        self.base = base
        self._figures: dict[int, LedgerFigures] = {}

    def __repr__(self) -> str:
        return f"Context(config={self.config!r}, base={self.base!r})"

    def figures(self, ledger: Ledger) -> LedgerFigures:
        """The ledger's figures from its written values (no source is measured), computed once."""
        found = self._figures.get(id(ledger))
        if found is None or found.ledger is not ledger:
            found = self._figures[id(ledger)] = compute(ledger, self.config, measure=False)
        return found


Check = Callable[[Ledger, Context], list[Diagnostic]]


def at(ledger: Ledger, line: int, column: int, code: str, message: str) -> Diagnostic:
    return Diagnostic(ledger.display_path, line, column, code, message)


def given(context: Context, figures: LedgerFigures) -> Context:
    """The context with the figures of ``figures.ledger`` already computed by the caller (from its written
    values, measuring nothing, as :meth:`Context.figures` computes them): the checks use these rather than
    computing them again. The language server keeps each record's figures between keystrokes this way."""
    context._figures[id(figures.ledger)] = figures
    return context
