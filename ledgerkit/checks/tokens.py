"""The exact counts' check: with an encoding configured, a record's TOKEN_ESTIMATE may not fall short of
its written TOKEN_COUNT by more than the margin (LK703). From the written figures: loads no encoding."""

from __future__ import annotations

from ..diagnostics import Diagnostic
from ..figures.exact import undercount
from ..reading.parse import Ledger
from .context import Context


def check_token_counts(ledger: Ledger, context: Context) -> list[Diagnostic]:
    encoding = context.config.encoding
    if encoding is None:
        return []
    out: list[Diagnostic] = []
    for f in context.figures(ledger).records:
        estimate, exact = f.values.tokens.written, f.exact.get(encoding)
        if estimate is not None and exact is not None:
            warning = undercount(f.values, context.config, estimate, exact, encoding)
            if warning is not None:
                out.append(warning)
    return out
