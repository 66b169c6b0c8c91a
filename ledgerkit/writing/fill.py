"""Fill a ledger: put each record's figures in place of its placeholders and re-render the summary.

The figures come from ``figures/compute.py``; this module only turns them into edits, a pure function
from ledger and figures to text. Only placeholders in figure fields and the summary's own items change;
every other byte stays as written. A field that already holds a value is never rewritten (fill-once). A
record whose figures cannot all be had stays exactly as it was, and every reason is reported. A written
figure that contradicts the record's own figures is reported (as verify reports it), and the record's
placeholders are still filled: they are measurements.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import compress
from operator import ne, or_
from pathlib import Path

from ..checks.context import Context
from ..checks.sources import check_sources
from ..config import Config, config_for
from ..diagnostics import Diagnostic, has_errors
from ..errors import LedgerkitError, TemplateError
from ..figures.compute import Figures, LedgerFigures, compute
from ..figures.sessions import Project, group
from ..files.textfile import Lines, encode, rewrite, unified_diff
from ..measuring.measure import SourceReader
from ..reading.parse import Field, Ledger, filled_from, parse, summary_key
from ..schema import FIELDS, SUMMARY_ITEMS, write_figure
from .summary import NAME as SUMMARY_TEMPLATE
from .summary import mirrored_body


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace columns [start, end) (0-based) of a line (1-based) with ``text``."""

    line: int
    start: int
    end: int
    text: str


class NewText:
    """What a writer of the ledger (fill, append) gives back: the ledger it read and the text it would write."""

    ledger: Ledger
    text: str

    def data(self) -> bytes:
        """The new file's bytes (BOM kept)."""
        return encode(self.text, self.ledger.bom)

    def diff(self) -> str:
        return unified_diff(self.ledger.display_path, self.ledger.text, self.text)


@dataclass
class FillResult(NewText):
    """What filling a ledger gives: the new text, what was filled, the figures, and every problem found."""

    ledger: Ledger
    text: str
    figures: LedgerFigures
    diagnostics: list[Diagnostic] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)  # RUN_IDs that received figures
    written: bool = False  # set by fill_file when the file was replaced

    @property
    def changed(self) -> bool:
        return self.text != self.ledger.text

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)


def fill(
    ledger: Ledger,
    *,
    config: Config | None = None,
    root: str | Path | None = None,
    reader: SourceReader | None = None,
) -> FillResult:
    """Compute the filled text of a ledger (nothing is written)."""
    config = config or config_for(ledger.path)
    figures = compute(ledger, config, root=root, reader=reader)
    return fill_from(figures)


def fill_from(figures: LedgerFigures) -> FillResult:
    """The filled text, from figures already computed: edits for every waiting figure, and the summary."""
    ledger, config = figures.ledger, figures.config
    diagnostics = figures.diagnostics
    edits: list[Edit] = []
    filled: list[str] = []
    for f in figures.records:
        record_edits = record_edits_for(f)
        if record_edits:
            edits.extend(record_edits)
            filled.append(f.run_id)
    summary, problems = _summary_lines(ledger, figures.records, config)
    diagnostics.extend(problems)
    diagnostics.extend(check_sources(ledger, Context(config)))  # LK210: named twice, counted once
    text = apply(ledger, edits, summary)
    _prove_only_owned_changed(ledger, text, summary is not None)
    return FillResult(ledger, text, figures, diagnostics, filled)


def fill_file(
    path: str | Path,
    *,
    config: Config | None = None,
    root: str | Path | None = None,
    check: bool = False,
    on_computed: Callable[[FillResult], None] | None = None,
    on_lock_wait: Callable[[str], None] | None = None,
) -> FillResult:
    """Fill a ledger file in place, atomically, only when its text changes.

    If the file changes on disk while the fill works (a person saving, another fill), the fill starts
    over on the new text (see files/textfile.rewrite) and never writes over the change. ``check`` computes
    without writing. ``on_computed`` is called between computing and writing (a seam for tests);
    ``on_lock_wait`` is told when another run holds the folder's lock for more than a second.
    """
    path = Path(path)
    config = config or config_for(path)

    def compute_text(text: str, bom: bool) -> FillResult:
        result = fill(parse(text, str(path), bom=bom), config=config, root=root)
        if on_computed is not None:
            on_computed(result)
        return result

    def new_bytes(r: FillResult) -> bytes | None:
        return None if check or not r.changed else r.data()

    result, written = rewrite(path, compute_text, new_bytes, "filling", on_lock_wait=on_lock_wait)
    result.written = written
    return result


