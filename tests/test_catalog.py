"""The catalog: one resolver, genai-prices' data with the dated supplement, exact prices, offline and lazy."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fnmatch import fnmatchcase
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerkit.catalog import (
    AmbiguousModel,
    DataSource,
    Model,
    Price,
    PriceRule,
    Tier,
    Tokenizer,
    UnknownModel,
    UnknownProvider,
    age_line,
    cost,
    data_age,
    input_cost,
    maintained,
    models,
    price_at,
    resolve_model,
    table_json,
    table_text,
    written_cost,
)
from ledgerkit.catalog.resolve import catalog
from ledgerkit.catalog.supplement import SupplementEntry, SupplementError, parse_supplement, supplement
from ledgerkit.errors import LedgerkitError


def genai_model(key: str):
    """genai-prices' own (Provider, ModelInfo) for ``provider/id``, by exact id."""
    from genai_prices.data import providers

    pid, mid = key.split("/", 1)
    provider = next(p for p in providers if p.id == pid)
    return provider, next(m for m in provider.models if m.id == mid)


def genai_cost(key: str, input_tokens: int, output_tokens: int, at: datetime) -> Decimal:
    """genai-prices' own calculation: what ledgerkit's cost must equal, to the last digit."""
    from genai_prices import Usage

    provider, info = genai_model(key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = info.calc_price(
            Usage(input_tokens=input_tokens, output_tokens=output_tokens), provider, genai_request_timestamp=at
        )
    return found.input_price + found.output_price


def model(**changes: object) -> Model:
    base = Model(
        id="m",
        provider="p",
        name="M",
        aliases=(),
        context_window=1000,
        max_output=100,
        output_in_window=True,
        tokenizer=Tokenizer("o200k_base", False),
        deprecated=False,
        retired=False,
        prices=(),
        sources=(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


# --- one resolver ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "anthropic/claude-opus-4-5",
        "claude-opus-4-5",
        "claude-opus-4-5-20251101",
        "Claude-Opus-4.5",
        " CLAUDE-4-5-OPUS ",
    ],
)
def test_prefixed_plain_dated_and_alias_ids_name_one_model(name):
    assert resolve_model(name) == resolve_model("anthropic/claude-opus-4-5")


def test_openai_dated_and_alias_ids():
    gpt5 = resolve_model("gpt-5")
    assert gpt5.key == "openai/gpt-5"
    assert all(resolve_model(alias) == gpt5 for alias in ("gpt-5-2025-08-07", "openai/gpt-5", *gpt5.aliases))


def test_a_plain_id_goes_to_its_maker_as_genai_prices_itself_chooses():
    # Google and AWS resell Claude; genai-prices' calc_price without a provider picks the maker, and so do we.
    from genai_prices import Usage, calc_price

    offered = [m.provider for m in catalog().models if m.id == "claude-opus-4-5"]
    assert len(offered) > 1
    chosen = calc_price(Usage(input_tokens=1), "claude-opus-4-5").provider.id
    assert resolve_model("claude-opus-4-5").provider == chosen == "anthropic"
    assert resolve_model("google/claude-opus-4-5").provider == "google"


def test_an_id_only_resellers_offer_asks_for_the_provider():
    known = catalog()
    offered: dict[str, set[str]] = {}
    for m in known.models:
        offered.setdefault(m.id.lower(), set()).add(m.provider)
    name = next(
        n for n, providers in sorted(offered.items()) if len(providers) > 1 and "/" not in n and known.maker(n) is None
    )
    with pytest.raises(AmbiguousModel) as exc:
        resolve_model(name)
    assert all(f"{p}/{name}" in str(exc.value) for p in sorted(offered[name])[:8])


def test_an_unknown_id_names_the_closest_and_never_defaults():
    with pytest.raises(UnknownModel) as exc:
        resolve_model("claude-opus-9")
    message = str(exc.value)
    assert message.startswith("unknown model 'claude-opus-9'; closest known: ")
    assert "claude-opus-5" in message
    with pytest.raises(UnknownModel, match="no model named"):
        resolve_model("   ")


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=0, max_size=300) | st.from_regex(r"[a-z]{1,12}/[a-z0-9.\-]{0,20}", fullmatch=True))
def test_any_text_resolves_or_is_one_ledgerkit_error(name):
    try:
        found = resolve_model(name)
    except LedgerkitError as exc:
        assert "\n" not in str(exc).replace(name, "")
    else:
        assert isinstance(found, Model)


def test_a_very_long_name_is_refused_at_once():
    with pytest.raises(UnknownModel, match="no known model is close"):
        resolve_model("x" * 100_000)


