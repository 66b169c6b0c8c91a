"""Configuration: ``ledgerkit.yaml`` beside the ledger (or in a folder above it, up to the git top level),
or ``[tool.ledgerkit]`` in a ``pyproject.toml`` found the same way.

Every key is optional; an unknown key or a bad value is a :class:`ConfigError` naming the file, line and key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .schema import ACTIONS, plain_number

CONFIG_NAME = "ledgerkit.yaml"


@dataclass(frozen=True)
class Thresholds:
    """Utilization levels (percent) at which each alert starts.

    ALERT70, ALERT85 and ALERT95 start *at* their level; MINIMAL starts *above* its level (over budget).
    """

    alert70: Fraction = Fraction(70)
    alert85: Fraction = Fraction(85)
    alert95: Fraction = Fraction(95)
    minimal: Fraction = Fraction(100)

    def action(self, percent: Fraction) -> str:
        """The THRESHOLD_ACTION that an exact utilization (in percent) calls for."""
        if percent > self.minimal:
            return "MINIMAL"
        if percent >= self.alert95:
            return "ALERT95"
        if percent >= self.alert85:
            return "ALERT85"
        if percent >= self.alert70:
            return "ALERT70"
        return "NONE"

    def level(self, action: str) -> Fraction | None:
        """The percent at which ``action`` starts (None for NONE)."""
        return {
            "ALERT70": self.alert70,
            "ALERT85": self.alert85,
            "ALERT95": self.alert95,
            "MINIMAL": self.minimal,
        }.get(action)


DEFAULT_ALLOCATION: Mapping[str, Fraction] = {
    "system": Fraction(10),
    "rolling_summary": Fraction(20),
    "task_brief_and_acceptance": Fraction(30),
    "evidence_snippets": Fraction(30),
    "margin": Fraction(10),
}


@dataclass(frozen=True)
class Config:
    """Settings for one ledger; ``source`` is the file they came from (None: all defaults)."""

    source: Path | None = None
    root: Path | None = None
    divisor: int = 4
    budget: int | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    allocation: Mapping[str, Fraction] = field(default_factory=lambda: dict(DEFAULT_ALLOCATION))
    allocation_tolerance: Fraction = Fraction(10)
    run_id_prefix: str = "TB-LEDGER"
    templates: Path | None = None
    # Exact token counts (ledgerkit/tokens.py): the encoding that checks TOKEN_ESTIMATE, and by how much
    # (percent of the exact count) the estimate may fall short before fill and verify warn.
    encoding: str | None = None
    undercount_margin: Fraction = Fraction(10)
    # Models (ledgerkit/catalog): the default for records without MODEL, and the team's own models.
    model: str | None = None
    models: tuple[Any, ...] = ()
    # Diagnostics people steer (codes or prefixes), and the frozen source of truth (globs under the root).
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    frozen: tuple[str, ...] = ()

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with the given (non-None) settings replaced, e.g. from command-line options."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


# --- discovery -------------------------------------------------------------------------------------------


def find_git_top(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``.git`` (found without running git)."""
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def find_config_file(start: Path) -> Path | None:
    """The first ledgerkit.yaml, or pyproject.toml with [tool.ledgerkit], from ``start`` up to the git top."""
    top = find_git_top(start)
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _pyproject_has_section(pyproject):
            return pyproject
        if folder == top:
            break
    return None


def _pyproject_has_section(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return re.search(r"^\s*\[tool\.ledgerkit[\].]", text, re.MULTILINE) is not None


def config_for(ledger_path: str | Path | None) -> Config:
    """The configuration that applies to a ledger (defaults when there is none)."""
    if ledger_path is None:
        return Config()
    start = Path(ledger_path).resolve().parent
    found = find_config_file(start)
    return load_config(found) if found else Config()


def load_config(path: str | Path) -> Config:
    """Read and validate one configuration file (ledgerkit.yaml or pyproject.toml)."""
    path = Path(path)
    if path.name == "pyproject.toml":
        data, where = _read_pyproject(path)
    else:
        data, where = _read_yaml(path)
    return _build(data, path, where)


def _read_yaml(path: Path) -> tuple[Mapping[str, Any], Callable[[tuple[str, ...]], int | None]]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read configuration: {exc}", path) from None
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(f"invalid YAML: {exc.problem or exc.context}", path, line) from None
    except YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path) from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError("the configuration must be a mapping of settings", path, 1)

    def where(keys: tuple[str, ...]) -> int | None:
        node: Any = data
        line = None
        for key in keys:
            if not isinstance(node, Mapping) or key not in node or not hasattr(node, "lc"):
                break
            line = node.lc.key(key)[0] + 1
            node = node[key]
        return line

    return data, where


