"""What a load costs, in USD, exactly: the model's price in force at a moment, tiers applied, Decimal throughout.

Input cost = input tokens x the input price per million tokens / 10^6, at the price in force at ``at`` (UTC) and
at the tier the request's input tokens reach (a tier applies to every token of the request, as providers bill).
Left out: cache reads and writes, batch and service-tier discounts, and reasoning tokens (billed as output: pass
them in ``output_tokens``). genai-prices computes the same figure for the same tokens, model and moment.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal, localcontext

from .model import Model, Price, PriceRule

#: Costs are written with four decimals, rounded up, so a written cost never understates what was spent.
WRITTEN = Decimal("0.0001")


def price_at(model: Model, at: datetime) -> PriceRule | None:
    """The prices in force at ``at`` (naive means UTC): the last rule whose condition holds, else the first."""
    if not model.prices:
        return None
    moment = at.astimezone(UTC) if at.tzinfo is not None else at
    day, clock = moment.date(), moment.time()
    return next((rule for rule in reversed(model.prices) if rule.active(day, clock)), model.prices[0])


def input_cost(model: Model, tokens: int, at: datetime) -> Decimal | None:
    """USD for ``tokens`` input tokens at ``at``; None when the model has no input price (never 0)."""
    rule = price_at(model, at)
    if rule is None or rule.input is None:
        return None
    return _charge(rule.input, _count(tokens), _count(tokens))


def cost(model: Model, input_tokens: int, output_tokens: int, at: datetime) -> Decimal | None:
    """USD for one request's input and output tokens at ``at``; None when a price it needs is unknown.

    The tier of both prices is set by the request's input tokens, as genai-prices and the providers do.
    """
    rule = price_at(model, at)
    inputs, outputs = _count(input_tokens), _count(output_tokens)
    if rule is None or rule.input is None or (outputs and rule.output is None):
        return None
    total = _charge(rule.input, inputs, inputs)
    if rule.output is not None:
        total += _charge(rule.output, outputs, inputs)
    return total


def written_cost(amount: Decimal) -> str:
    """A cost as a ledger writes it: four decimals, rounded up (``0.00012`` -> ``0.0002``)."""
    return str(amount.quantize(WRITTEN, rounding=ROUND_CEILING))


def _count(tokens: int) -> int:
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
        raise ValueError(f"a token count is a whole number >= 0, not {tokens!r}")
    return tokens


def _charge(price: Price, tokens: int, input_tokens: int) -> Decimal:
    """tokens x price / 10^6, exact: the context holds every digit, so nothing is rounded."""
    per_million = price.per_million(input_tokens)
    digits = len(per_million.as_tuple().digits) + len(str(tokens)) + 1
    with localcontext() as exact:
        exact.prec = max(28, digits)
        return (per_million * tokens).scaleb(-6)