# --- one record ----------------------------------------------------------------------------------------


def record_edits_for(figures: Figures) -> list[Edit]:
    """The edits that fill a record's waiting figures, or none when any of them cannot be had (or a problem
    stops the record): a record is filled whole or not at all."""
    if figures.blocked:
        return []
    edits: list[Edit] = []
    for f in figures.values.record.fields:
        spec = FIELDS.get(f.key)
        if spec is None or spec.computed is None or not f.waiting:
            continue
        value = _figure(figures, spec.computed, f)
        if value is None:
            return []
        edits.append(_edit(f, write_figure(spec.kind, value)))
    return edits


def _figure(figures: Figures, name: str, f: Field) -> object:
    if name == "exact":
        return figures.exact.get((f.arg or "").strip())
    if name == "cost":
        return figures.cost.amount if figures.cost is not None else None
    value: object = getattr(figures, name)
    return value


def _edit(f: Field, text: str) -> Edit:
    span = f.placeholders[0]
    if f.key == "UTILIZATION":
        line = next(p.text for p in f.parts if p.line == span.line)
        column = next(p.column for p in f.parts if p.line == span.line)
        if not line[span.end - (column - 1) :].lstrip().startswith("%"):
            text += "%"
    return Edit(span.line, span.start, span.end, text)


# --- the summary and the new text ----------------------------------------------------------------------


def _summary_lines(
    ledger: Ledger, records: tuple[Figures, ...], config: Config
) -> tuple[list[str] | None, list[Diagnostic]]:
    """The summary's new lines (None: leave it as it is), and why it is left when it is."""
    summary = ledger.summary
    if summary is None:
        return None, []
    path = ledger.display_path
    problems = [
        Diagnostic(
            path,
            line,
            1,
            "LK110",
            "this section is also titled as the cumulative summary; fill re-renders "
            f"only the first, at line {summary.heading_line}",
        )
        for line in summary.others
    ]
    if summary.foreign:
        problems.append(_kept(ledger, summary.foreign[0], "holds text fill does not own"))
        return None, problems
    project = Project(summary.project_id, tuple(group(records)))
    body = mirrored_body(project, config.templates)
    if body is None:
        from .render import render  # jinja2 only for a template writing/summary.py does not mirror

        body = render(SUMMARY_TEMPLATE, {"sessions": project.sessions, "project": project}, config.templates)
    lines = body.rstrip("\n").split("\n") if body.strip() else []
    _check_rendered(lines)
    dropped = _dropped_key(ledger.lines.contents[summary.first - 1 : summary.last], lines)
    if dropped is not None:
        offset, key = dropped
        problems.append(_kept(ledger, summary.first + offset, f"has {key}, which the summary template does not write,"))
        return None, problems
    return lines, problems


def _kept(ledger: Ledger, line: int, what: str) -> Diagnostic:
    assert ledger.summary is not None
    s = ledger.summary
    return Diagnostic(
        ledger.display_path,
        line,
        1,
        "LK109",
        f"the cumulative summary {what} at line {line}, among its "
        f"items; fill leaves the summary as it is: move that text out of the summary items (lines "
        f"{s.first}-{s.last})",
    )


def _item_keys(lines: list[str]) -> dict[str, set[str]]:
    """The keys written under each kind of summary item (SESSION_ID, PROJECT_ID) in these lines."""
    keys: dict[str, set[str]] = {}
    kind = None
    for line in lines:
        key = summary_key(line)
        if key is None:
            continue
        if not line[:1].isspace():
            kind = key
            keys.setdefault(kind, set())
        elif kind is not None:
            keys[kind].add(key)
    return keys


