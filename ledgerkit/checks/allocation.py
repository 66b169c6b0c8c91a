"""The allocation's checks: each DISTRIBUTION and the policy of section 2 sum to 100 %, and every share
stays within the tolerance of the configured policy."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from ..diagnostics import Diagnostic
from ..reading.parse import Ledger, Share
from ..schema import plain_number
from .context import Context, at


def check_allocation(ledger: Ledger, context: Context) -> list[Diagnostic]:
    """LK401 (a DISTRIBUTION's sum), LK402 (the policy's sum), LK403 (a share too far from the policy).

    An entry that is no share (LK404) is the read stage's to report.
    """
    out: list[Diagnostic] = []
    if ledger.allocation:
        total = sum(s.percent for s in ledger.allocation)
        if total != 100:
            line = ledger.allocation_line or ledger.allocation[0].line
            out.append(at(ledger, line, 1, "LK402", f"the allocation policy sums to {plain_number(total)}%, not 100%"))
    judge = _Judge(context.config.allocation, context.config.allocation_tolerance)
    for f in context.figures(ledger).records:
        v = f.values
        if not v.distribution:  # shares are read from a DISTRIBUTION field: a record with one has the field
            continue
        total, far, whole = judge(v.distribution)
        if whole and not far:
            continue
        field = v.record.field("DISTRIBUTION")
        assert field is not None
        if not whole:
            out.append(
                at(
                    ledger,
                    field.line,
                    field.column,
                    "LK401",
                    f"DISTRIBUTION of {v.run_id} sums to {plain_number(total)}%, not 100%",
                )
            )
        for i in far:
            share = v.distribution[i]
            target = judge.policy[share.name]
            out.append(
                at(
                    ledger,
                    share.line,
                    share.column,
                    "LK403",
                    f"{share.name} is {plain_number(share.percent)}%, more than {plain_number(judge.tolerance)} "
                    f"points from the policy's {plain_number(target)}%",
                )
            )
    return out


class _Judge:
    """A distribution's sum, the shares too far from the policy, and whether the sum is 100; records share a
    handful of distributions, so each is judged once."""

    def __init__(self, policy: Mapping[str, Fraction], tolerance: Fraction) -> None:
        self.policy, self.tolerance = policy, tolerance
        self._seen: dict[tuple[tuple[str, int], ...], tuple[Fraction, tuple[int, ...], bool]] = {}

    def __call__(self, shares: tuple[Share, ...]) -> tuple[Fraction, tuple[int, ...], bool]:
        # Keyed by each share's name and its percent's identity: a Fraction's own hash is computed in Python,
        # slowly, and the read stage gives the same Fraction for the same entry text. The records hold every
        # percent while the judge lives, so no identity is reused meanwhile.
        key = tuple([(s.name, id(s.percent)) for s in shares])
        verdict = self._seen.get(key)
        if verdict is None:
            far = tuple(i for i, s in enumerate(shares) if self._far(s.name, s.percent))
            total = sum((s.percent for s in shares), Fraction(0))
            verdict = self._seen[key] = (total, far, total == 100)
        return verdict

    def _far(self, name: str, percent: Fraction) -> bool:
        target = self.policy.get(name)
        return target is not None and abs(percent - target) > self.tolerance
