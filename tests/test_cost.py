"""Cost end to end (issue 14): what fill writes and plan prints equals genai-prices' own ``calc_price`` for
the same tokens, model and moment, across a price change in the data's history and a tiered price; every
command that takes a model takes the same ids; nothing opens a socket."""

from __future__ import annotations

import json
import re
import socket
import warnings
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgerkit.cli import cli

from .conftest import HEADER, SUMMARY, make_files, record


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def genai_price(model_ref: str, provider: str, input_tokens: int, output_tokens: int, at: datetime) -> Decimal:
    """genai-prices' public calculation, the one its README shows: ``calc_price(Usage(...), model, ...)``."""
    from genai_prices import Usage, calc_price

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = calc_price(
            Usage(input_tokens=input_tokens, output_tokens=output_tokens),
            model_ref,
            provider_id=provider,
            genai_request_timestamp=at,
        )
    return found.input_price + found.output_price


def written(amount: Decimal) -> str:
    """As a ledger writes a cost: four decimals, rounded up."""
    return str(amount.quantize(Decimal("0.0001"), rounding=ROUND_CEILING))


def priced_record(n: int, at: datetime, source: str, model: str, *, extra: str = "") -> str:
    """A record loading ``source`` at ``at`` (UTC), naming ``model``, with its cost to fill."""
    return record(
        n,
        (source,),
        budget="1000000",
        action="[fill]",
        extra=f"- MODEL: {model}\n{extra}- COST_ESTIMATE (USD): [fill]\n",
        at=at,
    )


def filled_field(text: str, run_id_suffix: str, name: str) -> str:
    record = text.split(f"-{run_id_suffix}\n", 1)[1].split("\n---", 1)[0]
    m = re.search(rf"^- {re.escape(name)}: (.*)$", record, re.M)
    assert m, (name, record)
    return m.group(1)


# Claude Opus 4.6 in genai-prices: until 2026-03-13 a long-context tier (10 USD per million input tokens
# above 200,000, 5 below); from then on 5 flat. tests/test_catalog.py checks the dates are the data's own.
CHANGE = datetime(2026, 3, 13, tzinfo=UTC)
BEFORE, AFTER = CHANGE - timedelta(minutes=2), CHANGE


def test_fill_writes_genai_prices_cost_across_a_price_change_and_a_tier(tmp_path):
    from ledgerkit.catalog import price_at, resolve_model

    m = resolve_model("anthropic/claude-opus-4-6")
    assert price_at(m, BEFORE) != price_at(m, AFTER)  # a change in the data's history, between the records
    rule = price_at(m, BEFORE)
    assert rule is not None and rule.input is not None and rule.input.tiers[0].above == 200_000  # the tier

    records = [
        (BEFORE, "big.md", "anthropic/claude-opus-4-6"),  # 250,000 tokens: above the tier, old prices
        (BEFORE + timedelta(minutes=1), "small.md", "claude-opus-4-6"),  # 1,234 tokens: below it
        (AFTER, "big.md", "claude-opus-4-6-20260205"),  # the new flat price, a dated id
        (AFTER + timedelta(minutes=1), "small.md", "Claude-Opus-4.6"),
    ]
    text = HEADER.format(budget=1_000_000) + "".join(
        priced_record(n, at, source, model) for n, (at, source, model) in enumerate(records, 1)
    )
    make_files(tmp_path, {"big.md": "x" * 1_000_000, "small.md": "y" * 4_935, "ledger.md": text + SUMMARY})
    result = run("fill", str(tmp_path / "ledger.md"))
    assert result.exit_code == 0, result.output
    filled = (tmp_path / "ledger.md").read_text("utf-8")
    costs = []
    for n, (at, _, _) in enumerate(records, 1):
        tokens = int(filled_field(filled, f"{n:03d}", "TOKEN_ESTIMATE").rsplit("= ", 1)[1].replace(",", ""))
        expected = written(genai_price("claude-opus-4-6", "anthropic", tokens, 0, at))
        assert filled_field(filled, f"{n:03d}", "COST_ESTIMATE (USD)") == expected, (n, tokens, at)
        costs.append(expected)
    # Not one price for all: the tier and the change show in the figures themselves.
    assert costs == ["2.5000", "0.0062", "1.2500", "0.0062"]
    verified = run("verify", "--no-base", str(tmp_path / "ledger.md"))
    assert verified.exit_code == 0 and verified.stdout == "", verified.output


