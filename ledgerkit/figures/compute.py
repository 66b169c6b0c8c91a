"""Figures computed once: each record's characters, estimate, budget, utilization, the level it reached,
exact counts and measured sources, from its typed values and, where a figure waits, its sources
measured now.

fill writes these figures, verify checks what is written against them, and every report shows them:
no stage computes a figure its own way. Integers and fractions only.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ..config import Config
from ..diagnostics import Diagnostic, has_errors
from ..reading.parse import Field, Ledger
from ..reading.values import FIGURE_KEYS, Known, RecordValues, read_values
from ..schema import format_money, format_percent, token_estimate, utilization, written_money
from .cost import Cost, Models, cost_of, over_budget
from .exact import TokenCounter, undercount

_new = tuple.__new__

if TYPE_CHECKING:
    from ..catalog.model import Model
    from ..measuring.measure import MeasuredSource, Measurer, SourceReader


class Figures(NamedTuple):
    """One record's figures. A figure that cannot be had is None.

    ``utilization`` is exact (TOKEN_ESTIMATE / BUDGET_C × 100), or the written one when the record gives
    no estimate and budget to compute it from; ``action`` is the level that utilization reached, which
    may differ from what the record wrote (``values.action``).
    """

    values: RecordValues
    chars: int | None
    tokens: int | None
    budget: int | None
    utilization: Fraction | None
    action: str | None
    exact: dict[str, int]  # exact token counts by encoding: as written, or counted now
    sources: tuple[MeasuredSource, ...] | None = None  # measured now; None when not measured
    cost: Cost | None = None  # the input cost of the load, in USD, and the tokens it was priced on
    problems: tuple[Diagnostic, ...] = ()  # met measuring and counting (reading problems are in values)
    model: Model | None = None  # the record's MODEL, else the configured one

    @property
    def blocked(self) -> bool:
        """True when a problem keeps fill from filling the record whole (it then stays as it was)."""
        return has_errors(self.problems) or has_errors(self.values.problems_of(FIGURE_KEYS))

    @property
    def run_id(self) -> str:
        return self.values.record.run_id

    @property
    def written_action(self) -> str | None:
        return self.values.action.written


class LedgerFigures(NamedTuple):
    """Every record's figures, in ledger order, and the problems of the ledger's own figures."""

    ledger: Ledger
    config: Config
    records: tuple[Figures, ...]
    problems: tuple[Diagnostic, ...] = ()
    skipped: tuple[str, ...] = ()  # files met through a glob or folder and left out: not text

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """Every problem with the figures: reading, measuring, counting, and written figures that disagree
        with what the record's own figures call for. What fill reports, and what the reports show."""
        out = list(self.problems)
        for f in self.records:
            out.extend(f.values.problems_of(FIGURE_KEYS))
            out.extend(f.problems)
            out.extend(contradictions(f, self.config))
        return out


class _Needs(NamedTuple):
    """What a record's waiting figures need: its characters, and whether its sources must be measured."""

    chars: bool
    measure: bool

    @classmethod
    def of(cls, v: RecordValues) -> _Needs:
        waits_on_tokens = v.utilization.waiting or v.action.waiting
        tokens = v.tokens.waiting or (v.tokens.open and waits_on_tokens)
        chars = v.chars.waiting or (tokens and v.tokens.open)
        counts = bool(v.token_counts) and any(c.value.waiting for c in v.token_counts)
        # tuple.__new__ skips the NamedTuple's generated __new__: this runs once per record.
        return tuple.__new__(cls, (chars, (chars and v.chars.open) or counts))


def _chars_and_tokens(v: RecordValues, measured: int | None) -> tuple[int | None, int | None]:
    """CHAR_COUNT and TOKEN_ESTIMATE: as written, else from the sources measured now.

    CHAR_COUNT is a figure of the record only where the record holds it (written, or waiting to be): a
    record without the field gets its estimate from the sources, not a count it never wrote.
    """
    chars = v.chars.written if v.chars.written is not None else (measured if v.chars.waiting else None)
    tokens = v.tokens.written
    if tokens is None and v.tokens.open:
        base = chars if chars is not None else (measured if v.chars.open else None)
        tokens = token_estimate(base, v.divisor) if base is not None else None
    return chars, tokens


