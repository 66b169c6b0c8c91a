"""What ledgerkit knows of a model: its limits, tokenizer, prices with their history, and where each figure is from.

Plain values only: nothing here imports genai_prices or pydantic, so any module may use these types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from typing import Protocol

#: The encoding that counts for a model whose tokenizer is not public: the closest public vocabulary in
#: size and multilingual coverage, so its counts are estimates and say so.
ESTIMATE_ENCODING = "o200k_base"


@dataclass(frozen=True)
class DataSource:
    """Where a figure was read: ``genai-prices 0.2.3`` or a page, and the date of that copy."""

    name: str
    url: str
    as_of: str  # an ISO date, or a year and month where the source gives no day ("2026-11")


@dataclass(frozen=True)
class Tokenizer:
    """The tiktoken encoding that counts a model's tokens, and whether its counts are exact or an estimate."""

    encoding: str
    exact: bool


@dataclass(frozen=True)
class Tier:
    """A higher price that applies to every token once a request's input tokens exceed ``above``."""

    above: int
    price: Decimal  # USD per million tokens


@dataclass(frozen=True)
class Price:
    """USD per million tokens: ``base``, or the price of the highest tier the request's input exceeds."""

    base: Decimal
    tiers: tuple[Tier, ...] = ()

    def per_million(self, input_tokens: int) -> Decimal:
        """The price in force for a request with that many input tokens (a tier applies to all its tokens)."""
        for tier in reversed(self.tiers):
            if input_tokens > tier.above:
                return tier.price
        return self.base


@dataclass(frozen=True)
class PriceRule:
    """Prices that hold from ``since`` (a UTC date), or every day between two UTC times, or always."""

    input: Price | None
    output: Price | None
    since: date | None = None
    daily: tuple[time, time] | None = None  # an off-peak window [start, end), in UTC

    def active(self, when_date: date, when_time: time) -> bool:
        """Whether this rule's condition holds at that UTC date and time."""
        if self.since is not None:
            return when_date >= self.since
        if self.daily is not None:
            start, end = self.daily
            if end < start:  # the window crosses midnight
                return when_time >= start or when_time < end
            return start <= when_time < end
        return True


@dataclass(frozen=True)
class Model:
    """A model as one provider offers it, with the source of every figure (``sources``, by figure name)."""

    id: str
    provider: str
    name: str
    aliases: tuple[str, ...]
    context_window: int | None
    max_output: int | None  # the most tokens one reply may have; None when no source gives it
    output_in_window: bool | None  # True: input + reply <= context_window; False: the window is the input's alone
    tokenizer: Tokenizer
    deprecated: bool
    retired: bool
    prices: tuple[PriceRule, ...]  # in the data's order: the last rule whose condition holds is in force
    sources: tuple[tuple[str, DataSource], ...]

    @property
    def key(self) -> str:
        """``provider/id``: the name that always resolves to this model."""
        return f"{self.provider}/{self.id}"

    @property
    def input_budget(self) -> int | None:
        """What a context may take when the reply may use its whole output limit; None when a figure is unknown."""
        if self.context_window is None or self.output_in_window is None:
            return None
        if not self.output_in_window:
            return self.context_window
        if self.max_output is None:
            return None
        return self.context_window - self.max_output

    def source_of(self, figure: str) -> DataSource | None:
        """Where ``figure`` (``context_window``, ``max_output``, ``output_in_window``, ``prices``...) is from."""
        return dict(self.sources).get(figure)

    @property
    def limits_from(self) -> tuple[DataSource, ...]:
        """The distinct sources of the window and the output limit, for one-line displays."""
        found = [self.source_of(f) for f in ("context_window", "max_output")]
        return tuple(dict.fromkeys(s for s in found if s is not None))

    @property
    def source(self) -> str:
        """The pages the window and output limit were read from, joined for one line."""
        return ", ".join(s.url for s in self.limits_from) or "unknown"

    @property
    def as_of(self) -> str:
        """The dates of those sources, joined for one line."""
        return ", ".join(dict.fromkeys(s.as_of for s in self.limits_from)) or "unknown"


class OverrideSpec(Protocol):
    """A team's own model or correction, from the configuration's ``models:`` (ledgerkit.config.ModelOverride).

    A field that is None is not given: an override of a known model keeps that figure from the data.
    Prices are Decimal USD per million tokens; a given price replaces the model's whole price history.
    """

    @property
    def id(self) -> str: ...
    @property
    def provider(self) -> str | None: ...
    @property
    def context_window(self) -> int | None: ...
    @property
    def max_output(self) -> int | None: ...
    @property
    def output_in_window(self) -> bool | None: ...
    @property
    def input_price(self) -> Decimal | None: ...
    @property
    def output_price(self) -> Decimal | None: ...
    @property
    def encoding(self) -> str | None: ...
    @property
    def aliases(self) -> Sequence[str]: ...
    @property
    def deprecated(self) -> bool | None: ...
    @property
    def as_of(self) -> date | str | None: ...
