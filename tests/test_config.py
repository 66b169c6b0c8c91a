from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerkit.config import (
    KNOWN_KEYS,
    Config,
    ConfigProblems,
    ModelOverride,
    config_for,
    find_config_file,
    load_config,
)
from ledgerkit.errors import ConfigError

from .conftest import REPO, dedent, make_files
from .hostile.test_leaked_controls import CONTROLS


def test_defaults_without_a_file(tmp_path):
    config = config_for(tmp_path / "ledger.md")
    assert config == Config()
    assert config.divisor == 4 and config.thresholds.alert70 == 70 and sum(config.allocation.values()) == 100


def test_every_setting_is_read(tmp_path):
    make_files(
        tmp_path,
        {
            "ledgerkit.yaml": dedent(
                """
        root: src
        templates: tpl
        divisor: 3
        budget: 200000
        thresholds: {ALERT70: 60, ALERT85: 80.5, ALERT95: 90, MINIMAL: 100}
        allocation:
          system: 12.5
          rest: 87.5
        """
            )
        },
    )
    config = load_config(tmp_path / "ledgerkit.yaml")
    assert config.root == tmp_path / "src" and config.templates == tmp_path / "tpl"
    assert (config.divisor, config.budget) == (3, 200000)
    assert config.thresholds.alert85 == Fraction(161, 2)
    assert config.allocation == {"system": Fraction(25, 2), "rest": Fraction(175, 2)}


def test_discovery_nearest_first_yaml_before_pyproject_and_stops_at_git_top(tmp_path):
    repo = tmp_path / "repo"
    make_files(
        repo,
        {
            ".git/HEAD": "",
            "pyproject.toml": "[tool.ledgerkit]\ndivisor = 5\n",
            "a/ledgerkit.yaml": "divisor: 6\n",
            "a/pyproject.toml": "[tool.ledgerkit]\ndivisor = 7\n",
            "b/pyproject.toml": "[project]\nname = 'x'\n",
        },
    )
    make_files(tmp_path, {"ledgerkit.yaml": "divisor: 9\n"})  # above the git top: never used
    assert config_for(repo / "a" / "l.md").divisor == 6
    assert config_for(repo / "b" / "l.md").divisor == 5  # b's pyproject has no [tool.ledgerkit]
    assert find_config_file(repo / "b") == repo / "pyproject.toml"
    (repo / "pyproject.toml").unlink()
    assert config_for(repo / "b" / "l.md") == Config()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("divisor: 0\n", "ledgerkit.yaml:1: divisor: expected a positive whole number, got 0"),
        ("divisor: four\n", "ledgerkit.yaml:1: divisor: expected a positive whole number, got 'four'"),
        (
            "root: .\nbudgte: 5\n",
            "ledgerkit.yaml:2: budgte: unknown setting (known: allocation, allocation_tolerance, "
            "budget, divisor, encoding, frozen, ignore, model, models, root, run_id_prefix, select, templates, "
            "thresholds, undercount_margin)",
        ),
        (
            "thresholds:\n  ALERT70: 70\n  ALERT80: 80\n",
            "ledgerkit.yaml:3: thresholds.ALERT80: unknown threshold (known: ALERT70, ALERT85, ALERT95, MINIMAL)",
        ),
        ("thresholds:\n  ALERT70: high\n", "ledgerkit.yaml:2: thresholds.ALERT70: expected a number, got 'high'"),
        (
            "thresholds: {ALERT70: 90}\n",
            "ledgerkit.yaml:1: thresholds: thresholds must rise: ALERT70 <= ALERT85 <= ALERT95 <= MINIMAL",
        ),
        ("allocation: {a: 50, b: 40}\n", "ledgerkit.yaml:1: allocation: shares must sum to 100%, they sum to 90%"),
        ("allocation: {a: x, b: 40}\n", "ledgerkit.yaml:1: allocation.a: expected a number, got 'x'"),
        ("root: [1, 2\n", "ledgerkit.yaml:2: invalid YAML"),
        ("- a list\n", "ledgerkit.yaml:1: the configuration must be a mapping of settings"),
        ("templates: ''\n", "ledgerkit.yaml:1: templates: expected a folder path, got ''"),
        (
            "run_id_prefix: 'TB LEDGER'\n",
            "ledgerkit.yaml:1: run_id_prefix: expected letters, digits, - and _, got 'TB LEDGER'",
        ),
        ("allocation_tolerance: lots\n", "ledgerkit.yaml:1: allocation_tolerance: expected a number, got 'lots'"),
    ],
)
def test_bad_configuration_is_one_line_naming_file_line_and_key(tmp_path, text, message):
    make_files(tmp_path, {"ledgerkit.yaml": text})
    with pytest.raises(ConfigError) as exc:
        config_for(tmp_path / "l.md")
    shown = str(exc.value)
    assert "\n" not in shown
    assert shown.startswith(str(tmp_path / message.split(":", 1)[0]))
    assert shown[len(str(tmp_path)) + 1 :].startswith(message)