class Computer:
    """Computes the figures of one ledger's records against one source root.

    ``measure_all`` measures every record's sources (the reports list them); otherwise a record is
    measured only when a figure waiting in it needs its characters or exact counts. Each source file is
    read at most once per Computer, however many records name it.
    """

    def __init__(
        self,
        ledger: Ledger,
        config: Config,
        *,
        root: str | Path | None = None,
        reader: SourceReader | None = None,
        measure: bool = True,
        measure_all: bool = False,
    ) -> None:
        self.ledger = ledger
        self.config = config
        self.measurer: Measurer | None = None
        if measure or measure_all:
            from ..measuring.measure import Measurer  # verify measures nothing: not imported on every commit

            self.measurer = Measurer(ledger, config, root, reader)
        self.measure_all = measure_all
        self.counter = TokenCounter()  # loads an encoding only when a record asks for an exact count
        self.default_budget = session_budget(ledger, config)
        self.models = Models(config)  # loads the model catalog only when a record has a model
        # Each (TOKEN_ESTIMATE, BUDGET_C)'s exact utilization and the level it reaches: records share a budget and
        # repeat their estimates, and a Fraction is slow to make (its gcd runs in Python).
        self._levels: dict[tuple[int, int], tuple[Fraction, str]] = {}

    def compute(self, values: RecordValues) -> Figures:
        """A record's figures, with the problems met measuring and counting (reading problems are in values)."""
        v = values
        diagnostics: list[Diagnostic] = []
        sources: tuple[MeasuredSource, ...] | None = None
        measured: int | None = None  # the characters of every source, measured now for a figure that waits
        counted: tuple[MeasuredSource, ...] | None = None  # every source, measured now for a count that waits
        if self.measurer is not None:  # what the waiting figures need matters only where sources are measured
            need = _Needs.of(v)
            whole = False  # every source measured
            if self.measure_all or need.measure:
                sources, whole = self._measure(v, diagnostics, needed=need.measure)
            if whole and sources is not None:
                measured = sum(m.chars for m in sources) if need.chars else None
                counted = sources if need.measure else None
        chars, tokens = _chars_and_tokens(v, measured)
        model, problem = self.models.model_for(v)
        if problem is not None:
            diagnostics.append(problem)
        budget = self._budget(v, diagnostics, model)
        percent, action = self._level(v, tokens, budget)
        exact = self._exact(v, counted, diagnostics) if v.token_counts or counted is not None else {}
        if exact:
            self._undercount(v, tokens, exact, diagnostics)
        cost = self._cost(v, model, tokens, exact, budget, diagnostics)
        # tuple.__new__ skips the NamedTuple's generated __new__: this runs once per record.
        return _new(
            Figures, (v, chars, tokens, budget, percent, action, exact, sources, cost, tuple(diagnostics), model)
        )

    def _level(self, v: RecordValues, tokens: int | None, budget: int | None) -> tuple[Fraction | None, str | None]:
        """The utilization (exact from the estimate and budget, else as written) and the level it reaches."""
        if tokens is not None and budget:
            level = self._levels.get((tokens, budget))
            if level is None:
                exact = utilization(tokens, budget)
                level = self._levels[tokens, budget] = (exact, self.config.thresholds.action(exact))
            return level
        percent = v.utilization.written
        return percent, self.config.thresholds.action(percent) if percent is not None else None

    def _undercount(self, v: RecordValues, tokens: int | None, exact: dict[str, int], out: list[Diagnostic]) -> None:
        encoding = self.config.encoding
        if encoding is not None and tokens is not None and encoding in exact:
            warning = undercount(v, self.config, tokens, exact[encoding], encoding)
            if warning is not None:
                out.append(warning)

    def _measure(
        self, v: RecordValues, diagnostics: list[Diagnostic], *, needed: bool
    ) -> tuple[tuple[MeasuredSource, ...], bool]:
        """The record's sources that could be measured, and whether that is all of them. A record without
        sources is a problem only when a waiting figure ``needed`` them."""
        assert self.measurer is not None
        from ..measuring.measure import spec_of

        specs = [spec for spec in map(spec_of, v.sources) if spec is not None]
        if not specs and not needed:
            return (), False
        if not specs:
            f = v.record.field("SOURCE_FILES")
            line, column = (f.line, f.column) if f else (v.record.line, 1)
            message = f"record {v.run_id} names no SOURCE_FILES to measure"
            diagnostics.append(Diagnostic(self.ledger.display_path, line, column, "LK104", message))
            return (), False
        measured, problems = self.measurer.measure_each(specs)
        diagnostics.extend(problems)
        return tuple(measured), not problems

    def _budget(self, v: RecordValues, diagnostics: list[Diagnostic], model: Model | None) -> int | None:
        """BUDGET_C as written; where nothing is written there, the ledger's budget (what fill writes), so a
        record's figures are the same before and after a fill. That is SESSION_BUDGET_C, else the record's
        own MODEL's input budget, else the configured budget, else the configured model's. No budget at all
        is a problem only when a waiting figure needs one."""
        if v.budget.written is not None or not v.budget.open:
            return v.budget.written
        budget = self.default_budget
        if budget is None and model is not None and (v.model.written or self.config.budget is None):
            budget = model.input_budget
        needed = v.budget.waiting or v.utilization.waiting or v.action.waiting
        if budget is None and needed:
            f = v.budget.field
            line, column = (f.line, f.value_column) if f else (v.record.line, 1)
            message = "BUDGET_C has no value and the ledger declares no SESSION_BUDGET_C"
            diagnostics.append(Diagnostic(self.ledger.display_path, line, column, "LK105", message))
        return budget

    def _cost(
        self,
        v: RecordValues,
        model: Model | None,
        tokens: int | None,
        exact: dict[str, int],
        budget: int | None,
        diagnostics: list[Diagnostic],
    ) -> Cost | None:
        if model is None:
            if v.cost.waiting:
                f = v.cost.field
                assert f is not None
                message = "COST_ESTIMATE needs a model to price it: write - MODEL: <id> or set model: in ledgerkit.yaml"
                diagnostics.append(Diagnostic(v.path, f.line, f.column, "LK307", message))
            return None
        warning = over_budget(model, v, budget)
        if warning is not None:
            diagnostics.append(warning)
        cost = cost_of(model, v, tokens, exact, self.config)
        if cost is None and v.cost.waiting:
            f = v.cost.field
            assert f is not None
            why = "no input price" if tokens is not None else "no token figure yet"
            diagnostics.append(
                Diagnostic(v.path, f.line, f.column, "LK307", f"COST_ESTIMATE cannot be priced: {model.key} has {why}")
            )
        return cost

    def _exact(
        self, v: RecordValues, sources: tuple[MeasuredSource, ...] | None, diagnostics: list[Diagnostic]
    ) -> dict[str, int]:
        """Exact counts as written, and counted now for a waiting TOKEN_COUNT of a record measured now (and,
        with an encoding configured, for the undercount warning)."""
        exact: dict[str, int] = {}
        for c in v.token_counts:
            if c.encoding is not None and c.value.written is not None:
                exact.setdefault(c.encoding, c.value.written)
        if sources is None:
            return exact
        wanted: list[tuple[str, Field | None]] = [
            (c.encoding, c.field) for c in v.token_counts if c.value.waiting and c.encoding is not None
        ]
        if self.config.encoding is not None:
            wanted.append((self.config.encoding, None))
        for encoding, field in wanted:
            if encoding in exact:
                continue
            count, problem = self.counter.count_for(v, sources, encoding, field)
            if problem is not None:
                diagnostics.append(problem)
            elif count is not None:
                exact[encoding] = count
        return exact