def test_an_exact_count_is_what_is_priced(tmp_path):
    text = HEADER.format(budget=1_000_000) + priced_record(
        1, datetime(2026, 12, 2, tzinfo=UTC), "ko.md", "gpt-5", extra="- TOKEN_COUNT (o200k_base): [fill]\n"
    )
    make_files(tmp_path, {"ko.md": "한국어 문장입니다. " * 5_000, "ledger.md": text + SUMMARY})
    assert run("fill", str(tmp_path / "ledger.md")).exit_code == 0
    filled = (tmp_path / "ledger.md").read_text("utf-8")
    exact = int(filled_field(filled, "001", "TOKEN_COUNT (o200k_base)").replace(",", ""))
    estimate = int(filled_field(filled, "001", "TOKEN_ESTIMATE").rsplit("= ", 1)[1].replace(",", ""))
    assert exact != estimate
    at = datetime(2026, 12, 2, tzinfo=UTC)
    assert filled_field(filled, "001", "COST_ESTIMATE (USD)") == written(genai_price("gpt-5", "openai", exact, 0, at))


@pytest.mark.parametrize(
    ("model_ref", "provider", "name"),
    [
        ("claude-opus-4-6", "anthropic", "anthropic/claude-opus-4-6"),
        ("gemini-2.5-pro", "google", "gemini-2.5-pro"),  # tiered above 200,000 input tokens
        ("gpt-5", "openai", "openai/gpt-5"),
    ],
)
def test_plan_cost_is_genai_prices_for_input_and_output(tmp_path, monkeypatch, model_ref, provider, name):
    make_files(tmp_path, {"big.md": "x" * 1_000_000})
    monkeypatch.chdir(tmp_path)
    result = run("plan", "--source", "big.md", "--model", name, "--output-tokens", "4000", "--format", "json")
    assert result.exit_code in (0, 1), result.output  # 1: over budget for a smaller window
    data = json.loads(result.stdout)
    tokens = data["token_count"] if data["token_count"] is not None else data["token_estimate"]
    expected = genai_price(model_ref, provider, tokens, 4000, datetime.now(UTC))
    assert Decimal(str(data["cost_usd"])) == expected


# --- one set of ids for every command that takes a model ----------------------------------------------------

IDS = ["anthropic/claude-opus-4-5", "claude-opus-4-5", "claude-opus-4-5-20251101", "claude-opus-4.5"]


@pytest.mark.parametrize("name", IDS)
def test_every_command_that_takes_a_model_takes_the_same_ids(tmp_path, monkeypatch, name):
    make_files(tmp_path, {"a.md": "x" * 400})
    monkeypatch.chdir(tmp_path)
    # count -e
    counted = run("count", "a.md", "-e", name, "--format", "json")
    assert counted.exit_code == 0, counted.output
    assert json.loads(counted.stdout)["encodings"][name]["encoding"] == "o200k_base"
    # plan --model
    planned = run("plan", "--source", "a.md", "--model", name, "--format", "json")
    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.stdout)["model"]["name"] == "claude-opus-4-5"
    # a record's MODEL, and the configuration's model:
    at = datetime(2026, 12, 2, tzinfo=UTC)
    expected = written(genai_price("claude-opus-4-5", "anthropic", 100, 0, at))
    for where in ("record", "config"):
        folder = tmp_path / where
        record = priced_record(1, at, "a.md", name if where == "record" else "")
        if where == "config":
            record = record.replace("- MODEL: \n", "")
            make_files(folder, {"ledgerkit.yaml": f"model: '{name}'\n"})
        make_files(folder, {"a.md": "x" * 400, "ledger.md": HEADER.format(budget=1000) + record + SUMMARY})
        result = run("fill", str(folder / "ledger.md"))
        assert result.exit_code == 0, (where, result.output)
        assert filled_field((folder / "ledger.md").read_text("utf-8"), "001", "COST_ESTIMATE (USD)") == expected