def _dropped_key(old: list[str], new: list[str]) -> tuple[int, str] | None:
    """A key a person wrote under a summary item that neither the schema nor the new rendering writes there
    (re-rendering would drop it): its offset in ``old`` and the key."""
    rendered = _item_keys(new)
    kind = None
    for offset, line in enumerate(old):
        key = summary_key(line)
        if key is None:
            continue
        if not line[:1].isspace():
            kind = key
        elif kind is not None and key not in SUMMARY_ITEMS.get(kind, ()) and key not in rendered.get(kind, set()):
            return offset, key
    return None


def _check_rendered(lines: list[str]) -> None:
    """The summary template writes summary items only: anything else would become fill's to replace."""
    for n, line in enumerate(lines, 1):
        if not _owned(line):
            raise TemplateError(
                f"template summary.md.j2 writes {line.strip()!r} at its line {n}: the summary block holds only "
                f"{' and '.join(SUMMARY_ITEMS)} items with '- KEY: value' items under them"
            )


def apply(ledger: Ledger, edits: list[Edit], summary: list[str] | None) -> str:
    """The ledger's text with the edits made and (when given) the summary's owned lines replaced."""
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
    return "".join(c + e for c, e in zip(contents, endings, strict=True))


def _prove_only_owned_changed(ledger: Ledger, text: str, summary_rewritten: bool) -> None:
    """After an edit, prove it touched only what fill owns, or refuse to write.

    Outside the summary's owned lines every line is as it was, or is the same line with its placeholders
    filled (as verify's history check reads a fill). The owned lines, before and after, hold nothing but
    summary items: nothing a person wrote among them is replaced.
    """
    old, new = ledger.lines, Lines.split(text)
    summary = ledger.summary if summary_rewritten else None
    head = summary.first - 1 if summary else len(old.contents)
    tail = len(old.contents) - summary.last if summary else 0
    new_tail = len(new.contents) - tail
    shift = new_tail - (len(old.contents) - tail)
    for i in _changed(old, new, 0, head, 0) + _changed(old, new, len(old.contents) - tail, len(old.contents), shift):
        if not _line_kept(old, new, i, i + shift if i >= head else i, opens_summary=i == head - 1):
            _refuse(ledger, f"line {i + 1}")
    if summary is not None:
        for n in range(summary.first, summary.last + 1):
            if not _owned(old.contents[n - 1]):
                _refuse(ledger, f"line {n} of the summary")
        for n in range(head, new_tail):
            if not _owned(new.contents[n]):
                _refuse(ledger, f"the new summary's line {n + 1}")


def _changed(old: Lines, new: Lines, first: int, end: int, shift: int) -> list[int]:
    """The lines ``first``..``end - 1`` of the old text whose content or ending differ from line ``i + shift`` of
    the new (or that the new text lacks): the only ones :func:`_line_kept` must judge. Compared in C, since a
    fill leaves all but a few lines untouched (usually the very same string objects)."""
    if not (0 <= first + shift and end + shift <= len(new.contents)):
        return list(range(first, end))
    a, b = new.contents[first + shift : end + shift], new.endings[first + shift : end + shift]
    differs = map(or_, map(ne, old.contents[first:end], a), map(ne, old.endings[first:end], b))
    return list(compress(range(first, end), differs))


def _line_kept(old: Lines, new: Lines, i: int, j: int, *, opens_summary: bool) -> bool:
    """Whether line ``i`` of the old text stands as line ``j`` of the new, as written or with placeholders
    filled, its ending kept (a heading that ended the file may gain one before the summary)."""
    if not 0 <= j < len(new.contents):
        return False
    a, b = old.contents[i], new.contents[j]
    ending_kept = old.endings[i] == new.endings[j] or (opens_summary and old.endings[i] == "")
    return ending_kept and (a == b or filled_from(a, b))


def _owned(line: str) -> bool:
    """A blank line, a summary item, or a ``- KEY: value`` item under one."""
    if not line.strip():
        return True
    key = summary_key(line)
    if key is None:
        return False
    return key in SUMMARY_ITEMS if not line[:1].isspace() else True


def _refuse(ledger: Ledger, what: str) -> None:
    raise LedgerkitError(
        f"internal error: fill would change {what}, which it does not own; nothing was written "
        "(this is a ledgerkit bug: please report it)",
        ledger.display_path,
    )
