"""names: `count -e NAME` resolves a model through the catalog, the same way `plan --model` and records do."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from ledgerkit.catalog import AmbiguousModel, resolve_model
from ledgerkit.catalog.resolve import catalog
from ledgerkit.tokens import names
from ledgerkit.tokens.encodings import EncodingUnavailable

#: Names of one model in every form: each resolves to the catalog's model, with its tokenizer.
FORMS = [
    "gpt-5",
    "openai/gpt-5",
    "GPT-5-2025-08-07",
    "gpt-4",
    "o3",
    "anthropic/claude-opus-4-5",
    "claude-opus-4-5-20251101",
    "gemini-2.5-pro",
    "google/gemini-2.5-pro",
]


@pytest.mark.parametrize("name", FORMS)
def test_a_model_name_counts_with_the_catalogs_tokenizer(name):
    tokenizer = resolve_model(name).tokenizer
    resolved = names.resolve(name)
    assert (resolved.encoding, resolved.exact) == (tokenizer.encoding, tokenizer.exact)
    assert resolved.name == name.strip()


def test_labels_say_exact_or_estimate():
    assert names.label("gpt-5") == "gpt-5 (o200k_base)"
    assert names.label("claude-opus-4-5") == "claude-opus-4-5 (estimate via o200k_base)"


def test_a_model_the_catalog_lacks_is_an_error_naming_the_close_ones_and_the_family():
    # Issue 14: count -e took 'claude-opsu-4-5' (a typo) as a Claude estimate while plan --model refused it.
    for name, kind in (("llama-99-giant", "llama"), ("claude-opsu-4-5", "claude")):
        close = catalog().close(name)
        assert close
        with pytest.raises(EncodingUnavailable) as exc:
            names.resolve(name)
        assert f"; closest models: {', '.join(close)}; or -e {kind} for the {kind} family's estimate" in str(exc.value)
    resolved = names.resolve("llama")  # the family by name is still an estimate
    assert (resolved.encoding, resolved.exact) == ("o200k_base", False)


def test_an_unknown_name_names_the_closest_models():
    with pytest.raises(EncodingUnavailable) as exc:
        names.resolve("gtp-5")
    message = str(exc.value)
    assert message.startswith("unknown encoding 'gtp-5': available offline: cl100k_base, o200k_base")
    assert "; closest models: " in message and "gpt-5" in message.split("closest models: ")[1]


def test_an_ambiguous_model_name_asks_for_the_provider():
    known = catalog()
    offered: dict[str, set[str]] = {}
    for m in known.models:
        offered.setdefault(m.id.lower(), set()).add(m.provider)
    name = next(
        n
        for n, providers in sorted(offered.items())
        if len(providers) > 1 and "/" not in n and known.maker(n) is None and names.family(n) is None
    )
    with pytest.raises(AmbiguousModel):
        names.resolve(name)


@dataclass(frozen=True)
class Override:
    id: str
    provider: str | None = None
    context_window: int | None = None
    max_output: int | None = None
    output_in_window: bool | None = None
    input_price: Decimal | None = None
    output_price: Decimal | None = None
    encoding: str | None = None
    aliases: tuple[str, ...] = ()
    deprecated: bool | None = None
    as_of: date | str | None = None


def test_the_teams_own_model_counts_with_its_encoding():
    own = Override("house-gpt", encoding="cl100k_base", aliases=("hg",))
    resolved = names.resolve("HG", [own])
    assert (resolved.encoding, resolved.exact) == ("cl100k_base", True)
    with pytest.raises(EncodingUnavailable):
        names.resolve("house-gpt")


def test_encoding_names_and_families_never_load_the_catalog():
    # verify and a plain fill resolve encodings: that must stay instant, with no model data loaded.
    code = """
        import sys
        from ledgerkit.tokens import names
        for name in ("o200k_base", "cl100k_base", "p50k_base", "claude", "Gemini", "llama"):
            names.resolve(name)
            names.exact_problem(name)
        from ledgerkit.catalog.resolve import catalog
        print(catalog.cache_info().currsize, "genai_prices" in sys.modules, "pydantic" in sys.modules)
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "False", "False"]