def test_an_unknown_id_names_close_matches_in_every_command(tmp_path, monkeypatch):
    make_files(tmp_path, {"a.md": "x" * 400})
    monkeypatch.chdir(tmp_path)
    typo = "claude-opsu-4-5"
    messages = {
        "count -e": run("count", "a.md", "-e", typo).stderr,
        "plan --model": run("plan", "--source", "a.md", "--model", typo).stderr,
    }
    record = priced_record(1, datetime(2026, 12, 2, tzinfo=UTC), "a.md", typo)
    make_files(tmp_path, {"ledger.md": HEADER.format(budget=1000) + record + SUMMARY})
    messages["MODEL"] = run("fill", "--check", "ledger.md").stdout
    make_files(tmp_path / "c", {"ledgerkit.yaml": f"model: {typo}\n", "a.md": "x"})
    make_files(tmp_path / "c", {"ledger.md": HEADER.format(budget=1000) + record.replace(f"- MODEL: {typo}\n", "")})
    messages["model:"] = run("fill", "--check", str(tmp_path / "c" / "ledger.md")).stdout
    for where, message in messages.items():
        assert typo in message, (where, message)
        assert "claude-opus-4-5" in message.replace(typo, ""), (where, message)  # the close match, named


# --- never the network ---------------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_models_plan_and_a_costing_fill_open_no_socket(tmp_path, monkeypatch, no_network):
    at = datetime(2026, 12, 2, tzinfo=UTC)
    make_files(
        tmp_path,
        {"a.md": "x" * 400, "ledger.md": HEADER.format(budget=1000) + priced_record(1, at, "a.md", "gpt-5") + SUMMARY},
    )
    monkeypatch.chdir(tmp_path)
    for args in (
        ["models"],
        ["models", "--all", "--format", "json"],
        ["plan", "--source", "a.md", "--model", "claude-opus-4-5", "--output-tokens", "100"],
        ["fill", "ledger.md"],
        ["rollup", "ledger.md", "--format", "json"],
    ):
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), args
    assert filled_field(Path("ledger.md").read_text("utf-8"), "001", "COST_ESTIMATE (USD)") != "[fill]"


# --- the data package stays unloaded where no model is named ---------------------------------------------------

HEAVY = ("genai_prices", "pydantic", "pydantic_core", "jinja2", "tiktoken", "ruamel")


def test_import_verify_and_a_plain_fill_load_neither_genai_prices_nor_pydantic(tmp_path):
    import subprocess
    import sys

    from .conftest import ledger, record

    make_files(tmp_path, {"a.md": "x" * 400, "ledger.md": ledger(record(1), record(2))})
    git = ["git", "-C", str(tmp_path), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "ledger"], check=True)
    probe = f"""
import sys
HEAVY = {HEAVY!r}
def loaded():
    return sorted({{m.split(".")[0] for m in sys.modules}} & set(HEAVY))
import ledgerkit
print("import", loaded())
from click.testing import CliRunner
from ledgerkit.cli import cli
for args in (["verify", "ledger.md"], ["verify", "--no-base", "--require-filled", "ledger.md"],
             ["fill", "ledger.md"], ["verify", "ledger.md"], ["fill", "--check", "ledger.md"]):
    r = CliRunner().invoke(cli, args)
    print(" ".join(args), r.exit_code, loaded())
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    # fill writes the cumulative summary as the shipped template would, without Jinja (writing/summary.py).
    assert done.stdout.splitlines() == [
        "import []",
        "verify ledger.md 0 []",
        "verify --no-base --require-filled ledger.md 1 []",  # the placeholders wait: exit 1
        "fill ledger.md 0 []",
        "verify ledger.md 0 []",
        "fill --check ledger.md 0 []",
    ]
    assert "TOKEN_ESTIMATE: ceil(CHAR_COUNT / 4) = 100" in (tmp_path / "ledger.md").read_text("utf-8")


def test_a_fill_that_computes_cost_loads_the_catalog(tmp_path):
    # The other side of the test above: it can fail, since a costing fill does load the data.
    import subprocess
    import sys

    at = datetime(2026, 12, 2, tzinfo=UTC)
    make_files(
        tmp_path,
        {"a.md": "x" * 400, "ledger.md": HEADER.format(budget=1000) + priced_record(1, at, "a.md", "gpt-5") + SUMMARY},
    )
    probe = (
        "import sys\nfrom click.testing import CliRunner\nfrom ledgerkit.cli import cli\n"
        "r = CliRunner().invoke(cli, ['fill', 'ledger.md'])\n"
        "print(r.exit_code, 'genai_prices' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.stdout.split() == ["0", "True"], done.stderr
