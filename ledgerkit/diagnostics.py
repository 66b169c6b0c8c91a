"""Diagnostics: problems found in a ledger, reported together as ``path:line:col: CODE message``.

Every code is registered here once with its severity and a one-line summary; ``docs/codes.md`` lists
them and a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from .errors import printable

ERROR = "error"
WARNING = "warning"

#: code -> (severity, summary). Codes are stable: never reuse or renumber one.
CODES: dict[str, tuple[str, str]] = {
    # LK1xx: the ledger's own text
    "LK101": (ERROR, "a field appears twice in one record"),
    "LK102": (ERROR, "a figure field holds more than one placeholder"),
    "LK103": (ERROR, "a figure cannot be read as a number"),
    "LK104": (ERROR, "a record to be measured names no SOURCE_FILES"),
    "LK105": (ERROR, "no budget: BUDGET_C is a placeholder and no SESSION_BUDGET_C is declared"),
    "LK106": (ERROR, "THRESHOLD_ACTION is not one of NONE, ALERT70, ALERT85, ALERT95, MINIMAL"),
    "LK107": (ERROR, "BUDGET_C or SESSION_BUDGET_C is 0"),
    "LK108": (ERROR, "a placeholder is still waiting to be filled (verify --require-filled)"),
    "LK109": (ERROR, "the cumulative summary holds text fill does not own among its items"),
    "LK110": (WARNING, "a second section is titled as the cumulative summary"),
    # LK2xx: the sources a record names
    "LK201": (ERROR, "source file not found"),
    "LK202": (ERROR, "source is a directory"),
    "LK203": (ERROR, "source is a binary file"),
    "LK204": (ERROR, "source is not UTF-8 text"),
    "LK205": (ERROR, "source leaves the source root"),
    "LK206": (ERROR, "source glob or folder matches no file (or no text file)"),
    "LK207": (ERROR, "source line range is invalid or beyond the end of the file"),
    "LK208": (ERROR, "source cannot be read"),
    "LK209": (ERROR, "source is not a regular file"),
    "LK210": (WARNING, "a record lists the same source twice (it is counted once)"),
    # LK3xx: figures that disagree with each other
    "LK301": (ERROR, "TOKEN_ESTIMATE is not ceil(CHAR_COUNT / N)"),
    "LK302": (ERROR, "UTILIZATION is not TOKEN_ESTIMATE / BUDGET_C as fill writes it"),
    "LK303": (ERROR, "THRESHOLD_ACTION is not the one the utilization calls for"),
    "LK304": (ERROR, "COST_ESTIMATE is not the input cost of the record's tokens at its model's price"),
    "LK305": (WARNING, "BUDGET_C is more than the record's model can hold"),
    "LK306": (ERROR, "MODEL names no model ledgerkit knows"),
    "LK307": (ERROR, "COST_ESTIMATE cannot be priced: no model, no price, or no token figure"),
    # LK4xx: allocation
    "LK401": (ERROR, "a record's DISTRIBUTION does not sum to 100%"),
    "LK402": (ERROR, "the allocation policy does not sum to 100%"),
    "LK403": (ERROR, "a share is further from the configured policy than the tolerance allows"),
    "LK404": (ERROR, "a DISTRIBUTION entry is not a share"),
    # LK5xx: schema
    "LK501": (ERROR, "RUN_ID does not read PREFIX-YYYYMMDD-NNN"),
    "LK502": (ERROR, "RUN_ID is used twice"),
    "LK503": (ERROR, "RUN_IDs do not increase down the ledger"),
    "LK504": (ERROR, "RUN_ID's date is not LOCAL_TS's date"),
    "LK505": (ERROR, "a timestamp cannot be read"),
    "LK506": (ERROR, "LOCAL_TS and UTC_TS name different instants"),
    "LK507": (ERROR, "a record's time is earlier than the record above it"),
    "LK508": (ERROR, "SCOPE is not one of CONV, UNIT, TASK, SESSION, PROJECT"),
    "LK511": (ERROR, "a record lacks a field of the schema"),
    "LK512": (WARNING, "a field that is not in the schema"),
    # LK6xx: the append-only history
    "LK601": (ERROR, "an earlier record was edited"),
    "LK602": (ERROR, "an earlier record was removed"),
    "LK603": (ERROR, "earlier records were reordered"),
    "LK604": (ERROR, "a record was inserted before the end"),
    "LK605": (ERROR, "a filled value changed"),
    "LK606": (ERROR, "a filled value went back to a placeholder"),
    "LK607": (ERROR, "a run was renamed"),
    "LK608": (ERROR, "the base version cannot be read from git"),
    "LK609": (ERROR, "a commit added, changed or removed a file under a frozen path"),
    "LK610": (ERROR, "a committed version of the ledger cannot be read as text"),
    # LK7xx: exact token counts
    "LK701": (ERROR, "TOKEN_COUNT names no encoding, or one that cannot give an exact count"),
    "LK702": (ERROR, "TOKEN_COUNT's encoding is not available here, offline"),
    "LK703": (WARNING, "TOKEN_ESTIMATE undercounts the exact token count by more than the margin"),
    # LK8xx: the ledger's own instructions to ledgerkit
    "LK801": (WARNING, "a suppression comment silences nothing"),
}


class Diagnostic:
    """One problem at ``path:line:column`` (both 1-based). Immutable by convention; equal, hashed and ordered
    by its fields (those of :attr:`fields`, which a subclass extends), like a frozen, ordered dataclass.

    A plain class with slots rather than a dataclass: the hook's every run imports it, and generating a
    dataclass's methods cost more than a millisecond of its start-up (issue 12).
    """

    __slots__ = ("path", "line", "column", "code", "message")
    fields: ClassVar[tuple[str, ...]] = __slots__

    def __init__(self, path: str, line: int, column: int, code: str, message: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.code = code
        self.message = message

    def values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.fields)

    def as_dict(self) -> dict[str, Any]:
        """Every field by name, in order (a JSON object's keys)."""
        return dict(zip(self.fields, self.values(), strict=True))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Diagnostic)
        return self.values() == other.values()

    def __lt__(self, other: Diagnostic) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.values() < other.values()

    def __hash__(self) -> int:
        return hash(self.values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in zip(self.fields, self.values(), strict=True))
        return f"{type(self).__name__}({shown})"

    @property
    def severity(self) -> str:
        return CODES[self.code][0]

    def format(self) -> str:
        """``path:line:col: CODE message``; a warning says so: ``path:line:col: CODE [warning] message``."""
        mark = "" if self.severity == ERROR else f"[{self.severity}] "
        return printable(f"{self.path}:{self.line}:{self.column}: {self.code} {mark}{self.detail()}")

    def detail(self) -> str:
        """The message as shown; a subclass may say more (verify --history: the commit that caused it)."""
        return self.message