def test_bad_pyproject(tmp_path):
    make_files(tmp_path, {"pyproject.toml": "[tool.ledgerkit]\ndivisor = -1\n"})
    with pytest.raises(ConfigError, match=r"pyproject.toml:2: divisor: expected a positive whole number, got -1"):
        config_for(tmp_path / "l.md")
    make_files(tmp_path, {"pyproject.toml": "[tool.ledgerkit]\ndivisor = \n"})
    with pytest.raises(ConfigError, match=r"pyproject.toml:2: invalid TOML: Invalid value"):
        config_for(tmp_path / "l.md")


def test_overrides_ignore_none():
    config = Config(divisor=3).with_overrides(divisor=None, budget=10)
    assert (config.divisor, config.budget) == (3, 10)


# --- every problem, with its line, in one run ------------------------------------------------------------


def test_every_problem_is_reported_at_once_each_on_its_line(tmp_path):
    text = dedent(
        """
        divisor: 0
        budgte: 5
        thresholds:
          ALERT70: high
          ALERT80: 80
        allocation: {a: x, b: 40}
        frozen: [ok/**, ../out, 7]
        """
    )
    make_files(tmp_path, {"ledgerkit.yaml": text})
    with pytest.raises(ConfigProblems) as exc:
        load_config(tmp_path / "ledgerkit.yaml")
    where = str(tmp_path / "ledgerkit.yaml")
    assert [line for line, _ in exc.value.problems] == [1, 2, 4, 5, 6, 7, 7]
    assert str(exc.value).splitlines() == [
        f"{where}:1: divisor: expected a positive whole number, got 0",
        f"{where}:2: budgte: unknown setting (known: {', '.join(sorted(KNOWN_KEYS))})",
        f"{where}:4: thresholds.ALERT70: expected a number, got 'high'",
        f"{where}:5: thresholds.ALERT80: unknown threshold (known: ALERT70, ALERT85, ALERT95, MINIMAL)",
        f"{where}:6: allocation.a: expected a number, got 'x'",
        f"{where}:7: frozen: '../out' leaves the source root: frozen paths may not hold '..'",
        f"{where}:7: frozen: expected a path or glob under the source root, got 7",
    ]
    assert isinstance(exc.value, ConfigError) and exc.value.line == 1  # the first problem, for one-line readers


def test_a_list_item_is_reported_on_its_own_line(tmp_path):
    make_files(tmp_path, {"ledgerkit.yaml": "select:\n  - LK5\n  - LK9\nignore:\n  - LK512\n  - LK51x\n"})
    with pytest.raises(ConfigProblems) as exc:
        load_config(tmp_path / "ledgerkit.yaml")
    assert exc.value.problems == [
        (3, "select: no diagnostic code starts with LK9 (see docs/codes.md)"),
        (6, "ignore: expected a code or prefix such as LK512, LK5 or LK, got 'LK51x'"),
    ]


# --- pyproject.toml --------------------------------------------------------------------------------------

PYPROJECT_FORMS = {
    "table": "[project]\nname = 'x'\n\n[tool.ledgerkit]\ndivisor = 5\n",
    "dotted": "tool.ledgerkit.divisor = 5\n[project]\nname = 'x'\n",
    "dotted under [tool]": "[tool]\nledgerkit.divisor = 5\n",
    "inline": "tool = { ledgerkit = { divisor = 5 } }\n",
    "quoted": '[tool."ledgerkit"]\n"divisor" = 5\n',
    "literal-quoted": "[ 'tool' . 'ledgerkit' ]\ndivisor = 5\n",
}


@pytest.mark.parametrize("form", PYPROJECT_FORMS)
def test_every_toml_form_of_the_table_is_found(tmp_path, form):
    make_files(tmp_path, {"pyproject.toml": PYPROJECT_FORMS[form]})
    assert config_for(tmp_path / "l.md").divisor == 5
    assert find_config_file(tmp_path) == tmp_path / "pyproject.toml"


