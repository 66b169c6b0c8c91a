"""Fill a ledger: put the figures in place of each record's placeholders and re-render the summary.

Only placeholders in the figure fields and the summary block change; every other byte stays as written.
A field that already holds a value is never rewritten (fill-once). A record whose figures cannot all be
had stays exactly as it was, and every reason is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..checks.history import filled_from
from ..config import Config, config_for
from ..diagnostics import Diagnostic, has_errors
from ..errors import LedgerkitError
from ..figures.exact import TokenCounter, read_token_counts
from ..figures.numbers import (
    Written,
    format_percent,
    is_waiting,
    read_written,
    session_budget,
    token_estimate,
    utilization,
    written_percent,
)
from ..figures.sessions import Entry, Project, group
from ..files.textfile import Lines, encode, rewrite, unified_diff
from ..measuring.measure import Measurer, SourceReader
from ..reading.parse import Field, Ledger, Record, parse


@dataclass(frozen=True)
class Edit:
    """Replace columns [start, end) (0-based) of a line (1-based) with ``text``."""

    line: int
    start: int
    end: int
    text: str


@dataclass
class FillResult:
    """What filling a ledger gives: the new text, what was filled, and every problem found."""

    ledger: Ledger
    text: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)  # RUN_IDs that received figures
    entries: list[Entry] = field(default_factory=list)  # each record with its figures as filled
    written: bool = False  # set by fill_file when the file was replaced

    @property
    def changed(self) -> bool:
        return self.text != self.ledger.text

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def data(self) -> bytes:
        """The new file's bytes (BOM kept)."""
        return encode(self.text, self.ledger.bom)

    def diff(self) -> str:
        return unified_diff(self.ledger.display_path, self.ledger.text, self.text)


def fill(
    ledger: Ledger,
    *,
    config: Config | None = None,
    root: str | Path | None = None,
    reader: SourceReader | None = None,
) -> FillResult:
    """Compute the filled text of a ledger (nothing is written)."""
    config = config or config_for(ledger.path)
    measurer = Measurer(ledger, config, root, reader)
    counter = TokenCounter()  # loads an encoding only when a record asks for an exact count
    edits: list[Edit] = []
    diagnostics: list[Diagnostic] = []
    entries: list[Entry] = []
    filled: list[str] = []
    for record in ledger.records:
        record_edits, figures, problems = _fill_record(record, ledger, config, measurer, counter)
        diagnostics.extend(problems)
        entries.append(Entry(record, figures))
        if record_edits:
            edits.extend(record_edits)
            filled.append(record.run_id)
    text = _apply(ledger, edits, _summary_lines(ledger, entries, config))
    _prove_only_owned_changed(ledger, text)
    return FillResult(ledger, text, diagnostics, filled, entries)


def fill_file(
    path: str | Path,
    *,
    config: Config | None = None,
    root: str | Path | None = None,
    check: bool = False,
    on_computed: Callable[[FillResult], None] | None = None,
) -> FillResult:
    """Fill a ledger file in place, atomically, only when its text changes.

    If the file changes on disk while the fill works (a person saving, another fill), the fill starts
    over on the new text (see textfile.rewrite) and never writes over the change. ``check`` computes
    without writing. ``on_computed`` is called between computing and writing (a seam for tests).
    """
    path = Path(path)
    config = config or config_for(path)

    def compute(text: str, bom: bool) -> FillResult:
        result = fill(parse(text, str(path), bom=bom), config=config, root=root)
        if on_computed is not None:
            on_computed(result)
        return result

    result, result.written = rewrite(path, compute, lambda r: None if check or not r.changed else r.data(), "filling")
    return result


# --- one record ----------------------------------------------------------------------------------------


def _fill_record(
    record: Record, ledger: Ledger, config: Config, measurer: Measurer, counter: TokenCounter
) -> tuple[list[Edit], Written, list[Diagnostic]]:
    written, diagnostics = read_written(record, ledger, config)
    counts, problems = read_token_counts(record, ledger)
    diagnostics.extend(problems)
    waiting = [f for f in record.fields if f.key in _RENDER and is_waiting(f)]
    waiting_counts = [c for c in counts if c.waiting]
    if not waiting and not waiting_counts:
        return [], written, diagnostics
    path = ledger.display_path
    for f in waiting:
        if len(f.placeholders) > 1:
            diagnostics.append(
                Diagnostic(
                    path,
                    f.line,
                    f.value_column,
                    "LK102",
                    f"{f.name} holds {len(f.placeholders)} placeholders; write one",
                )
            )

    def has_value(key: str) -> bool:
        # A field written by hand that could not be read: its figure is unknown, not to be measured.
        f = record.field(key)
        return f is not None and bool(f.value.strip()) and not is_waiting(f)

    # Compute only what a waiting figure depends on: a record whose estimate is written is not measured.
    wanted = {_ATTRIBUTE[f.key] for f in waiting}
    wants_tokens = bool(wanted & {"tokens", "utilization", "action"})
    wants_budget = bool(wanted & {"budget", "utilization", "action"})
    chars, tokens, budget = written.chars, written.tokens, written.budget
    if tokens is None and wants_tokens and not has_value("TOKEN_ESTIMATE"):
        wanted.add("chars")
    measure_chars = chars is None and "chars" in wanted and not has_value("CHAR_COUNT")
    measurement = None
    if measure_chars or waiting_counts:
        measurement, problems = measurer.measure(record)
        diagnostics.extend(problems)
        if measure_chars:
            chars = measurement.chars if measurement else None
    if tokens is None and chars is not None and not has_value("TOKEN_ESTIMATE"):
        tokens = token_estimate(chars, written.divisor)
    if budget is None and wants_budget and not has_value("BUDGET_C"):
        budget = session_budget(ledger, config)
        if budget is None:
            f = record.field("BUDGET_C")
            line, column = (f.line, f.value_column) if f else (record.line, 1)
            diagnostics.append(
                Diagnostic(
                    path, line, column, "LK105", "BUDGET_C has no value and the ledger declares no SESSION_BUDGET_C"
                )
            )
    exact = utilization(tokens, budget) if tokens is not None and budget else None
    computed = Written(
        chars=chars,
        tokens=tokens,
        budget=budget,
        utilization=written.utilization
        if written.utilization is not None
        else (written_percent(exact) if exact is not None else None),
        action=written.action
        if written.action is not None
        else (config.thresholds.action(exact) if exact is not None else None),
        divisor=written.divisor,
    )
    counted, problems = counter.fill(
        record, ledger, config, measurement.sources if measurement else None, waiting_counts, tokens
    )
    diagnostics.extend(problems)
    values = [getattr(computed, _ATTRIBUTE[f.key]) for f in waiting]
    if has_errors(diagnostics) or None in values or counted is None:
        # Every problem is reported, and a record that cannot be filled whole stays exactly as it was.
        return [], written, diagnostics
    edits = [_edit(f, _RENDER[f.key](v)) for f, v in zip(waiting, values, strict=False)]
    return (
        edits + [_edit(c.field, str(n)) for c, n in zip(waiting_counts, counted, strict=False)],
        computed,
        diagnostics,
    )


