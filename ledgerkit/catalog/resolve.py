"""One resolver for every command that takes a model: ``count -e``, ``plan --model``, records and reports.

``anthropic/claude-opus-4-5``, ``claude-opus-4-5``, ``claude-opus-4-5-20251101`` and an alias name the same model,
in any case. A plain name goes to the provider that makes the model (genai-prices' own rule: the provider whose
model names match it, so ``claude-*`` is Anthropic's even though Google and AWS resell it); a name that only
resellers offer, under the same id, is ambiguous and asks for ``provider/``. An unknown name is an error that
names the closest known ids, never a silent default.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ..errors import LedgerkitError
from .model import DataSource, Model, OverrideSpec, Price, PriceRule, Tokenizer

_CLOSE = 5
_LONGEST = 200


class UnknownModel(LedgerkitError):
    """A model name that names no model the data (or the configuration's ``models:``) knows."""


class AmbiguousModel(UnknownModel):
    """A plain model name that several providers offer and none of them makes: it needs ``provider/``."""


class Catalog:
    """Every model of the installed data, indexed for resolving; built once per process (``catalog()``)."""

    def __init__(self, providers: list[Any], built: list[tuple[Any, Model]]) -> None:
        from .maintained import makers

        self._providers = providers
        self._makers = makers(providers)
        self._infos = [info for info, _ in built]  # keeps the ModelInfo objects (and so their ids) alive
        self._by_info = {id(info): model for info, model in built}
        self.models: tuple[Model, ...] = tuple(model for _, model in built)
        self._by_key = {m.key.lower(): m for m in self.models}
        self._plain: dict[str, list[Model]] = {}
        for m in self.models:
            for name in dict.fromkeys((m.id.lower(), *m.aliases)):
                self._plain.setdefault(name, []).append(m)

    def lookup(self, name: str) -> Model:
        """The model ``name`` (lower case, stripped) names in the data; UnknownModel or AmbiguousModel if none."""
        found = self._by_key.get(name)
        if found is not None:
            return found
        head, slash, rest = name.partition("/")
        if slash:
            found = self._in_provider(head, rest)
            if found is not None:
                return found
        found = self._from_maker(name)
        if found is not None:
            return found
        offered = list({m.key: m for m in self._plain.get(name, ())}.values())
        if len(offered) == 1:
            return offered[0]
        if offered:
            keys = ", ".join(m.key for m in offered[:8]) + (", ..." if len(offered) > 8 else "")
            raise AmbiguousModel(f"model {name!r} is offered by several providers: write one of {keys}")
        raise UnknownModel(unknown_message(name, self.close(name)))

    def close(self, name: str, more: Iterable[str] = ()) -> list[str]:
        """The known names closest to ``name`` (difflib), ``provider/id`` ones when it has a ``/``."""
        if len(name) > _LONGEST:  # no model id is that long, and difflib's cost grows with the length
            return []
        pool = [*self._by_key] if "/" in name else [*self._plain]
        return difflib.get_close_matches(name, [*pool, *more], n=_CLOSE, cutoff=0.6)

    def maker(self, name: str) -> str | None:
        """The provider that makes the model ``name``, by genai-prices' rule (None: no provider claims it)."""
        from .maintained import maker_of

        return maker_of(name, self._makers)

    def provider_ids(self) -> list[str]:
        return [p.id for p in self._providers]

    def _in_provider(self, head: str, rest: str) -> Model | None:
        from genai_prices.data_snapshot import find_provider_by_id

        provider = find_provider_by_id(self._providers, head)
        if provider is None:
            return None
        info = provider.find_model(rest, all_providers=self._providers)
        return None if info is None else self._by_info.get(id(info))

    def _from_maker(self, name: str) -> Model | None:
        maker = self.maker(name)
        provider = next((p for p in self._providers if p.id == maker), None)
        info = None if provider is None else provider.find_model(name, all_providers=self._providers)
        return None if info is None else self._by_info.get(id(info))


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """The installed data, loaded once per process (genai_prices is imported here, not before)."""
    from . import maintained

    providers = maintained.providers()
    return Catalog(providers, maintained.build(providers))


def unknown_message(name: str, close: Sequence[str]) -> str:
    hint = f"closest known: {', '.join(close)}" if close else "no known model is close"
    return (
        f"unknown model {name!r}; {hint} (`ledgerkit models --all` lists them; "
        "a team adds its own under models: in ledgerkit.yaml)"
    )


def normalized(name: str) -> str:
    return name.strip().lower()


def resolve_model(name: str, extra: Sequence[OverrideSpec] = ()) -> Model:
    """The model ``name`` names: the team's own ``extra`` models first, then the installed data."""
    wanted = normalized(name)
    if not wanted:
        raise UnknownModel("no model named: give a model id such as gpt-5 or anthropic/claude-opus-4-5")
    overrides = [_override(o) for o in extra]
    for names, model, _ in overrides:
        if wanted in names:
            return model
    try:
        base = catalog().lookup(wanted)
    except AmbiguousModel:
        raise
    except UnknownModel:
        own = [n for names, _, _ in overrides for n in names]
        raise UnknownModel(unknown_message(wanted, catalog().close(wanted, own))) from None
    return next((model for _, model, key in overrides if key == base.key), base)


# --- the configuration's models: -------------------------------------------------------------------------


def _override(spec: OverrideSpec) -> tuple[frozenset[str], Model, str | None]:
    """An override as (the names it answers to, the model, the key of the data's model it changes or None)."""
    provider = normalized(spec.provider) if spec.provider else None
    base: Model | None
    try:
        base = catalog().lookup(normalized(f"{provider}/{spec.id}" if provider else spec.id))
    except UnknownModel:
        base = None
    model = _changed(base, spec, provider) if base is not None else _new(spec, provider or "custom")
    names = frozenset({normalized(spec.id), model.key.lower(), *(normalized(a) for a in spec.aliases)})
    return names, model, None if base is None else base.key


def _source(spec: OverrideSpec) -> DataSource:
    as_of = spec.as_of.isoformat() if isinstance(spec.as_of, date) else (spec.as_of or "undated")
    return DataSource("the configuration (models:)", "ledgerkit.yaml", as_of)


def _price(value: Decimal | None, what: str, spec: OverrideSpec) -> Price | None:
    if value is None:
        return None
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise LedgerkitError(f"models: {spec.id}: {what} is not a price in USD per million tokens: {value!r}")
    return Price(value)


def _changed(base: Model, spec: OverrideSpec, provider: str | None) -> Model:
    """The data's model with the figures the override gives; a given price holds at every date."""
    source = _source(spec)
    sources = dict(base.sources)
    figures: dict[str, Any] = {}
    for figure in ("context_window", "max_output", "output_in_window"):
        value = getattr(spec, figure)
        if value is not None:
            figures[figure], sources[figure] = value, source
    if spec.deprecated is not None:
        figures["deprecated"], sources["deprecated"] = spec.deprecated, source
    if spec.encoding is not None:
        figures["tokenizer"] = Tokenizer(spec.encoding, True)
    given_in = _price(spec.input_price, "input_price", spec)
    given_out = _price(spec.output_price, "output_price", spec)
    if given_in is not None or given_out is not None:
        rules = base.prices or (PriceRule(None, None),)
        figures["prices"] = tuple(replace(r, input=given_in or r.input, output=given_out or r.output) for r in rules)
        sources["prices"] = source
    aliases = tuple(dict.fromkeys((*base.aliases, *(normalized(a) for a in spec.aliases))))
    return replace(base, aliases=aliases, sources=tuple(sources.items()), **figures)


def _new(spec: OverrideSpec, provider: str) -> Model:
    """A model the data does not know (a private deployment, a newer release), from the override alone."""
    from .maintained import tokenizer
    from .supplement import supplement

    source = _source(spec)
    sources: dict[str, DataSource] = {}
    for figure in ("context_window", "max_output", "output_in_window", "deprecated"):
        if getattr(spec, figure) is not None:
            sources[figure] = source
    shares = spec.output_in_window
    if shares is None:
        default = supplement().provider(catalog().maker(spec.id) or provider)
        if default is not None:
            shares, sources["output_in_window"] = default.output_in_window, default.source
    given_in = _price(spec.input_price, "input_price", spec)
    given_out = _price(spec.output_price, "output_price", spec)
    prices = () if given_in is None and given_out is None else (PriceRule(given_in, given_out),)
    if prices:
        sources["prices"] = source
    return Model(
        id=spec.id.strip(),
        provider=provider,
        name=spec.id.strip(),
        aliases=tuple(dict.fromkeys(normalized(a) for a in spec.aliases)),
        context_window=spec.context_window,
        max_output=spec.max_output,
        output_in_window=shares,
        tokenizer=Tokenizer(spec.encoding, True) if spec.encoding else tokenizer(spec.id.strip()),
        deprecated=bool(spec.deprecated),
        retired=False,
        prices=prices,
        sources=tuple(sources.items()),
    )
