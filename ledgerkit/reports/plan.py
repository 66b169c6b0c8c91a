"""Plan a context load before it happens: what a record with these sources would measure, and the alert.

The budget comes from ``--budget``, a model's input budget (ledgerkit.catalog), the
ledger's SESSION_BUDGET_C or the configuration, in that order; the advice at each level is the ledger's
own section 3, or that of a new ledger when none is given.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..catalog.model import Model
from ..config import Config
from ..errors import LedgerkitError
from ..figures.compute import session_budget
from ..figures.exact import source_text
from ..measuring.measure import Measurer, SourceSpec, source_root, spec_of
from ..reading.parse import Entry, Ledger, parse
from ..schema import token_estimate, utilization, written_percent
from ..writing.init import advice
from .formatting import number, usd
from .records import note_for


class PlanError(LedgerkitError):
    """A plan cannot be made: a source cannot be read, or there is no budget."""


# --- the plan --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedSource:
    label: str
    chars: int
    tokens: int  # estimated
    exact: int | None


@dataclass(frozen=True)
class Plan:
    sources: tuple[PlannedSource, ...]
    divisor: int
    budget: int
    budget_from: str  # where the budget came from, for people
    model: Model | None
    encoding: str | None  # the label of the counts in ``exact``
    action: str  # from the estimate, as the record would write it
    note: str | None  # what the ledger's policy says to do at that level
    exact_action: str | None
    output_tokens: int = 0  # the reply planned for, added to the window check and the cost
    cost: Decimal | None = None  # USD for the input (exact count when there is one) and the planned output
    skipped: tuple[str, ...] = ()  # members of folders and globs left out: not text

    @property
    def load(self) -> int:
        """What the window must hold: the estimated input plus the planned reply."""
        return self.tokens + self.output_tokens

    @property
    def chars(self) -> int:
        return sum(s.chars for s in self.sources)

    @property
    def tokens(self) -> int:
        return token_estimate(self.chars, self.divisor)

    @property
    def exact(self) -> int | None:
        counts = [s.exact for s in self.sources]
        return None if not counts or None in counts else sum(counts)  # type: ignore[arg-type]

    @property
    def utilization(self) -> Fraction:
        return utilization(self.load, self.budget)

    @property
    def exact_utilization(self) -> Fraction | None:
        return None if self.exact is None else utilization(self.exact + self.output_tokens, self.budget)

    @property
    def over_budget(self) -> bool:
        """Over budget by the estimate, or by the exact count when there is one (the planned reply included)."""
        exact = None if self.exact is None else self.exact + self.output_tokens
        return self.load > self.budget or (exact is not None and exact > self.budget)

    def as_json(self) -> dict[str, Any]:
        m = self.model
        return {
            "sources": [
                {"path": s.label, "char_count": s.chars, "token_estimate": s.tokens, "token_count": s.exact}
                for s in self.sources
            ],
            "char_count": self.chars,
            "token_estimate": self.tokens,
            "token_count": self.exact,
            "encoding": self.encoding,
            "budget": self.budget,
            "budget_from": self.budget_from,
            "model": None
            if m is None
            else {
                "name": m.id,
                "provider": m.provider,
                "context_window": m.context_window,
                "max_output": m.max_output,
                "source": m.source,
                "as_of": m.as_of,
            },
            "utilization": number(written_percent(self.utilization)),
            "threshold_action": self.action,
            "exact_utilization": None
            if self.exact_utilization is None
            else number(written_percent(self.exact_utilization)),
            "exact_threshold_action": self.exact_action,
            "note": self.note,
            "over_budget": self.over_budget,
            "output_tokens": self.output_tokens,
            "cost_usd": None if self.cost is None else usd(self.cost),
            "skipped": list(self.skipped),
        }


def plan(
    paths: Sequence[str],
    *,
    config: Config,
    ledger: Ledger | None = None,
    budget: int | None = None,
    model_name: str | None = None,
    full_window: bool = False,
    output_tokens: int = 0,
    encoding: str | None = None,
    root: str | Path | None = None,
    cwd: str | Path | None = None,
) -> Plan:
    """Measure ``paths`` (SOURCE_FILES entries: ranges and globs work) as a record would.

    A relative path is relative to ``cwd``; an absolute one is that file, and one that does not exist
    is looked up under the source root, as a record's leading ``/`` is.
    """
    if budget is not None and model_name is not None:
        raise PlanError("give --budget or --model, not both")
    chosen = _model(model_name, config) if model_name is not None else None
    budget, budget_from = _budget(budget, chosen, config, ledger, full_window, output_tokens)
    encoding, label = _encoding(encoding, chosen, config)
    sources, skipped = _measure(paths, config, root, Path(cwd) if cwd else Path.cwd(), encoding)
    estimate = token_estimate(sum(s.chars for s in sources), config.divisor)
    shared = chosen is None or chosen.output_in_window is not False  # a separate output limit takes the reply
    planned_output = output_tokens if shared else 0
    action = config.thresholds.action(utilization(estimate + planned_output, budget))
    note = _note(action, config, ledger)
    exact = None if any(s.exact is None for s in sources) else sum(s.exact for s in sources)  # type: ignore[misc]
    exact_action = None if exact is None else config.thresholds.action(utilization(exact + planned_output, budget))
    cost = _cost(chosen or _configured(config), exact if exact is not None else estimate, output_tokens)
    return Plan(
        tuple(sources),
        config.divisor,
        budget,
        budget_from,
        chosen,
        label,
        action,
        note,
        exact_action,
        planned_output,
        cost,
        tuple(skipped),
    )


def _budget(
    budget: int | None,
    chosen: Model | None,
    config: Config,
    ledger: Ledger | None,
    full_window: bool,
    output_tokens: int,
) -> tuple[int, str]:
    """The budget and where it came from: --budget, the model, the ledger's SESSION_BUDGET_C, the configuration."""
    budget_from: str
    if budget is not None:
        budget_from = "--budget"
    elif chosen is not None:
        budget, budget_from = _model_budget(chosen, full_window or output_tokens > 0)
        if output_tokens and chosen.max_output is not None and output_tokens > chosen.max_output:
            raise PlanError(
                f"--output-tokens {output_tokens} is more than {chosen.key} writes in one reply ({chosen.max_output})"
            )
    else:
        budget = session_budget(ledger, config) if ledger is not None else config.budget
        budget_from = "the ledger's SESSION_BUDGET_C" if ledger is not None and ledger.budget else "the configuration"
    if budget is None:
        raise PlanError("no budget: give --budget N or --model NAME (or a ledger that declares SESSION_BUDGET_C)")
    return budget, budget_from


