"""The read stage: a record's fields turned into typed values with the schema, and every problem reading
them, each reported once.

Nothing after this stage reads a field's raw text: fill, verify, the reports, export, append and the
history check all take these values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any, Generic, NamedTuple, TypeVar

from ..diagnostics import Diagnostic
from ..schema import (
    CURRENCY,
    FIELDS,
    Kind,
    formula_divisor,
    read_action,
    read_integer,
    read_local_time,
    read_money,
    read_percent,
    read_scope,
    read_share,
    read_utc_time,
)
from .parse import Entry, Field, Ledger, Record, Share

T = TypeVar("T")

#: The session of a record that names no CONTEXT_ID.
NO_CONTEXT = "(no CONTEXT_ID)"


class State(Enum):
    MISSING = "missing"  # the record has no such field
    EMPTY = "empty"  # the field is there with nothing after its key
    WAITING = "waiting"  # it holds a placeholder: a figure still to be filled
    WRITTEN = "written"  # it holds a value that reads whole
    UNREADABLE = "unreadable"  # it holds text that is not a value of its kind (reported)


class Value(NamedTuple, Generic[T]):
    """One field's value as the record holds it."""

    field: Field | None
    state: State
    value: T | None = None

    @property
    def written(self) -> T | None:
        """The value when it is written and readable, else None."""
        return self.value if self.state is State.WRITTEN else None

    @property
    def waiting(self) -> bool:
        return self.state is State.WAITING

    @property
    def open(self) -> bool:
        """True when nothing is written there (a placeholder, nothing, or no field): a figure to compute."""
        return self.state in (State.WAITING, State.EMPTY, State.MISSING)


class TokenCount(NamedTuple):
    """A ``TOKEN_COUNT (encoding)`` field: its encoding (None when unusable, and reported) and value."""

    field: Field
    encoding: str | None
    value: Value[int]


class RecordValues(NamedTuple):
    """A record's fields as typed values, with the problems met reading them."""

    record: Record
    path: str  # the ledger's, as diagnostics show it
    local_ts: Value[datetime]
    utc_ts: Value[datetime]
    scope: Value[str]
    context_id: str | None
    sources: tuple[Entry, ...]  # the SOURCE_FILES entries, as written
    chars: Value[int]
    tokens: Value[int]
    divisor: int
    budget: Value[int]
    utilization: Value[Fraction]
    distribution: tuple[Share, ...]
    action: Value[str]
    notes: tuple[str, ...]
    token_counts: tuple[TokenCount, ...]
    model: Value[str]
    cost: Value[Decimal]
    problems: tuple[tuple[str, Diagnostic], ...]  # (the field's key, the problem)

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def session(self) -> str:
        return self.context_id or NO_CONTEXT

    @property
    def moment(self) -> datetime | None:
        """The record's instant: UTC_TS, else LOCAL_TS."""
        return self.utc_ts.written or self.local_ts.written

    def problems_of(self, keys: frozenset[str]) -> list[Diagnostic]:
        return [d for key, d in self.problems if key in keys]

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for _, d in self.problems]


_MISSING: Value[Any] = Value(None, State.MISSING)  # no field: the same value for every record
_WRITTEN = State.WRITTEN
_new = tuple.__new__

#: The fields whose problems stop fill from filling a record (the others are verify's to report).
FIGURE_KEYS = frozenset(key for key, spec in FIELDS.items() if spec.figure) | {"SOURCE_FILES", "MODEL"}


#: What a value's text reads as, for a field whose text read without a problem: (its key, its text) to (its state,
#: its value). A caller reading many records of one ledger keeps one for them all (records repeat their values).
Known = dict[tuple[str, str], tuple[State, Any]]


def read_values(record: Record, ledger: Ledger, divisor: int, known: Known | None = None) -> RecordValues:
    """Read every field of a record; ``divisor`` is the configured one, for an estimate without a formula.

    ``known``, kept across the records of a ledger, remembers what each value's text read as."""
    return _Read(record, ledger.display_path, known).values(divisor)


# --- reading -------------------------------------------------------------------------------------------

# Each reader remembers the texts it read last (schema.py): records repeat their values.
_READERS: dict[Kind, Callable[[str], Any]] = {
    Kind.INTEGER: read_integer,
    Kind.ESTIMATE: read_integer,
    Kind.EXACT_COUNT: read_integer,
    Kind.PERCENT: read_percent,
    Kind.ACTION: read_action,
    Kind.SCOPE: read_scope,
    Kind.LOCAL_TIME: read_local_time,
    Kind.UTC_TIME: read_utc_time,
    Kind.MONEY: read_money,
}

