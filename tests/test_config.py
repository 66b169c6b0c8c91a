from __future__ import annotations

from fractions import Fraction

import pytest

from ledgerkit.config import Config, config_for, find_config_file, load_config
from ledgerkit.errors import ConfigError

from .conftest import dedent, make_files


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
