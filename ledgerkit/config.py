"""Configuration: ``ledgerkit.yaml``, or a ``[tool.ledgerkit]`` table in ``pyproject.toml``, found from the
ledger's folder upwards (see :func:`config_for` for where the search stops and whose files it trusts).

Every key is optional. Every problem in a file (an unknown key, a bad value, a nested one) is collected and
raised as one :class:`ConfigProblems`, one ``path:line: key: message`` line each. Reading is hardened: only
regular files of at most :data:`MAX_BYTES`, UTF-8 without NUL, nesting and numbers bounded, YAML tags never
construct objects; a ``root:`` or ``templates:`` outside the configuration's own tree is refused.
"""

from __future__ import annotations

import codecs
import os
import re
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from .errors import CONTROLS, ConfigError, LedgerkitError
from .schema import ACTIONS, plain_number

CONFIG_NAME = "ledgerkit.yaml"
PYPROJECT_NAME = "pyproject.toml"

#: The largest configuration file read. ruamel.yaml reads about 40 KB/s on the 2-core development machine,
#: so this bounds a hostile file to seconds; a real configuration is a few KB.
MAX_BYTES = 256 * 1024
#: How deeply a configuration may nest (block indentation plus flow brackets). Real ones nest 4 levels.
MAX_DEPTH = 48
#: YAML merge keys (``<<: *defaults``) per file: ruamel compares each merge with every earlier one.
MAX_MERGES = 200
#: Reported problems per file; the rest are counted in a closing line.
MAX_PROBLEMS = 100


class Thresholds(NamedTuple):
    """Utilization levels (percent) at which each alert starts.

    ALERT70, ALERT85 and ALERT95 start *at* their level; MINIMAL starts *above* its level (over budget).
    """

    alert70: Fraction = Fraction(70)
    alert85: Fraction = Fraction(85)
    alert95: Fraction = Fraction(95)
    minimal: Fraction = Fraction(100)

    def action(self, percent: Fraction) -> str:
        """The THRESHOLD_ACTION that an exact utilization (in percent) calls for."""
        # Compared as integer cross-products (denominators are positive): exact, and several times cheaper than
        # Fraction's own comparisons, which ran for every record of every report.
        n, d = percent.numerator, percent.denominator
        m = self.minimal
        if n * m.denominator > m.numerator * d:
            return "MINIMAL"
        for level, name in ((self.alert95, "ALERT95"), (self.alert85, "ALERT85"), (self.alert70, "ALERT70")):
            if n * level.denominator >= level.numerator * d:
                return name
        return "NONE"

    def level(self, action: str) -> Fraction | None:
        """The percent at which ``action`` starts (None for NONE)."""
        return {
            "ALERT70": self.alert70,
            "ALERT85": self.alert85,
            "ALERT95": self.alert95,
            "MINIMAL": self.minimal,
        }.get(action)


DEFAULT_ALLOCATION: Mapping[str, Fraction] = MappingProxyType(
    {
        "system": Fraction(10),
        "rolling_summary": Fraction(20),
        "task_brief_and_acceptance": Fraction(30),
        "evidence_snippets": Fraction(30),
        "margin": Fraction(10),
    }
)


class ModelOverride(NamedTuple):
    """One entry of ``models:``: a model the configuration adds or overrides, None where it is silent.

    Plain data for the model catalog, which merges it over the shipped data. Prices are USD per million
    tokens, exact as written.
    """

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
    as_of: date | None = None


#: The defaults of :class:`Config` that other stages name on their own (a NamedTuple's class attributes are its
#: fields' accessors, not their defaults).
DIVISOR = 4
RUN_ID_PREFIX = "TB-LEDGER"


class Config(NamedTuple):
    """Settings for one ledger; ``source`` is the file they came from (None: all defaults)."""

    source: Path | None = None
    root: Path | None = None
    divisor: int = DIVISOR
    budget: int | None = None
    thresholds: Thresholds = Thresholds()
    allocation: Mapping[str, Fraction] = DEFAULT_ALLOCATION
    allocation_tolerance: Fraction = Fraction(10)
    run_id_prefix: str = RUN_ID_PREFIX
    templates: Path | None = None
    # Exact token counts (ledgerkit/tokens.py): the encoding that checks TOKEN_ESTIMATE, and by how much
    # (percent of the exact count) the estimate may fall short before fill and verify warn.
    encoding: str | None = None
    undercount_margin: Fraction = Fraction(10)
    #: Paths or globs under the source root that no commit may touch (verify --history).
    frozen: tuple[str, ...] = ()
    #: Diagnostic codes or prefixes to report (empty: all) and to leave out.
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    #: The model of records that name none (``- MODEL:``), and models added or overridden.
    model: str | None = None
    models: tuple[ModelOverride, ...] = ()

    def with_overrides(self, **changes: Any) -> Config:
        """A copy with the given (non-None) settings replaced, e.g. from command-line options."""
        return self._replace(**{k: v for k, v in changes.items() if v is not None})


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
    "frozen",
    "select",
    "ignore",
    "model",
    "models",
)


class ConfigProblems(ConfigError):
    """Every problem found in one configuration file; ``str()`` gives one ``path:line: message`` line each.

    ``line`` and ``message`` are the first problem's, so code that expects one ConfigError still reads well.
    """

    def __init__(self, path: str | Path, problems: list[tuple[int | None, str]]) -> None:
        problems = problems or [(None, "invalid configuration")]
        super().__init__(problems[0][1], path, problems[0][0])
        self.problems = problems

    def lines(self) -> list[str]:
        """One ``path:line: message`` line per problem (``path: message`` where the line is unknown)."""
        return [f"{self.path}:{line}: {msg}" if line else f"{self.path}: {msg}" for line, msg in self.problems]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _fail(path: Path, line: int | None, message: str) -> ConfigProblems:
    return ConfigProblems(path, [(line, message)])


# --- discovery -------------------------------------------------------------------------------------------


def _me() -> int | None:
    """The effective user id, or None where the platform has no owners (ownership checks are then off)."""
    return os.geteuid() if hasattr(os, "geteuid") else None