# --- the model ----------------------------------------------------------------------------------------


def test_input_budget():
    assert model().input_budget == 900  # the reply shares the window
    assert model(output_in_window=False).input_budget == 1000  # the window is the input's alone
    assert model(max_output=None).input_budget is None
    assert model(max_output=None, output_in_window=False).input_budget == 1000
    assert model(output_in_window=None).input_budget is None
    assert model(context_window=None).input_budget is None


def test_tokenizers_come_from_tiktokens_own_table():
    from tiktoken.model import encoding_name_for_model

    for name in ("gpt-4", "gpt-4o", "gpt-5", "o3"):
        assert resolve_model(name).tokenizer == Tokenizer(encoding_name_for_model(name), True)
    assert resolve_model("gpt-4").tokenizer.encoding == "cl100k_base"
    for name in ("claude-opus-4-5", "gemini-2.5-pro"):
        assert resolve_model(name).tokenizer == Tokenizer("o200k_base", False)


def test_every_figure_names_its_source():
    gpt5 = resolve_model("gpt-5")
    age = data_age()
    assert gpt5.source_of("context_window") == age.source and gpt5.source_of("prices") == age.source
    assert gpt5.source_of("max_output").url.startswith("https://github.com/pydantic/genai-prices/blob/")
    assert gpt5.source_of("output_in_window").url.startswith("https://community.openai.com/")
    for m in catalog().models:
        for figure, source in m.sources:
            assert source.url.startswith("https://") and source.as_of, (m.key, figure)


def test_deprecated_and_retired_flags():
    deprecated = [m for m in catalog().models if m.deprecated]
    assert deprecated and all(genai_model(m.key)[1].deprecated for m in deprecated)
    opus3 = resolve_model("claude-3-opus")
    assert opus3.retired and opus3.source_of("retired").name == "retired on 2026-01-05"


# --- the supplement against genai-prices: which wins ---------------------------------------------------------


def test_every_supplement_entry_is_a_genai_prices_model():
    for entry in supplement().entries:
        provider, info = genai_model(entry.key)
        assert f"{provider.id}/{info.id}" == entry.key


def test_the_supplement_never_contradicts_genai_prices_silently():
    # genai-prices wins for every figure it has. An entry may only replace a figure by naming the genai-prices
    # figure it replaces; when genai-prices changes that figure, this fails and the entry is checked again.
    for entry in supplement().entries:
        _, info = genai_model(entry.key)
        replaced = dict(entry.replaces)
        theirs = {"context_window": info.context_window}
        for figure, value in theirs.items():
            ours = getattr(entry, figure)
            if ours is None or value is None:
                assert figure not in replaced, f"{entry.key}: replaces a {figure} genai-prices does not give"
            elif ours != value:
                assert replaced.get(figure) == value, (
                    f"{entry.key}: {figure} {ours} disagrees with genai-prices' {value}; "
                    f"say replaces: {{{figure}: {value}}} with the provider's page, or drop the figure"
                )
            else:
                assert figure not in replaced, f"{entry.key}: replaces a {figure} genai-prices now agrees on"


def test_an_undeclared_disagreement_keeps_genai_prices_figure():
    provider, info = genai_model("openai/gpt-4.1")
    source = DataSource("page", "https://example.org/page", "2026-12-02")
    silent = SupplementEntry("openai/gpt-4.1", source, context_window=1_047_576)
    declared = replace(silent, replaces=(("context_window", info.context_window),))
    extra, age = supplement(), data_age().source
    assert maintained.convert(provider.id, info, "openai", silent, extra, age).context_window == info.context_window
    assert maintained.convert(provider.id, info, "openai", declared, extra, age).context_window == 1_047_576


def test_the_supplement_fills_what_genai_prices_lacks():
    _, info = genai_model("google/gemini-2.5-pro")
    assert info.context_window is None
    pro = resolve_model("gemini-2.5-pro")
    assert pro.context_window == 1_048_576 and pro.max_output == 65_536 and pro.output_in_window is False
    assert pro.source_of("context_window").url.startswith("https://ai.google.dev/")


@pytest.mark.parametrize(
    "family",
    ["gpt-5", "gpt-5-mini", "gpt-5.1", "gpt-5.2", "gpt-4.1", "gpt-4o", "o3", "o4-mini", "claude-opus-4-5",
     "claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-6", "gemini-2.5-pro", "gemini-2.5-flash",
     "gemini-3-pro-preview", "gemini-3.1-pro-preview"],
)  # fmt: skip
def test_the_models_people_use_now_have_an_input_budget(family):
    m = resolve_model(family)
    assert m.input_budget is not None and 0 < m.input_budget <= m.context_window


