"""The shipped supplement (ledgerkit/data/models.yaml): what genai-prices lacks, each entry with its source and date.

genai-prices wins for every figure it has; an entry fills a gap, or replaces a window genai-prices rounds and
says which figure it replaces (``replaces``), so a disagreement is never silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from ..errors import LedgerkitError
from .model import DataSource

FILE = "models.yaml"
_FIGURES = ("context_window", "max_output", "output_in_window")
_ENTRY_KEYS = frozenset({*_FIGURES, "replaces", "source", "as_of", "retired", "aliases"})


class SupplementError(LedgerkitError):
    """The shipped supplement is malformed (a bug in ledgerkit's data, reported in one line)."""


@dataclass(frozen=True)
class SupplementEntry:
    """The figures the supplement gives for one genai-prices model (``provider/id``), and their source."""

    key: str
    source: DataSource
    context_window: int | None = None
    max_output: int | None = None
    output_in_window: bool | None = None
    replaces: tuple[tuple[str, int], ...] = ()  # the genai-prices figures this entry knowingly replaces
    retired: DataSource | None = None  # where the retirement is stated: name "retired on <date>", as_of the day read
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProviderDefault:
    """Whether the reply shares the window for the models a provider makes."""

    output_in_window: bool
    source: DataSource


@dataclass(frozen=True)
class Supplement:
    checked: str  # the genai-prices release the entries were compared with
    releases: tuple[tuple[str, str], ...]  # genai-prices version -> when it was released ("2026-11")
    release_source: str
    providers: tuple[tuple[str, ProviderDefault], ...]
    entries: tuple[SupplementEntry, ...]

    @property
    def as_of(self) -> str:
        """The newest date an entry was read."""
        return max(e.source.as_of for e in self.entries)

    def provider(self, maker: str | None) -> ProviderDefault | None:
        return dict(self.providers).get(maker) if maker is not None else None


@lru_cache(maxsize=1)
def supplement() -> Supplement:
    """The shipped supplement, read and checked once per process."""
    from importlib.resources import files

    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        data = YAML(typ="safe").load(files("ledgerkit").joinpath("data", FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeError, YAMLError) as exc:
        raise SupplementError(f"ledgerkit/data/{FILE} cannot be read: {exc}") from None
    return parse_supplement(data)


def parse_supplement(data: Any) -> Supplement:
    """The supplement from its loaded YAML; every problem is a SupplementError naming the entry."""
    top = _mapping(data, FILE)
    gp = _mapping(top.get("genai_prices"), "genai_prices")
    releases = _mapping(gp.get("releases"), "genai_prices.releases")
    release_rows = []
    release_source = ""
    for version, spec in releases.items():
        row = _mapping(spec, f"genai_prices.releases.{version}")
        release_rows.append((str(version), _day(row.get("released"), f"genai_prices.releases.{version}.released")))
        release_source = _url(row.get("source"), f"genai_prices.releases.{version}.source")
    providers = []
    for name, spec in _mapping(top.get("providers"), "providers").items():
        row = _mapping(spec, f"providers.{name}")
        providers.append(
            (str(name), ProviderDefault(_bool(row.get("output_in_window"), f"providers.{name}"), _source(row, name)))
        )
    entries = tuple(_entry(str(key), spec) for key, spec in _mapping(top.get("models"), "models").items())
    return Supplement(str(gp.get("checked")), tuple(release_rows), release_source, tuple(providers), entries)


def _entry(key: str, spec: Any) -> SupplementEntry:
    row = _mapping(spec, key)
    unknown = set(row) - _ENTRY_KEYS
    if unknown:
        raise SupplementError(f"{FILE}: {key}: unknown keys {', '.join(sorted(unknown))} (no prices here)")
    if "/" not in key:
        raise SupplementError(f"{FILE}: {key}: a key is genai-prices' provider/id")
    replaces = tuple(
        (str(figure), _positive(value, f"{key}.replaces.{figure}"))
        for figure, value in _mapping(row.get("replaces") or {}, f"{key}.replaces").items()
    )
    retired = None
    if row.get("retired") is not None:
        retired_row = _mapping(row["retired"], f"{key}.retired")
        found = _source(retired_row, f"{key}.retired")
        retired = DataSource(f"retired on {_day(retired_row.get('on'), f'{key}.retired.on')}", found.url, found.as_of)
    return SupplementEntry(
        key=key.lower(),
        source=_source(row, key),
        context_window=_optional(row.get("context_window"), f"{key}.context_window"),
        max_output=_optional(row.get("max_output"), f"{key}.max_output"),
        output_in_window=None if row.get("output_in_window") is None else _bool(row["output_in_window"], key),
        replaces=replaces,
        retired=retired,
        aliases=tuple(str(a).lower() for a in row.get("aliases") or ()),
    )


# --- values -----------------------------------------------------------------------------------------------


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SupplementError(f"{FILE}: {where} is not a mapping")
    return value


def _positive(value: Any, where: str) -> int:
    # Whole numbers only: a float never stands for a figure.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SupplementError(f"{FILE}: {where} is not a positive whole number: {value!r}")
    return value


def _optional(value: Any, where: str) -> int | None:
    return None if value is None else _positive(value, where)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SupplementError(f"{FILE}: {where}: output_in_window is true or false, not {value!r}")
    return value


def _url(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.startswith("https://"):
        raise SupplementError(f"{FILE}: {where} is not an https:// address: {value!r}")
    return value


def _day(value: Any, where: str) -> str:
    """An ISO date, or a year and month (``2026-11``) where the source gives no day."""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    try:
        date.fromisoformat(text if text.count("-") == 2 else f"{text}-01")
    except ValueError:
        raise SupplementError(f"{FILE}: {where} is not a date: {value!r}") from None
    return text


def _source(row: dict[str, Any], where: str) -> DataSource:
    url = _url(row.get("source"), f"{where}.source")
    return DataSource(f"ledgerkit/data/{FILE}", url, _day(row.get("as_of"), f"{where}.as_of"))