def _encoding(encoding: str | None, chosen: Model | None, config: Config) -> tuple[str | None, str | None]:
    """The encoding exact counts use (--encoding, the model's, the configuration's) and its label."""
    model_label = None
    if encoding is None and chosen is not None:
        encoding = chosen.tokenizer.encoding
        if not chosen.tokenizer.exact:
            model_label = f"{chosen.id} (estimate via {encoding})"
    elif encoding is None:
        encoding = config.encoding
    if encoding is not None and model_label is None:
        from ..tokens.names import label as encoding_label

        return encoding, encoding_label(encoding)
    return encoding, model_label


def _note(action: str, config: Config, ledger: Ledger | None) -> str | None:
    """What the ledger's section 3 (or a new ledger's advice) says to do at the level reached."""
    notes = ledger.threshold_notes if ledger is not None and ledger.threshold_notes else advice("en", config)
    return note_for(notes, config.thresholds, action)[1]


def _configured(config: Config) -> Model | None:
    """The configuration's default model, for the cost of a plan that names none."""
    return _model(config.model, config) if config.model else None


def _cost(model: Model | None, input_tokens: int, output_tokens: int) -> Decimal | None:
    """USD for the planned input and output at today's prices, or None without a model or a price."""
    if model is None:
        return None
    from datetime import UTC, datetime

    from ..catalog import cost

    return cost(model, input_tokens, output_tokens, datetime.now(UTC))


def _model(name: str, config: Config) -> Model:
    from ..catalog.resolve import resolve_model

    return resolve_model(name, config.models)


def _model_budget(chosen: Model, full_window: bool) -> tuple[int, str]:
    """The budget a model gives and where it comes from; a figure the data lacks is an error, never a guess."""
    window = chosen.context_window
    if window is None:
        raise PlanError(f"{chosen.key} has no known context window: give --budget, or add it under models:")
    if full_window or chosen.output_in_window is False:
        return window, f"{chosen.id}'s context window" + ("" if chosen.output_in_window else " (input limit)")
    budget = chosen.input_budget
    if budget is None:
        raise PlanError(
            f"{chosen.key}'s output limit (or whether its reply shares the window) is not known: "
            "give --budget or --full-window, or add max_output under models:"
        )
    return budget, f"{chosen.id}: context window {window} - output limit {chosen.max_output}"


def _measure(
    paths: Sequence[str], config: Config, root: str | Path | None, cwd: Path, encoding: str | None
) -> tuple[list[PlannedSource], list[str]]:
    """Each file and range the paths name, measured once as SOURCE_FILES entries are (folders recursed, globs
    expanded, by :class:`ledgerkit.measuring.measure.Measurer`), and the members left out: not text."""
    # Paths given on the command line are the user's own: measured wherever they are ("/" is the root).
    stand_in = parse("", path=str(cwd / "-"))
    measurer = Measurer(stand_in, config, root=Path(os.sep))
    specs_, problems = _specs(paths, source_root(cwd / "-", config, root))
    measured, skipped, diagnostics = measurer.measure_entries(specs_)
    problems.extend(d.message for d in diagnostics)
    if problems:
        raise PlanError("; ".join(problems))
    exact: list[int | None] = [None] * len(measured)
    if encoding is not None and measured:
        from ..tokens import engine

        exact = list(engine.count([source_text(m.text, m.source.start, m.source.end) for m in measured], encoding))
    planned = [
        PlannedSource(_shown(m.source.path, m.source.label, cwd), m.chars, token_estimate(m.chars, config.divisor), n)
        for m, n in zip(measured, exact, strict=False)
    ]
    return planned, [s.shown for s in skipped]


def _specs(paths: Sequence[str], root: Path) -> tuple[list[SourceSpec], list[str]]:
    """The paths read as SOURCE_FILES entries; a /path that does not exist is looked up under the source root."""
    specs_: list[SourceSpec] = []
    problems: list[str] = []
    for written in paths:
        spec = spec_of(Entry(1, 1, written))
        if spec is None:
            problems.append(f"{written!r} names no source")
        elif spec.path.startswith("/") and not os.path.lexists(spec.path.split("*", 1)[0] or "/"):
            specs_.append(spec._replace(path=str(root / spec.path.lstrip("/"))))
        else:
            specs_.append(spec)
    return specs_, problems


def _shown(path: Path, label: str, cwd: Path) -> str:
    """A measured path as the user gave it: relative to the current folder when inside it."""
    suffix = label[len("/" + path.relative_to(Path(os.sep)).as_posix()) :]
    try:
        return path.relative_to(cwd.resolve()).as_posix() + suffix
    except ValueError:
        return path.as_posix() + suffix
