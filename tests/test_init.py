"""ledgerkit init: a new, empty ledger that ledgerkit itself reads, fills and appends to."""

from __future__ import annotations

import re
from datetime import datetime
from fractions import Fraction

import pytest
from click.testing import CliRunner

from ledgerkit.checks.verify import verify
from ledgerkit.cli import cli
from ledgerkit.config import Config, load_config
from ledgerkit.errors import LedgerkitError, TemplateError
from ledgerkit.reading.parse import load, parse
from ledgerkit.writing.append import NewRecord, append, record_time
from ledgerkit.writing.fill import fill
from ledgerkit.writing.init import init_file, new_ledger

from .conftest import DATA, check_golden, make_files

GOLDEN = DATA / "init"

#: The reference ledger's sections, in order, as (Korean heading, English heading) fragments.
SECTIONS = [
    ("0) 현재 세션 예산(C) 선언", "0) Session budget (C)"),
    ("1) 추정 방법(Estimation)", "1) Estimation"),
    ("2) 배분 정책(Allocation, 합 100%)", "2) Allocation (sums to 100%)"),
    ("3) 임계값(Thresholds) 및 조치(Actions)", "3) Thresholds and actions"),
    ("4) 원장 스키마(Schema)", "4) Ledger schema"),
    ("5) 입력 절차(How to log)", "5) How to log"),
    ("6) 원장(append-only)", "6) Ledger (append-only)"),
    ("7) 누계/요약(Cumulative Summary)", "7) Cumulative Summary"),
    ("8) 체크리스트(간이)", "8) Checklist"),
    ("9) 개정 이력", "9) Revision history"),
]


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_golden(lang):
    # The whole text, reviewed once: a change to a template shows up here as a diff to review.
    text = new_ledger(lang=lang, config=Config())
    check_golden(GOLDEN / f"ledger.{lang}.md", text)


@pytest.mark.parametrize(("lang", "column"), [("ko", 0), ("en", 1)])
def test_the_reference_ledger_sections_in_order(lang, column):
    text = new_ledger(lang=lang, config=Config())
    headings = re.findall(r"^## (.*)$", text, re.M)
    assert headings == [pair[column] for pair in SECTIONS]


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_ledgerkit_reads_what_init_writes(lang):
    lk = parse(new_ledger(budget=90000, lang=lang, config=Config()))
    assert lk.budget is not None and lk.budget.value == 90000
    assert [s.percent for s in lk.allocation] == [10, 20, 30, 30, 10]
    assert set(lk.threshold_notes) == {70, 85, 95}
    assert lk.records == ()
    assert lk.summary is not None and lk.summary.project_id == "[assign_when_available]"
    assert lk.ledger_section is not None
    assert lk.lines.contents[lk.ledger_section.heading_line - 1] == "## " + SECTIONS[6][lang == "en"]
    assert lk.ledger_section.last < lk.summary.heading_line


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_fill_has_nothing_to_do_on_a_new_ledger(lang):
    # The summary is rendered as fill renders it, so a fresh ledger is already "filled".
    lk = parse(new_ledger(lang=lang, config=Config()))
    result = fill(lk, config=Config())
    assert not result.changed and result.diagnostics == []


def test_the_configuration_shapes_the_ledger(tmp_path):
    make_files(
        tmp_path,
        {
            "ledgerkit.yaml": (
                "budget: 64000\ndivisor: 3\nthresholds: {ALERT70: 60, ALERT85: 80, ALERT95: 92.5, MINIMAL: 100}\n"
                "allocation: {system: 12.5, rolling_summary: 17.5, task_brief_and_acceptance: 30,"
                " evidence_snippets: 30, margin: 10}\n"
            )
        },
    )
    lk = init_file(tmp_path / "l.md", lang="en")
    assert lk.budget is not None and lk.budget.value == 64000
    assert [s.percent for s in lk.allocation] == [Fraction(25, 2), Fraction(35, 2), 30, 30, 10]
    assert set(lk.threshold_notes) == {60, 80, Fraction(185, 2)}
    assert "`TOKEN_ESTIMATE ≈ ceil(CHAR_COUNT / 3)`" in lk.text
    assert "- 8,000 chars → ≈ 2,667 tokens" in lk.text
    assert "standard shares (12.5/17.5/30/30/10)" in lk.text
    assert "Over budget (above 100%) is MINIMAL" in lk.text
    # A record appended to it verifies clean with that configuration: policy, shares, divisor, thresholds.
    config = load_config(tmp_path / "ledgerkit.yaml")
    appended = append(
        lk, NewRecord("SESSION", "S", ("a.md",)), moment=record_time(datetime(2025, 8, 16, 9), "UTC"), config=config
    )
    assert verify(parse(appended.text), base=lk, config=config) == []
    # --budget wins over the configuration
    assert init_file(tmp_path / "m.md", budget=5, config=load_config(tmp_path / "ledgerkit.yaml")).budget.value == 5


