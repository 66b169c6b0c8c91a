"""Models from genai-prices' offline snapshot, completed by the shipped supplement.

genai-prices is imported here, inside the functions, and only its bundled data is read: its auto-update
(``UpdatePrices``, a thread that downloads from GitHub) is never started, so nothing uses the network.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, NamedTuple

from ..errors import LedgerkitError
from .model import ESTIMATE_ENCODING, DataSource, Model, Price, PriceRule, Tier, Tokenizer
from .supplement import Supplement, SupplementEntry, supplement

DISTRIBUTION = "genai-prices"
HOME = "https://github.com/pydantic/genai-prices"


class CatalogUnavailable(LedgerkitError):
    """genai-prices is not installed, or its data cannot be read."""


@dataclass(frozen=True)
class DataAge:
    """Which genai-prices data is installed and when it was released, for "how old is this"."""

    version: str | None
    released: str | None  # "2026-11", or None when ledgerkit does not know this release
    checked: str  # the release the supplement was compared with
    supplement_as_of: str

    @property
    def source(self) -> DataSource:
        return DataSource(f"genai-prices {self.version}", HOME, self.released or "unknown")


def data_age() -> DataAge:
    """The installed genai-prices release and its date, without importing genai_prices."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as _installed_version

    extra = supplement()
    try:
        installed: str | None = _installed_version(DISTRIBUTION)
    except PackageNotFoundError:
        installed = None
    released = dict(extra.releases).get(installed) if installed is not None else None
    return DataAge(installed, released, extra.checked, extra.as_of)


def providers() -> list[Any]:
    """genai-prices' bundled providers (its ``types.Provider``), never an auto-updated snapshot."""
    # The bundled module itself, not get_snapshot(): a snapshot another library in the process fetched with
    # UpdatePrices is neither offline nor the data ledgerkit's supplement was checked against.
    try:
        from genai_prices.data import providers as bundled
    except ImportError as exc:
        raise CatalogUnavailable(
            f"model data needs the genai-prices package ({exc}); pip install genai-prices"
        ) from None
    return list(bundled)


def makers(all_providers: list[Any]) -> list[tuple[str, Any]]:
    """The providers that say which model names are theirs (genai-prices' ``model_match``), in its order."""
    return [(p.id, p.model_match) for p in all_providers if p.model_match is not None]


def maker_of(model_id: str, known: list[tuple[str, Any]]) -> str | None:
    """The provider that makes ``model_id``, by genai-prices' own rule: the first whose names match it."""
    lowered = model_id.lower()
    return next((pid for pid, match in known if match.is_match(lowered)), None)


def build(all_providers: list[Any]) -> list[tuple[Any, Model]]:
    """Every (genai-prices ModelInfo, Model) pair, the supplement applied."""
    extra = supplement()
    entries = {e.key: e for e in extra.entries}
    known = makers(all_providers)
    # Only a maker the supplement has a default for changes a figure; asking those few first saves most of
    # the matching, and maker_of then confirms that no earlier provider claims the name.
    with_default = [(pid, match) for pid, match in known if extra.provider(pid) is not None]
    source = data_age().source
    built = []
    for provider in all_providers:
        for info in provider.models:
            entry = entries.get(f"{provider.id}/{info.id}".lower())
            lowered = info.id.lower()
            maker = maker_of(lowered, known) if any(m.is_match(lowered) for _, m in with_default) else None
            built.append((info, convert(provider.id, info, maker, entry, extra, source)))
    return built


def convert(
    provider: str, info: Any, maker: str | None, entry: SupplementEntry | None, extra: Supplement, source: DataSource
) -> Model:
    """One genai-prices model as a Model: its figures first, the supplement's where it has none."""
    sources: dict[str, DataSource] = {}
    window: int | None = info.context_window
    if window is not None:
        sources["context_window"] = source
    prices = rules(info)
    if prices:
        sources["prices"] = source
    if info.deprecated is not None:
        sources["deprecated"] = source
    default = extra.provider(maker)
    shares: bool | None = None
    if default is not None:
        shares, sources["output_in_window"] = default.output_in_window, default.source
    gaps = _Gaps(window, None, shares, tuple(names(info)))
    if entry is not None:
        gaps = _filled(gaps, entry, sources)
    return Model(
        id=info.id,
        provider=provider,
        name=info.name or info.id,
        aliases=gaps.aliases,
        context_window=gaps.window,
        max_output=gaps.max_output,
        output_in_window=gaps.shares,
        tokenizer=tokenizer(info.id),
        deprecated=bool(info.deprecated),
        retired=entry is not None and entry.retired is not None,
        prices=prices,
        sources=tuple(sources.items()),
    )