#: How an unreadable value of each kind is reported: its code and what it should have been.
_UNREADABLE = {
    Kind.INTEGER: "LK103",
    Kind.ESTIMATE: "LK103",
    Kind.EXACT_COUNT: "LK103",
    Kind.PERCENT: "LK103",
    Kind.MONEY: "LK103",
    Kind.ACTION: "LK106",
    Kind.SCOPE: "LK508",
    Kind.LOCAL_TIME: "LK505",
    Kind.UTC_TIME: "LK505",
}

#: Said when a number's digits are there but it cannot be read whole (130_000, 130 000, 12,34).
_NUMBER_HINT = "; write digits only, or groups of three with commas (130000 or 130,000)"
_NUMBERS = (Kind.INTEGER, Kind.ESTIMATE, Kind.EXACT_COUNT)


#: Each field's (whether fill computes it, the reader of its kind, its kind), looked up once per value.
_BY_KEY: dict[str, tuple[bool, Callable[[str], Any] | None, Kind]] = {
    key: (spec.figure, _READERS.get(spec.kind), spec.kind) for key, spec in FIELDS.items()
}


def _hint(kind: Kind, text: str) -> str:
    value = text.rsplit("=", 1)[-1].lstrip(" \t≈~")
    return _NUMBER_HINT if kind in _NUMBERS and value[:1].isdigit() else ""