def session_budget(ledger: Ledger, config: Config) -> int | None:
    """The budget a ``BUDGET_C: [fill]`` takes: section 0's SESSION_BUDGET_C, else the configured one."""
    if ledger.budget is not None and ledger.budget.value:
        return ledger.budget.value
    return config.budget


def ledger_problems(ledger: Ledger) -> list[Diagnostic]:
    """Problems of the ledger's own figures: a SESSION_BUDGET_C that is not a positive whole number."""
    b = ledger.budget
    if b is None:
        return []
    if b.value == 0:
        return [
            Diagnostic(
                ledger.display_path,
                b.line,
                b.column,
                "LK107",
                "SESSION_BUDGET_C is 0; a budget is a positive whole number",
            )
        ]
    if b.value is None and b.text.strip() and "[fill" not in b.text:
        return [
            Diagnostic(
                ledger.display_path,
                b.line,
                b.column,
                "LK103",
                f"SESSION_BUDGET_C {b.text.strip()!r} is not a whole number; write digits only, "
                "or groups of three with commas (130000 or 130,000)",
            )
        ]
    return []


def compute(
    ledger: Ledger,
    config: Config,
    *,
    root: str | Path | None = None,
    reader: SourceReader | None = None,
    measure: bool = True,
    measure_all: bool = False,
) -> LedgerFigures:
    """Every record's figures. ``measure=False`` measures nothing (verify: the written figures only)."""
    computer = Computer(ledger, config, root=root, reader=reader, measure=measure, measure_all=measure_all)
    known: Known = {}  # what each value's text read as, for every record
    records = tuple(computer.compute(read_values(r, ledger, config.divisor, known)) for r in ledger.records)
    skipped = tuple(s.shown for s in computer.measurer.skipped) if computer.measurer is not None else ()
    return LedgerFigures(ledger, config, records, tuple(ledger_problems(ledger)), skipped)