class _Gaps(NamedTuple):
    window: int | None
    max_output: int | None
    shares: bool | None
    aliases: tuple[str, ...]


def _filled(gaps: _Gaps, entry: SupplementEntry, sources: dict[str, DataSource]) -> _Gaps:
    """The figures with the supplement's entry filling what the data lacks (or a window it declares it replaces)."""
    window, max_output, shares, aliases = gaps
    replaced = dict(entry.replaces)
    if entry.context_window is not None and (window is None or replaced.get("context_window") == window):
        window, sources["context_window"] = entry.context_window, entry.source
    if entry.max_output is not None:
        max_output, sources["max_output"] = entry.max_output, entry.source
    if entry.output_in_window is not None:
        shares, sources["output_in_window"] = entry.output_in_window, entry.source
    if entry.retired is not None:
        sources["retired"] = entry.retired
    aliases += tuple(a for a in entry.aliases if a not in aliases)
    return _Gaps(window, max_output, shares, aliases)


# --- names ------------------------------------------------------------------------------------------------


def names(info: Any) -> Iterator[str]:
    """The other names genai-prices resolves to this model: the whole names (equals, starts_with) of its match
    logic that match it; a ``contains`` or ``ends_with`` fragment is no name anyone writes."""
    seen = {info.id.lower()}
    for text, certain in _literals(info.match, True):
        lowered = text.lower()
        if lowered not in seen and (certain or info.is_match(lowered)):
            seen.add(lowered)
            yield lowered


def _literals(clause: Any, certain: bool) -> Iterator[tuple[str, bool]]:
    """Each whole name in a match clause, and whether it surely matches (reached through ``or`` alone)."""
    for attribute in ("equals", "starts_with"):
        value = getattr(clause, attribute, None)
        if isinstance(value, str):
            yield value, certain
    for inner in getattr(clause, "or_", None) or ():
        yield from _literals(inner, certain)
    for inner in getattr(clause, "and_", None) or ():
        yield from _literals(inner, False)


def tokenizer(model_id: str) -> Tokenizer:
    """The exact encoding from tiktoken's own model table (OpenAI's models), else o200k_base as an estimate."""
    from tiktoken.model import encoding_name_for_model

    for name in dict.fromkeys((model_id, model_id.rsplit("/", 1)[-1])):  # OpenRouter writes openai/gpt-4o
        try:
            return Tokenizer(encoding_name_for_model(name), True)
        except KeyError:
            continue
    return Tokenizer(ESTIMATE_ENCODING, False)


# --- prices -----------------------------------------------------------------------------------------------


def rules(info: Any) -> tuple[PriceRule, ...]:
    """The model's standard prices in genai-prices' order (request variants such as batch are left out)."""
    prices = info.prices
    if not isinstance(prices, list):
        rule = _rule(prices, None)
        return () if rule.input is None and rule.output is None else (rule,)
    return tuple(_rule(conditional.prices, conditional.constraint) for conditional in prices)


def _rule(prices: Any, constraint: Any) -> PriceRule:
    since: date | None = getattr(constraint, "start_date", None)
    daily = None
    if constraint is not None and since is None:
        daily = (_utc(constraint.start_time), _utc(constraint.end_time))
    return PriceRule(_price(prices.input_mtok), _price(prices.output_mtok), since, daily)


def _utc(moment: time) -> time:
    """A time of day in UTC, naive (genai-prices reads a naive time as UTC)."""
    if moment.tzinfo is None:
        return moment
    return datetime.combine(date(1970, 1, 1), moment).astimezone(UTC).time()


def _price(value: Any) -> Price | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return Price(_exact(value))
    return Price(_exact(value.base), tuple(Tier(int(t.start), _exact(t.price)) for t in value.tiers))


def _exact(value: Any) -> Decimal:
    # genai-prices keeps prices as Decimal; anything else (a float) would not be exact, so it is refused.
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise CatalogUnavailable(f"genai-prices gives a price that is not an exact decimal: {value!r}")
    return value
