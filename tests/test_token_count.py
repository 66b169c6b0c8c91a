"""TOKEN_COUNT (encoding) in a ledger: filled exactly by fill, checked without loading by verify's check, and
the warning when TOKEN_ESTIMATE undercounts; with the configuration keys that drive it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgerkit.checks.schema import check_values
from ledgerkit.checks.tokens import check_token_counts as check_undercount
from ledgerkit.checks.verify import verify
from ledgerkit.cli import cli
from ledgerkit.config import Config, config_for
from ledgerkit.errors import ConfigError
from ledgerkit.reading.parse import load, parse
from ledgerkit.reading.values import read_values
from ledgerkit.schema import format_percent
from ledgerkit.tokens import encodings
from ledgerkit.writing.fill import fill

from .conftest import ledger, make_files, record
from .tiktoken_reference import no_network

KOREAN = "토큰 예산 원장은 컨텍스트 한도 안에서 기억과 맥락을 유지한다.\n" * 3
ENGLISH = "The ledger keeps one record per context load, and each record names its sources.\n" * 3


def n(reference, text: str, name: str = "o200k_base") -> int:
    return len(reference[name].encode_ordinary(text))


def counted(extra: str) -> str:
    """A record of the reference shape with TOKEN_COUNT fields after its estimate."""
    text = record(1, ("ko.md", "en.md:2-3"))
    return text.replace("- BUDGET_C:", extra + "- BUDGET_C:", 1)


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    make_files(tmp_path, {"ko.md": KOREAN, "en.md": ENGLISH})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _field(text: str, key: str) -> str:
    return next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith(f"- {key}"))


# --- fill ----------------------------------------------------------------------------------------------


def test_fill_puts_the_exact_count_of_the_sources(folder, reference):
    text = ledger(counted("- TOKEN_COUNT (o200k_base): [fill]\n- TOKEN_COUNT (cl100k_base): [fill]  # exact\n"))
    result = fill(parse(text, str(folder / "l.md")), config=Config(), root=folder)
    assert result.diagnostics == [] and result.filled == ["TB-LEDGER-20250816-001"]
    en = "".join(ENGLISH.splitlines(keepends=True)[1:3])
    for name in ("o200k_base", "cl100k_base"):
        assert _field(result.text, f"TOKEN_COUNT ({name})").split()[0] == str(
            n(reference, KOREAN, name) + n(reference, en, name)
        )
    assert "# exact" in _field(result.text, "TOKEN_COUNT (cl100k_base)")
    again = fill(parse(result.text, str(folder / "l.md")), config=Config(), root=folder)
    assert again.text == result.text  # fill-once


def test_a_token_count_alone_is_filled_without_touching_written_figures(folder, reference):
    text = ledger(
        record(1, ("ko.md",), char_count="999", token_estimate="250", utilization="25.00%", action="NONE").replace(
            "- BUDGET_C:", "- TOKEN_COUNT (o200k_base): [fill]\n- BUDGET_C:"
        )
    )
    result = fill(parse(text, str(folder / "l.md")), config=Config(), root=folder)
    assert result.diagnostics == []
    assert _field(result.text, "TOKEN_COUNT") == str(n(reference, KOREAN))
    assert _field(result.text, "CHAR_COUNT") == "999"


def test_crlf_sources_count_as_their_lf_text(tmp_path, reference):
    make_files(tmp_path, {"w.md": "\ufeffone\r\ntwo\r\nthree\r\n"})
    text = ledger(record(1, ("w.md:2-3",)).replace("- BUDGET_C:", "- TOKEN_COUNT (o200k_base): [fill]\n- BUDGET_C:"))
    result = fill(parse(text, str(tmp_path / "l.md")), config=Config(), root=tmp_path)
    assert _field(result.text, "TOKEN_COUNT") == str(n(reference, "two\nthree\n"))
    assert _field(result.text, "CHAR_COUNT") == "10"


def test_fill_without_token_count_or_configured_encoding_loads_nothing(folder, monkeypatch):
    monkeypatch.setattr(encodings, "load_encoding", lambda name: pytest.fail(f"loaded {name}"))
    result = fill(parse(ledger(record(1, ("ko.md",))), str(folder / "l.md")), config=Config(), root=folder)
    assert result.diagnostics == [] and result.filled


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        (
            "- TOKEN_COUNT: [fill]\n",
            "LK701",
            "TOKEN_COUNT names no encoding: write TOKEN_COUNT (o200k_base); shipped: cl100k_base, o200k_base",
        ),
        (
            "- TOKEN_COUNT (claude): [fill]\n",
            "LK701",
            "TOKEN_COUNT (claude): counts for claude are estimates, and an exact count needs an encoding: "
            "cl100k_base, o200k_base (shipped) or another tiktoken encoding",
        ),
        (
            "- TOKEN_COUNT (o100k): [fill]\n",
            "LK701",
            "TOKEN_COUNT (o100k): unknown encoding 'o100k'; shipped: "
            "cl100k_base, o200k_base; tiktoken's others: gpt2, o200k_harmony, p50k_base, p50k_edit, r50k_base",
        ),
        (
            "- TOKEN_COUNT (o200k_base): [fill]\n- TOKEN_COUNT (o200k_base): 12\n",
            "LK101",
            "TOKEN_COUNT (o200k_base) appears twice in record TB-LEDGER-20250816-001; keep one",
        ),
        (
            "- TOKEN_COUNT (o200k_base): [fill] [fill]\n",
            "LK102",
            "TOKEN_COUNT (o200k_base) holds 2 placeholders; write one",
        ),
        (
            "- TOKEN_COUNT (o200k_base): lots\n- TOKEN_COUNT (cl100k_base): [fill]\n",
            "LK103",
            "TOKEN_COUNT (o200k_base) 'lots' is not a whole number",
        ),
    ],
)
def test_a_bad_token_count_is_a_diagnostic_and_the_record_stays_as_written(folder, fields, code, message):
    text = ledger(counted(fields), summary=False)
    result = fill(parse(text, str(folder / "l.md")), config=Config(), root=folder)
    assert [(d.code, d.message) for d in result.diagnostics] == [(code, message)]
    assert result.text == text
    assert [(d.code, d.message) for d in check_token_counts(parse(text, "l.md"), Config())] == [(code, message)]


def test_an_encoding_not_available_offline_is_lk702(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "empty-tiktoken-cache"))
    text = ledger(counted("- TOKEN_COUNT (p50k_base): [fill]\n"), summary=False)
    with no_network():
        result = fill(parse(text, str(folder / "l.md")), config=Config(), root=folder)
    (d,) = result.diagnostics
    assert d.code == "LK702" and d.severity == "error"
    assert d.message.startswith(
        "TOKEN_COUNT (p50k_base) cannot be counted here: encoding 'p50k_base' is not available offline"
    )
    assert result.text == text


# --- the undercount warning ----------------------------------------------------------------------------


def test_fill_warns_when_the_estimate_undercounts_by_more_than_the_margin(folder, reference):
    make_files(folder, {"ledgerkit.yaml": "encoding: cl100k_base\nundercount_margin: 10\n"})
    make_files(folder, {"l.md": ledger(record(1, ("ko.md",)), record(2, ("en.md",)))})
    result = CliRunner().invoke(cli, ["fill", "--root", str(folder), str(folder / "l.md")])
    assert result.exit_code == 0  # a warning, not an error
    estimate, exact = -(-len(KOREAN) // 4), n(reference, KOREAN, "cl100k_base")
    assert exact * 9 > estimate * 10  # the Korean source is more than 10 % short: it warns
    assert -(-len(ENGLISH) // 4) * 10 >= n(reference, ENGLISH, "cl100k_base") * 9  # the English one is not
    line = (folder / "l.md").read_text(encoding="utf-8").splitlines().index(
        f"- TOKEN_ESTIMATE: ceil(CHAR_COUNT / 4) = {estimate}"
    ) + 1
    share = Fraction(estimate, exact)
    short = Fraction(exact - estimate, exact) * 100
    assert result.stdout == (
        f"{folder / 'l.md'}:{line}:{len('- TOKEN_ESTIMATE: ') + 1}: LK703 [warning] TOKEN_ESTIMATE {estimate} "
        f"undercounts the exact cl100k_base count "
        f"{exact} of record TB-LEDGER-20250816-001: estimate/exact = 0.{int(share * 1000):03d}, "
        f"{int(short)}.{int(short * 100) % 100:02d}% short (margin 10%)\n"
    )


def test_the_margin_decides(folder, reference):
    estimate, exact = -(-len(KOREAN) // 4), n(reference, KOREAN)
    short = Fraction(exact - estimate, exact) * 100
    text = ledger(record(1, ("ko.md",)))
    for margin, warns in [(short - Fraction(1, 100), True), (short, False), (Fraction(99), False)]:
        config = Config(encoding="o200k_base", undercount_margin=margin)
        result = fill(parse(text, str(folder / "l.md")), config=config, root=folder)
        assert [d.code for d in result.diagnostics] == (["LK703"] if warns else []), margin


def test_verify_check_warns_from_the_written_count_and_loads_nothing(monkeypatch):
    monkeypatch.setattr(encodings, "load_encoding", lambda name: pytest.fail(f"loaded {name}"))
    text = ledger(
        counted("- TOKEN_COUNT (o200k_base): 1,500\n")
        .replace("[fill_after_measure]", "4000")
        .replace("ceil(CHAR_COUNT / 4) = [fill]", "ceil(CHAR_COUNT / 4) = 1000"),
        record(2, char_count="4000", token_estimate="1000", extra="- TOKEN_COUNT (o200k_base): 1100\n"),
    )
    lk = parse(text, "l.md")
    assert check_token_counts(lk, Config()) == []  # no encoding configured: no calibration
    (d,) = check_token_counts(lk, Config(encoding="o200k_base"))
    assert (d.code, d.severity, d.line) == ("LK703", "warning", lk.records[0].field("TOKEN_ESTIMATE").line)
    assert d.message == (
        "TOKEN_ESTIMATE 1000 undercounts the exact o200k_base count 1500 of record "
        "TB-LEDGER-20250816-001: estimate/exact = 0.666, 33.33% short (margin 10%)"
    )
    assert check_token_counts(lk, Config(encoding="cl100k_base")) == []  # no cl100k_base count written


def test_read_token_counts_gives_encoding_and_value():
    lk = parse(ledger(counted("- TOKEN_COUNT (o200k_base): ≈ 1,234 tokens\n- TOKEN_COUNT ( cl100k_base ): [fill]\n")))
    values = read_values(lk.records[0], lk, 4)
    assert values.diagnostics == []
    assert [(c.encoding, c.value.written, c.value.waiting) for c in values.token_counts] == [
        ("o200k_base", 1234, False),
        ("cl100k_base", None, True),
    ]


def check_token_counts(lk, config):
    """verify's checks of exact counts: the values read (TOKEN_COUNT's problems) and the undercount warning."""
    return verify(lk, config=config, checks=(check_values, check_undercount))


# --- configuration -------------------------------------------------------------------------------------


def test_the_configuration_names_an_exact_encoding_and_a_margin(tmp_path):
    make_files(tmp_path, {"ledgerkit.yaml": "encoding: cl100k_base\nundercount_margin: 12.5%\n"})
    config = config_for(tmp_path / "l.md")
    assert (config.encoding, config.undercount_margin) == ("cl100k_base", Fraction(25, 2))
    assert (Config().encoding, Config().undercount_margin) == (None, Fraction(10))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("encoding: o100k\n", "ledgerkit.yaml:1: encoding: unknown encoding 'o100k'; shipped: cl100k_base, o200k_base"),
        ("divisor: 4\nencoding: claude\n", "ledgerkit.yaml:2: encoding: counts for claude are estimates"),
        ("encoding: 5\n", "ledgerkit.yaml:1: encoding: expected an encoding name such as o200k_base, got 5"),
        ("undercount_margin: 100\n", "ledgerkit.yaml:1: undercount_margin: expected a percentage below 100, got 100"),
        ("undercount_margin: lots\n", "ledgerkit.yaml:1: undercount_margin: expected a number, got 'lots'"),
    ],
)
def test_a_bad_encoding_setting_is_one_line_naming_file_line_and_key(tmp_path, text, message):
    make_files(tmp_path, {"ledgerkit.yaml": text})
    with pytest.raises(ConfigError) as exc:
        config_for(tmp_path / "l.md")
    assert str(exc.value).startswith(str(tmp_path / message))


def test_the_sample_ledger_with_token_counts(sample, reference):
    text = sample.read_text(encoding="utf-8").replace(
        "- BUDGET_C: 130000\n- UTILIZATION: [fill]%\n- DISTRIBUTION:\n  - system: 10%\n  - "
        "rolling_summary: 20%\n  - task",
        "- TOKEN_COUNT (o200k_base): [fill]\n- BUDGET_C: 130000\n- UTILIZATION: [fill]%\n- DISTRIBUTION:\n"
        "  - system: 10%\n  - rolling_summary: 20%\n  - task",
        1,
    )
    assert text.count("TOKEN_COUNT") == 1
    sample.write_text(text, encoding="utf-8")
    result = fill(load(sample))
    assert result.diagnostics == []
    root = sample.parent
    entries = result.ledger.records[0].field("SOURCE_FILES").entries
    paths = [root / e.text.split("#")[0].strip().lstrip("/") for e in entries]
    expected = sum(n(reference, p.read_text(encoding="utf-8").replace("\r\n", "\n")) for p in paths)
    assert _field(result.text, "TOKEN_COUNT") == str(expected)


# --- verify --------------------------------------------------------------------------------------------


def test_verify_warns_about_an_undercounting_estimate_from_the_written_count(sample, reference):
    text = sample.read_text(encoding="utf-8")
    (sample.parent / "ledgerkit.yaml").write_text("root: .\nencoding: o200k_base\n", encoding="utf-8")
    filled = text.replace(
        "- BUDGET_C: 130000\n- UTILIZATION: [fill]%",
        "- TOKEN_COUNT (o200k_base): [fill]\n- BUDGET_C: 130000\n- UTILIZATION: [fill]%",
        1,
    )
    sample.write_text(filled, encoding="utf-8")
    assert CliRunner().invoke(cli, ["fill", str(sample)]).exit_code == 0
    result = CliRunner().invoke(cli, ["verify", "--no-base", str(sample)])
    assert result.exit_code == 0  # a warning
    lk = load(sample)
    first = lk.records[0]
    estimate = int(first.field("TOKEN_ESTIMATE").value.rsplit(" ", 1)[1])
    exact = int(first.field("TOKEN_COUNT", "o200k_base").value)
    line = first.field("TOKEN_ESTIMATE").line
    assert [x for x in result.stdout.splitlines() if "LK703" in x] == [
        f"{sample}:{line}:19: LK703 [warning] TOKEN_ESTIMATE {estimate} undercounts the exact o200k_base count "
        f"{exact} of "
        f"record {first.run_id}: estimate/exact = 0.{estimate * 1000 // exact:03d}, "
        f"{format_percent(Fraction(exact - estimate, exact) * 100)}% short (margin 10%)"
    ]


def test_verify_reports_a_bad_token_count_and_loads_no_encoding(tmp_path):
    make_files(
        tmp_path,
        {
            "ledgerkit.yaml": "encoding: cl100k_base\n",
            "l.md": ledger(
                record(
                    1,
                    char_count="4000",
                    token_estimate="1000",
                    utilization="100.00%",
                    action="ALERT95",
                    extra="- TOKEN_COUNT (claude): 1200\n- TOKEN_COUNT (cl100k_base): 2000\n",
                ),
                summary=False,
            ),
        },
    )
    probe = (
        "import sys\nfrom click.testing import CliRunner\nfrom ledgerkit.cli import cli\n"
        f"r = CliRunner().invoke(cli, ['verify', '--no-base', {str(tmp_path / 'l.md')!r}])\n"
        "print(r.exit_code, 'tiktoken' in sys.modules)\nprint(r.stdout)\n"
    )
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    first, *lines = done.stdout.splitlines()
    assert first == "1 False"
    codes = [line.split(": ", 1)[1].split()[0] for line in lines if line]
    assert "LK701" in codes and "LK703" in codes