def test_cli_writes_the_file_and_says_so(tmp_path):
    path = tmp_path / "ledger.md"
    result = run("init", str(path), "--budget", "130000", "--lang", "en")
    assert (result.exit_code, result.stdout) == (0, "")
    assert (
        result.stderr
        == f"{path}: new ledger (en), SESSION_BUDGET_C 130000; add records with: ledgerkit append {path} ...\n"
    )
    assert path.read_text(encoding="utf-8") == new_ledger(budget=130000, lang="en", config=Config())


def test_default_is_korean_with_the_reference_budget(tmp_path):
    path = tmp_path / "ledger.md"
    assert run("init", str(path)).exit_code == 0
    lk = load(path)
    assert lk.budget.value == 130000
    assert lk.text.startswith("# Token Budget Ledger — 토큰 예산 원장\n")


def test_an_existing_file_is_not_overwritten(tmp_path):
    path = tmp_path / "ledger.md"
    path.write_text("my ledger\n", encoding="utf-8")
    result = run("init", str(path))
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"ledgerkit: {path}: already exists; not overwritten (pass --force to replace it)\n"
    assert path.read_text(encoding="utf-8") == "my ledger\n"
    forced = run("init", "--force", str(path))
    assert forced.exit_code == 0 and load(path).ledger_section is not None


def test_a_dangling_symlink_is_not_replaced_either(tmp_path):
    link = tmp_path / "ledger.md"
    link.symlink_to(tmp_path / "elsewhere.md")
    assert run("init", str(link)).exit_code == 2
    assert link.is_symlink() and not (tmp_path / "elsewhere.md").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["init", "{tmp}/no/such/folder/l.md"], "ledgerkit: {tmp}/no/such/folder: no such folder\n"),
        (["init", "{tmp}"], None),  # click refuses a directory: a usage error
        (["init", "{tmp}/l.md", "--budget", "0"], None),
        (["init", "{tmp}/l.md", "--lang", "fr"], None),
    ],
)
def test_usage_and_io_errors_exit_2(tmp_path, args, message):
    result = run(*[a.format(tmp=tmp_path) for a in args])
    assert result.exit_code == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr
    if message:
        assert result.stderr == message.format(tmp=tmp_path)
    assert not (tmp_path / "l.md").exists()


def test_a_template_that_drops_a_section_is_refused(tmp_path):
    make_files(tmp_path, {"t/ledger.en.md.j2": "# My ledger\n\n- SESSION_BUDGET_C: {{ budget }}\n"})
    with pytest.raises(TemplateError, match=r"ledger section heading.*Cumulative Summary"):
        new_ledger(lang="en", config=Config(templates=tmp_path / "t"))
    result = run("init", "--lang", "en", "--templates", str(tmp_path / "t"), str(tmp_path / "l.md"))
    assert result.exit_code == 2 and "does not give a ledger ledgerkit reads" in result.stderr
    assert not (tmp_path / "l.md").exists()


def test_a_users_template_is_used(tmp_path):
    template = (
        (GOLDEN / "ledger.en.md").read_text(encoding="utf-8").replace("# Token Budget Ledger\n", "# Team ledger\n", 1)
    )
    make_files(tmp_path, {"t/ledger.en.md.j2": template})
    assert new_ledger(lang="en", config=Config(templates=tmp_path / "t")).startswith("# Team ledger\n")


def test_unknown_language_in_the_library():
    with pytest.raises(LedgerkitError, match="unknown language 'fr'"):
        new_ledger(lang="fr")


@pytest.mark.parametrize(("lang", "half"), [("en", "only about half of the real count for Korean"), ("ko", "약 절반")])
def test_the_estimate_is_described_as_calibration_measured_it(lang, half):
    # Issue 15: new ledgers called ceil(CHAR_COUNT / 4) "a conservative estimate for mixed Korean and
    # English text"; docs/calibration.md measured it at about half the real count for Korean.
    from .conftest import REPO

    text = new_ledger(lang=lang, budget=1000, config=Config())
    estimation = text.split("## 1)", 1)[1].split("## 2)", 1)[0]
    assert half in " ".join(estimation.split())
    assert "docs/calibration.md" in estimation and "`encoding: o200k_base`" in estimation
    assert "conservative estimate" not in text and "보수적 추정" not in text
    assert "about half of the o200k_base count" in (REPO / "docs/calibration.md").read_text("utf-8")
