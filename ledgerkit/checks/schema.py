"""The schema's checks: every value reads as its kind, RUN_IDs are well formed, unique and increasing,
times agree and never go backwards, and each record has the fields of section 4."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ..diagnostics import Diagnostic
from ..reading.parse import Ledger, Record
from ..reading.values import RecordValues
from ..schema import FIELDS, REQUIRED, format_utc, run_id_pattern
from .context import Context, at


def check_values(ledger: Ledger, context: Context) -> list[Diagnostic]:
    """Every problem met reading the records' values: unreadable, duplicated or malformed (LK1xx, LK404,
    LK505, LK508, LK701), each reported once, by the read stage."""
    figures = context.figures(ledger)
    out = list(figures.problems)
    for f in figures.records:
        out.extend(f.values.diagnostics)
    return out


def check_run_ids(ledger: Ledger, context: Context) -> list[Diagnostic]:
    """RUN_IDs read PREFIX-YYYYMMDD-NNN (LK501), are used once (LK502) and increase down the ledger (LK503)."""
    prefix = context.config.run_id_prefix
    pattern = run_id_pattern(prefix)
    out: list[Diagnostic] = []
    seen: dict[str, Record] = {}
    previous: tuple[str, int] | None = None
    for record in ledger.records:
        where = (record.line, record.column)
        m = pattern.match(record.run_id)
        if not m:
            out.append(at(ledger, *where, "LK501", f"RUN_ID {record.run_id!r} does not read {prefix}-YYYYMMDD-NNN"))
        if record.run_id in seen:
            first = seen[record.run_id].line
            out.append(at(ledger, *where, "LK502", f"RUN_ID {record.run_id} is already used at line {first}"))
        elif m:
            seen[record.run_id] = record
            date, number = m.groups()  # the pattern's two groups: date, then number
            key = (date, int(number))
            if previous is not None and key <= previous:
                out.append(
                    at(
                        ledger,
                        *where,
                        "LK503",
                        f"RUN_ID {record.run_id} does not follow the RUN_ID above it; they increase down the ledger",
                    )
                )
            previous = key
    return out


def check_times(ledger: Ledger, context: Context) -> list[Diagnostic]:
    """RUN_ID's date is LOCAL_TS's (LK504), LOCAL_TS and UTC_TS name one instant (LK506), and a record's
    time is never earlier than the record above it (LK507)."""
    match = run_id_pattern(context.config.run_id_prefix).match
    out: list[Diagnostic] = []
    latest: tuple[datetime, Record] | None = None
    dates: dict[int, str] = {}  # LOCAL_TS's date as _agreement writes it, by the date's ordinal
    for f in context.figures(ledger).records:
        v = f.values
        local, utc = v.local_ts.written, v.utc_ts.written
        if local is not None:
            m = match(v.run_id)
            if not _agree(m, local, utc, dates):
                out.extend(_agreement(ledger, v, m))
        moment = utc if utc is not None else local  # v.moment
        if moment is None:
            continue
        if latest is None or moment > latest[0]:  # later (the common case): one comparison
            latest = (moment, v.record)
        elif moment < latest[0]:
            field = v.utc_ts.field if v.utc_ts.written is not None else v.local_ts.field
            assert field is not None
            out.append(
                at(
                    ledger,
                    field.line,
                    field.value_column,
                    "LK507",
                    f"record {v.run_id} is earlier than {latest[1].run_id} above it; time never goes backwards",
                )
            )
    return out


def _agree(m: re.Match[str] | None, local: datetime, utc: datetime | None, dates: dict[int, str]) -> bool:
    """Whether _agreement finds nothing, in the common case without a call: the date LOCAL_TS is on as it writes
    it (remembered in ``dates`` by its ordinal), and the instant both times name."""
    ordinal = local.toordinal()
    date = dates.get(ordinal)
    if date is None:
        date = dates[ordinal] = local.strftime("%Y%m%d")
    return (m is None or m.group("date") == date) and (utc is None or local == utc)


def _agreement(ledger: Ledger, v: RecordValues, m: object) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    local, utc = v.local_ts.written, v.utc_ts.written
    if local is not None and m is not None:
        date = m.group("date")  # type: ignore[attr-defined]
        if local.strftime("%Y%m%d") != date:
            out.append(
                at(
                    ledger,
                    v.record.line,
                    v.record.column,
                    "LK504",
                    f"RUN_ID {v.run_id} is dated {date}, LOCAL_TS {local:%Y%m%d}",
                )
            )
    if local is not None and utc is not None and local != utc:
        assert v.utc_ts.field is not None and v.local_ts.field is not None
        f = v.utc_ts.field
        out.append(
            at(
                ledger,
                f.line,
                f.value_column,
                "LK506",
                f"UTC_TS {f.text.strip()} is not LOCAL_TS "
                f"{v.local_ts.field.text.strip()} ({format_utc(local.astimezone(UTC))})",
            )
        )
    return out


def check_fields(ledger: Ledger, context: Context) -> list[Diagnostic]:
    """Each record has every field of section 4 (LK511); a field outside the schema is a warning (LK512)."""
    out: list[Diagnostic] = []
    # Records write the same keys in the same order: what each sequence of keys lacks, and which of its fields are
    # not the schema's, is found once.
    verdicts: dict[tuple[str, ...], tuple[list[str], list[int]]] = {}
    for record in ledger.records:
        keys = tuple([f.key for f in record.fields])
        verdict = verdicts.get(keys)
        if verdict is None:
            present = set(keys)
            lacking = [key for key in REQUIRED if key not in present]
            verdict = verdicts[keys] = (lacking, [i for i, key in enumerate(keys) if key not in FIELDS])
        lacking, foreign = verdict
        for key in lacking:
            out.append(at(ledger, record.line, record.column, "LK511", f"record {record.run_id} has no {key} field"))
        for i in foreign:
            f = record.fields[i]
            out.append(at(ledger, f.line, f.column, "LK512", f"{f.key} is not a field of the ledger's schema"))
    return out
