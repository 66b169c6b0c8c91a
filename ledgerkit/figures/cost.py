"""A record's model and the input cost of its load, in exact decimals.

A record names its model with ``- MODEL: <id>``, else the configuration's ``model:`` applies. The cost is
the record's tokens at the model's input price in force at the record's time (UTC_TS, else LOCAL_TS; a
record without a time is priced today), tiered prices applied: the tokens are the record's exact count
when it has one (a TOKEN_COUNT, preferring the model's own encoding, or the configured encoding's count),
else TOKEN_ESTIMATE. The model catalog (genai-prices) is loaded only when a record has a model.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from ..diagnostics import Diagnostic
from ..errors import LedgerkitError

if TYPE_CHECKING:
    from ..catalog.model import Model
    from ..config import Config
    from ..reading.values import RecordValues


class Cost(NamedTuple):
    """What a load costs, and the tokens it was priced on (``basis`` names them: an encoding or the estimate)."""

    amount: Decimal
    tokens: int
    basis: str


class Models:
    """Resolves the models of one run's records, each name once."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._found: dict[str, Model | LedgerkitError] = {}

    def name_for(self, values: RecordValues) -> str | None:
        written = values.model.written
        return written if written else self.config.model

    def model_for(self, values: RecordValues) -> tuple[Model | None, Diagnostic | None]:
        """The record's model, or an LK306 diagnostic naming the close ids when it names an unknown one."""
        name = self.name_for(values)
        if name is None:
            return None, None
        found = self._found.get(name)
        if found is None:
            from ..catalog import resolve_model

            try:
                found = resolve_model(name, self.config.models)
            except LedgerkitError as exc:
                found = exc
            self._found[name] = found
        if isinstance(found, LedgerkitError):
            f = values.model.field
            line, column = (f.line, f.value_column) if f is not None else (values.record.line, values.record.column)
            where = "" if f is not None else " (the configuration's model:)"
            return None, Diagnostic(values.path, line, column, "LK306", f"MODEL {name!r}{where}: {found.message}")
        return found, None


def cost_of(
    model: Model, values: RecordValues, tokens: int | None, exact: dict[str, int], config: Config
) -> Cost | None:
    """The input cost of a record's load, or None when its tokens or the model's price are unknown."""
    from ..catalog import input_cost

    chosen = _tokens(model, tokens, exact, config)
    if chosen is None:
        return None
    count, basis = chosen
    moment = values.moment or datetime.now(UTC)
    amount = input_cost(model, count, moment)
    return None if amount is None else Cost(amount, count, basis)


def _tokens(model: Model, estimate: int | None, exact: dict[str, int], config: Config) -> tuple[int, str] | None:
    own = model.tokenizer.encoding
    for encoding in (own, config.encoding, *sorted(exact)):
        if encoding is not None and encoding in exact:
            return exact[encoding], f"TOKEN_COUNT ({encoding})"
    return (estimate, "TOKEN_ESTIMATE") if estimate is not None else None


def over_budget(model: Model, values: RecordValues, budget: int | None) -> Diagnostic | None:
    """LK305 when a record's BUDGET_C exceeds what its model can hold (its input budget)."""
    room = model.input_budget
    if budget is None or room is None or budget <= room:
        return None
    f = values.budget.field
    line, column = (f.line, f.value_column) if f is not None else (values.record.line, values.record.column)
    return Diagnostic(
        values.path,
        line,
        column,
        "LK305",
        f"BUDGET_C {budget} is more than {model.key} can hold: its "
        f"input budget is {room} tokens (context window less the output limit)",
    )
