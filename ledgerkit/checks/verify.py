"""Verify a ledger: allocations, figures that agree, the schema, and the append-only history.

Each check is a plain function ``(ledger, context) -> list[Diagnostic]`` with its own stable codes.
To add one, copy the default list: ``verify(ledger, checks=(*DEFAULT_CHECKS, my_check))``.
verify reads and never writes; it loads neither jinja2 nor an encoding, since it runs on every commit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from ..config import Config, config_for
from ..diagnostics import Diagnostic
from ..figures import exact
from ..figures.numbers import format_percent, plain_number, read_written, token_estimate, utilization, written_percent
from ..reading.parse import SCHEMA_FIELDS, Entry, Ledger, Record, Share
from .history import compare

SCOPES = ("CONV", "UNIT", "TASK", "SESSION", "PROJECT")
#: Fields a record may carry besides those of section 4 (issue 5's exact counts).
OPTIONAL_FIELDS = ("TOKEN_COUNT",)


@dataclass(frozen=True)
class Context:
    """What a check may need besides the ledger: the configuration and the base version (or None)."""

    config: Config
    base: Ledger | None = None


Check = Callable[[Ledger, Context], list[Diagnostic]]


def _at(ledger: Ledger, line: int, column: int, code: str, message: str) -> Diagnostic:
    return Diagnostic(ledger.display_path, line, column, code, message)


# --- figures -------------------------------------------------------------------------------------------


def check_figures(ledger: Ledger, context: Context) -> list[Diagnostic]:
    """Written figures are readable and agree with each other (a placeholder still waiting is fine)."""
    out: list[Diagnostic] = []
    for record in ledger.records:
        written, problems = read_written(record, ledger, context.config)
        out.extend(problems)
        chars, tokens, budget = written.chars, written.tokens, written.budget
        if chars is not None and tokens is not None:
            expected = token_estimate(chars, written.divisor)
            if tokens != expected:
                f = record.field("TOKEN_ESTIMATE")
                out.append(
                    _at(
                        ledger,
                        f.line,
                        f.value_column,
                        "LK301",
                        f"TOKEN_ESTIMATE {tokens} is not ceil(CHAR_COUNT / {written.divisor}) = {expected}",
                    )
                )
        if tokens is None or budget is None:
            continue
        exact = utilization(tokens, budget)
        if written.utilization is not None and written.utilization != written_percent(exact):
            f = record.field("UTILIZATION")
            out.append(
                _at(
                    ledger,
                    f.line,
                    f.value_column,
                    "LK302",
                    f"UTILIZATION {f.value.strip()} is not TOKEN_ESTIMATE / BUDGET_C = {format_percent(exact)}% "
                    "(two decimals, toward zero)",
                )
            )
        if written.action is not None and written.action != context.config.thresholds.action(exact):
            f = record.field("THRESHOLD_ACTION")
            due = context.config.thresholds.action(exact)
            out.append(
                _at(
                    ledger,
                    f.line,
                    f.value_column,
                    "LK303",
                    f"THRESHOLD_ACTION {written.action}, but a utilization of {format_percent(exact)}% calls for {due}",
                )
            )
    return out


# --- allocation ----------------------------------------------------------------------------------------


def check_allocation(ledger: Ledger, context: Context) -> list[Diagnostic]:
    """DISTRIBUTION and the allocation policy sum to 100 %; shares stay near the configured policy."""
    out: list[Diagnostic] = []
    if ledger.allocation:
        total = sum(s.percent for s in ledger.allocation)
        if total != 100:
            line = ledger.allocation_line or ledger.allocation[0].line
            out.append(_at(ledger, line, 1, "LK402", f"the allocation policy sums to {plain_number(total)}%, not 100%"))
    policy = context.config.allocation
    tolerance = context.config.allocation_tolerance
    for record in ledger.records:
        f = record.field("DISTRIBUTION")
        if f is None:
            continue
        shares: list[Share] = []
        for item in record.distribution:
            if isinstance(item, Entry):
                out.append(
                    _at(
                        ledger,
                        item.line,
                        item.column,
                        "LK404",
                        f"DISTRIBUTION entry {item.text!r} is not a share such as 'system: 10%'",
                    )
                )
            else:
                shares.append(item)
        total = sum(s.percent for s in shares)
        if shares and total != 100:
            out.append(
                _at(
                    ledger,
                    f.line,
                    f.column,
                    "LK401",
                    f"DISTRIBUTION of {record.run_id} sums to {plain_number(total)}%, not 100%",
                )
            )
        for share in shares:
            target = policy.get(share.name)
            if target is not None and abs(share.percent - target) > tolerance:
                out.append(
                    _at(
                        ledger,
                        share.line,
                        share.column,
                        "LK403",
                        f"{share.name} is {plain_number(share.percent)}%, more than "
                        f"{plain_number(tolerance)} points from the policy's {plain_number(target)}%",
                    )
                )
    return out


# --- schema --------------------------------------------------------------------------------------------

_LOCAL_TS = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{2}:\d{2}(?::\d{2})?)[ \t]*"
    r"(?:(?P<iso>Z|[+-]\d{2}:?\d{2})|(?P<zone>[A-Za-z][A-Za-z0-9+-]{0,9})?[ \t]*"
    r"\([ \t]*(?:UTC|GMT)[ \t]*(?P<offset>[+-]\d{1,2}(?::?\d{2})?)?[ \t]*\))[ \t]*$"
)


def _offset(text: str) -> timedelta:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (digits[:-2], digits[-2:]) if len(digits) > 2 else (digits, "0")
    return sign * timedelta(hours=int(hours), minutes=int(minutes))


def read_local_ts(value: str) -> datetime | None:
    """``2025-08-16 16:20 KST (UTC+09:00)`` or ISO 8601 with an offset, as an aware datetime."""
    m = _LOCAL_TS.match(value.strip())
    if not m:
        return None
    offset_text = m.group("iso") or m.group("offset") or "+0"
    offset = timedelta(0) if offset_text == "Z" else _offset(offset_text)
    try:
        naive = datetime.fromisoformat(f"{m.group('date')}T{m.group('time')}")
        return naive.replace(tzinfo=timezone(offset))
    except ValueError:
        return None


def read_utc_ts(value: str) -> datetime | None:
    """ISO 8601 with ``Z`` or an offset, as an aware datetime."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _run_id(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(prefix)}-(?P<date>\d{{8}})-(?P<number>\d{{3,}})$")