# --- one truth -------------------------------------------------------------------------------------------


def contradictions(figures: Figures, config: Config) -> list[Diagnostic]:
    """Where a written figure disagrees with what the record's own figures call for (LK301, LK302, LK303,
    LK304).

    verify reports these from the written figures; fill reports them too, after filling what waits.
    """
    found = (_estimate(figures), _utilization(figures), _action(figures), _cost_written(figures))
    return [d for d in found if d is not None]


def _estimate(figures: Figures) -> Diagnostic | None:
    v = figures.values
    chars, tokens = figures.chars, v.tokens.written
    if chars is None or tokens is None:
        return None
    expected = token_estimate(chars, v.divisor)
    if tokens == expected:
        return None
    message = f"TOKEN_ESTIMATE {tokens} is not ceil(CHAR_COUNT / {v.divisor}) = {expected}"
    return _at(v, "TOKEN_ESTIMATE", "LK301", message)


def _utilization(figures: Figures) -> Diagnostic | None:
    v = figures.values
    tokens, budget, written = figures.tokens, figures.budget, v.utilization.written
    if written is None or tokens is None or not budget:
        return None
    if written_agrees(written, tokens, budget):
        return None
    exact = utilization(tokens, budget)
    text = v.utilization.field.text.strip() if v.utilization.field else ""
    message = (
        f"UTILIZATION {text} is not TOKEN_ESTIMATE / BUDGET_C = {format_percent(exact)}% (two decimals, toward zero)"
    )
    return _at(v, "UTILIZATION", "LK302", message)


def written_agrees(written: Fraction, tokens: int, budget: int) -> bool:
    """``written == written_percent(utilization(tokens, budget))``, in integers: the exact utilization's hundredths,
    toward zero, against the written fraction's cross-product (its denominator is positive). Two Fractions made
    and compared cost a record of verify more than all its other figures' checks."""
    scaled = tokens * 10000
    hundredths = abs(scaled) // abs(budget)
    if (scaled < 0) != (budget < 0):
        hundredths = -hundredths
    return written.numerator * 100 == hundredths * written.denominator


def _action(figures: Figures) -> Diagnostic | None:
    action = figures.values.action.written
    if action is None or figures.action is None or action == figures.action:
        return None
    assert figures.utilization is not None
    reached = format_percent(figures.utilization)
    message = f"THRESHOLD_ACTION {action}, but a utilization of {reached}% calls for {figures.action}"
    return _at(figures.values, "THRESHOLD_ACTION", "LK303", message)


def _cost_written(figures: Figures) -> Diagnostic | None:
    cost = figures.values.cost.written
    if cost is None or figures.cost is None or cost == written_money(figures.cost.amount):
        return None
    assert figures.model is not None
    message = (
        f"COST_ESTIMATE {cost} is not the input cost of {figures.cost.tokens} tokens ({figures.cost.basis}) at "
        f"{figures.model.key}'s price then: {format_money(figures.cost.amount)}"
    )
    return _at(figures.values, "COST_ESTIMATE", "LK304", message)


def _at(values: RecordValues, key: str, code: str, message: str) -> Diagnostic:
    """A diagnostic at a field's value (or at the record's heading when it lacks the field)."""
    f = values.record.field(key)
    line, column = (f.line, f.value_column) if f else (values.record.line, values.record.column)
    return Diagnostic(values.path, line, column, code, message)