@pytest.mark.parametrize(
    "text",
    [
        "[project]\nname = 'x'\n",  # no mention of ledgerkit: not even parsed
        "[project]\ndependencies = ['ledgerkit>=0.1']\n",  # mentions it, holds no table
        "[tool.black]\nline-length = 100\n# ledgerkit: not configured here\n",
        b"[project]\nname = '\xff'\n",  # a bad byte, but no mention of ledgerkit: not a configuration
        "[project\n",  # invalid TOML that cannot hold the table
    ],
)
def test_a_pyproject_without_the_table_is_passed_over(tmp_path, text):
    repo = tmp_path / "repo"
    make_files(repo, {".git/HEAD": "", "ledgerkit.yaml": "divisor: 6\n", "sub/pyproject.toml": text})
    assert config_for(repo / "sub" / "l.md").divisor == 6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[project]\nname = 'ledgerkit'\nversion = \n", "pyproject.toml:3: invalid TOML: Invalid value"),
        (
            b"[tool.ledgerkit]\ndivisor = 5\nname = '\xff'\n",
            "pyproject.toml:3: not UTF-8 text (byte 0xff at offset 37)",
        ),
        ("tool = 'ledgerkit'\n", "pyproject.toml:1: tool must be a table"),
        ("[tool]\nx = 1\nledgerkit = [1]\n", "pyproject.toml:3: tool.ledgerkit must be a table of settings"),
        ("[tool.ledgerkit]\ndivisor = 5\n[tool.ledgerkit]\n", "pyproject.toml:3: invalid TOML: Cannot declare"),
    ],
)
def test_a_pyproject_that_may_hold_the_table_but_cannot_be_read_is_an_error(tmp_path, text, message):
    make_files(tmp_path, {"pyproject.toml": text})
    with pytest.raises(ConfigError) as exc:
        config_for(tmp_path / "l.md")
    assert str(exc.value).startswith(str(tmp_path / message))


def test_toml_problems_carry_the_line_of_their_key_in_table_and_dotted_forms(tmp_path):
    # A dotted key under [project] belongs to project.tool, not tool: that file holds no configuration at all.
    text = "[project]\nname = 'x'\ntool.ledgerkit.budget = 0\n"
    make_files(tmp_path, {"pyproject.toml": text})
    assert load_config(tmp_path / "pyproject.toml") == Config(source=tmp_path / "pyproject.toml")

    text = dedent(
        '''
        tool.ledgerkit.budget = 0
        tool.ledgerkit.thresholds.ALERT70 = "high"

        [project]
        description = """
        [tool.ledgerkit]
        divisor = 1
        """

        [tool.ledgerkit.allocation]
        a = 50
        "b" = 'x'  # quoted names

        [tool.ledgerkit.models.m]
        input_price = -1
        aliases = [
          "ok",
          "not ok",
        ]
        '''
    )
    make_files(tmp_path, {"pyproject.toml": text})
    with pytest.raises(ConfigProblems) as exc:
        load_config(tmp_path / "pyproject.toml")
    lines = text.splitlines()
    # Each expected line is found in the test's own text, where the offending key is written.
    expected = [
        (lines.index("tool.ledgerkit.budget = 0") + 1, "budget:"),
        (lines.index('tool.ledgerkit.thresholds.ALERT70 = "high"') + 1, "thresholds.ALERT70:"),
        (lines.index("\"b\" = 'x'  # quoted names") + 1, "allocation.b:"),
        (lines.index("input_price = -1") + 1, "models.m.input_price:"),
        (lines.index('  "not ok",') + 1, "models.m.aliases:"),
    ]
    assert [(line, message.split(" ", 1)[0]) for line, message in exc.value.problems] == expected


def test_toml_lines_in_inline_tables_and_arrays(tmp_path):
    text = (
        "[tool.ledgerkit]\n"
        "thresholds = { ALERT70 = 70, ALERT85 = 'x' }\n"
        "frozen = ['a', # a comment with a quote '\n"
        "  '../b']\n"
        "models = { m = { context_window = 0 } }\n"
    )
    make_files(tmp_path, {"pyproject.toml": text})
    with pytest.raises(ConfigProblems) as exc:
        load_config(tmp_path / "pyproject.toml")
    assert [(line, message.split(":", 1)[0]) for line, message in exc.value.problems] == [
        (2, "thresholds.ALERT85"),
        (4, "frozen"),
        (5, "models.m.context_window"),
    ]


