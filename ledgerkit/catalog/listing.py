"""``ledgerkit models``: the models matching a pattern and a provider, as an aligned table or as JSON.

Deprecated and retired models are hidden unless asked for. Prices are USD per million tokens in force on the
given day, as exact decimals; in JSON they are numbers written from the Decimal's own digits (``1.25``), and a
tiered price also lists its tiers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any

from ..errors import LedgerkitError
from .maintained import DataAge, data_age
from .model import Model, OverrideSpec, Price
from .prices import price_at
from .resolve import catalog, resolve_model

_GLOB = frozenset("*?[")


class UnknownProvider(LedgerkitError):
    """A --provider that the data does not know."""


def models(
    pattern: str | None = None,
    provider: str | None = None,
    include_all: bool = False,
    extra: Sequence[OverrideSpec] = (),
) -> list[Model]:
    """The models whose id, ``provider/id`` or an alias matches ``pattern`` (a substring, or a glob with * ? [).

    ``extra`` (the configuration's ``models:``) replaces the data's models it overrides and adds the others.
    """
    known = catalog()
    wanted_provider = provider.strip().lower() if provider else None
    if wanted_provider is not None and wanted_provider not in known.provider_ids():
        providers = ", ".join(sorted(known.provider_ids()))
        raise UnknownProvider(f"unknown provider {provider!r}; known providers: {providers}")
    by_key = {m.key: m for m in known.models}
    for spec in extra:
        own = resolve_model(spec.id if not spec.provider else f"{spec.provider}/{spec.id}", extra)
        by_key[own.key] = own
    found = [
        m
        for m in by_key.values()
        if (wanted_provider is None or m.provider == wanted_provider)
        and (include_all or not (m.deprecated or m.retired))
        and (pattern is None or _matches(m, pattern.strip().lower()))
    ]
    return sorted(found, key=lambda m: (m.provider, m.id))


def _matches(model: Model, pattern: str) -> bool:
    names = (model.id.lower(), model.key.lower(), *model.aliases)
    if _GLOB & set(pattern):
        return any(fnmatchcase(name, pattern) for name in names)
    return any(pattern in name for name in names)


# --- what a row shows ---------------------------------------------------------------------------------------


def _prices(model: Model, on: date) -> tuple[Price | None, Price | None]:
    rule = price_at(model, datetime(on.year, on.month, on.day, tzinfo=UTC))
    return (None, None) if rule is None else (rule.input, rule.output)


def _as_of(model: Model) -> str:
    found = [model.source_of(f) for f in ("context_window", "max_output", "prices")]
    return ", ".join(dict.fromkeys(s.as_of for s in found if s is not None)) or "unknown"


def _flag(model: Model) -> str:
    return "retired" if model.retired else "deprecated" if model.deprecated else ""


def age_line(age: DataAge, today: date) -> str:
    """How old the installed data is: the first line of ``ledgerkit models``."""
    if age.version is None:
        return "Model data: genai-prices is not installed."
    if age.released is None:
        when = f"a release ledgerkit does not date (its supplement was checked against {age.checked})"
    else:
        year, month = (int(part) for part in age.released.split("-")[:2])
        months = (today.year - year) * 12 + today.month - month
        old = "less than a month old" if months <= 0 else f"about {months} month{'s' if months != 1 else ''} old"
        when = f"released {age.released}, {old}"
    return f"Model data: genai-prices {age.version} ({when}); ledgerkit's supplement read {age.supplement_as_of}."


# --- text ---------------------------------------------------------------------------------------------------


def _money(price: Price | None) -> str:
    if price is None:
        return "-"
    return f"{price.base}{'+' if price.tiers else ''}"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def table_text(found: Sequence[Model], today: date | None = None) -> str:
    """An aligned table, after a line saying how old the data is; prices in force ``today`` (UTC)."""
    on = today or datetime.now(UTC).date()
    header = ("id", "provider", "context", "output", "input $/M", "output $/M", "as of", "")
    rows = [header]
    for m in found:
        given_in, given_out = _prices(m, on)
        rows.append(
            (m.id, m.provider, _count(m.context_window), _count(m.max_output), _money(given_in), _money(given_out),
             _as_of(m), _flag(m))
        )  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {2, 3, 4, 5}
    lines = [age_line(data_age(), on), f"Prices in USD per million tokens, in force on {on.isoformat()}."]
    for row in rows:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    if any(p is not None and p.tiers for m in found for p in _prices(m, on)):
        lines.append("+ a higher price applies above a number of input tokens (--format json lists the tiers)")
    if not found:
        lines.append("(no model matches)")
    return "\n".join(lines) + "\n"


# --- JSON ---------------------------------------------------------------------------------------------------


def _number(value: Decimal) -> int | float:
    # JSON has one number type: the Decimal's own digits, read back by any JSON reader as the same value.
    return int(value) if value == value.to_integral_value() else float(str(value))


def _price_json(price: Price | None) -> dict[str, Any] | None:
    if price is None:
        return None
    return {
        "per_million": _number(price.base),
        "tiers": [{"above_input_tokens": t.above, "per_million": _number(t.price)} for t in price.tiers],
    }


def as_json(model: Model, on: date) -> dict[str, Any]:
    given_in, given_out = _prices(model, on)
    return {
        "id": model.id,
        "provider": model.provider,
        "name": model.name,
        "aliases": list(model.aliases),
        "context_window": model.context_window,
        "max_output": model.max_output,
        "output_in_window": model.output_in_window,
        "input_budget": model.input_budget,
        "input_price": _price_json(given_in),
        "output_price": _price_json(given_out),
        "tokenizer": {"encoding": model.tokenizer.encoding, "exact": model.tokenizer.exact},
        "deprecated": model.deprecated,
        "retired": model.retired,
        "as_of": _as_of(model),
        "sources": {figure: {"name": s.name, "url": s.url, "as_of": s.as_of} for figure, s in model.sources},
    }


def table_json(found: Sequence[Model], today: date | None = None) -> str:
    """The models and the age of the data, as one JSON object."""
    on = today or datetime.now(UTC).date()
    age = data_age()
    document = {
        "genai_prices": {"version": age.version, "released": age.released},
        "supplement_as_of": age.supplement_as_of,
        "prices_on": on.isoformat(),
        "models": [as_json(m, on) for m in found],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
