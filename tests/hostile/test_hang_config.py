"""No hang, no internal error from a configuration: FIFOs and devices are refused unread, and any bytes (huge,
deep, not UTF-8, numbers of any size, alias bombs) give a Config or one ConfigError naming the file."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerkit.cli import cli
from ledgerkit.config import MAX_BYTES, MAX_DEPTH, MAX_MERGES, Config, ConfigProblems, config_for, load_config

from ..conftest import ledger, make_files, record

FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


def outcome(path: Path, *, discover: bool = False) -> Config | ConfigProblems:
    """The Config read from ``path``, or the ConfigProblems raised: anything else escapes and fails the test."""
    try:
        return config_for(path.parent / "l.md") if discover else load_config(path)
    except ConfigProblems as exc:
        assert str(exc).startswith(str(path)), str(exc)
        assert exc.problems and all(line is None or line >= 1 for line, _ in exc.problems)
        return exc


# --- only regular files are read -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ledgerkit.yaml", "pyproject.toml", "other.yaml"])
def test_a_fifo_as_configuration_is_refused_without_waiting(tmp_path: Path, name: str) -> None:
    os.mkfifo(tmp_path / name)  # no writer ever opens it: reading would wait forever
    result = outcome(tmp_path / name)
    assert isinstance(result, ConfigProblems) and "it is a FIFO; only a regular file is read" in str(result)
    if name != "other.yaml":  # found by discovery, too
        result = outcome(tmp_path / name, discover=True)
        assert isinstance(result, ConfigProblems) and "FIFO" in str(result)


def test_cli_config_fifo_is_one_line_and_exit_2(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "cfg.yaml")
    make_files(tmp_path, {"l.md": ledger(record(1, ("a.md",))), "a.md": "abcd"})
    for command in ("fill", "verify"):
        result = CliRunner().invoke(cli, [command, "--config", str(tmp_path / "cfg.yaml"), str(tmp_path / "l.md")])
        assert result.exit_code == 2, result.output
        assert f"{tmp_path / 'cfg.yaml'}: cannot read configuration: it is a FIFO" in result.stderr


@pytest.mark.parametrize(("path", "kind"), [("/dev/null", "a character device"), ("/dev/zero", "a character device")])
def test_a_device_is_refused(path: str, kind: str) -> None:
    result = outcome(Path(path))
    assert isinstance(result, ConfigProblems) and f"it is {kind}" in str(result)


def test_a_folder_named_like_a_configuration_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ledgerkit.yaml").mkdir()
    result = outcome(tmp_path / "ledgerkit.yaml", discover=True)
    assert isinstance(result, ConfigProblems) and "it is a folder" in str(result)


def test_size_is_bounded(tmp_path: Path) -> None:
    padding = "# " + "x" * 78 + "\n"
    fits = "[tool.ledgerkit]\ndivisor = 3\n"
    fits += padding * ((MAX_BYTES - len(fits)) // len(padding))
    make_files(tmp_path, {"pyproject.toml": fits})
    assert outcome(tmp_path / "pyproject.toml") == load_config(tmp_path / "pyproject.toml")
    assert load_config(tmp_path / "pyproject.toml").divisor == 3
    for name, text in [("pyproject.toml", fits + padding), ("ledgerkit.yaml", "divisor: 3\n" + padding * 4000)]:
        make_files(tmp_path, {name: text})
        result = outcome(tmp_path / name)
        assert isinstance(result, ConfigProblems)
        assert str(result) == f"{tmp_path / name}: larger than 256 KiB: too large to be a configuration"


# --- bytes that are not text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "line", "message"),
    [
        ("ledgerkit.yaml", b"divisor: 3\nroot: \xff\n", 2, "not UTF-8 text (byte 0xff at offset 17)"),
        ("ledgerkit.yaml", b"divisor: 3\n\nroot: a\0b\n", 3, "holds a NUL byte: a configuration is text"),
        ("pyproject.toml", b"[tool.ledgerkit]\nroot = '\xc3('\n", 2, "not UTF-8 text (byte 0xc3 at offset 25)"),
        ("pyproject.toml", b"[tool.ledgerkit]\nroot = 'a\0'\n", 2, "holds a NUL byte: a configuration is text"),
        (
            "ledgerkit.yaml",
            "divisor: 3\n".encode("utf-16"),
            1,
            "UTF-16 text: a configuration is read as UTF-8; save it as UTF-8",
        ),
        (
            "pyproject.toml",
            "[tool.ledgerkit]\n".encode("utf-32"),
            1,
            "UTF-32 text: a configuration is read as UTF-8; save it as UTF-8",
        ),
    ],
)
def test_bytes_that_are_not_utf8_text_name_file_and_line(
    tmp_path: Path, name: str, data: bytes, line: int, message: str
) -> None:
    make_files(tmp_path, {name: data})
    result = outcome(tmp_path / name, discover=True)
    assert isinstance(result, ConfigProblems) and result.problems == [(line, message)]


@settings(max_examples=300, deadline=None, suppress_health_check=FIXTURES)
@given(data=st.binary(max_size=400), name=st.sampled_from(["ledgerkit.yaml", "pyproject.toml"]))
def test_random_bytes_give_a_config_or_one_error(tmp_path: Path, data: bytes, name: str) -> None:
    if name == "pyproject.toml":
        data = b"[tool.ledgerkit]\n" + data  # so that it is parsed, not passed over
    make_files(tmp_path, {name: data})
    outcome(tmp_path / name)


_YAMLISH = st.text(alphabet="[]{}:,-?|>!&*#'\"\\%@`~ \t\n\r\x85\u2028aZ09._/=", max_size=120)
_TOMLISH = st.text(alphabet="[]{}=,.\"'#\\ \t\n\r+-_:aZ09ex", max_size=120)


@settings(max_examples=400, deadline=None, suppress_health_check=FIXTURES)
@given(text=_YAMLISH, key=st.sampled_from(["", "divisor: ", "models:\n  m: ", "frozen: ", "thresholds: "]))
def test_yaml_punctuation_gives_a_config_or_one_error(tmp_path: Path, text: str, key: str) -> None:
    make_files(tmp_path, {"ledgerkit.yaml": key + text})
    outcome(tmp_path / "ledgerkit.yaml")


@settings(max_examples=400, deadline=None, suppress_health_check=FIXTURES)
@given(text=_TOMLISH, key=st.sampled_from(["", "divisor = ", "models.m = ", "frozen = ", "thresholds = {"]))
def test_toml_punctuation_gives_a_config_or_one_error(tmp_path: Path, text: str, key: str) -> None:
    make_files(tmp_path, {"pyproject.toml": "[tool.ledgerkit]\n" + key + text})
    outcome(tmp_path / "pyproject.toml")


# --- nesting -------------------------------------------------------------------------------------------------

_NESTINGS = {
    "yaml flow list": ("ledgerkit.yaml", lambda d: "models: " + "[" * d + "]" * d + "\n"),
    "yaml flow map": ("ledgerkit.yaml", lambda d: "models: " + "{a: " * d + "1" + "}" * d + "\n"),
    "yaml block map": ("ledgerkit.yaml", lambda d: "".join(" " * i + "a:\n" for i in range(d)) + " " * d + "1\n"),
    "yaml dashes": ("ledgerkit.yaml", lambda d: "models:\n" + "- " * d + "x\n"),
    "toml array": ("pyproject.toml", lambda d: "[tool.ledgerkit]\nmodels = " + "[" * d + "]" * d + "\n"),
    "toml inline table": (
        "pyproject.toml",
        lambda d: "[tool.ledgerkit]\nmodels = " + "{a = " * d + "1" + "}" * d + "\n",
    ),
    "toml dotted key": ("pyproject.toml", lambda d: "[tool.ledgerkit]\nmodels." + "a." * d + "b = 1\n"),
}


@settings(max_examples=70, deadline=None, suppress_health_check=FIXTURES)
@given(kind=st.sampled_from(sorted(_NESTINGS)), depth=st.integers(1, 5000))
def test_nesting_of_any_depth_gives_a_config_or_one_error(tmp_path: Path, kind: str, depth: int) -> None:
    name, build = _NESTINGS[kind]
    if kind == "yaml block map":
        depth = min(depth, 700)  # the text grows with the square of the depth: keep it under MAX_BYTES
    make_files(tmp_path, {name: build(depth)})
    result = outcome(tmp_path / name)
    assert isinstance(result, ConfigProblems)  # no such structure is a valid setting, at any depth
    if depth > MAX_DEPTH + 2:
        assert "nests" in str(result)  # deeper than the limit: said so, with a line
        assert result.problems[0][0] is not None


# --- numbers -------------------------------------------------------------------------------------------------

_DIGITS = st.integers(0, 6000).map(lambda n: "1" + "0" * n)
_NUMBERS = st.one_of(
    st.integers().map(str),
    _DIGITS,
    _DIGITS.map(lambda d: "-" + d),
    _DIGITS.map(lambda d: "0x" + d),
    _DIGITS.map(lambda d: "0o" + d.replace("0", "7")),
    _DIGITS.map(lambda d: d[:8] + "_" + d[8:]),
    st.tuples(st.integers(0, 10**6), st.integers(-(10**10), 10**10)).map(lambda t: f"{t[0]}e{t[1]}"),
    st.tuples(_DIGITS, _DIGITS).map(lambda t: f"{t[0]}.{t[1]}"),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
    st.sampled_from([".inf", "-.inf", ".nan", "inf", "nan", "+1", "1__0", "0b101", "1e", "1.e5", "9" * 4301]),
)
_NUMBER_KEYS = [
    ("divisor",),
    ("budget",),
    ("allocation_tolerance",),
    ("undercount_margin",),
    ("thresholds", "ALERT70"),
    ("allocation", "a"),
    ("models", "m", "input_price"),
    ("models", "m", "context_window"),
]


@settings(max_examples=250, deadline=None, suppress_health_check=FIXTURES)
@given(number=_NUMBERS, keys=st.sampled_from(_NUMBER_KEYS), quoted=st.booleans())
def test_numbers_of_any_size_and_form_give_a_config_or_one_error(
    tmp_path: Path, number: str, keys: tuple[str, ...], quoted: bool
) -> None:
    value = f"'{number}'" if quoted else number
    yaml = "".join("  " * depth + f"{key}:\n" for depth, key in enumerate(keys[:-1]))
    yaml += "  " * (len(keys) - 1) + f"{keys[-1]}: {value}\n"
    toml = f"[tool.ledgerkit{''.join('.' + k for k in keys[:-1])}]\n{keys[-1]} = {value}\n"
    make_files(tmp_path, {"ledgerkit.yaml": yaml, "pyproject.toml": toml})
    for name in ("ledgerkit.yaml", "pyproject.toml"):
        result = outcome(tmp_path / name)
        if isinstance(result, ConfigProblems):
            assert len(str(result)) < 2000  # a message never prints the whole number
            continue
        # Read exactly what was written, never through a float.
        if keys == ("divisor",):
            assert result.divisor == _written(number)
        if keys[-1] == "input_price":
            assert result.models[0].input_price == _written(number)


def _written(number: str) -> Decimal:
    """The exact value of a number as YAML and TOML write it: decimal digits, 0x/0o/0b integers, decimals."""
    text = number.replace("_", "")
    if re.fullmatch(r"[+-]?\d+", text):
        return Decimal(int(text))
    if re.fullmatch(r"[+-]?0[xob][0-9a-fA-F]+", text):
        return Decimal(int(text, 0))
    return Decimal(text)


def test_an_integer_past_the_digit_limit_names_its_line(tmp_path: Path) -> None:
    huge = "9" * 4301
    make_files(tmp_path, {"ledgerkit.yaml": f"divisor: 3\nbudget: {huge}\n"})
    make_files(tmp_path, {"pyproject.toml": f"[tool.ledgerkit]\ndivisor = 3\nnote = '{huge}'\nbudget = {huge}\n"})
    for name, line in (("ledgerkit.yaml", 2), ("pyproject.toml", 4)):  # a long digit string is no integer
        result = outcome(tmp_path / name)
        assert isinstance(result, ConfigProblems)
        assert result.problems == [(line, "holds a number of more than 4,300 digits: too large to read")]


# --- YAML's own weapons -------------------------------------------------------------------------------------


def _billion_laughs(target: str) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "x_anchors:\n" + "".join("  " + line + "\n" for line in lines) + target + "\n"


@pytest.mark.parametrize(
    "target",
    [
        "frozen: *a9",
        "select: *a9",
        "models: {m: {aliases: *a9}}",
        "allocation: {a: *a9, b: *a9}",
        "root: *a9",
        "models: {m: *a9}",
    ],
)
def test_an_alias_bomb_costs_nothing(tmp_path: Path, target: str) -> None:
    make_files(tmp_path, {"ledgerkit.yaml": _billion_laughs(target)})
    result = outcome(tmp_path / "ledgerkit.yaml")
    assert isinstance(result, ConfigProblems) and len(str(result)) < 5000


def test_a_recursive_alias_is_an_error(tmp_path: Path) -> None:
    make_files(tmp_path, {"ledgerkit.yaml": "frozen: &a [*a]\nallocation: &b {x: *b}\n"})
    result = outcome(tmp_path / "ledgerkit.yaml")
    assert isinstance(result, ConfigProblems) and [line for line, _ in result.problems] == [1, 2]


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/new:os.system ['touch {marker}']",
        "!!python/name:os.system",
        "!custom {{a: 1}}",
    ],
)
def test_yaml_tags_never_construct_objects(tmp_path: Path, tagged: str) -> None:
    marker = tmp_path / "ran"
    make_files(tmp_path, {"ledgerkit.yaml": f"divisor: {tagged.format(marker=marker)}\n"})
    result = outcome(tmp_path / "ledgerkit.yaml")
    assert isinstance(result, ConfigProblems) and result.problems[0][1].startswith("divisor: expected a positive")
    assert not marker.exists()


def test_many_problems_are_bounded(tmp_path: Path) -> None:
    make_files(tmp_path, {"ledgerkit.yaml": "".join(f"k{i}: 1\n" for i in range(1000))})
    result = outcome(tmp_path / "ledgerkit.yaml")
    assert isinstance(result, ConfigProblems)
    assert len(result.problems) == 101 and result.problems[-1] == (None, "and 900 more problems")
    assert result.problems[:2] == [(1, result.problems[0][1]), (2, result.problems[1][1])]


_LONG_KEYS = {
    "dotted key": lambda n: "[tool.ledgerkit]\nmodels." + "a." * n + "b = 1\n",
    "table header": lambda n: "[tool.ledgerkit.models." + "a." * n + "b]\nx = 1\n",
    "key in an inline table": lambda n: "[tool.ledgerkit]\nmodels = { " + "a." * n + "b = 1 }\n",
    "quoted parts": lambda n: "[tool.ledgerkit]\nmodels." + '"a".' * n + "b = 1\n",
}


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(kind=st.sampled_from(sorted(_LONG_KEYS)), parts=st.integers(1, 60_000))
def test_a_dotted_key_of_any_length_is_read_in_linear_time(tmp_path: Path, kind: str, parts: int) -> None:
    # tomllib takes quadratic time in a key's parts (20,000 parts: 10 s; 256 KiB holds 120,000): the bound
    # of the hostile suite fails this test if a long key ever reaches it again.
    make_files(tmp_path, {"pyproject.toml": _LONG_KEYS[kind](parts)})
    result = outcome(tmp_path / "pyproject.toml")
    assert isinstance(result, ConfigProblems)
    if parts >= MAX_DEPTH:
        assert f"nests deeper than {MAX_DEPTH} levels" in str(result) and result.problems[0][0] is not None


@pytest.mark.parametrize(
    "merges",
    [
        "".join(f"x_b{i}: {{<<: *a}}\n" for i in range(12_000)),
        "x_b: {<<: [" + "*a, " * 20_000 + "*a]}\n",
    ],
)
def test_merge_keys_are_bounded(tmp_path: Path, merges: str) -> None:
    # ruamel compares each merge with every earlier one: 10,000 merges took minutes before the bound.
    make_files(tmp_path, {"ledgerkit.yaml": "x_a: &a {x: 1}\n" + merges})
    result = outcome(tmp_path / "ledgerkit.yaml")
    assert isinstance(result, ConfigProblems)
    assert result.problems == [(2 if "[" in merges else 202, f"holds more than {MAX_MERGES} merge keys (<<)")]


def test_a_few_merge_keys_are_read(tmp_path: Path) -> None:
    models = "".join(f"  m{i}: {{<<: *d, max_output: {i + 1}}}\n" for i in range(MAX_MERGES))
    make_files(tmp_path, {"ledgerkit.yaml": "models:\n  base: &d {provider: acme, context_window: 1000}\n" + models})
    config = load_config(tmp_path / "ledgerkit.yaml")
    assert len(config.models) == MAX_MERGES + 1 and config.models[-1].provider == "acme"


@pytest.mark.parametrize("text", ["? [a, [b]]\n: 1\n", "? {a: [1]}\n: 1\n", "divisor: {? [a]: 1}\n"])
def test_a_list_or_mapping_as_a_key_is_an_error(tmp_path: Path, text: str) -> None:
    make_files(tmp_path, {"ledgerkit.yaml": text})
    assert isinstance(outcome(tmp_path / "ledgerkit.yaml"), ConfigProblems)
