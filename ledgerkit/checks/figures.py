"""The figures' checks: written figures agree with what each record's own figures call for (LK301,
LK302, LK303), as ``figures.compute.contradictions`` finds them: fill reports the same."""

from __future__ import annotations

from ..diagnostics import Diagnostic
from ..figures.compute import contradictions
from ..reading.parse import Ledger
from .context import Context


def check_figures(ledger: Ledger, context: Context) -> list[Diagnostic]:
    """Every written figure that contradicts the others (a placeholder still waiting is fine)."""
    return [d for f in context.figures(ledger).records for d in contradictions(f, context.config)]
