"""Verify a ledger: the values read, allocations, figures that agree, the schema, and the append-only history.

Each check is a plain function ``(ledger, context) -> list[Diagnostic]`` for one family of rules, with its
own stable codes. To add one, copy the default list: ``verify(ledger, checks=(*DEFAULT_CHECKS, my_check))``.
verify reads and never writes; it measures no source and loads neither jinja2 nor an encoding, since it
runs on every commit.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..config import Config, config_for
from ..diagnostics import Diagnostic
from ..reading.parse import Ledger, Outlined
from .allocation import check_allocation
from .context import Check, Context
from .figures import check_figures
from .history import check_history
from .schema import check_fields, check_run_ids, check_times, check_values
from .sources import check_sources
from .tokens import check_token_counts

__all__ = ["DEFAULT_CHECKS", "Check", "Context", "verify"]


#: The checks verify runs, in order. Copy it to add one; never change it in place.
DEFAULT_CHECKS: tuple[Check, ...] = (
    check_values,
    check_run_ids,
    check_times,
    check_fields,
    check_sources,
    check_allocation,
    check_figures,
    check_history,
    check_token_counts,
)


def verify(
    ledger: Ledger,
    *,
    base: Outlined | None = None,
    config: Config | None = None,
    checks: Sequence[Check] = DEFAULT_CHECKS,
) -> list[Diagnostic]:
    """Every problem in a ledger, sorted by place; none for a Markdown file without records whose base
    (if any) had none either. A ledger whose records were all removed is checked against its base, which may
    be a parsed Ledger or an outline (:func:`ledgerkit.reading.parse.outline`)."""
    if not ledger.records and (base is None or not base.records):
        return []  # before any configuration is looked for: a Markdown file without a ledger is not judged
    return verify_in(ledger, Context(config or config_for(ledger.path), base), checks)


def verify_in(ledger: Ledger, context: Context, checks: Sequence[Check] = DEFAULT_CHECKS) -> list[Diagnostic]:
    """:func:`verify` with a context the caller made and keeps: the figures the checks computed (from the
    written values, measuring nothing) are then the caller's too, through ``context.figures(ledger)``."""
    if not ledger.records and (context.base is None or not context.base.records):
        return []
    found = [d for check in checks for d in check(ledger, context)]
    return sorted(set(found), key=lambda d: (d.line, d.column, d.code, d.message))
