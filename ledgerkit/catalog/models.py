"""The models ledgerkit knows: context window, output limit, encoding, and where each figure is from."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

from ..errors import LedgerkitError

MODELS = "models.yaml"


class UnknownModel(LedgerkitError):
    """A --model that the shipped table does not know."""


@dataclass(frozen=True)
class Model:
    """A model's limits, in tokens, as its provider documents them (``source``, ``as_of``)."""

    name: str
    family: str
    provider: str
    context_window: int
    max_output: int
    encoding: str | None
    source: str
    as_of: str
    aliases: tuple[str, ...] = ()
    output_in_window: bool = True  # False: context_window is an input limit, the reply comes on top

    @property
    def input_room(self) -> int:
        """What is left for the context when the reply may use its whole output limit."""
        return self.context_window - self.max_output if self.output_in_window else self.context_window


def _int(value: Any, name: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise LedgerkitError(f"models.yaml: {name}.{key} is not a positive whole number: {value!r}")
    return value


@lru_cache(maxsize=1)
def models() -> dict[str, Model]:
    """The shipped table, by name and alias (lower case)."""
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(files("ledgerkit").joinpath("data", MODELS).read_text(encoding="utf-8"))
    table: dict[str, Model] = {}
    for name, spec in (data or {}).get("models", {}).items():
        model = Model(
            name=str(name),
            family=str(spec["family"]),
            provider=str(spec["provider"]),
            context_window=_int(spec.get("context_window"), name, "context_window"),
            max_output=_int(spec.get("max_output"), name, "max_output"),
            encoding=spec.get("encoding"),
            source=str(spec["source"]),
            as_of=str(spec["as_of"]),
            aliases=tuple(str(a) for a in spec.get("aliases") or ()),
            output_in_window=bool(spec.get("output_in_window", True)),
        )
        for key in (model.name, *model.aliases):
            table[key.lower()] = model
    return table


def model(name: str) -> Model:
    """A model by name or alias (any case); an unknown one is an error listing the known ones."""
    table = models()
    found = table.get(name.strip().lower())
    if found is None:
        known = ", ".join(sorted({m.name for m in table.values()}))
        raise UnknownModel(f"unknown model {name!r}; known models: {known}")
    return found
