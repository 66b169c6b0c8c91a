"""Which encoding counts for a name: an encoding, a model of the catalog, or a model family counted as an
estimate. An encoding name or a bare family (``claude``) loads nothing; a model name asks the catalog
(ledgerkit.catalog), so ``count -e``, ``plan --model`` and records resolve a model the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .encodings import OPENAI_ENCODINGS, SHIPPED, EncodingUnavailable

if TYPE_CHECKING:
    from ..catalog.model import OverrideSpec

DEFAULT = "o200k_base"

#: Model families whose tokenizers tiktoken does not have: counted with a shipped encoding, as an estimate.
#: o200k_base is the closest public vocabulary in size and multilingual coverage; it is not their tokenizer.
ESTIMATES: dict[str, str] = {
    "claude": DEFAULT,
    "deepseek": DEFAULT,
    "gemini": DEFAULT,
    "gemma": DEFAULT,
    "llama": DEFAULT,
    "mistral": DEFAULT,
    "qwen": DEFAULT,
}
_FAMILY = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Resolved:
    """A name as asked, the tiktoken encoding that counts for it, and whether its counts are exact."""

    name: str
    encoding: str
    exact: bool

    @property
    def label(self) -> str:
        """What every figure made with this name says about itself."""
        if not self.exact:
            return f"{self.name} (estimate via {self.encoding})"
        return self.encoding if self.name == self.encoding else f"{self.name} ({self.encoding})"


# --- names ---------------------------------------------------------------------------------------------


def available() -> list[str]:
    """The encodings that always load here, offline (shipped with ledgerkit)."""
    return sorted(SHIPPED)


def family(name: str) -> str | None:
    """The model family (a key of ESTIMATES) that ``name`` belongs to, if any: ``claude-3-5-sonnet`` -> claude."""
    m = _FAMILY.match(name.lower())
    return m.group() if m and m.group() in ESTIMATES else None


def unknown(name: str, close: Sequence[str] = (), kind: str | None = None) -> EncodingUnavailable:
    models = f"; closest models: {', '.join(close)}" if close else ""
    if kind is not None:
        models += f"; or -e {kind} for the {kind} family's estimate"
    return EncodingUnavailable(
        f"unknown encoding {name!r}: available offline: {', '.join(available())}; "
        f"other tiktoken encodings ({', '.join(e for e in OPENAI_ENCODINGS if e not in SHIPPED)}) "
        f"when tiktoken has them cached; estimates for the model families {', '.join(sorted(ESTIMATES))}{models}"
    )


def resolve(name: str, extra: Sequence[OverrideSpec] = ()) -> Resolved:
    """Which encoding counts for ``name``: an encoding, a model (the catalog's tokenizer), or a family.

    ``extra`` are the configuration's own models. A model the catalog does not know is counted with tiktoken's
    own model table when that has it; else it is an error that names the closest models, as ``plan --model``
    and a record's MODEL are: ``claude-opsu-4-5`` is a typo, not a Claude model to estimate (``-e claude``
    asks for the family's estimate by name).
    """
    name = name.strip()
    if name in SHIPPED or name in OPENAI_ENCODINGS:
        return Resolved(name, name, True)
    if name.lower() in ESTIMATES:  # a family, not a model: nothing to look up
        return Resolved(name, ESTIMATES[name.lower()], False)
    from ..catalog.resolve import AmbiguousModel, UnknownModel, catalog, normalized, resolve_model

    try:
        tokenizer = resolve_model(name, extra).tokenizer
        return Resolved(name, tokenizer.encoding, tokenizer.exact)
    except AmbiguousModel:
        raise
    except UnknownModel:
        pass
    import tiktoken

    if name in tiktoken.list_encoding_names():
        return Resolved(name, name, True)
    try:
        return Resolved(name, tiktoken.encoding_name_for_model(name), True)
    except KeyError:
        raise unknown(name, catalog().close(normalized(name)), family(name)) from None


def exact_problem(name: str) -> str | None:
    """Why ``name`` cannot name an exact count (TOKEN_COUNT, the configuration), or None. Loads nothing."""
    shipped = ", ".join(available())
    if name in OPENAI_ENCODINGS:
        return None
    if family(name) is not None:
        return (
            f"counts for {name} are estimates, and an exact count needs an encoding: "
            f"{shipped} (shipped) or another tiktoken encoding"
        )
    others = ", ".join(e for e in OPENAI_ENCODINGS if e not in SHIPPED)
    return f"unknown encoding {name!r}; shipped: {shipped}; tiktoken's others: {others}"


def is_exact(name: str) -> bool:
    """True when counts made for ``name`` are exact (an OpenAI encoding or model), False for an estimate."""
    return resolve(name).exact


def label(name: str) -> str:
    """``o200k_base``, ``gpt-4o (o200k_base)`` or ``claude (estimate via o200k_base)``."""
    return resolve(name).label
