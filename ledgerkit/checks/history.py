"""The append-only history: compare a ledger with a base version of itself.

Every record of the base must still be there, in the same order, byte for byte, except that a
placeholder may have become a value (fill-once). New records may only follow the base's last record.
The summary section is derived and may change; text outside records is not compared.

Linear in the number of records and lines: records are matched by RUN_ID through maps, a renamed
record's twin is found through an index of its lines, never by comparing every old body with every new one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..diagnostics import Diagnostic
from ..reading.parse import Ledger, Outlined, Placed, filled_from
from ..schema import PLACEHOLDER
from .context import Context

#: Compiled when a changed line is first judged (re caches it): a clean history never needs it.
_FIELD_LINE = r"^(?P<prefix>[ \t]*[-*+][ \t]+(?P<key>[A-Z][A-Z0-9_]*)(?:[ \t]*\([^)]*\))?[ \t]*:)(?P<value>.*)$"


def check_history(ledger: Ledger, context: Context) -> list[Diagnostic]:
    """Append-only against the base version, when there is one (LK601–LK607)."""
    return append_only_problems(context.base, ledger) if context.base is not None else []


def append_only_problems(base: Outlined, ledger: Outlined) -> list[Diagnostic]:
    """Every way ``ledger`` breaks the append-only history of ``base``. Only the records' extents and the lines
    are compared, so either may be a :class:`Ledger` or the cheaper outline of a committed version."""
    return _Comparison(base, ledger).run()


class _Comparison:
    def __init__(self, base: Outlined, ledger: Outlined) -> None:
        self.base, self.ledger = base, ledger
        self.now = {r.run_id: r for r in ledger.records}
        self.was = {r.run_id: r for r in base.records}
        self.base_position = {r.run_id: i for i, r in enumerate(base.records)}
        self.out: list[Diagnostic] = []

    def report(self, line: int, column: int, code: str, message: str) -> None:
        self.out.append(Diagnostic(self.ledger.display_path, line, column, code, message))

    def run(self) -> list[Diagnostic]:
        renamed = self._gone()
        kept = [(i, r) for i, r in enumerate(self.ledger.records) if r.run_id in self.was or r.run_id in renamed]
        self._order(kept, renamed)
        for _, record in kept:
            old = self.was[renamed.get(record.run_id, record.run_id)]
            self.out.extend(_compare_record(self.base, old, self.ledger, record, skip_heading=record.run_id in renamed))
        return sorted(self.out, key=lambda d: (d.line, d.column, d.code))

    def _gone(self) -> dict[str, str]:
        """Records of the base that are gone: renamed (the same body under a new RUN_ID) or removed.

        Returns new id -> old id for the renamed ones.
        """
        renamed: dict[str, str] = {}
        gone = [r for r in self.base.records if r.run_id not in self.now]
        if not gone:
            return renamed
        new = [r for r in self.ledger.records if r.run_id not in self.was]
        index = _LineIndex(self.ledger, new)
        for old in gone:
            twin = index.twin(self.base, old, taken=renamed)
            if twin is not None:
                renamed[twin.run_id] = old.run_id
                self.report(
                    twin.line,
                    twin.column,
                    "LK607",
                    f"record {old.run_id} was renamed to {twin.run_id}; a RUN_ID never changes",
                )
            else:
                line, where = self._where_it_was(old)
                self.report(line, 1, "LK602", f"record {old.run_id} (line {old.line} of the base) was removed{where}")
        return renamed

    def _where_it_was(self, old: Placed) -> tuple[int, str]:
        for r in self.base.records[self.base_position[old.run_id] + 1 :]:
            if r.run_id in self.now:
                nxt = self.now[r.run_id]
                return nxt.line, f" from before {nxt.run_id}"
        last = self.ledger.records[-1].end_line if self.ledger.records else 1
        return last, ""

    def _order(self, kept: Sequence[tuple[int, Placed]], renamed: dict[str, str]) -> None:
        """The order of what survives (LK603), and where new records stand (LK604)."""
        position = [self.base_position[renamed.get(r.run_id, r.run_id)] for _, r in kept]
        for k in range(1, len(kept)):
            if position[k] < position[k - 1]:
                record, before = kept[k][1], kept[k - 1][1]
                self.report(
                    record.line,
                    1,
                    "LK603",
                    f"record {record.run_id} now comes after {before.run_id}, "
                    "which followed it in the base; records keep their order",
                )
        last_kept = max((i for i, _ in kept), default=-1)
        for record in self.ledger.records[: max(last_kept, 0)]:
            if record.run_id not in self.was and record.run_id not in renamed:
                self.report(
                    record.line,
                    1,
                    "LK604",
                    f"record {record.run_id} was inserted before the end; new "
                    f"records go after {self.base.records[-1].run_id}",
                )


class _LineIndex:
    """New records by each (offset, line) of their bodies, to find a renamed record's twin among few."""

    def __init__(self, ledger: Outlined, records: Sequence[Placed]) -> None:
        self.ledger = ledger
        self.by_line: dict[tuple[int, str], list[Placed]] = {}
        for r in records:
            for offset, line in enumerate(_lines(ledger, r)[1:], 1):
                self.by_line.setdefault((offset, line), []).append(r)

    def twin(self, base: Outlined, old: Placed, *, taken: dict[str, str]) -> Placed | None:
        body = _lines(base, old)[1:]
        keys = [(offset, line) for offset, line in enumerate(body, 1) if not PLACEHOLDER.search(line)]
        if not keys:
            return None
        # The old line with the fewest candidates: a twin has every placeholder-free line unchanged.
        key = min(keys, key=lambda k: len(self.by_line.get(k, ())))
        for candidate in self.by_line.get(key, ()):
            if candidate.run_id not in taken and _same_body(body, _lines(self.ledger, candidate)[1:]):
                return candidate
        return None


