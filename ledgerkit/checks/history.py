"""The append-only history: compare a ledger with a base version of itself.

Every record of the base must still be there, in the same order, byte for byte, except that a
placeholder may have become a value (fill-once). New records may only follow the base's last record.
The summary section is derived and may change; text outside records is not compared.
"""

from __future__ import annotations

import re

from ..config import ACTIONS
from ..diagnostics import Diagnostic
from ..reading.parse import PLACEHOLDER, Ledger, Record

_FIELD_LINE = re.compile(
    r"^(?P<prefix>[ \t]*[-*+][ \t]+(?P<key>[A-Z][A-Z0-9_]*)(?:[ \t]*\([^)]*\))?[ \t]*:)(?P<value>.*)$"
)
_NUMBER = r"\d{1,3}(?:,\d{3})+|\d+"
#: What a placeholder may become in each figure field; anywhere else, any text without brackets.
_FIGURE_VALUE = {
    "CHAR_COUNT": rf"(?:{_NUMBER})",
    "TOKEN_ESTIMATE": rf"(?:{_NUMBER})",
    "BUDGET_C": rf"(?:{_NUMBER})",
    "TOKEN_COUNT": rf"(?:{_NUMBER})",
    "UTILIZATION": r"(?:\d+(?:\.\d+)?%?)",
    "THRESHOLD_ACTION": "(?:" + "|".join(ACTIONS) + ")",
}
_ANY_VALUE = r"(?:[^\[\]\s](?:[^\[\]]*[^\[\]\s])?)"


def filled_from(before: str, after: str) -> bool:
    """True when ``after`` is ``before`` with its placeholders replaced by values, nothing else changed."""
    pieces = PLACEHOLDER.split(before)
    if len(pieces) == 1:
        return False
    m = _FIELD_LINE.match(before)
    value = _FIGURE_VALUE.get(m.group("key"), _ANY_VALUE) if m else _ANY_VALUE
    pattern = value.join(re.escape(piece) for piece in pieces)
    return re.fullmatch(pattern, after) is not None


def _first_difference(a: str, b: str) -> int:
    """0-based index of the first character where a and b differ."""
    n = min(len(a), len(b))
    return next((i for i in range(n) if a[i] != b[i]), n)


def compare(base: Ledger, ledger: Ledger) -> list[Diagnostic]:
    """Every way ``ledger`` breaks the append-only history of ``base``."""
    path = ledger.display_path
    now = {r.run_id: r for r in ledger.records}
    was = {r.run_id: r for r in base.records}
    diagnostics: list[Diagnostic] = []

    def report(line: int, column: int, code: str, message: str) -> None:
        diagnostics.append(Diagnostic(path, line, column, code, message))

    # Records of the base that are gone: renamed (same body under a new RUN_ID) or removed.
    renamed: dict[str, str] = {}  # new id -> old id
    gone = [r for r in base.records if r.run_id not in now]
    new_ids = [r.run_id for r in ledger.records if r.run_id not in was]
    for old in gone:
        twin = next((now[i] for i in new_ids if i not in renamed and _same_body(base, old, ledger, now[i])), None)
        if twin is not None:
            renamed[twin.run_id] = old.run_id
            report(
                twin.line,
                twin.column,
                "LK607",
                f"record {old.run_id} was renamed to {twin.run_id}; a RUN_ID never changes",
            )
        else:
            line, where = _where_it_was(base, old, ledger, now)
            report(line, 1, "LK602", f"record {old.run_id} (line {old.line} of the base) was removed{where}")

    # The order of what survives, and where new records stand.
    kept = [r for r in ledger.records if r.run_id in was or r.run_id in renamed]
    order = {r.run_id: i for i, r in enumerate(base.records)}
    position = [order[renamed.get(r.run_id, r.run_id)] for r in kept]
    for i in range(1, len(kept)):
        if position[i] < position[i - 1]:
            report(
                kept[i].line,
                1,
                "LK603",
                f"record {kept[i].run_id} now comes after {kept[i - 1].run_id}, "
                "which followed it in the base; records keep their order",
            )
    last_kept = max((ledger.records.index(r) for r in kept), default=-1)
    for i, record in enumerate(ledger.records):
        if record.run_id not in was and record.run_id not in renamed and i < last_kept:
            report(
                record.line,
                1,
                "LK604",
                f"record {record.run_id} was inserted before the end; new records go after {base.records[-1].run_id}",
            )

    # Each surviving record, line by line.
    for record in kept:
        old = was[renamed.get(record.run_id, record.run_id)]
        diagnostics.extend(_compare_record(base, old, ledger, record, skip_heading=record.run_id in renamed))
    return sorted(diagnostics, key=lambda d: (d.line, d.column, d.code))


def _lines(ledger: Ledger, record: Record) -> list[str]:
    return ledger.lines.contents[record.line - 1 : record.end_line]


def _same_body(base: Ledger, old: Record, ledger: Ledger, new: Record) -> bool:
    a, b = _lines(base, old)[1:], _lines(ledger, new)[1:]
    return len(a) == len(b) and all(x == y or filled_from(x, y) for x, y in zip(a, b, strict=False))


def _where_it_was(base: Ledger, old: Record, ledger: Ledger, now: dict[str, Record]) -> tuple[int, str]:
    after = base.records[base.records.index(old) + 1 :]
    nxt = next((now[r.run_id] for r in after if r.run_id in now), None)
    if nxt is not None:
        return nxt.line, f" from before {nxt.run_id}"
    last = ledger.records[-1].end_line if ledger.records else 1
    return last, ""


def _compare_record(base: Ledger, old: Record, ledger: Ledger, new: Record, *, skip_heading: bool) -> list[Diagnostic]:
    path = ledger.display_path
    before, after = _lines(base, old), _lines(ledger, new)
    endings_before = base.lines.endings[old.line - 1 : old.end_line]
    endings_after = ledger.lines.endings[new.line - 1 : new.end_line]
    for i, (a, b) in enumerate(zip(before, after, strict=False)):
        if skip_heading and i == 0:
            continue
        line = new.line + i
        if a == b or filled_from(a, b):
            continue
        column = _first_difference(a, b) + 1
        ma, mb = _FIELD_LINE.match(a), _FIELD_LINE.match(b)
        same_field = ma and mb and ma.group("prefix") == mb.group("prefix")
        if same_field and not PLACEHOLDER.search(a) and ma.group("value").strip() != mb.group("value").strip():
            key = ma.group("key")
            if PLACEHOLDER.search(b) and filled_from(b, a):
                return [
                    Diagnostic(
                        path,
                        line,
                        column,
                        "LK606",
                        f"{key} of record {new.run_id} went back to a placeholder; a filled value stays",
                    )
                ]
            return [
                Diagnostic(
                    path,
                    line,
                    column,
                    "LK605",
                    f"{key} of record {new.run_id} changed from {ma.group('value').strip()!r} to "
                    f"{mb.group('value').strip()!r}; a filled value never changes",
                )
            ]
        return [
            Diagnostic(
                path,
                line,
                column,
                "LK601",
                f"record {new.run_id} was edited at line {line} (line {old.line + i} of the base); "
                f"earlier records never change",
            )
        ]
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
                f"record {new.run_id} {what} lines (it has {len(after)}, the base {len(before)}); "
                f"earlier records never change",
            )
        ]
    for i, (a, b) in enumerate(zip(endings_before, endings_after, strict=False)):
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