_ATTRIBUTE = {
    "CHAR_COUNT": "chars",
    "TOKEN_ESTIMATE": "tokens",
    "BUDGET_C": "budget",
    "UTILIZATION": "utilization",
    "THRESHOLD_ACTION": "action",
}
_RENDER: dict[str, Callable[[object], str]] = {
    "CHAR_COUNT": str,
    "TOKEN_ESTIMATE": str,
    "BUDGET_C": str,
    "UTILIZATION": lambda v: format_percent(v),  # type: ignore[arg-type]
    "THRESHOLD_ACTION": str,
}


def _edit(f: Field, text: str) -> Edit:
    m = f.placeholders[0]
    start = f.value_column - 1 + m.start()
    end = f.value_column - 1 + m.end()
    if f.key == "UTILIZATION" and not f.value[m.end() :].lstrip().startswith("%"):
        text += "%"
    return Edit(f.line, start, end, text)


# --- the summary and the new text ----------------------------------------------------------------------


def _prove_only_owned_changed(ledger: Ledger, text: str) -> None:
    """After an edit, prove it touched only what fill owns, or refuse: outside the summary items every
    line is as it was, or is the same line with its placeholders filled (as verify's history check
    reads a fill)."""
    old, new = ledger.lines, Lines.split(text)
    summary = ledger.summary
    head = summary.first - 1 if summary else len(old.contents)
    tail = len(old.contents) - summary.last if summary else 0
    new_tail = len(new.contents) - tail
    pairs = [(i, i) for i in range(head)] + [
        (i, new_tail + i - (len(old.contents) - tail)) for i in range(len(old.contents) - tail, len(old.contents))
    ]
    for i, j in pairs:
        a, b = old.contents[i], new.contents[j] if 0 <= j < len(new.contents) else None
        ending_kept = old.endings[i] == new.endings[j] if b is not None else False
        if i == head - 1 and old.endings[i] == "" and b is not None:
            ending_kept = True  # a heading that ended the file gets a newline before the summary
        if b is None or not ending_kept or (a != b and not filled_from(a, b)):
            raise LedgerkitError(
                f"internal error: fill would change line {i + 1}, which it does not own; nothing was written "
                "(this is a ledgerkit bug: please report it)",
                ledger.display_path,
            )


def _summary_lines(ledger: Ledger, entries: list[Entry], config: Config) -> list[str] | None:
    if ledger.summary is None:
        return None
    from .render import render  # jinja2 only when there is a summary to render

    project = Project(ledger.summary.project_id, tuple(group(entries)))
    body = render("summary.md.j2", {"sessions": project.sessions, "project": project}, config.templates)
    return body.rstrip("\n").split("\n") if body.strip() else []


def _apply(ledger: Ledger, edits: list[Edit], summary: list[str] | None) -> str:
    contents = list(ledger.lines.contents)
    endings = list(ledger.lines.endings)
    for e in sorted(edits, key=lambda e: (e.line, e.start), reverse=True):
        line = contents[e.line - 1]
        contents[e.line - 1] = line[: e.start] + e.text + line[e.end :]
    if summary is not None and ledger.summary is not None:
        first, last = ledger.summary.first, ledger.summary.last
        newline = endings[ledger.summary.heading_line - 1] or ledger.lines.newline()
        if last >= first:
            tail = endings[last - 1]  # the owned block's last line ending stays as it was
        else:
            tail = newline
            # Inserting after a heading that ends the file without a newline: give it one.
            if not endings[first - 2]:
                endings[first - 2] = newline
        new_endings = [newline] * len(summary)
        if new_endings:
            new_endings[-1] = tail
        contents[first - 1 : last] = summary
        endings[first - 1 : last] = new_endings
    return "".join(c + e for c, e in zip(contents, endings, strict=False))