def _lines(ledger: Outlined, record: Placed) -> list[str]:
    return ledger.lines.contents[record.line - 1 : record.end_line]


def _same_body(a: list[str], b: list[str]) -> bool:
    return len(a) == len(b) and all(x == y or filled_from(x, y) for x, y in zip(a, b, strict=True))


def _first_difference(a: str, b: str) -> int:
    """0-based index of the first character where a and b differ."""
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


def _compare_record(
    base: Outlined, old: Placed, ledger: Outlined, new: Placed, *, skip_heading: bool
) -> list[Diagnostic]:
    path = ledger.display_path
    before, after = _lines(base, old), _lines(ledger, new)
    endings_before = base.lines.endings[old.line - 1 : old.end_line]
    endings_after = ledger.lines.endings[new.line - 1 : new.end_line]
    if before == after and endings_before == endings_after:
        return []  # a record as it was, as nearly all are: its lines compared whole, in C (often the same objects)
    for i, (a, b) in enumerate(zip(before, after, strict=False)):
        if (skip_heading and i == 0) or a == b or filled_from(a, b):
            continue
        return [_changed_line(path, new, old, i, a, b)]
    if len(before) != len(after):
        i = min(len(before), len(after))
        line = new.line + i if len(after) > len(before) else new.line + i - 1
        what = "gained" if len(after) > len(before) else "lost"
        return [
            Diagnostic(
                path,
                line,
                1,
                "LK601",
                f"record {new.run_id} {what} lines (it has {len(after)}, the base "
                f"{len(before)}); earlier records never change",
            )
        ]
    for i, (a, b) in enumerate(zip(endings_before, endings_after, strict=True)):
        if a != b and a != "":  # only a last line without a newline may gain one (an append after it)
            return [
                Diagnostic(
                    path,
                    new.line + i,
                    len(after[i]) + 1,
                    "LK601",
                    f"record {new.run_id} changed a line ending at line {new.line + i}",
                )
            ]
    return []


def _changed_line(path: str, new: Placed, old: Placed, i: int, a: str, b: str) -> Diagnostic:
    line = new.line + i
    column = _first_difference(a, b) + 1
    ma, mb = re.match(_FIELD_LINE, a), re.match(_FIELD_LINE, b)
    if ma and mb and ma.group("prefix") == mb.group("prefix") and not PLACEHOLDER.search(a):
        was, now = ma.group("value").strip(), mb.group("value").strip()
        if was != now:
            key = ma.group("key")
            if PLACEHOLDER.search(b) and filled_from(b, a):
                return Diagnostic(
                    path,
                    line,
                    column,
                    "LK606",
                    f"{key} of record {new.run_id} went back to a placeholder; a filled value stays",
                )
            return Diagnostic(
                path,
                line,
                column,
                "LK605",
                f"{key} of record {new.run_id} changed from {was!r} to {now!r}; a filled value never changes",
            )
    return Diagnostic(
        path,
        line,
        column,
        "LK601",
        f"record {new.run_id} was edited at line {line} (line "
        f"{old.line + i} of the base); earlier records never change",
    )