_BAD_VALUES = {
    "divisor": "0",
    "budget": "-5",
    "run_id_prefix": '"A B"',
    "allocation_tolerance": "'lots'",
    "undercount_margin": "100",
    "model": '""',
    "frozen": '[\n  "ok",\n  "../x",\n]',
    "thresholds": "{ ALERT85 = 85, ALERT70 = 'x' }",
}
_PREFIX = {"table": "", "dotted": "tool.ledgerkit.", "tool": "ledgerkit."}
_HEADER = {"table": ["[tool.ledgerkit]"], "dotted": [], "tool": ["[tool]"]}
_PROJECT = ["[project]", 'name = "x"', 'description = """', "[tool.ledgerkit]", "divisor = 0", '"""', ""]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    layout=st.sampled_from(sorted(_PREFIX)),
    keys=st.permutations(sorted(_BAD_VALUES)),
    count=st.integers(1, len(_BAD_VALUES)),
    padding=st.lists(st.sampled_from(["", "# a comment = 1", "pad", "string"]), min_size=8, max_size=8),
    project_first=st.booleans(),
)
def test_toml_lines_are_those_of_the_keys_whatever_the_layout(tmp_path, layout, keys, count, padding, project_first):
    # Build a pyproject.toml in one of TOML's spellings of the table, noting the line where each key is written:
    # that line, from the test's own bookkeeping, is the one each problem must name.
    prefix = _PREFIX[layout]
    project_first = project_first and layout != "dotted"  # dotted keys of the root table come before any header
    lines = [*_PROJECT] if project_first else []
    lines += _HEADER[layout]
    written: dict[str, int] = {}
    for index, (key, pad) in enumerate(zip(keys[:count], padding, strict=False)):
        if pad == "pad":
            written[f"x_pad{index}"] = len(lines) + 1
            lines.append(f"{prefix}x_pad{index} = 1")
        elif pad == "string":
            written[f"x_str{index}"] = len(lines) + 1
            lines += [f"{prefix}x_str{index} = '''", "budget = 0", "'''"]
        elif pad:
            lines.append(pad)
        if key == "thresholds" and index % 2:  # the dotted spelling of a nested key
            written["thresholds.ALERT70"] = len(lines) + 1
            lines.append(f"{prefix}thresholds.ALERT70 = 'x'")
            continue
        # frozen's problem is its item "../x", two lines below the key
        written["thresholds.ALERT70" if key == "thresholds" else key] = len(lines) + 1 + 2 * (key == "frozen")
        lines += f"{prefix}{key} = {_BAD_VALUES[key]}".splitlines()
    if not project_first:
        lines += ["", *_PROJECT]
    text = "".join(line + "\n" for line in lines)
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigProblems) as exc:
        load_config(tmp_path / "pyproject.toml")
    found = {message.split(":", 1)[0]: line for line, message in exc.value.problems}
    assert found == written, text


# --- the new keys ------------------------------------------------------------------------------------------


def test_frozen_select_ignore_model_and_models_are_read(tmp_path):
    text = dedent(
        """
        frozen: [/ssot/**, ./docs//brief.md, "*.lock"]
        select: [LK, LK6, LK512]
        ignore: [LK703]
        model: claude-opus-4-5
        models:
          acme-large:
            provider: acme
            context_window: 200000
            max_output: 32000
            output_in_window: true
            input_price: 0.1
            output_price: "2.50"
            encoding: o200k_base
            aliases: [acme-l, acme/large]
            deprecated: false
            as_of: 2026-11-01
          bare: {}
        """
    )
    make_files(tmp_path, {"ledgerkit.yaml": text})
    config = load_config(tmp_path / "ledgerkit.yaml")
    assert config.frozen == ("ssot/**", "docs/brief.md", "*.lock")
    assert (config.select, config.ignore, config.model) == (("LK", "LK6", "LK512"), ("LK703",), "claude-opus-4-5")
    large, bare = config.models
    assert large == ModelOverride(
        id="acme-large",
        provider="acme",
        context_window=200000,
        max_output=32000,
        output_in_window=True,
        input_price=Decimal("0.1"),
        output_price=Decimal("2.50"),
        encoding="o200k_base",
        aliases=("acme-l", "acme/large"),
        deprecated=False,
        as_of=date(2026, 11, 1),
    )
    # Exact as written: a float would make 0.1 into 0.1000000000000000055511151231257827...
    assert str(large.input_price) == "0.1" and large.input_price * 3 == Decimal("0.3")
    assert bare == ModelOverride("bare") and bare.input_price is None and bare.aliases == ()


