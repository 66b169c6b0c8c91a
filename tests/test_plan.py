"""plan: a context load measured before it happens; the shipped table of models."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgerkit.catalog import UnknownModel, models, resolve_model
from ledgerkit.cli import cli
from ledgerkit.config import Config
from ledgerkit.reports.plan import PlanError, plan

from .conftest import DATA, check_golden, make_files

GOLDEN = DATA / "reports"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    make_files(tmp_path, {"a.md": "x" * 400, "docs/b.md": "한국어 텍스트\n" * 10, "docs/c.md": "line\n" * 20})
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- the models plan knows (ledgerkit.catalog; tests/test_catalog.py tests the catalog itself) ------------

#: Every name the hand-kept table of ledgerkit 0.1 knew: each still plans, now from genai-prices + supplement.
OLD_NAMES = [
    "gpt-4o", "gpt-4o-2024-08-06", "gpt-4o-mini", "gpt-4o-mini-2024-07-18", "gpt-4.1", "gpt-4.1-mini",
    "gpt-4.1-nano", "o1", "o1-mini", "o3", "o3-mini", "o4-mini", "claude-opus-4", "claude-opus-4-20250514",
    "claude-sonnet-4", "claude-sonnet-4-20250514", "claude-3-7-sonnet", "claude-3-7-sonnet-20250219",
    "claude-3-5-sonnet", "claude-3-5-sonnet-20241022", "claude-3-5-haiku", "claude-3-5-haiku-20241022",
    "claude-3-opus", "claude-3-opus-20240229", "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.0-flash",
    "gemini-2.0-flash-001", "gemini-1.5-flash", "gemini-1.5-flash-001", "gemini-1.5-flash-002",
]  # fmt: skip


@pytest.mark.parametrize("name", OLD_NAMES)
def test_every_model_the_old_table_knew_still_plans(tree, name):
    m = resolve_model(name)
    p = plan(["a.md"], config=Config(), model_name=name)
    assert p.model == m and p.budget == m.input_budget
    assert m.source.startswith("https://") and m.as_of != "unknown"


@pytest.mark.parametrize("family", [r"^gpt-5", r"^gpt-4o", r"^gpt-4\.1", r"^o\d", r"^claude", r"^gemini"])
def test_the_families_the_issue_names_are_there(family):
    assert any(re.match(family, m.id) for m in models())


def test_gpt_5_plans_now(tree):
    # The issue: `count -e gpt-5` worked but `plan --model gpt-5` said "unknown model".
    p = plan(["a.md"], config=Config(), model_name="gpt-5")
    assert p.budget == 400_000 - 128_000  # genai-prices' window less the supplement's output limit
    assert p.encoding == "o200k_base"  # tiktoken's own table maps gpt-5 to o200k_base: exact


def test_model_names_are_case_blind_and_unknown_ones_name_the_closest():
    assert resolve_model("GPT-4O") == resolve_model("gpt-4o")
    with pytest.raises(UnknownModel) as exc:
        resolve_model("gpt-9000")
    message = str(exc.value)
    assert message.startswith("unknown model 'gpt-9000'; closest known: ")
    assert "gpt-5" in message.split("closest known: ")[1]


def test_cli_unknown_model_is_one_line_exit_2(tree):
    result = run("plan", "--source", "a.md", "--model", "gpt-9000")
    assert result.exit_code == 2
    assert (
        result.stderr.startswith("ledgerkit: unknown model 'gpt-9000'; closest known: ")
        and result.stderr.count("\n") == 1
    )


def test_models_command_lists_the_models():
    data = json.loads(run("models", "--json").stdout)
    assert [(d["provider"], d["id"]) for d in data["models"]] == [(m.provider, m.id) for m in models()]
    text = run("models").stdout
    assert text.startswith("Model data: genai-prices ")
    assert all(f" {d['id']} " in f" {text} ".replace("\n", " ") for d in data["models"][:50])


# --- the plan ----------------------------------------------------------------------------------------------


def test_plan_measures_as_a_record_would(tree):
    p = plan(["a.md", "docs/*.md", "docs/c.md:1-5"], config=Config(), budget=1000)
    assert [(s.label, s.chars) for s in p.sources] == [
        ("a.md", 400),
        ("docs/b.md", 80),
        ("docs/c.md", 100),
        ("docs/c.md:1-5", 25),
    ]
    assert p.chars == 605 and p.tokens == 152  # ceil(605 / 4)
    assert p.utilization == Fraction(152 * 100, 1000) and p.action == "NONE" and not p.over_budget


@pytest.mark.parametrize(
    ("budget", "action", "over"),
    [(143, "NONE", False), (142, "ALERT70", False), (100, "ALERT95", False), (99, "MINIMAL", True)],
)
def test_plan_alert_boundaries(tree, budget, action, over):
    p = plan(["a.md"], config=Config(), budget=budget)  # 100 tokens
    assert (p.action, p.over_budget) == (action, over)


def test_exit_code_is_1_over_budget_for_scripts(tree):
    assert run("plan", "--source", "a.md", "--budget", "100").exit_code == 0
    result = run("plan", "--source", "a.md", "--budget", "99")
    assert result.exit_code == 1
    assert "Over budget" in result.stdout


def test_exact_count_over_budget_counts_too(tree, reference):
    (tree / "dense.md").write_text("🪷" * 40, encoding="utf-8")  # 40 characters, 10 estimated, more real tokens
    exact = len(reference["o200k_base"].encode_ordinary("🪷" * 40))
    assert exact > 10
    p = plan(["dense.md"], config=Config(), budget=exact - 1, encoding="o200k_base")
    assert p.tokens == 10 and p.action == "NONE"
    assert p.exact == exact and p.exact_action == "MINIMAL" and p.over_budget


def test_model_budget_is_the_window_less_the_output_limit(tree):
    m = resolve_model("claude-opus-4-5")
    assert m.context_window is not None and m.max_output is not None and m.output_in_window
    p = plan(["a.md"], config=Config(), model_name=m.id)
    assert p.budget == m.context_window - m.max_output and p.model == m
    assert plan(["a.md"], config=Config(), model_name=m.id, full_window=True).budget == m.context_window


def test_an_input_limit_is_the_budget_whole(tree):
    # Google writes the input limit and the output limit apart: the reply does not eat the input's room.
    m = resolve_model("gemini-2.5-pro")
    assert m.output_in_window is False
    assert plan(["a.md"], config=Config(), model_name=m.id).budget == m.context_window


def test_a_model_without_an_output_limit_is_an_error_not_a_guess(tree):
    m = resolve_model("anthropic/claude-2")  # genai-prices has its window; no source gives its output limit
    assert m.context_window and m.max_output is None
    with pytest.raises(PlanError, match="output limit"):
        plan(["a.md"], config=Config(), model_name=m.key)
    assert plan(["a.md"], config=Config(), model_name=m.key, full_window=True).budget == m.context_window


def test_openai_model_counts_with_its_encoding(tree, reference):
    m = resolve_model("gpt-4o")
    p = plan(["docs/b.md"], config=Config(), model_name=m.id)
    assert p.encoding == "o200k_base"
    assert p.exact == len(reference["o200k_base"].encode_ordinary((tree / "docs/b.md").read_text()))


def test_budget_and_model_together_is_an_error(tree):
    with pytest.raises(PlanError, match="not both"):
        plan(["a.md"], config=Config(), budget=1, model_name="x")
    assert run("plan", "--source", "a.md", "--full-window").exit_code == 2


def test_no_budget_is_one_clear_line(tree):
    result = run("plan", "--source", "a.md")
    assert result.exit_code == 2
    assert (
        result.stderr
        == "ledgerkit: no budget: give --budget N or --model NAME (or a ledger that declares SESSION_BUDGET_C)\n"
    )


def test_missing_sources_are_all_named_in_one_line(tree):
    result = run("plan", "--source", "nope.md", "--source", "a.md", "--source", "none/*.md", "--budget", "9")
    assert result.exit_code == 2
    assert result.stderr == (
        f"ledgerkit: source nope.md not found (looked for {tree / 'nope.md'}); "
        "source glob 'none/*.md' matches no file\n"
    )


def test_the_ledgers_budget_advice_and_root(sample, monkeypatch):
    monkeypatch.chdir(sample.parent)
    result = run("plan", "--source", "/gumgang_meeting/memory/memory.log", "--ledger", sample.name, "--budget", "400")
    assert result.exit_code == 0, result.output
    # 1383 characters -> 346 tokens -> 86.5 %: the reference ledger's own words for 85 %.
    assert "- THRESHOLD_ACTION: ALERT85" in result.stdout
    assert "- What to do: 경보2: L3/L4 요약 추가 20% 축소, 스니펫 메타만 유지(경로·줄 범위)" in result.stdout
    assert (
        "BUDGET_C: 130,000 (the ledger's SESSION_BUDGET_C)"
        in run("plan", "--source", "/gumgang_meeting/memory/memory.log", "--ledger", sample.name).stdout
    )


def test_without_a_ledger_the_advice_is_a_new_ledgers(tree):
    p = plan(["a.md"], config=Config(), budget=120)  # 100 tokens: 83 %
    assert p.action == "ALERT70" and p.note.startswith("ALERT70: cut the L1/L2 summaries by 20%")


@pytest.mark.parametrize("fmt", ["md", "json"])
def test_plan_golden(sample, monkeypatch, fmt):
    monkeypatch.chdir(sample.parent)
    result = run(
        "plan",
        "--source",
        "/gumgang_meeting/memory/memory.log",
        "--source",
        "gumgang_meeting/task/*.md",
        "--ledger",
        sample.name,
        "--budget",
        "2000",
        "--encoding",
        "o200k_base",
        "--format",
        fmt,
    )
    assert result.exit_code == 0, result.output
    check_golden(GOLDEN / f"plan.{fmt}", result.stdout)


# --- sources as count and SOURCE_FILES take them (issue 15, point 1) ------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project as the documented examples assume: docs/ with a picture in it, notes.md, src/ and a ledger."""
    from .conftest import ledger

    make_files(
        tmp_path,
        {
            "docs/guide.md": "guide\n" * 50,
            "docs/img/shot.png": PNG,
            "docs/deep/more.md": "more\n" * 10,
            "notes.md": "note\n" * 100,
            "src/app.py": "print('hi')\n" * 30,
            "src/pkg/mod.py": "x = 1\n" * 10,
            "ledger.md": ledger(),
        },
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _documented_plan_commands() -> list[str]:
    """Every `ledgerkit plan` line of the README, docs/reports.md and `plan --help`, as a user would copy it."""
    from .conftest import REPO

    texts = [(REPO / "README.md").read_text("utf-8"), (REPO / "docs/reports.md").read_text("utf-8")]
    texts.append(run("plan", "--help").stdout)
    found = []
    for text in texts:
        for line in text.splitlines():
            line = line.strip().strip("`")
            if line.startswith("ledgerkit plan ") and "…" not in line and "..." not in line:
                found.append(line.split("   #", 1)[0].strip())
    return found


def test_the_documented_plan_examples_work_when_copied(project):
    import shlex

    commands = _documented_plan_commands()
    assert len(commands) >= 4  # the README's, the two of docs/reports.md, the two of --help
    assert any("--source docs/" in c for c in commands)
    for command in commands:
        result = CliRunner().invoke(cli, shlex.split(command)[1:])
        assert result.exit_code in (0, 1), f"{command}: {result.output}"  # 1: over budget, as documented
        assert "# Plan" in result.stdout, command


def test_a_folder_is_recursed_and_its_binary_skipped_and_named(project):
    result = run("plan", "--source", "docs/", "--budget", "1000", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [s["path"] for s in data["sources"]] == ["docs/deep/more.md", "docs/guide.md"]
    assert data["skipped"] == ["docs/img/shot.png"]
    assert result.stderr == (
        "ledgerkit: skipped 1 file met through a glob or folder that are not text: docs/img/shot.png\n"
    )


def test_a_glob_skips_a_binary_and_names_it(project):
    result = run("plan", "--source", "docs/**", "--budget", "1000")
    assert result.exit_code == 0, result.output
    assert "`docs/guide.md`" in result.stdout and "`docs/deep/more.md`" in result.stdout
    assert "shot.png" not in result.stdout
    assert "docs/img/shot.png" in result.stderr


def test_a_binary_named_directly_is_an_error_naming_it(project):
    result = run("plan", "--source", "docs/img/shot.png", "--source", "notes.md", "--budget", "1000")
    assert result.exit_code == 2
    assert result.stderr == "ledgerkit: source docs/img/shot.png is a binary file\n"


def test_a_folder_outside_git_leaves_out_hidden_folders_venvs_and_node_modules(project):
    make_files(
        project,
        {
            ".cache/c.md": "c",
            "env/pyvenv.cfg": "home = /usr",
            "env/lib/site.py": "s",
            "venv/x.py": "v",
            "node_modules/m/index.js": "m",
        },
    )
    p = plan(["."], config=Config(), budget=10**6)
    shown = [s.label for s in p.sources]
    assert shown == ["docs/deep/more.md", "docs/guide.md", "ledger.md", "notes.md", "src/app.py", "src/pkg/mod.py"]
    assert p.skipped == ("docs/img/shot.png",)


def test_a_folder_in_git_leaves_out_what_git_ignores(project):
    import subprocess

    make_files(project, {".gitignore": "*.log\nbuild/\n", "run.log": "log", "build/out.md": "o", "docs/x.log": "l"})
    subprocess.run(["git", "-C", str(project), "init", "-q"], check=True)
    p = plan(["docs", "."], config=Config(), budget=10**6)
    shown = [s.label for s in p.sources]
    assert "run.log" not in shown and "docs/x.log" not in shown and "build/out.md" not in shown
    assert shown[:2] == ["docs/deep/more.md", "docs/guide.md"]
    assert ".gitignore" in shown  # an untracked file git does not ignore counts
    assert len(shown) == len(set(shown))  # each file once, though docs/ and . both hold it


def test_plan_and_count_measure_the_same_files(project):
    from ledgerkit.reports.count import count_paths

    entries = ["docs/", "src/**/*.py", "notes.md:1-20"]
    counted = count_paths(entries)
    planned = plan(entries, config=Config(), budget=10**6)
    assert [(s.label, s.chars) for s in planned.sources] == [(f.path, f.chars) for f in counted.files]
    assert list(planned.skipped) == [p.path for p in counted.skipped]