def _owner(path: Path) -> int | None:
    try:
        return os.stat(path).st_uid
    except OSError:
        return None


def find_git_top(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``.git`` (found with stat calls, not by running git).

    As git itself refuses a repository of "dubious ownership", a ``.git`` whose folder or itself belongs to
    someone other than you (or the owner of ``start``, for CI checkouts owned by another uid) is no work tree:
    another user could otherwise plant ``/tmp/.git`` to widen what a ledger below it trusts.
    """
    for folder in (start, *start.parents):
        try:
            git = os.lstat(folder / ".git")
        except OSError:
            continue
        me = _me()
        if me is None:
            return folder
        trusted = {me, _owner(start)}
        return folder if git.st_uid in trusted and _owner(folder) in trusted else None
    return None


def _home() -> Path | None:
    try:
        return Path(os.path.realpath(Path.home()))
    except (RuntimeError, KeyError, OSError, ValueError):
        return None


def _folders_to_search(start: Path) -> tuple[Iterator[Path], bool]:
    """The folders searched for a configuration, nearest first, and whether they lie in a git work tree."""
    top = find_git_top(start)
    if top is not None:
        return iter((start, *start.parents)[: len(start.parts) - len(top.parts) + 1]), True
    return _own_folders(start), False


def _own_folders(start: Path) -> Iterator[Path]:
    """Outside git: upwards from ``start``, stopping after the home folder and before any folder that is not yours."""
    me, home = _me(), _home()
    for folder in (start, *start.parents):
        try:
            owner = os.stat(folder).st_uid
        except (FileNotFoundError, NotADirectoryError):
            continue  # a folder not made yet holds nothing; its parent may
        except OSError:
            return
        if me is not None and owner != me:
            return
        yield folder
        if folder == home:
            return


class _Found(NamedTuple):
    """A configuration file found by discovery: its bytes, and for a pyproject.toml its parsed settings."""

    path: Path
    raw: bytes
    settings: tuple[Mapping[str, Any], _Where] | None = None


def _look_in(folder: Path, in_git: bool) -> _Found | None:
    for name in (CONFIG_NAME, PYPROJECT_NAME):
        path = folder / name
        read = _read_regular(path, missing_ok=True)
        if read is None:
            continue
        raw, owner = read
        found = _Found(path, raw) if name == CONFIG_NAME else _pyproject_found(path, raw)
        if found is None:
            continue
        me = _me()
        if not in_git and me is not None and owner != me:
            raise _fail(
                path,
                None,
                f"not applied: it belongs to another user (uid {owner}), and outside a git work tree only your "
                f"own configuration applies; pass --config {path} to use it anyway",
            )
        return found
    return None


def _pyproject_found(path: Path, raw: bytes) -> _Found | None:
    settings = _read_pyproject(path, raw)
    return None if settings is None else _Found(path, raw, settings)


def _discover(start: Path) -> _Found | None:
    folders, in_git = _folders_to_search(start)
    for folder in folders:
        found = _look_in(folder, in_git)
        if found is not None:
            return found
    return None


def find_config_file(start: Path) -> Path | None:
    """The configuration file :func:`config_for` applies to a ledger in folder ``start`` (None: defaults)."""
    found = _discover(Path(os.path.realpath(start)))
    return found.path if found else None


def config_for(ledger_path: str | Path | None) -> Config:
    """The configuration that applies to a ledger (defaults when there is none).

    The search starts in the ledger's folder and goes upwards; in each folder ``ledgerkit.yaml`` comes before
    a ``pyproject.toml`` holding a ``[tool.ledgerkit]`` table (one without the table is passed over).

    - Inside a git work tree (a folder above holds ``.git``, see :func:`find_git_top`) the search ends at the
      work tree's top: the repository is the unit of trust.
    - Outside git it ends after your home folder, and before any folder that is not yours, which is never
      searched (another user can plant a ledgerkit.yaml in /tmp or /). A configuration file found there that
      belongs to another user is an error, never applied.
    """
    if ledger_path is None:
        return Config()
    if "\0" in os.fspath(ledger_path):
        raise LedgerkitError("the path holds a NUL byte", os.fspath(ledger_path).replace("\0", "\\x00"))
    found = _discover(Path(os.path.realpath(ledger_path)).parent)
    if found is None:
        return Config()
    data, where = found.settings or _read_yaml(found.path, found.raw)
    return _build(data, found.path, where)


def load_config(path: str | Path) -> Config:
    """Read and validate one configuration file (ledgerkit.yaml, or pyproject.toml or another ``.toml`` file
    read for its ``[tool.ledgerkit]`` table), e.g. one named with ``--config``."""
    path = Path(path)
    read = _read_regular(path)
    assert read is not None  # missing_ok is off
    raw = read[0]
    if path.name == PYPROJECT_NAME or path.suffix == ".toml":
        settings = _read_pyproject(path, raw)
        if settings is None:
            return Config(source=path)
    else:
        settings = _read_yaml(path, raw)
    data, where = settings
    return _build(data, path, where)


# --- reading ---------------------------------------------------------------------------------------------

_Keys = tuple[Any, ...]  # a setting's place: mapping keys as written, and _At positions in lists


class _At(int):
    """A position in a list, told apart from a mapping key (YAML keys may be integers too)."""


_Where = Callable[[_Keys], int | None]


def _read_regular(path: Path, *, missing_ok: bool = False) -> tuple[bytes, int] | None:
    """The bytes and owner of a regular file of at most MAX_BYTES; a FIFO or device is refused, never waited on."""
    from .files.read import MissingFile, NotRegularFile, ReadError, TooLarge, read_with_stat

    try:
        data, info = read_with_stat(path, limit=MAX_BYTES)
    except MissingFile:
        if missing_ok:
            return None
        raise _fail(path, None, "cannot read configuration: No such file or directory") from None
    except NotRegularFile as exc:
        kind = "a folder" if exc.file_type == "directory" else f"a {exc.file_type}"
        raise _fail(path, None, f"cannot read configuration: it is {kind}; only a regular file is read") from None
    except TooLarge:
        raise _fail(path, None, f"larger than {MAX_BYTES // 1024} KiB: too large to be a configuration") from None
    except ReadError as exc:
        raise _fail(path, None, f"cannot read configuration: {exc.message.removeprefix('cannot read: ')}") from None
    return data, info.st_uid


_WIDE_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}


def _decode(path: Path, raw: bytes) -> str:
    for bom, encoding in _WIDE_BOMS.items():  # UTF-32 first: its little-endian BOM begins with UTF-16's
        if raw.startswith(bom):
            raise _fail(path, 1, f"{encoding} text: a configuration is read as UTF-8; save it as UTF-8")
    if b"\0" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\0")) + 1
        raise _fail(path, line, "holds a NUL byte: a configuration is text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise _fail(path, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None


# --- YAML --------------------------------------------------------------------------------------------------


class _Unreadable(Exception):
    """A YAML value that cannot be built (a date past the calendar, an integer past Python's digit limit)."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line


@cache
def _yaml_classes() -> tuple[type, type]:
    """ruamel's round-trip scanner and constructor, bounded: nesting past MAX_DEPTH stops the scan (deep
    flow nesting costs ruamel quadratic time, then a RecursionError), floats are read exactly as Decimal from
    their written digits, booleans are plain, and a value that cannot be built names its line."""
    from ruamel.yaml.constructor import RoundTripConstructor, SafeConstructor
    from ruamel.yaml.scanner import RoundTripScanner

    class Scanner(RoundTripScanner):
        def _check_depth(self) -> None:
            if len(self.indents) + len(self.flow_context) >= MAX_DEPTH:
                raise _Unreadable(self.reader.line + 1, f"nests deeper than {MAX_DEPTH} levels")

        def fetch_flow_collection_start(self, token_class: Any, to_push: str) -> None:
            self._check_depth()
            super().fetch_flow_collection_start(token_class, to_push)

        def add_indent(self, column: int) -> bool:
            if self.indent < column:
                self._check_depth()
            return bool(super().add_indent(column))

    class Constructor(RoundTripConstructor):
        def construct_document(self, node: Any) -> Any:
            _count_merges(node)
            return super().construct_document(node)

        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep)
            except (ValueError, OverflowError) as exc:
                raise _Unreadable(node.start_mark.line + 1, _unreadable(exc)) from None

        def construct_decimal(self, node: Any) -> Decimal:
            return _yaml_decimal(str(self.construct_scalar(node)))

        def construct_plain_bool(self, node: Any) -> bool:
            return bool(SafeConstructor.construct_yaml_bool(self, node))

    Constructor.add_constructor("tag:yaml.org,2002:float", Constructor.construct_decimal)
    Constructor.add_constructor("tag:yaml.org,2002:bool", Constructor.construct_plain_bool)
    return Scanner, Constructor


def _count_merges(root: Any) -> None:
    """Refuse more than MAX_MERGES merges before ruamel builds them, in quadratic time (10,000: minutes).

    Walks the composed nodes once each, without recursion: aliases share nodes, so an alias bomb is no cost."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    seen: set[int] = set()
    stack = [root]
    merges = 0
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if key.tag == "tag:yaml.org,2002:merge":
                    merges += len(value.value) if isinstance(value, SequenceNode) else 1
                    if merges > MAX_MERGES:
                        raise _Unreadable(key.start_mark.line + 1, f"holds more than {MAX_MERGES} merge keys (<<)")
            stack += reversed([child for pair in node.value for child in pair])  # popped in document order
        elif isinstance(node, SequenceNode):
            stack += reversed(node.value)


def _unreadable(exc: Exception) -> str:
    """What a ValueError or OverflowError raised while building a value means to the person who wrote it."""
    if "integer string conversion" in str(exc):
        return f"holds a number of more than {sys.get_int_max_str_digits():,} digits: too large to read"
    return f"cannot read a value: {exc}"


def _yaml_decimal(written: str) -> Decimal:
    text = written.strip().lower()
    if text.lstrip("+-") in (".inf", ".nan"):
        return Decimal(text.replace(".", ""))  # Decimal('-inf') and Decimal('nan'): refused as non-finite later
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a number: {written!r}") from None


def _read_yaml(path: Path, raw: bytes) -> tuple[Mapping[str, Any], _Where]:
    """The settings of a ledgerkit.yaml and where each is written: a flat file without ruamel.yaml (importing
    it is a tenth of the pre-commit hook's start-up), anything else with it."""
    text = _decode(path, raw).removeprefix("\ufeff")
    flat = _read_flat_yaml(text)
    return flat if flat is not None else _read_yaml_with_ruamel(path, text)


#: A line of the flat subset of YAML that ``_read_flat_yaml`` reads: blank, a comment, or ``key: value`` at
#: column 0, where the value is a decimal integer or a plain string, followed by spaces or a `` # comment``.
#: Each part is drawn narrower than YAML allows, so that ruamel.yaml reads the same line the same way:
#: - keys of at most 64 characters (YAML refuses an implicit key past 1,024);
#: - integers from 1 to 18 digits without a leading zero (ruamel reads 0 and 007 as its own ScalarInt);
#: - strings that start with a letter, ``_`` or ``/``, or are ``.`` or begin ``./`` or ``..``: YAML resolves
#:   a plain scalar by its first character, and only ``+-.~<=!&*``, digits and the letters of true, false and
#:   null (also yes, no, on, off under YAML 1.1) start anything but a string (``.5`` and ``._5`` are floats);
#:   the words themselves are refused by ``_RESOLVED_WORDS``;
#: - no tab, no carriage return, and in comments only characters ruamel accepts that break no line (not
#:   U+0085, U+2028, U+2029) and no BOM.
# A comment's characters are judged by _flat_comment, not in the pattern: a character class of them made this the
# costliest pattern to compile (about 0.5 ms of every run of the hook), three times this one.
_FLAT_LINE = re.compile(
    r" *(?P<alone>#.*)?"
    r"|(?P<key>[a-z_][a-z0-9_]{0,63}): +"
    r"(?:(?P<int>-?[1-9][0-9]{0,17})|(?P<str>(?:[A-Za-z_/]|\.(?=[./ ]|$))[A-Za-z0-9_./-]*))"
    r"(?: *| +(?P<comment>#.*))"
)


def _flat_comment(comment: str | None) -> bool:
    """Whether a comment (or none) holds only what ruamel.yaml prints and takes as one line: no control
    character (C0, DEL, C1, so no tab, carriage return or NEL), no U+2028 or U+2029, no surrogate, no BOM, and
    neither U+FFFE nor U+FFFF (the same set is checked over every code point)."""
    return comment is None or not any(
        c < " " or "\x7f" <= c <= "\x9f" or "\ud800" <= c <= "\udfff" or c in "\u2028\u2029\ufeff\ufffe\uffff"
        for c in comment
    )


#: Words YAML 1.1 or 1.2 resolves to a bool or null, in any case (1.2 reads yes, no, on, off as strings, but
#: a %YAML 1.1 file would not: they go to ruamel.yaml, which knows the version).
_RESOLVED_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def _read_flat_yaml(text: str) -> tuple[Mapping[str, Any], _Where] | None:
    """A flat configuration (see ``_FLAT_LINE``) read as ruamel.yaml reads it, with the same values, types and
    lines; None for anything else, which ruamel.yaml then reads: a nested value, a quote, a repeated key."""
    data: dict[str, int | str] = {}
    lines: dict[str, int] = {}
    for number, line in enumerate(text.split("\n"), 1):
        m = _FLAT_LINE.fullmatch(line)
        if m is None or not _flat_comment(m.group("alone") or m.group("comment")):
            return None
        key, written = m.group("key"), m.group("str")
        if key is None:
            continue
        if key in data or key in _RESOLVED_WORDS or (written is not None and written.lower() in _RESOLVED_WORDS):
            return None
        data[key] = written if written is not None else int(m.group("int"))
        lines[key] = number
    return data, lambda keys: _flat_line(lines, keys)


def _flat_line(lines: Mapping[str, int], keys: _Keys) -> int | None:
    """The line of ``keys`` in a flat configuration: that of its first key, as ruamel's positions give it."""
    if not keys or isinstance(keys[0], _At):
        return None
    try:
        return lines.get(keys[0])
    except TypeError:  # an unhashable key is written nowhere
        return None


def _read_yaml_with_ruamel(path: Path, text: str) -> tuple[Mapping[str, Any], _Where]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt")
    yaml.Scanner, yaml.Constructor = _yaml_classes()
    try:
        data = yaml.load(text)
    except _Unreadable as exc:
        raise _fail(path, exc.line, str(exc)) from None
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise _fail(path, line, f"invalid YAML: {exc.problem or exc.context}") from None
    except YAMLError as exc:
        raise _fail(path, None, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise _fail(path, None, "nests too deeply to be read") from None
    except (ValueError, OverflowError) as exc:
        raise _fail(path, None, _unreadable(exc)) from None
    except Exception as exc:  # noqa: BLE001 - ruamel's own slips on hostile text (a list as a key: TypeError)
        if "unhashable" in str(exc):
            raise _fail(path, None, "invalid YAML: a mapping key is a list or a mapping") from None
        raise _fail(path, None, f"invalid YAML that ruamel.yaml cannot read ({type(exc).__name__}: {exc})") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise _fail(path, 1, "the configuration must be a mapping of settings")

    def where(keys: _Keys) -> int | None:
        node: Any = data
        line = None
        for key in keys:
            try:
                if isinstance(key, _At) and isinstance(node, list):
                    line = _positions(node).item(key)[0] + 1
                elif not isinstance(key, _At) and isinstance(node, Mapping) and key in node:
                    line = _positions(node).key(key)[0] + 1
                else:
                    break
            except (AttributeError, KeyError, IndexError, TypeError):
                break
            node = node[key]
        return line

    return data, where


def _positions(node: Any) -> Any:
    """ruamel's record of where a round-trip mapping's keys and a list's items are written."""
    return node.lc


# --- TOML --------------------------------------------------------------------------------------------------

_TABLE = ("tool", "ledgerkit")
_MANY_DOTS = 4000
_TOML_POSITION = r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)$"


def _read_pyproject(path: Path, raw: bytes) -> tuple[Mapping[str, Any], _Where] | None:
    """The ``[tool.ledgerkit]`` table of a pyproject.toml, or None when it holds none. The bytes are searched
    for "ledgerkit" before anything is decoded or parsed: most pyproject.toml files are passed over at that."""
    if not _mentions_ledgerkit(raw):
        return None
    import tomllib

    text = _decode(path, raw)
    places = _TomlPlaces.lazy(text)
    # tomllib takes quadratic time in the parts of a dotted key (20,000 parts: 10 s). Few dots bound that cost;
    # with many, the linear scan finds a key or nesting too deep before tomllib is given it.
    if text.count(".") > _MANY_DOTS and places().deep_line is not None:
        raise _fail(path, places().deep_line, f"nests deeper than {MAX_DEPTH} levels")
    try:
        doc = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(_TOML_POSITION, message)
        line = (int(m.group(1)) if m.group(1) else text.count("\n") + 1) if m else None
        raise _fail(path, line, f"invalid TOML: {message[: m.start()] if m else message}") from None
    except RecursionError:
        raise _fail(path, places().deep_line, "nests too deeply to be read") from None
    except (ValueError, OverflowError) as exc:  # an integer past Python's digit limit
        raise _fail(path, places().huge_line, _unreadable(exc)) from None
    return _ledgerkit_table(path, doc, places)


def _ledgerkit_table(
    path: Path, doc: dict[str, Any], places: Callable[[], _TomlPlaces]
) -> tuple[Mapping[str, Any], _Where] | None:
    """``tool.ledgerkit`` of a parsed pyproject.toml, checked to be a table of settings, or None."""
    tool = doc.get("tool")
    if tool is None:
        return None
    if not isinstance(tool, dict):
        raise _fail(path, places().line(("tool",)), "tool must be a table: [tool.ledgerkit] holds ledgerkit's settings")
    if "ledgerkit" not in tool:
        return None
    data = tool["ledgerkit"]
    if not isinstance(data, dict):
        raise _fail(path, places().line(_TABLE), "tool.ledgerkit must be a table of settings")
    for key, value in data.items():
        if _depth(value) >= MAX_DEPTH:
            raise _fail(path, places().line((*_TABLE, key)), f"{_text_key(key)}: nests deeper than {MAX_DEPTH} levels")
    return data, lambda keys: places().line((*_TABLE, *keys))


def _depth(value: Any) -> int:
    """How deeply a parsed TOML value nests tables and arrays, found without recursion (TOML has no aliases, so
    this visits each value once)."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


_WIDE_CODECS = ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")  # looked up only for a file with a wide BOM


def _mentions_ledgerkit(raw: bytes) -> bool:
    """Whether the bytes may hold the table: they say "ledgerkit", in UTF-8 or (after a BOM) in UTF-16 or UTF-32,
    which is then an error rather than a table silently passed over."""
    if b"ledgerkit" in raw:
        return True
    return raw.startswith(tuple(_WIDE_BOMS)) and any("ledgerkit".encode(codec) in raw for codec in _WIDE_CODECS)


# Patterns a pyproject.toml's scan compiles when it first runs (re caches them): most runs read no such file.
_BARE_KEY = r"[A-Za-z0-9_-]+"
_BARE_VALUE = r"[^,\]}#\r\n]*"
_DECIMAL_INT = r"[+-]?[0-9_]+"
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", "e": "\x1b", '"': '"', "\\": "\\"}


class _ScanError(Exception):
    """The text is not TOML as the scanner reads it; the lines found so far still stand."""


class _TomlPlaces:
    """Where each key of a TOML document is written: tomllib keeps no positions, so the text is scanned for
    them, iteratively (no recursion), the same way TOML defines tables, dotted keys, inline tables and arrays.
    Keys are recorded at their first line; list items by position. Run only when a line is asked for."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.places: dict[_Keys, int] = {}
        self.deep_line: int | None = None  # where nesting first passes MAX_DEPTH
        self.huge_line: int | None = None  # the first integer past Python's digit limit
        self._starts = [0, *(m.end() for m in re.finditer("\n", text))]
        try:
            self._scan()
        except (_ScanError, IndexError, ValueError):
            pass

    @staticmethod
    def lazy(text: str) -> Callable[[], _TomlPlaces]:
        scanned: list[_TomlPlaces] = []

        def places() -> _TomlPlaces:
            if not scanned:
                scanned.append(_TomlPlaces(text))
            return scanned[0]

        return places

    def line(self, keys: _Keys) -> int | None:
        """The line of ``keys``, else of the nearest enclosing key that is written."""
        for end in range(len(keys), 0, -1):
            if keys[:end] in self.places:
                return self.places[keys[:end]]
        return None

    def _line_at(self, pos: int) -> int:
        return bisect_right(self._starts, pos)

    def _record(self, keys: _Keys, pos: int, known: int = 0) -> None:
        line = self._line_at(pos)
        if len(keys) > MAX_DEPTH and self.deep_line is None:
            self.deep_line = line
        for end in range(known + 1, min(len(keys), MAX_DEPTH + 1) + 1):
            self.places.setdefault(keys[:end], line)

    @staticmethod
    def _child(parent: _Keys, *keys: Any) -> _Keys:
        """``parent`` extended by ``keys``, no longer than MAX_DEPTH + 1: a key of 100,000 dotted parts or arrays
        nested 5,000 deep are refused anyway, and growing their paths would cost quadratic time."""
        return parent if len(parent) > MAX_DEPTH else (*parent, *keys)[: MAX_DEPTH + 1]

    def _skip(self, i: int, newlines: bool = False) -> int:
        t, n = self.text, len(self.text)
        while i < n:
            c = t[i]
            if c in " \t" or (newlines and c in "\r\n"):
                i += 1
            elif c == "#":
                end = t.find("\n", i)
                i = n if end < 0 else end
            else:
                break
        return i

    def _key(self, i: int) -> tuple[tuple[str, ...], int]:
        t = self.text
        keys: list[str] = []
        while True:
            i = self._skip(i)
            if t[i] == '"':
                key, i = self._basic(i)
            elif t[i] == "'":
                end = t.index("'", i + 1)
                key, i = t[i + 1 : end], end + 1
            else:
                m = re.compile(_BARE_KEY).match(t, i)
                if not m:
                    raise _ScanError(i)
                key, i = m.group(), m.end()
            keys.append(key)
            i = self._skip(i)
            if t[i : i + 1] != ".":
                return tuple(keys), i
            i += 1

    def _basic(self, i: int) -> tuple[str, int]:
        """A one-line basic string at ``i``, decoded, and the position after it."""
        t = self.text
        out: list[str] = []
        i += 1
        while t[i] != '"':
            if t[i] == "\n":
                raise _ScanError(i)
            if t[i] != "\\":
                out.append(t[i])
                i += 1
            elif t[i + 1] in _ESCAPES:
                out.append(_ESCAPES[t[i + 1]])
                i += 2
            else:
                width = {"u": 4, "U": 8, "x": 2}.get(t[i + 1])
                if width is None:
                    raise _ScanError(i)
                out.append(chr(int(t[i + 2 : i + 2 + width], 16)))
                i += 2 + width
        return "".join(out), i + 1

    def _string(self, i: int) -> int:
        """The position after the string value at ``i`` (basic, literal, or either multi-line)."""
        t = self.text
        quote = t[i]
        if t.startswith(quote * 3, i):
            j = i + 3
            while not t.startswith(quote * 3, j):
                j += 2 if quote == '"' and t[j] == "\\" else 1
                if j >= len(t):
                    raise _ScanError(i)
            end = j + 3
            while end < len(t) and t[end] == quote and end - j < 5:  # up to two quotes end the content
                end += 1
            return end
        if quote == '"':
            return self._basic(i)[1]
        return t.index("'", i + 1) + 1

    def _scalar(self, i: int) -> int:
        t = self.text
        if t[i] in "\"'":
            return self._string(i)
        m = re.compile(_BARE_VALUE).match(t, i)
        assert m is not None  # the pattern matches the empty string
        token = m.group().strip()
        limit = sys.get_int_max_str_digits()
        if self.huge_line is None and limit and re.fullmatch(_DECIMAL_INT, token):
            if len(token.lstrip("+-").replace("_", "")) > limit:
                self.huge_line = self._line_at(i)
        if not token:
            raise _ScanError(i)
        return m.end()

    def _scan(self) -> None:
        """Walk the text statement by statement, value by value, as a small state machine: each state is a
        method that reads on from ``i`` and names the next state."""
        self._table: _Keys = ()
        self._keys: _Keys = ()
        self._stack: list[list[Any]] = []  # open inline tables and arrays: [bracket, keys, items so far]
        steps = {
            "statement": self._statement,
            "value": self._value,
            "after": lambda i: self._after(self._stack, i),
            "inline": self._inline,
            "items": self._items,
        }
        state, i = "statement", 0
        while state != "end":
            state, i = steps[state](i)

    def _statement(self, i: int) -> tuple[str, int]:
        t = self.text
        i = self._skip(i, newlines=True)
        if i >= len(t):
            return "end", i
        if t[i] == "[":
            close = "]]" if t.startswith("[[", i) else "]"
            header, i = self._key(i + len(close))
            if not t.startswith(close, i):
                raise _ScanError(i)
            self._table = self._child((), *header)
            self._record(self._table, i)
            return "statement", i + len(close)
        start = i
        key, i = self._key(i)
        self._keys = self._child(self._table, *key)
        self._record(self._keys, start, len(self._table))
        return "value", self._expect(i, "=")

    def _value(self, i: int) -> tuple[str, int]:
        t = self.text
        i = self._skip(i)
        if t[i] not in "[{":
            return "after", self._scalar(i)
        self._stack.append([t[i], self._keys, 0])
        if len(self._stack) > MAX_DEPTH and self.deep_line is None:
            self.deep_line = self._line_at(i)
        return ("items" if t[i] == "[" else "inline"), i + 1

    def _inline(self, i: int) -> tuple[str, int]:
        i = self._skip(i, newlines=True)
        if self.text[i] == "}":
            self._stack.pop()
            return "after", i + 1
        start = i
        key, i = self._key(i)
        self._keys = self._child(self._stack[-1][1], *key)
        self._record(self._keys, start, len(self._stack[-1][1]))
        return "value", self._expect(i, "=")

    def _items(self, i: int) -> tuple[str, int]:
        """The next item of an array, or its end."""
        i = self._skip(i, newlines=True)
        if self.text[i] == "]":
            self._stack.pop()
            return "after", i + 1
        self._keys = self._child(self._stack[-1][1], self._stack[-1][2])
        self._record(self._keys, i, len(self._keys) - 1)
        return "value", i

    def _expect(self, i: int, char: str) -> int:
        i = self._skip(i)
        if self.text[i] != char:
            raise _ScanError(i)
        return i + 1

    def _after(self, stack: list[list[Any]], i: int) -> tuple[str, int]:
        """After a value: the next statement, the next key of an inline table, or the next array item."""
        if not stack:
            return "statement", i
        t = self.text
        i = self._skip(i, newlines=True)
        if t[i] == ",":
            if stack[-1][0] == "[":
                stack[-1][2] += 1
                return "items", i + 1
            return "inline", i + 1
        if t[i] == ("]" if stack[-1][0] == "[" else "}"):
            stack.pop()
            return "after", i + 1
        raise _ScanError(i)


# --- validation ------------------------------------------------------------------------------------------


class _Problems:
    """The problems found while validating one file, each at the keys it concerns."""

    def __init__(self) -> None:
        self.found: list[tuple[_Keys, str]] = []

    def add(self, keys: _Keys, message: str) -> None:
        self.found.append((keys, message))

    def read(self, keys: _Keys, reader: Callable[[Any], Any], value: Any) -> Any:
        """``reader(value)``, or None after recording the ValueError it raised as a problem at ``keys``."""
        try:
            return reader(value)
        except ValueError as exc:
            self.add(keys, str(exc))
            return None

    def since(self, count: int) -> bool:
        """Whether a problem was recorded after the first ``count``."""
        return len(self.found) > count

    def error(self, path: Path, where: _Where) -> ConfigProblems:
        located = [(where(keys), f"{_label(keys)}: {message}" if keys else message) for keys, message in self.found]
        located.sort(key=lambda item: item[0] if item[0] is not None else sys.maxsize)
        if len(located) > MAX_PROBLEMS:
            rest = len(located) - MAX_PROBLEMS
            located = [*located[:MAX_PROBLEMS], (None, f"and {rest} more problem{'s' if rest > 1 else ''}")]
        return ConfigProblems(path, located)


def _label(keys: _Keys) -> str:
    return ".".join(_text_key(k) for k in keys if not isinstance(k, _At))


def _text_key(key: Any) -> str:
    return key if isinstance(key, str) and len(key) <= 60 else _shown(key)


def _shown(value: Any) -> str:
    """A value as a message shows it: bounded, and never by walking a container (YAML aliases can make one
    exponentially large, or recursive)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return str(int(value)) if value.bit_length() <= 128 else "a number too large to read"
    if isinstance(value, Decimal):
        shown = str(value)
        return shown if len(shown) <= 40 else "a number too long to read"
    if isinstance(value, str):
        shown = repr(str(value))
        return shown if len(shown) <= 62 else shown[:58] + "...'"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple, set)):
        return "a list"
    if isinstance(value, date):
        return value.isoformat()
    return f"a value of type {type(value).__name__}"


class _Origin(NamedTuple):
    """Where a configuration lies: its folder (relative paths start there) and the tree it may point into."""

    folder: Path
    tree: Path
    in_git: bool


def _origin(path: Path) -> _Origin:
    folder = Path(os.path.realpath(path)).parent
    top = find_git_top(folder)
    return _Origin(folder, top or folder, top is not None)


def _build(data: Mapping[str, Any], path: Path, where: _Where) -> Config:
    origin = _origin(path)
    problems = _Problems()
    changes: dict[str, Any] = {}
    for key, value in data.items():
        keys: _Keys = (key,)
        reader = _SETTINGS.get(key) if isinstance(key, str) else None
        if reader is None:
            problems.add(keys, f"unknown setting (known: {', '.join(sorted(KNOWN_KEYS))})")
            continue
        count = len(problems.found)
        result = reader(value, keys, problems, origin)
        if not problems.since(count) and result is not None:
            changes[key] = result
    if problems.found:
        raise problems.error(path, where)
    return Config(source=path, **changes)


_Reader = Callable[[Any, _Keys, _Problems, _Origin], Any]


def _simple(reader: Callable[[Any], Any]) -> _Reader:
    """A setting read by a function of its value alone, which raises ValueError for one problem."""
    return lambda value, keys, problems, origin: problems.read(keys, reader, value)


# --- values ------------------------------------------------------------------------------------------------

_NUMBER = r"^\s*(\d+(?:\.\d+)?)\s*%?\s*$"  # compiled when a setting is first read as a number
#: Bounds that keep exact arithmetic on figures cheap and every figure printable.
_MAX_PERCENT = 1_000_000
_MAX_COUNT = 10**15
_MAX_PRICE = 1_000_000


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _decimal(value: Any, places: int) -> Decimal | None:
    """An int, a Decimal (a written float) or a plain decimal string, exactly; None when it is none of those.

    Exponents are bounded before anything is computed: Fraction(Decimal('1e999999999')) would not finish."""
    if _is_int(value):
        return Decimal(int(value)) if value.bit_length() <= 128 else None
    if isinstance(value, str):
        m = re.match(_NUMBER, value) if len(value) <= 60 else None
        return Decimal(m.group(1)) if m else None
    if isinstance(value, Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        assert isinstance(exponent, int)  # finite
        return value if -places <= exponent and value.adjusted() <= 30 else None
    return None


def _number(value: Any) -> Fraction:
    """A non-negative percentage or count of points, exactly, as written (70, 80.5, "12.5%")."""
    number = _decimal(value, 30)
    if number is None or number < 0:
        raise ValueError(f"expected a number, got {_shown(value)}")
    if number > _MAX_PERCENT:
        raise ValueError(f"expected a number up to {_MAX_PERCENT:,}, got {_shown(value)}")
    return Fraction(number)


def _positive_int(value: Any) -> int:
    if not _is_int(value) or value <= 0:
        raise ValueError(f"expected a positive whole number, got {_shown(value)}")
    if value > _MAX_COUNT:
        raise ValueError(f"expected a positive whole number up to 10**15, got {_shown(value)}")
    return int(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_shown(value)}")
    return value


def _price(value: Any) -> Decimal:
    """USD per million tokens, exactly as written: 2.5, "2.50", 0 (never through a float)."""
    price = _decimal(value, 12)
    if price is None or price < 0:
        raise ValueError(f"expected a price in USD per million tokens such as 2.5 or '2.50', got {_shown(value)}")
    if price >= _MAX_PRICE:
        raise ValueError(f"expected a price below {_MAX_PRICE:,} USD per million tokens, got {_shown(value)}")
    return price


def _name(value: Any, what: str = "a name") -> str:
    """Non-empty text without spaces or control characters (a model id, provider or alias): the characters
    :data:`~ledgerkit.errors.CONTROLS` names, C1 and bidirectional ones too, which a table would show."""
    if not isinstance(value, str) or not re.fullmatch(rf"[^\s{CONTROLS}]+", value.strip()):
        raise ValueError(f"expected {what} (text without spaces or control characters), got {_shown(value)}")
    return value.strip()


def _day(value: Any) -> date:
    if type(value) is date:
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    if isinstance(value, datetime):
        raise ValueError(f"expected a date YYYY-MM-DD without a time, got {_shown(value)}")
    raise ValueError(f"expected a date YYYY-MM-DD, got {_shown(value)}")


def _folder(key: str) -> _Reader:
    purpose = "measure from there" if key == "root" else "use it"

    def read(value: Any, keys: _Keys, problems: _Problems, origin: _Origin) -> Path | None:
        if not isinstance(value, str) or not value.strip():
            problems.add(keys, f"expected a folder path, got {_shown(value)}")
            return None
        try:
            resolved = Path(os.path.realpath(origin.folder / value))
        except (OSError, ValueError) as exc:  # a NUL byte, a path too long
            problems.add(keys, f"cannot resolve {_shown(value)}: {exc}")
            return None
        if resolved.is_relative_to(origin.tree):
            return resolved
        written = value if str(resolved) == value else f"{value} ({resolved})"
        tree = "the git work tree of this configuration" if origin.in_git else "the folder of this configuration"
        problems.add(
            keys,
            f"{written} is outside {origin.tree}, {tree}; a configuration may only point inside its own tree; "
            f"pass --{key} {resolved} on the command line to {purpose}",
        )
        return None

    return read


def _run_id_prefix(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", value):
        raise ValueError(f"expected letters, digits, - and _, got {_shown(value)}")
    return value


def _encoding(value: Any) -> str:
    from .tokens.names import exact_problem  # loads no encoding

    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected an encoding name such as o200k_base, got {_shown(value)}")
    problem = exact_problem(value.strip())
    if problem is not None:
        raise ValueError(problem)
    return value.strip()


def _margin(value: Any) -> Fraction:
    margin = _number(value)
    if margin >= 100:
        raise ValueError(f"expected a percentage below 100, got {_shown(value)}")
    return margin


def _thresholds(value: Any, keys: _Keys, problems: _Problems, origin: _Origin) -> Thresholds | None:
    if not isinstance(value, Mapping):
        problems.add(keys, "expected a mapping such as {ALERT70: 70, ALERT85: 85, ALERT95: 95, MINIMAL: 100}")
        return None
    count = len(problems.found)
    levels = {}
    for name, level in value.items():
        if name not in ACTIONS[1:]:
            problems.add((*keys, name), f"unknown threshold (known: {', '.join(ACTIONS[1:])})")
            continue
        levels[name.lower()] = problems.read((*keys, name), _number, level)
    if problems.since(count):
        return None
    result = Thresholds(**levels)
    ordered = [result.alert70, result.alert85, result.alert95, result.minimal]
    if ordered != sorted(ordered):
        problems.add(keys, "thresholds must rise: ALERT70 <= ALERT85 <= ALERT95 <= MINIMAL")
        return None
    return result


def _allocation(value: Any, keys: _Keys, problems: _Problems, origin: _Origin) -> dict[str, Fraction] | None:
    if not isinstance(value, Mapping) or not value:
        problems.add(keys, "expected a mapping of share name to percent, e.g. {system: 10, margin: 10, ...}")
        return None
    count = len(problems.found)
    shares = {}
    for name, share in value.items():
        if not isinstance(name, str) or not name.strip():
            problems.add(keys, f"expected a share name, got {_shown(name)}")
            continue
        shares[name] = problems.read((*keys, name), _number, share)
    if problems.since(count):
        return None
    total = sum(shares.values())
    if total != 100:
        problems.add(keys, f"shares must sum to 100%, they sum to {plain_number(total)}%")
        return None
    return shares


def _items(
    value: Any, keys: _Keys, problems: _Problems, what: str, read: Callable[[Any], str]
) -> tuple[str, ...] | None:
    """A list of text items, each read by ``read`` (which raises ValueError); every bad item is a problem."""
    if not isinstance(value, list):
        problems.add(keys, f"expected a list of {what}, got {_shown(value)}")
        return None
    count = len(problems.found)
    items = tuple(problems.read((*keys, _At(index)), read, item) for index, item in enumerate(value))
    return None if problems.since(count) else items


def _frozen_path(value: Any) -> str:
    """A path or glob under the source root, normalised: no leading / or ./, no empty or . segments."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a path or glob under the source root, got {_shown(value)}")
    if "\0" in value:
        raise ValueError(f"a path may not hold a NUL byte, got {_shown(value)}")
    parts = [part for part in value.strip().split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"{_shown(value)} leaves the source root: frozen paths may not hold '..'")
    if not parts:
        raise ValueError(f"{_shown(value)} names the whole source root; name the frozen folder, e.g. ssot/**")
    return "/".join(parts)


def _frozen(value: Any, keys: _Keys, problems: _Problems, origin: _Origin) -> tuple[str, ...] | None:
    return _items(value, keys, problems, "paths or globs under the source root, e.g. [ssot/**]", _frozen_path)


def _code(value: Any) -> str:
    from .diagnostics import CODES

    if not isinstance(value, str) or not re.fullmatch(r"LK\d{0,3}", value):
        raise ValueError(f"expected a code or prefix such as LK512, LK5 or LK, got {_shown(value)}")
    if not any(code.startswith(value) for code in CODES):
        raise ValueError(f"no diagnostic code starts with {value} (see docs/codes.md)")
    return value


def _codes(value: Any, keys: _Keys, problems: _Problems, origin: _Origin) -> tuple[str, ...] | None:
    return _items(value, keys, problems, "codes or prefixes such as [LK5, LK601]", _code)


def _aliases(value: Any, keys: _Keys, problems: _Problems, origin: _Origin) -> tuple[str, ...] | None:
    return _items(value, keys, problems, "alias ids", lambda v: _name(v, "an alias"))


#: The settings of one model under ``models:``, each read like a top-level setting.
_MODEL_FIELDS: dict[str, _Reader] = {
    "provider": _simple(lambda v: _name(v, "a provider name")),
    "context_window": _simple(_positive_int),
    "max_output": _simple(_positive_int),
    "output_in_window": _simple(_boolean),
    "input_price": _simple(_price),
    "output_price": _simple(_price),
    "encoding": _simple(lambda v: _name(v, "an encoding name")),
    "aliases": _aliases,
    "deprecated": _simple(_boolean),
    "as_of": _simple(_day),
}


def _models(value: Any, keys: _Keys, problems: _Problems, origin: _Origin) -> tuple[ModelOverride, ...] | None:
    if not isinstance(value, Mapping):
        problems.add(keys, "expected a mapping of model id to its settings, e.g. {my-model: {context_window: 8192}}")
        return None
    count = len(problems.found)
    models = []
    for model_id, settings in value.items():
        name = problems.read((*keys, model_id), lambda v: _name(v, "a model id"), model_id)
        model = _model(name, settings, (*keys, model_id), problems, origin)
        if name is not None and model is not None:
            models.append(model)
    return None if problems.since(count) else tuple(models)


def _model(model_id: str, settings: Any, keys: _Keys, problems: _Problems, origin: _Origin) -> ModelOverride | None:
    if not isinstance(settings, Mapping):
        problems.add(keys, "expected a mapping of model settings, e.g. {provider: openai, context_window: 8192}")
        return None
    count = len(problems.found)
    fields: dict[str, Any] = {}
    for name, setting in settings.items():
        reader = _MODEL_FIELDS.get(name) if isinstance(name, str) else None
        if reader is None:
            problems.add((*keys, name), f"unknown model setting (known: {', '.join(sorted(_MODEL_FIELDS))})")
        else:
            fields[name] = reader(setting, (*keys, name), problems, origin)
    if fields.get("aliases") is None:
        fields.pop("aliases", None)
    return None if problems.since(count) else ModelOverride(model_id, **fields)


_SETTINGS: dict[str, _Reader] = {
    "root": _folder("root"),
    "templates": _folder("templates"),
    "divisor": _simple(_positive_int),
    "budget": _simple(_positive_int),
    "thresholds": _thresholds,
    "allocation": _allocation,
    "allocation_tolerance": _simple(_number),
    "run_id_prefix": _simple(_run_id_prefix),
    "encoding": _simple(_encoding),
    "undercount_margin": _simple(_margin),
    "frozen": _frozen,
    "select": _codes,
    "ignore": _codes,
    "model": _simple(lambda v: _name(v, "a model id")),
    "models": _models,
}
assert set(_SETTINGS) == set(KNOWN_KEYS)