def check_schema(ledger: Ledger, context: Context) -> list[Diagnostic]:
    """RUN_IDs, timestamps, SCOPE and the fields of section 4."""
    out: list[Diagnostic] = []
    pattern = _run_id(context.config.run_id_prefix)
    known = set(SCHEMA_FIELDS) | set(OPTIONAL_FIELDS)
    seen: dict[str, Record] = {}
    previous_key: tuple[str, int] | None = None
    previous_moment: tuple[datetime, Record] | None = None
    for record in ledger.records:
        at = (record.line, record.column)
        m = pattern.match(record.run_id)
        if not m:
            out.append(
                _at(
                    ledger,
                    *at,
                    "LK501",
                    f"RUN_ID {record.run_id!r} does not read {context.config.run_id_prefix}-YYYYMMDD-NNN",
                )
            )
        if record.run_id in seen:
            out.append(
                _at(ledger, *at, "LK502", f"RUN_ID {record.run_id} is already used at line {seen[record.run_id].line}")
            )
        elif m:
            seen[record.run_id] = record
            key = (m.group("date"), int(m.group("number")))
            if previous_key is not None and key <= previous_key:
                out.append(
                    _at(
                        ledger,
                        *at,
                        "LK503",
                        f"RUN_ID {record.run_id} does not follow the RUN_ID above it; they increase down the ledger",
                    )
                )
            previous_key = key

        counts = Counter(f.key for f in record.fields if f.arg is None)
        for key in SCHEMA_FIELDS:
            if counts[key] == 0:
                out.append(_at(ledger, *at, "LK511", f"record {record.run_id} has no {key} field"))
        for f in record.fields:
            if f.key not in known:
                out.append(_at(ledger, f.line, f.column, "LK512", f"{f.key} is not a field of the ledger's schema"))
        for key in ("LOCAL_TS", "UTC_TS", "SCOPE", "CONTEXT_ID", "SOURCE_FILES", "DISTRIBUTION", "NOTES"):
            if counts[key] > 1:  # the figure fields' duplicates are LK101 from check_figures
                dup = [f for f in record.fields if f.key == key][1]
                out.append(
                    _at(
                        ledger,
                        dup.line,
                        dup.column,
                        "LK101",
                        f"{key} appears twice in record {record.run_id}; keep one",
                    )
                )

        scope = record.field("SCOPE")
        if scope is not None and not scope.placeholders and scope.value.strip() not in SCOPES:
            out.append(
                _at(
                    ledger,
                    scope.line,
                    scope.value_column,
                    "LK508",
                    f"SCOPE {scope.value.strip()!r} is not one of {'|'.join(SCOPES)}",
                )
            )

        local, utc = record.field("LOCAL_TS"), record.field("UTC_TS")
        local_at = utc_at = None
        if local is not None and not local.placeholders:
            local_at = read_local_ts(local.value)
            if local_at is None:
                out.append(
                    _at(
                        ledger,
                        local.line,
                        local.value_column,
                        "LK505",
                        f"LOCAL_TS {local.value.strip()!r} does not read like '2025-08-16 16:20 KST (UTC+09:00)'",
                    )
                )
            elif m and local_at.strftime("%Y%m%d") != m.group("date"):
                out.append(
                    _at(
                        ledger,
                        *at,
                        "LK504",
                        f"RUN_ID {record.run_id} is dated {m.group('date')}, LOCAL_TS {local_at:%Y%m%d}",
                    )
                )
        if utc is not None and not utc.placeholders:
            utc_at = read_utc_ts(utc.value)
            if utc_at is None:
                out.append(
                    _at(
                        ledger,
                        utc.line,
                        utc.value_column,
                        "LK505",
                        f"UTC_TS {utc.value.strip()!r} does not read like '2025-08-16T07:20:00Z'",
                    )
                )
        if local_at is not None and utc_at is not None and local_at != utc_at:
            out.append(
                _at(
                    ledger,
                    utc.line,
                    utc.value_column,
                    "LK506",
                    f"UTC_TS {utc.value.strip()} is not LOCAL_TS {local.value.strip()} "
                    f"({local_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ})",
                )
            )
        moment = utc_at or local_at
        if moment is not None:
            if previous_moment is not None and moment < previous_moment[0]:
                f = utc if utc_at is not None else local
                out.append(
                    _at(
                        ledger,
                        f.line,
                        f.value_column,
                        "LK507",
                        f"record {record.run_id} is earlier than {previous_moment[1].run_id} above "
                        f"it; time never goes backwards",
                    )
                )
            if previous_moment is None or moment > previous_moment[0]:
                previous_moment = (moment, record)
    return out


# --- history -------------------------------------------------------------------------------------------


def check_history(ledger: Ledger, context: Context) -> list[Diagnostic]:
    """Append-only against the base version, when there is one."""
    return compare(context.base, ledger) if context.base is not None else []


# --- exact token counts --------------------------------------------------------------------------------


def check_token_counts(ledger: Ledger, context: Context) -> list[Diagnostic]:
    """TOKEN_COUNT (encoding) is readable and names an exact encoding; with an encoding configured, the
    estimate is not short of the written exact count by more than the margin. Loads no encoding."""
    return exact.check_token_counts(ledger, context.config)


DEFAULT_CHECKS: tuple[Check, ...] = (check_schema, check_allocation, check_figures, check_history, check_token_counts)


def verify(
    ledger: Ledger,
    *,
    base: Ledger | None = None,
    config: Config | None = None,
    checks: Sequence[Check] = DEFAULT_CHECKS,
) -> list[Diagnostic]:
    """Every problem in a ledger (none for a Markdown file without records), sorted by place."""
    if not ledger.records:
        return []
    context = Context(config or config_for(ledger.path), base)
    found = [d for check in checks for d in check(ledger, context)]
    return sorted(set(found), key=lambda d: (d.line, d.column, d.code, d.message))