@pytest.mark.parametrize(
    "data",
    [
        {"models": {"openai/gpt-5": {"max_output": 1, "input_price": 1, "source": "https://x", "as_of": "2026-01-01"}}},
        {"models": {"openai/gpt-5": {"max_output": 1.5, "source": "https://x", "as_of": "2026-01-01"}}},
        {"models": {"openai/gpt-5": {"max_output": 1, "source": "http://x", "as_of": "2026-01-01"}}},
        {"models": {"openai/gpt-5": {"max_output": 1, "source": "https://x", "as_of": "someday"}}},
        {"models": {"gpt-5": {"max_output": 1, "source": "https://x", "as_of": "2026-01-01"}}},
        {"models": []},
        None,
    ],
)
def test_a_malformed_supplement_is_one_clear_error(data):
    if data is not None:
        data = {"genai_prices": {"checked": "0.2.3", "releases": {}}, "providers": {}, **data}
    with pytest.raises(SupplementError):
        parse_supplement(data)


# --- prices and cost, exact -----------------------------------------------------------------------------------


def dated_change(key: str) -> date:
    """The start date of a price change in genai-prices' own history of ``key``."""
    from genai_prices.types import StartDateConstraint

    _, info = genai_model(key)
    return next(c.constraint.start_date for c in info.prices if isinstance(c.constraint, StartDateConstraint))


@pytest.mark.parametrize("key", ["openai/o3", "anthropic/claude-opus-4-6", "google/gemini-3-pro-preview"])
def test_cost_across_a_price_change_in_the_history(key):
    day = dated_change(key)
    m = resolve_model(key)
    before = datetime(day.year, day.month, day.day, tzinfo=UTC) - timedelta(seconds=1)
    after = before + timedelta(seconds=1)
    for at in (before, after):
        for tokens in ((1_000, 500), (123_457, 0), (250_001, 9_999)):
            assert cost(m, *tokens, at) == genai_cost(key, *tokens, at), (at, tokens)
    assert price_at(m, before) != price_at(m, after)


def test_o3_price_change_is_the_data_s():
    m = resolve_model("o3")
    day = dated_change("openai/o3")
    old = input_cost(m, 1_000_000, datetime(day.year, day.month, day.day) - timedelta(days=1))
    new = input_cost(m, 1_000_000, datetime(day.year, day.month, day.day))
    assert old is not None and new is not None and old != new


@pytest.mark.parametrize("key", ["anthropic/claude-sonnet-4-5", "google/gemini-2.5-pro", "openai/gpt-5.4"])
def test_cost_across_a_tier_boundary(key):
    m = resolve_model(key)
    at = datetime(2026, 12, 2, tzinfo=UTC)
    rule = price_at(m, at)
    assert rule is not None and rule.input is not None and rule.input.tiers
    start = rule.input.tiers[0].above
    for tokens in (start - 1, start, start + 1, start * 3):
        assert cost(m, tokens, 1_000, at) == genai_cost(key, tokens, 1_000, at), tokens
        assert input_cost(m, tokens, at) == genai_cost(key, tokens, 0, at), tokens
    below, above = input_cost(m, start, at), input_cost(m, start + 1, at)
    assert below is not None and above is not None
    assert above / (start + 1) > below / start  # the whole request pays the tier's price


def test_an_off_peak_price_follows_the_utc_time_of_day():
    key = "deepseek/deepseek-chat"
    m = resolve_model(key)
    quiet, busy = datetime(2026, 12, 2, 1, 0, tzinfo=UTC), datetime(2026, 12, 2, 20, 0, tzinfo=UTC)
    assert cost(m, 10_000, 1_000, quiet) == genai_cost(key, 10_000, 1_000, quiet)
    assert cost(m, 10_000, 1_000, busy) == genai_cost(key, 10_000, 1_000, busy)
    tokyo = timezone(timedelta(hours=9))
    assert cost(m, 10_000, 1_000, quiet.astimezone(tokyo)) == cost(m, 10_000, 1_000, quiet)
    assert cost(m, 10_000, 1_000, quiet.replace(tzinfo=None)) == cost(m, 10_000, 1_000, quiet)  # naive is UTC


def test_every_first_party_price_matches_genai_prices():
    at = [datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 12, 2, 12, tzinfo=UTC)]
    checked = 0
    for m in catalog().models:
        if m.provider not in ("openai", "anthropic", "google") or not m.prices:
            continue
        for when in at:
            for tokens in ((1, 0), (4_321, 765), (200_001, 3)):
                ours = cost(m, *tokens, when)
                if ours is not None:
                    assert ours == genai_cost(m.key, *tokens, when), (m.key, when, tokens)
                    checked += 1
    assert checked > 1000