class _Read:
    """Reads one record, collecting its problems."""

    __slots__ = ("counts", "first", "known", "path", "problems", "record")

    def __init__(self, record: Record, path: str, known: Known | None = None) -> None:
        self.record = record
        self.path = path
        self.known = known
        self.problems: list[tuple[str, Diagnostic]] = []
        self.counts: list[Field] = []  # one per encoding: see _token_counts
        fields = record.fields
        first = {f.key: f for f in reversed(fields)}  # the first of each key is the last one set
        if len(first) == len(fields) and "TOKEN_COUNT" not in first:
            self.first = first  # the common case: every key once, and no exact count
            return
        first = {}
        for f in fields:
            key = f.key
            if key == "TOKEN_COUNT":
                self.counts.append(f)
            elif key not in first:
                first[key] = f
            elif key in FIELDS:
                self._report(key, f.line, f.column, "LK101", f"{key} appears twice in record {record.run_id}; keep one")
        self.first = first

    def _report(self, key: str, line: int, column: int, code: str, message: str) -> None:
        self.problems.append((key, Diagnostic(self.path, line, column, code, message)))

    def values(self, divisor: int) -> RecordValues:
        value = self.value
        tokens = value("TOKEN_ESTIMATE")
        tokens_field = tokens.field
        formula = formula_divisor(tokens_field.text) if tokens_field is not None else None
        budget = value("BUDGET_C")
        if budget.value == 0 and budget.state is _WRITTEN:
            assert budget.field is not None
            f = budget.field
            self._report(
                "BUDGET_C", f.line, f.value_column, "LK107", "BUDGET_C is 0; a budget is a positive whole number"
            )
            budget = _new(Value, (budget.field, State.UNREADABLE, None))
        get = self.first.get
        context = get("CONTEXT_ID")
        # In the fields' order, so that the problems are met in the same order as ever (their sort is stable).
        local_ts = value("LOCAL_TS")
        utc_ts = value("UTC_TS")
        scope = value("SCOPE")
        context_id = (context.text.strip() or None) if context is not None else None
        sources = _source_entries(get("SOURCE_FILES"))
        chars = value("CHAR_COUNT")
        utilization = value("UTILIZATION")
        distribution = self._distribution()
        action = value("THRESHOLD_ACTION")
        notes = self._notes()
        token_counts = self._token_counts() if self.counts else ()
        model = value("MODEL")
        cost = self._cost()
        problems = tuple(sorted(self.problems, key=_place)) if self.problems else ()
        # tuple.__new__ skips the NamedTuple's generated __new__ and its keywords: this runs once per record.
        return _new(
            RecordValues,
            (
                self.record,
                self.path,
                local_ts,
                utc_ts,
                scope,
                context_id,
                sources,
                chars,
                tokens,
                formula or divisor,
                budget,
                utilization,
                distribution,
                action,
                notes,
                token_counts,
                model,
                cost,
                problems,
            ),
        )

    def value(self, key: str) -> Value[Any]:
        """A field of a scalar kind, read with the schema's reader for it."""
        f = self.first.get(key)
        if f is None:
            return _MISSING
        if self.known is not None:  # _read's first step, here without a call: most values were met before
            found = self.known.get((key, f.value if not f.more else f.text))
            if found is not None:
                return _new(Value, (f, found[0], found[1]))
        return self._read(key, f)

    def _read(self, key: str, f: Field) -> Value[Any]:
        text = f.value if not f.more else f.text
        known = self.known
        if known is None or key in _OWN:
            return self._judge(key, f, text)
        # A field's reading is its text's (a placeholder's too: it is found in the text whether or not the value
        # continues on further lines), but for the problems it reports, which name the field: only a reading
        # without a problem is remembered.
        found = known.get((key, text))
        if found is not None:
            return _new(Value, (f, found[0], found[1]))
        problems = len(self.problems)
        read = self._judge(key, f, text)
        if len(self.problems) == problems:
            known[key, text] = (read.state, read.value)
        return read

    def _judge(self, key: str, f: Field, text: str) -> Value[Any]:
        if not text.strip():
            return _new(Value, (f, State.EMPTY, None))
        figure, reader, kind = _BY_KEY[key]
        if "[fill" in text and f.waiting:
            spans = f.placeholders
            if figure and len(spans) > 1:
                self._report(
                    key, f.line, f.value_column, "LK102", f"{f.name} holds {len(spans)} placeholders; write one"
                )
            return _new(Value, (f, State.WAITING, None))
        if reader is None:
            return _new(Value, (f, _WRITTEN, text.strip()))
        value = reader(text)
        if value is None:
            shown = text.strip()
            what = _what(kind)
            self._report(
                key,
                f.line,
                f.value_column,
                _UNREADABLE[kind],
                f"{f.name} {shown!r} is not {what}{_hint(kind, shown)}",
            )
            return _new(Value, (f, State.UNREADABLE, None))
        # tuple.__new__ skips the NamedTuple's generated __new__: this runs once per field of every record.
        return _new(Value, (f, _WRITTEN, value))

    def _distribution(self) -> tuple[Share, ...]:
        f = self.first.get("DISTRIBUTION")
        if f is None:
            return ()
        shares = []
        for entry in f.entries:
            line, column, text = entry
            share = read_share(text)
            if share is None:
                self._report(
                    "DISTRIBUTION",
                    line,
                    column,
                    "LK404",
                    f"DISTRIBUTION entry {text!r} is not a share such as 'system: 10%'",
                )
            else:
                shares.append(_new(Share, (share[0], share[1], line, column)))
        return tuple(shares)

    def _notes(self) -> tuple[str, ...]:
        f = self.first.get("NOTES")
        if f is None:
            return ()
        inline = f.text.strip()
        written = tuple([e.text.strip() for e in f.entries])
        return (inline, *written) if inline else written

    def _token_counts(self) -> tuple[TokenCount, ...]:
        counts: list[TokenCount] = []
        seen: set[str] = set()
        for f in self.counts:
            # Imported only for a record that has an exact count: most hook runs never need them.
            from ..tokens.encodings import SHIPPED
            from ..tokens.names import exact_problem  # names only: loads no encoding

            name = (f.arg or "").strip()
            if not name:
                shipped = ", ".join(sorted(SHIPPED))
                problem: str | None = (
                    f"TOKEN_COUNT names no encoding: write TOKEN_COUNT (o200k_base); shipped: {shipped}"
                )
            else:
                problem = exact_problem(name)
                problem = None if problem is None else f"{f.name}: {problem}"
            if problem is not None:
                self._report("TOKEN_COUNT", f.line, f.column, "LK701", problem)
            elif name in seen:
                self._report(
                    "TOKEN_COUNT",
                    f.line,
                    f.column,
                    "LK101",
                    f"{f.name} appears twice in record {self.record.run_id}; keep one",
                )
            seen.add(name)
            counts.append(TokenCount(f, None if problem else name, self._read("TOKEN_COUNT", f)))
        return tuple(counts)

    def _cost(self) -> Value[Decimal]:
        f = self.first.get("COST_ESTIMATE")
        if f is None:
            return _MISSING
        if (f.arg or "").strip().upper() != CURRENCY:
            self._report(
                "COST_ESTIMATE",
                f.line,
                f.column,
                "LK103",
                f"{f.name}: costs are in US dollars; write COST_ESTIMATE ({CURRENCY})",
            )
            return Value(f, State.UNREADABLE)
        return self._read("COST_ESTIMATE", f)


#: Fields whose texts are the record's own (every record has its own time): not remembered.
_OWN = frozenset({"LOCAL_TS", "UTC_TS"})


def _place(problem: tuple[str, Diagnostic]) -> tuple[int, int, str]:
    d = problem[1]
    return d.line, d.column, d.code


def _what(kind: Kind) -> str:
    return kind.value


def _source_entries(f: Field | None) -> tuple[Entry, ...]:
    """SOURCE_FILES entries as written: its nested items, and an inline value when there is one."""
    if f is None:
        return ()
    if f.value.strip() and not f.waiting:
        return (Entry(f.line, f.value_column, f.value), *f.entries)
    return f.entries