def _read_pyproject(path: Path) -> tuple[Mapping[str, Any], Callable[[tuple[str, ...]], int | None]]:
    import tomllib

    try:
        with path.open("rb") as f:
            doc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read configuration: {exc}", path) from None
    data = doc.get("tool", {}).get("ledgerkit", {})
    if not isinstance(data, Mapping):
        raise ConfigError("[tool.ledgerkit] must be a table", path)
    return data, lambda keys: None


# --- validation ------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%?\s*$")


def _number(value: Any) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a number, got {value!r}")
    m = _NUMBER.match(str(value))
    if not m:
        raise ValueError(f"expected a number, got {value!r}")
    return Fraction(m.group(1))


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"expected a positive whole number, got {value!r}")
    return int(value)


def _build(data: Mapping[str, Any], path: Path, where: Callable[[tuple[str, ...]], int | None]) -> Config:
    base = path.parent

    def fail(keys: tuple[str, ...], message: str) -> ConfigError:
        return ConfigError(f"{'.'.join(keys)}: {message}", path, where(keys))

    def folder(keys: tuple[str, ...], value: Any) -> Path:
        if not isinstance(value, str) or not value.strip():
            raise fail(keys, f"expected a folder path, got {value!r}")
        return (base / value).resolve()

    changes: dict[str, Any] = {}
    for key, value in data.items():
        keys = (str(key),)
        try:
            if key == "root":
                changes["root"] = folder(keys, value)
            elif key == "templates":
                changes["templates"] = folder(keys, value)
            elif key == "divisor":
                changes["divisor"] = _positive_int(value)
            elif key == "budget":
                changes["budget"] = _positive_int(value)
            elif key == "thresholds":
                changes["thresholds"] = _thresholds(value, keys, fail)
            elif key == "allocation":
                changes["allocation"] = _allocation(value, keys, fail)
            elif key == "allocation_tolerance":
                changes["allocation_tolerance"] = _number(value)
            elif key == "run_id_prefix":
                if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", value):
                    raise ValueError(f"expected letters, digits, - and _, got {value!r}")
                changes["run_id_prefix"] = value
            elif key == "encoding":
                changes["encoding"] = _encoding(value)
            elif key == "undercount_margin":
                changes["undercount_margin"] = _margin(value)
            else:
                raise fail(keys, f"unknown setting (known: {', '.join(sorted(KNOWN_KEYS))})")
        except ValueError as exc:
            raise fail(keys, str(exc)) from None
    return Config(source=path, **changes)


KNOWN_KEYS = (
    "root",
    "templates",
    "divisor",
    "budget",
    "thresholds",
    "allocation",
    "allocation_tolerance",
    "run_id_prefix",
    "encoding",
    "undercount_margin",
)


def _encoding(value: Any) -> str:
    from .tokens.names import exact_problem  # loads no encoding

    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected an encoding name such as o200k_base, got {value!r}")
    problem = exact_problem(value.strip())
    if problem is not None:
        raise ValueError(problem)
    return value.strip()


def _margin(value: Any) -> Fraction:
    margin = _number(value)
    if margin >= 100:
        raise ValueError(f"expected a percentage below 100, got {value!r}")
    return margin


def _thresholds(value: Any, keys: tuple[str, ...], fail: Callable[..., ConfigError]) -> Thresholds:
    if not isinstance(value, Mapping):
        raise fail(keys, "expected a mapping such as {ALERT70: 70, ALERT85: 85, ALERT95: 95, MINIMAL: 100}")
    levels = {}
    for name, level in value.items():
        sub = (*keys, str(name))
        if name not in ACTIONS[1:]:
            raise fail(sub, f"unknown threshold (known: {', '.join(ACTIONS[1:])})")
        try:
            levels[name.lower()] = _number(level)
        except ValueError as exc:
            raise fail(sub, str(exc)) from None
    result = Thresholds(**levels)
    ordered = [result.alert70, result.alert85, result.alert95, result.minimal]
    if ordered != sorted(ordered):
        raise fail(keys, "thresholds must rise: ALERT70 <= ALERT85 <= ALERT95 <= MINIMAL")
    return result


def _allocation(value: Any, keys: tuple[str, ...], fail: Callable[..., ConfigError]) -> dict[str, Fraction]:
    if not isinstance(value, Mapping) or not value:
        raise fail(keys, "expected a mapping of share name to percent, e.g. {system: 10, margin: 10, ...}")
    shares = {}
    for name, share in value.items():
        try:
            shares[str(name)] = _number(share)
        except ValueError as exc:
            raise fail((*keys, str(name)), str(exc)) from None
    total = sum(shares.values())
    if total != 100:
        raise fail(keys, f"shares must sum to 100%, they sum to {plain_number(total)}%")
    return shares