def test_a_model_without_prices_costs_none_not_zero():
    unpriced = next(m for m in catalog().models if not m.prices)
    assert input_cost(unpriced, 1000, datetime(2026, 1, 1)) is None
    assert cost(unpriced, 1000, 10, datetime(2026, 1, 1)) is None
    no_output = model(prices=(PriceRule(Price(Decimal("2")), None),))
    assert cost(no_output, 10, 0, datetime(2026, 1, 1)) == Decimal("0.00002")
    assert cost(no_output, 10, 1, datetime(2026, 1, 1)) is None  # an output price it does not know


def test_cost_is_exact_decimal_at_any_size():
    priced = model(prices=(PriceRule(Price(Decimal("0.123456789"), (Tier(10, Decimal("7.1")),)), Price(Decimal("3"))),))
    for tokens in (0, 7, 10, 11, 10**9 + 7, 10**40 + 1):
        found = input_cost(priced, tokens, datetime(2026, 1, 1))
        per_million = Fraction("7.1") if tokens > 10 else Fraction("0.123456789")
        assert isinstance(found, Decimal) and Fraction(found) == per_million * tokens / 10**6
    with pytest.raises(ValueError):
        input_cost(priced, -1, datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        input_cost(priced, 1.0, datetime(2026, 1, 1))  # type: ignore[arg-type]


def test_every_price_in_the_data_is_a_decimal():
    for m in catalog().models:
        for rule in m.prices:
            for price in (rule.input, rule.output):
                if price is not None:
                    assert isinstance(price.base, Decimal) and all(isinstance(t.price, Decimal) for t in price.tiers)


@pytest.mark.parametrize(
    ("amount", "written"),
    [("0", "0.0000"), ("0.00001", "0.0001"), ("0.0001", "0.0001"), ("0.00010001", "0.0002"), ("12.5", "12.5000")],
)
def test_a_cost_is_written_with_four_decimals_rounded_up(amount, written):
    assert written_cost(Decimal(amount)) == written


# --- listing ----------------------------------------------------------------------------------------------------


def test_listing_by_pattern_and_provider():
    found = models("claude-opus-4", provider="anthropic")
    assert found and all(m.provider == "anthropic" and "claude-opus-4" in m.key for m in found)
    globbed = models("gpt-5.?", provider="openai")
    assert {m.id for m in globbed} >= {"gpt-5.1", "gpt-5.2"}
    assert all(any(fnmatchcase(n, "gpt-5.?") for n in (m.id, *m.aliases)) for m in globbed)
    by_alias = models("gpt-5-2025-08-07")
    assert "openai/gpt-5" in [m.key for m in by_alias]
    assert all(any("gpt-5-2025-08-07" in n for n in (m.key, *m.aliases)) for m in by_alias)
    with pytest.raises(UnknownProvider, match="known providers: .*anthropic"):
        models(provider="no-such")


def test_deprecated_and_retired_are_hidden_unless_all():
    shown = {m.key for m in models()}
    every = {m.key for m in models(include_all=True)}
    assert "anthropic/claude-3-opus-latest" in every - shown  # retired
    assert {m.key for m in catalog().models if m.deprecated} <= every - shown
    assert every == {m.key for m in catalog().models}


def test_text_listing():
    text = table_text(models("claude-opus-4-5", provider="anthropic"), today=date(2027, 2, 3))
    lines = text.splitlines()
    age = data_age()
    assert lines[0].startswith(f"Model data: genai-prices {age.version} (released {age.released}, about ")
    assert "in force on 2027-02-03" in lines[1]
    row = next(line for line in lines if line.startswith("claude-opus-4-5 "))
    assert "200,000" in row and "64,000" in row and " 5 " in row and " 25 " in row


def test_age_line():
    age = replace(data_age(), version="0.2.3", released="2026-11")
    assert "less than a month old" in age_line(age, date(2026, 11, 30))
    assert "about 1 month old" in age_line(age, date(2026, 12, 2))
    assert "about 14 months old" in age_line(age, date(2028, 1, 1))
    assert "does not date" in age_line(replace(age, version="0.2.9", released=None), date(2027, 1, 1))


def test_json_listing_numbers_are_the_decimals():
    at = date(2026, 12, 2)
    document = json.loads(table_json(models("claude-sonnet-4-5", provider="anthropic", include_all=True), today=at))
    assert document["genai_prices"]["version"] == data_age().version
    entry = next(d for d in document["models"] if d["id"] == "claude-sonnet-4-5")
    m = resolve_model("anthropic/claude-sonnet-4-5")
    rule = price_at(m, datetime(2026, 12, 2, tzinfo=UTC))
    assert rule is not None and rule.input is not None
    assert isinstance(entry["context_window"], int) and entry["input_budget"] == m.input_budget
    assert Decimal(str(entry["input_price"]["per_million"])) == rule.input.base
    assert [Decimal(str(t["per_million"])) for t in entry["input_price"]["tiers"]] == [
        t.price for t in rule.input.tiers
    ]
    every = json.loads(table_json(models(include_all=True), today=at))["models"]
    for d in every:
        for side in ("input_price", "output_price"):
            if d[side] is not None:
                assert Decimal(str(d[side]["per_million"])) >= 0


# --- the team's own models (configuration's models:) ----------------------------------------------------------


@dataclass(frozen=True)
class Override:
    """What ledgerkit.config's ModelOverride gives, field by field."""

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


def test_a_team_model_the_data_does_not_know():
    own = Override(
        "acme-coder",
        provider="acme",
        context_window=64_000,
        max_output=8_000,
        output_in_window=True,
        input_price=Decimal("0.7"),
        output_price=Decimal("2.1"),
        aliases=("coder",),
        as_of=date(2026, 12, 1),
    )
    with pytest.raises(UnknownModel):
        resolve_model("acme-coder")
    m = resolve_model("CODER", [own])
    assert m == resolve_model("acme/acme-coder", [own]) and m.input_budget == 56_000
    assert cost(m, 1_000_000, 1_000_000, datetime(2026, 12, 2)) == Decimal("2.8")
    assert m.source_of("prices").as_of == "2026-12-01"
    assert m.key in {x.key for x in models("acme", extra=[own])}


def test_an_override_changes_only_what_it_gives():
    base = resolve_model("gpt-5")
    own = Override("gpt-5", max_output=100_000, input_price=Decimal("1"))
    m = resolve_model("gpt-5-2025-08-07", [own])  # any name of the model gets the override
    assert m.max_output == 100_000 and m.context_window == base.context_window
    at = datetime(2026, 12, 2)
    assert input_cost(m, 10**6, at) == Decimal("1")
    assert cost(m, 0, 10**6, at) == cost(base, 0, 10**6, at)  # the output price stays the data's
    assert m.source_of("max_output").name == "the configuration (models:)"


def test_an_unknown_name_suggests_the_teams_own_models_too():
    with pytest.raises(UnknownModel, match="acme-coder"):
        resolve_model("acme-codr", [Override("acme-coder", context_window=1)])


# --- offline and lazy -------------------------------------------------------------------------------------------


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )


def test_importing_the_catalog_loads_neither_genai_prices_nor_pydantic():
    done = run_python(
        """
        import sys
        import ledgerkit.catalog, ledgerkit.tokens.names as names
        for encoding in ("o200k_base", "cl100k_base", "claude"):
            names.resolve(encoding)
        names.exact_problem("o200k_base")
        heavy = [m for m in ("genai_prices", "pydantic", "ruamel.yaml", "tiktoken", "httpx2") if m in sys.modules]
        from ledgerkit.catalog.resolve import catalog
        print(heavy, catalog.cache_info().currsize)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] 0"


def test_resolving_listing_and_pricing_open_no_socket_and_start_no_thread():
    done = run_python(
        """
        import socket, threading
        def refuse(*args, **kwargs):
            raise AssertionError("the network was used")
        socket.socket.connect = socket.socket.connect_ex = refuse
        socket.create_connection = socket.getaddrinfo = refuse
        from datetime import datetime
        from ledgerkit.catalog import cost, models, resolve_model, table_json, table_text
        from ledgerkit.tokens import names
        m = resolve_model("anthropic/claude-opus-4-5")
        print(cost(m, 1000, 100, datetime(2026, 12, 2)), names.resolve("gpt-5").encoding)
        table_text(models()), table_json(models(include_all=True))
        import genai_prices.data_snapshot as snapshot
        print(threading.active_count(), snapshot._custom_snapshot)
        """
    )
    assert done.returncode == 0, done.stderr
    expected = genai_cost("anthropic/claude-opus-4-5", 1000, 100, datetime(2026, 12, 2))
    found, encoding, threads, snapshot = done.stdout.split()
    assert (Decimal(found), encoding, threads, snapshot) == (expected, "o200k_base", "1", "None")