def test_prices_are_exact_in_toml_too(tmp_path):
    make_files(
        tmp_path,
        {"pyproject.toml": "[tool.ledgerkit.models.m]\ninput_price = 0.1\noutput_price = 3\nas_of = 2026-01-31\n"},
    )
    (model,) = load_config(tmp_path / "pyproject.toml").models
    assert (model.input_price, model.output_price, model.as_of) == (Decimal("0.1"), Decimal(3), date(2026, 1, 31))
    assert str(model.input_price) == "0.1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "frozen: ssot/**\n",
            "frozen: expected a list of paths or globs under the source root, e.g. [ssot/**], got 'ssot/**'",
        ),
        ("frozen: ['']\n", "frozen: expected a path or glob under the source root, got ''"),
        ("frozen: [a/../../b]\n", "frozen: 'a/../../b' leaves the source root: frozen paths may not hold '..'"),
        ('frozen: ["a\\0b"]\n', "frozen: a path may not hold a NUL byte, got 'a\\x00b'"),
        ("frozen: [/]\n", "frozen: '/' names the whole source root; name the frozen folder, e.g. ssot/**"),
        ("select: LK5\n", "select: expected a list of codes or prefixes such as [LK5, LK601], got 'LK5'"),
        ("select: [LK5121]\n", "select: expected a code or prefix such as LK512, LK5 or LK, got 'LK5121'"),
        ("ignore: [lk512]\n", "ignore: expected a code or prefix such as LK512, LK5 or LK, got 'lk512'"),
        ("ignore: [LK9]\n", "ignore: no diagnostic code starts with LK9 (see docs/codes.md)"),
        ("model: ''\n", "model: expected a model id (text without spaces or control characters), got ''"),
        ("model: [gpt-5]\n", "model: expected a model id (text without spaces or control characters), got a list"),
        (
            "models: [a]\n",
            "models: expected a mapping of model id to its settings, e.g. {my-model: {context_window: 8192}}",
        ),
        (
            "models: {m: 5}\n",
            "models.m: expected a mapping of model settings, e.g. {provider: openai, context_window: 8192}",
        ),
        (
            "models: {m: {window: 5}}\n",
            "models.m.window: unknown model setting (known: aliases, as_of, context_window, "
            "deprecated, encoding, input_price, max_output, output_in_window, output_price, provider)",
        ),
        ("models: {m: {context_window: 0}}\n", "models.m.context_window: expected a positive whole number, got 0"),
        ("models: {m: {max_output: 1.5}}\n", "models.m.max_output: expected a positive whole number, got 1.5"),
        ("models: {m: {output_in_window: 'yes'}}\n", "models.m.output_in_window: expected true or false, got 'yes'"),
        (
            "models: {m: {input_price: -1}}\n",
            "models.m.input_price: expected a price in USD per million tokens such as 2.5 or '2.50', got -1",
        ),
        (
            "models: {m: {input_price: '2,50'}}\n",
            "models.m.input_price: expected a price in USD per million tokens such as 2.5 or '2.50', got '2,50'",
        ),
        (
            "models: {m: {input_price: .inf}}\n",
            "models.m.input_price: expected a price in USD per million tokens such as 2.5 or '2.50', got Infinity",
        ),
        (
            "models: {m: {input_price: 1e9}}\n",
            "models.m.input_price: expected a price below 1,000,000 USD per million tokens, got 1E+9",
        ),
        ("models: {m: {as_of: 2026-02-30}}\n", "cannot read a value: day is out of range for month"),
        ("models: {m: {as_of: '2026-2-3'}}\n", "models.m.as_of: expected a date YYYY-MM-DD, got '2026-2-3'"),
        (
            "models: {m: {as_of: 2026-01-01 10:00:00}}\n",
            "models.m.as_of: expected a date YYYY-MM-DD without a time, got 2026-01-01T10:00:00",
        ),
        ("models: {m: {aliases: a}}\n", "models.m.aliases: expected a list of alias ids, got 'a'"),
        (
            "models: {m: {aliases: [a b]}}\n",
            "models.m.aliases: expected an alias (text without spaces or control characters), got 'a b'",
        ),
        (
            "models: {'my model': {}}\n",
            "models.my model: expected a model id (text without spaces or control characters), got 'my model'",
        ),
        (
            "models: {m: {provider: 5}}\n",
            "models.m.provider: expected a provider name (text without spaces or control characters), got 5",
        ),
    ],
)
def test_bad_new_keys_are_errors_naming_key_and_line(tmp_path, text, message):
    make_files(tmp_path, {"ledgerkit.yaml": text})
    with pytest.raises(ConfigProblems) as exc:
        load_config(tmp_path / "ledgerkit.yaml")
    assert exc.value.problems == [(1, message)]


#: Every setting that names something a table or a message shows: each as a configuration's line, NAME the name.
_NAMED = {
    "model": "model: NAME\n",
    "model id": "models: {NAME: {context_window: 8192}}\n",
    "alias": "models: {m: {aliases: [NAME]}}\n",
    "provider": "models: {m: {provider: NAME}}\n",
    "encoding": "models: {m: {encoding: NAME}}\n",
}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(sorted(_NAMED)),
    st.text(st.sampled_from("ab-."), min_size=1, max_size=3),
    st.sampled_from(CONTROLS),
    st.text(st.sampled_from("ab-."), min_size=1, max_size=3),  # within the name: its ends are stripped
)
def test_a_name_holding_any_control_character_is_refused(tmp_path, setting, before, control, after):
    # A C1 control (CSI is \x9b) or a bidirectional one acts on or reorders what a terminal shows, as ESC does.
    name = before + control + after
    make_files(tmp_path, {"ledgerkit.yaml": _NAMED[setting].replace("NAME", json.dumps(name))})
    with pytest.raises(ConfigProblems) as exc:
        load_config(tmp_path / "ledgerkit.yaml")
    [(line, message)] = exc.value.problems
    assert line == 1 and "(text without spaces or control characters)" in message, message
    (tmp_path / "ledgerkit.yaml").write_text(_NAMED[setting].replace("NAME", json.dumps(before + after)))
    load_config(tmp_path / "ledgerkit.yaml")  # the same name without it is a name


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"LK\d{0,4}", fullmatch=True) | st.text(max_size=6))
def test_a_code_or_prefix_is_accepted_exactly_when_it_starts_some_code(tmp_path_factory, code):
    from ledgerkit.diagnostics import CODES

    folder = tmp_path_factory.mktemp("codes")
    (folder / "ledgerkit.yaml").write_text(f"select: [{json.dumps(code)}]\n", encoding="utf-8")
    accepted = re.fullmatch(r"LK\d{0,3}", code) is not None and any(c.startswith(code) for c in CODES)
    try:
        config = load_config(folder / "ledgerkit.yaml")
    except ConfigProblems:
        assert not accepted
    else:
        assert accepted and config.select == (code,)


def test_every_documented_example_is_a_valid_configuration(tmp_path):
    readme = (REPO / "README.md").read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    guide = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme + guide, re.S)
    assert len(blocks) >= 2
    for number, block in enumerate(blocks):
        make_files(tmp_path / str(number), {"ledgerkit.yaml": block, "my_templates/.keep": ""})
        load_config(tmp_path / str(number) / "ledgerkit.yaml")  # raises on any problem


def test_overrides_keep_the_new_fields():
    config = Config(select=("LK5",), model="m").with_overrides(select=None, ignore=("LK512",), frozen=("a/**",))
    assert (config.select, config.ignore, config.frozen, config.model) == (("LK5",), ("LK512",), ("a/**",), "m")


# --- start-up stays cheap ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"pyproject.toml": "[project]\nname = 'x'\n"}, {"tomllib": False, "ruamel.yaml": False}),
        ({"pyproject.toml": "[project]\ndependencies = ['ledgerkit']\n"}, {"tomllib": True, "ruamel.yaml": False}),
        ({"pyproject.toml": "[tool.ledgerkit]\ndivisor = 3\n"}, {"tomllib": True, "ruamel.yaml": False}),
        ({"ledgerkit.yaml": "divisor: 3\n"}, {"tomllib": False, "ruamel.yaml": False}),  # flat: read without it
        ({"ledgerkit.yaml": "divisor: 3\nallocation_tolerance: 12.5\n"}, {"tomllib": False, "ruamel.yaml": True}),
    ],
)
def test_discovery_imports_a_parser_only_for_a_file_that_needs_it(tmp_path, files, expected):
    make_files(tmp_path / "repo", {".git/HEAD": "", **files})
    probe = (
        "import sys, json\nfrom ledgerkit.config import config_for\n"
        f"config_for({str(tmp_path / 'repo' / 'l.md')!r})\n"
        "print(json.dumps({m: m in sys.modules for m in ('tomllib', 'ruamel.yaml')}))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert json.loads(result.stdout) == expected


@pytest.mark.parametrize("command", [["fill"], ["verify", "--no-base"], ["rollup"], ["report"], ["export"]])
def test_every_pyproject_problem_reaches_the_user_in_one_run_with_its_line(tmp_path, monkeypatch, command):
    # Issue 15: pyproject problems had no line number, and only the first was reported.
    from click.testing import CliRunner

    from ledgerkit.cli import cli

    from .conftest import ledger, record

    text = '[project]\nname = "x"\n\n[tool.ledgerkit]\nbudget = 0\ndivisor = "four"\n\n'
    text += '[tool.ledgerkit.thresholds]\nALERT70 = "high"\n'
    make_files(tmp_path, {"pyproject.toml": text, "ledger.md": ledger(record(1)), "a.md": "x"})
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [*command, "ledger.md"])
    assert result.exit_code == 2
    where = tmp_path / "pyproject.toml"
    lines = result.stderr.splitlines()
    assert [line.split(": ", 2)[1] for line in lines[:3]] == [f"{where}:5", f"{where}:6", f"{where}:9"]
    assert [line.split(": ", 3)[2] for line in lines[:3]] == ["budget", "divisor", "thresholds.ALERT70"]


# --- the flat subset, read without ruamel.yaml (issue 12: the hook's start-up) -----------------------------

_WORDS = ["y", "n", "yes", "no", "on", "off", "true", "false", "null"]  # YAML 1.1 or 1.2 bools and nulls


def _any_case(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda upper: "".join(c.upper() if u else c for c, u in zip(word, upper, strict=True))
    )


_FLAT_KEYS = st.from_regex(r"[a-z_][a-z0-9_]{0,63}", fullmatch=True).filter(lambda k: k not in _WORDS)
_FLAT_STRINGS = st.one_of(
    st.from_regex(r"[A-Za-z_/][A-Za-z0-9_./-]{0,30}", fullmatch=True),
    st.from_regex(r"(?:\./|\.\.)[A-Za-z0-9_./-]{0,30}", fullmatch=True),
    st.sampled_from([".", "..", "./docs", "src/x_y", "TB-LEDGER", "o200k_base", "claude-opus-4-5", "my_templates/"]),
    # words next to YAML's: strings all the same
    st.sampled_from(["inf", "nan", "NaN", "Inf", "e5", "E1", "nulls", "true_", "Yes-no", "off/on", "_1", "/.inf"]),
).filter(lambda v: v.lower() not in _WORDS)
_FLAT_INTS = st.integers(1, 10**18 - 1).flatmap(lambda i: st.sampled_from([str(i), f"-{i}"]))
_COMMENT_TEXT = st.text(
    st.sampled_from([*"abc #:-'\"{}[]&*!|>%@`~,?=<", "é", "€", "\xa0", "😀", "\u3000"]), max_size=12
)
_COMMENTS = st.builds(lambda indent, text: " " * indent + "#" + text, st.integers(0, 4), _COMMENT_TEXT)
_TRAILERS = st.one_of(
    st.integers(0, 3).map(lambda n: " " * n),
    st.builds(lambda n, comment: " " * n + comment, st.integers(1, 3), _COMMENTS),
)


@st.composite
def _flat_documents(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A document of the flat subset, and the settings it holds (as written, before YAML reads them)."""
    keys = draw(st.lists(_FLAT_KEYS, unique=True, max_size=6))
    lines: list[str] = []
    written: dict[str, object] = {}
    for key in keys:
        lines += draw(st.lists(st.one_of(st.integers(0, 3).map(lambda n: " " * n), _COMMENTS), max_size=2))
        value = draw(st.one_of(_FLAT_INTS, _FLAT_STRINGS))
        lines.append(f"{key}:{' ' * draw(st.integers(1, 3))}{value}{draw(_TRAILERS)}")
        written[key] = int(value) if value.lstrip("-").isdigit() else value
    lines += draw(st.lists(_COMMENTS, max_size=2))
    return "\n".join(lines) + draw(st.sampled_from(["\n", ""])), written


#: Lines just outside the subset, each of which must send the whole file to ruamel.yaml.
_NEAR_VALUES = [
    *("0", "-0", "007", "+5", "1_000", "0x1f", "0o17", "0b1", "1e3", "1.5", "1.", ".5", "._5", "-.inf", "1:30"),
    *(".inf", ".nan", ".git"),
    *("2026-11-01", "2026-11-01 10:00:00", "~", "&a x", "*a", "!tag x", "!!str x", "<<", "=", "'q'", '"q"'),
    *("[1, 2]", "{a: 1}", "|", ">", "a b", "a#b", "a:b", "x,y", "-x", "- x", "?x", "%x", "@x", "`x", "a\tb"),
    *("x\r", "x\x85y", "x\u2028y", "é", str(10**18), "9" * 5000, ""),
]
_NEAR_LINES = [
    *("key:", "key:x", "key:\tx", "key :x", "key : x", "Key: x", "my-key: x", "1: x", "'k': x", "k: x\r"),
    *("  indented: x", "- item", "---", "...", "%YAML 1.1", "\t", "\t# tab", "#\ttab", "# \x85", "# \u2028 x"),
    *("# \u2029", "# \ufeff", "# \x7f", "# \x01", "# \x9f", "#\r", "k" * 65 + ": x", "k" * 1025 + ": x", "? k"),
    "k: x\n  continued",
    "k: >\n  folded",
]


#: Each near miss as the line it makes, with the key it is written under where it is a value.
_NEAR_MISSES = [
    *(f"k: {value}" for value in _NEAR_VALUES),
    *(f"k: {cased}" for word in _WORDS for cased in {word, word.upper(), word.title(), word[:-1] + word[-1].upper()}),
    *(f"{word}: x" for word in _WORDS),
    "k: a\nk: b",  # a key written twice
    *_NEAR_LINES,
]


def _with_line(document: tuple[str, dict[str, object]], line: str, where: int) -> str:
    """A flat document with ``line`` inserted before its line ``where`` (counted from its end, if past it)."""
    lines = document[0].split("\n")
    lines.insert(where % (len(lines) + 1), line)
    return "\n".join(lines)


def _agrees_with_ruamel(text: str) -> bool:
    """Whether the flat reader took ``text``; when it did, its settings (keys, values and their types) and the
    line of every setting, and of places inside or beside them, are those of ruamel.yaml's reading."""
    from ledgerkit.config import _At, _read_flat_yaml, _read_yaml_with_ruamel

    flat = _read_flat_yaml(text)
    if flat is None:
        return False
    data, where = _read_yaml_with_ruamel(REPO / "ledgerkit.yaml", text)  # a ConfigProblems here fails the test

    def typed(settings):
        return [(type(k), k, type(v), v) for k, v in settings.items()]

    assert typed(flat[0]) == typed(data)
    places = [(), (_At(0),), ("absent",), ([],), *((k, *more) for k in data for more in [(), ("x",), (_At(0),)])]
    assert [flat[1](keys) for keys in places] == [where(keys) for keys in places]
    return True


@settings(max_examples=300, deadline=None)
@given(_flat_documents())
def test_a_flat_file_is_read_without_ruamel_exactly_as_ruamel_reads_it(document):
    text, written = document
    assert _agrees_with_ruamel(text)
    from ledgerkit.config import _read_flat_yaml

    assert _read_flat_yaml(text)[0] == written  # and the values are the ones the test wrote


@pytest.mark.parametrize("line", _NEAR_MISSES)
@settings(max_examples=15, deadline=None)
@given(document=_flat_documents(), where=st.integers(0, 20))
def test_a_file_just_outside_the_flat_subset_is_read_by_ruamel(line, document, where):
    from ledgerkit.config import _read_flat_yaml

    assert _read_flat_yaml(_with_line(document, line, where)) is None


_YAML_CHARS = [*"ak_yYnN:#-./019 ~&*!|>'\"{}[],?%@`<=+eEx\t\r", "\n", "\n", "\n", "\x85", "\u2028", "\ufeff", "é"]


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(st.sampled_from(_YAML_CHARS), max_size=30),
        st.builds(_with_line, _flat_documents(), st.sampled_from(_NEAR_MISSES), st.integers(0, 20)),
        st.lists(_flat_documents().map(lambda d: d[0]), max_size=3).map("\n".join),  # perhaps with a key twice
    )
)
def test_whatever_the_flat_reader_takes_it_reads_as_ruamel_does(text):
    # Text of YAML's own characters, and flat files with lines just outside the subset: the flat reader either
    # passes the file on (None) or reads exactly what ruamel.yaml reads, and never takes one ruamel refuses.
    _agrees_with_ruamel(text)


def test_a_flat_comment_takes_every_character_ruamel_prints_that_breaks_no_line():
    """Every code point, against ruamel's own definition of a printable character: a comment of the flat subset
    holds exactly those that are printable and neither a line break, a tab, a carriage return nor a BOM."""
    from ruamel.yaml.reader import Reader

    from ledgerkit.config import _read_flat_yaml

    refused = set("\t\r\x85\u2028\u2029\ufeff")
    wrong = [
        hex(c)
        for c in range(0x110000)
        if c != 0x0A  # "\n" ends the line: the text is then two flat lines
        and (_read_flat_yaml(f"a: 1 # {chr(c)}") is not None)
        != (Reader.NON_PRINTABLE.match(chr(c)) is None and chr(c) not in refused)
    ]
    assert wrong == []


def test_a_flat_file_with_a_bom_is_read_without_ruamel_and_a_nested_one_with_it(tmp_path):
    from ledgerkit.config import _read_yaml

    data, where = _read_yaml(tmp_path / "ledgerkit.yaml", "\ufeff# c\nroot: .  # here\n".encode())
    assert type(data) is dict and data == {"root": "."} and where(("root",)) == 2  # ruamel would give its own map
    data, where = _read_yaml(tmp_path / "ledgerkit.yaml", b"root: .\nallocation:\n  a: 100\n")
    assert (
        type(data) is not dict and data == {"root": ".", "allocation": {"a": 100}} and where(("allocation", "a")) == 3
    )


def _readme_flat_lines() -> str:
    """The README's example configuration without its nested settings: the flat lines users copy."""
    readme = (REPO / "README.md").read_text(encoding="utf-8").split("## Configuration", 1)[1]
    block = re.findall(r"```yaml\n(.*?)```", readme, re.S)[0]
    nested = ("thresholds:", "allocation:", "frozen:", "select:", "ignore:", "models:", " ")
    return "".join(line for line in block.splitlines(keepends=True) if not line.startswith(nested))


@pytest.mark.parametrize("source", ["sample", "readme"])
def test_the_sample_and_readme_configurations_load_without_importing_ruamel(tmp_path, source):
    from ledgerkit.config import _build, _read_yaml_with_ruamel

    if source == "sample":
        ledger, config_file = (
            REPO / "sample_ledgers" / "token_budget_ledger.md",
            REPO / "sample_ledgers" / "ledgerkit.yaml",
        )
    else:
        make_files(tmp_path, {".git/HEAD": "", "ledgerkit.yaml": _readme_flat_lines(), "my_templates/.keep": ""})
        ledger, config_file = tmp_path / "l.md", tmp_path / "ledgerkit.yaml"
    probe = (
        "import sys\nfrom ledgerkit.config import config_for\n"
        f"config = config_for({str(ledger)!r})\n"
        "print('ruamel.yaml' in sys.modules, repr(config))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    text = config_file.read_text(encoding="utf-8")
    data, where = _read_yaml_with_ruamel(config_file, text)
    expected = _build(data, config_file, where)
    assert result.stdout == f"False {expected!r}\n"
    assert expected.source == config_file and (source == "sample" or expected.run_id_prefix == "TB-LEDGER")