def steer(
    diagnostics: Iterable[Diagnostic], select: Sequence[str] = (), ignore: Sequence[str] = ()
) -> list[Diagnostic]:
    """The diagnostics whose code starts with one of ``select`` (all when empty) and none of ``ignore``."""
    chosen = tuple(select)
    dropped = tuple(ignore)
    return [d for d in diagnostics if (not chosen or d.code.startswith(chosen)) and not d.code.startswith(dropped)]


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == ERROR for d in diagnostics)


def format_text(diagnostics: Iterable[Diagnostic]) -> str:
    return "".join(d.format() + "\n" for d in diagnostics)


def format_json(diagnostics: Iterable[Diagnostic]) -> str:
    from .reports.formatting import json_text  # json's text, and a file name that is not UTF-8 kept whole

    return json_text([{**d.as_dict(), "severity": d.severity} for d in diagnostics], end="\n")


def _github_escape(value: str, *, property: bool = False) -> str:
    # The workflow-command escaping GitHub documents (actions/toolkit, command.ts).
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return printable(value)


def github_annotation(severity: str, path: str, line: int, column: int, title: str, message: str) -> str:
    """One GitHub Actions workflow command (``::error file=...,line=...::message``)."""
    props = ",".join(
        [
            f"file={_github_escape(path, property=True)}",
            f"line={line}",
            f"col={column}",
            f"title={_github_escape(title, property=True)}",
        ]
    )
    return f"::{severity} {props}::{_github_escape(message)}\n"


def format_github(diagnostics: Iterable[Diagnostic]) -> str:
    return "".join(
        github_annotation(d.severity, d.path, d.line, d.column, d.code, f"{d.code} {d.detail()}") for d in diagnostics
    )


def fatal(message: str, output_format: str, path: str | None = None, line: int | None = None) -> str:
    """A problem that stops the run, in the format asked for: one line of text, a JSON array holding an
    object with ``"severity": "fatal"``, or a GitHub ``::error::`` annotation."""
    if output_format == "json":
        from .reports.formatting import json_text

        item = {"path": path, "line": line, "column": None, "code": None, "message": message, "severity": "fatal"}
        return json_text([item], end="\n")
    if output_format == "github":
        props = ""
        if path is not None:
            props = f" file={_github_escape(path, property=True)}" + ("" if line is None else f",line={line}")
        return f"::error{props}::{_github_escape('ledgerkit: ' + message)}\n"
    where = "" if path is None else (f"{path}: " if line is None else f"{path}:{line}: ")
    return printable(f"ledgerkit: {where}{message}") + "\n"


FORMATTERS = {"text": format_text, "json": format_json, "github": format_github}
