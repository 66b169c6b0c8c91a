"""A ledger only grows: parse, verify's checks and fill must do work in proportion to its records.

No timing: each test counts the work an operation does (the Python lines it runs, a loop's every turn, and its
calls into C such as ``str.join``) on ledgers of three sizes, and requires the work each added record costs to
stay flat. A step quadratic in records (an inner loop over the records for each record) makes that cost grow
with the size and fails here. A C function's own loop counts as one call, so a quadratic loop that runs
entirely in C (``list.index`` or ``in`` on a list, once per record) is not seen: such lookups go through
dictionaries and sets.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ledgerkit.checks.context import Context
from ledgerkit.checks.history import append_only_problems
from ledgerkit.checks.verify import DEFAULT_CHECKS, verify
from ledgerkit.config import Config
from ledgerkit.files.text import Lines
from ledgerkit.reading.parse import outline, parse
from ledgerkit.writing.fill import fill

from .conftest import HEADER, SUMMARY, make_files

SIZES = (100, 400, 1600)
#: How much the calls per added record may grow from the smaller sizes to the larger: a little, for what is
#: cached or amortized (dictionaries growing, a cache warming), far below the fourfold of a quadratic step.
SLACK = 1.25


def _record(n: int, *, filled: bool) -> str:
    minutes = n  # one record a minute: times increase, as in a ledger people keep
    day, minute = divmod(minutes, 24 * 60)
    local = f"2025-08-{16 + day:02d} {minute // 60:02d}:{minute % 60:02d}"
    utc_hour = (minute // 60 - 9) % 24
    utc_day = 16 + day - (1 if minute // 60 < 9 else 0)
    chars, tokens, percent = ("120", "30", "3.00") if filled else ("[fill_after_measure]", "[fill]", "[fill]")
    return "\n".join(
        [
            f"### RUN_ID: TB-LEDGER-202508{16 + day:02d}-{n:05d}",
            f"- LOCAL_TS: {local} KST (UTC+09:00)",
            f"- UTC_TS: 2025-08-{utc_day:02d}T{utc_hour:02d}:{minute % 60:02d}:00Z",
            "- SCOPE: SESSION",
            f"- CONTEXT_ID: S{n // 50}",
            "- SOURCE_FILES:",
            f"  - src/f{n % 7}.md",
            f"  - src/f{(n * 3) % 7}.md:1-2",
            f"- CHAR_COUNT: {chars}",
            f"- TOKEN_ESTIMATE: ceil(CHAR_COUNT / 4) = {tokens}",
            "- BUDGET_C: 1000",
            f"- UTILIZATION: {percent}%",
            "- DISTRIBUTION:",
            "  - system: 10%",
            "  - rolling_summary: 20%",
            "  - task_brief_and_acceptance: 30%",
            "  - evidence_snippets: 30%",
            "  - margin: 10%",
            f"- THRESHOLD_ACTION: {'NONE' if filled else '[fill]'}",
            "- NOTES:",
            f"  - note {n}",
            "",
            "---",
            "",
        ]
    )


def _ledger(records: int, *, filled: bool = True) -> str:
    return HEADER.format(budget=1000) + "".join(_record(n, filled=filled) for n in range(1, records + 1)) + SUMMARY


def calls(operation: Callable[[], object]) -> int:
    """How much ``operation`` does: the Python lines it runs (a loop's every turn, inside a comprehension too)
    and the calls it makes into C. Run once before unseen, so that what happens only once in a process (an
    import, a regular expression compiled, a cache filled) is not counted against the first size."""
    operation()
    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event == "c_call":
            count += 1

    def trace(frame: object, event: str, arg: object) -> Callable[..., object]:
        nonlocal count
        count += 1  # a call, then each line of the frame
        return trace

    # A collection that happens to start inside the operation would run gc.callbacks (Hypothesis keeps one) and
    # count its lines: the collector is paused while counting, as the CLI pauses it for its one command.
    enabled = gc.isenabled()
    gc.disable()
    sys.setprofile(profile)
    sys.settrace(trace)
    try:
        operation()
    finally:
        sys.settrace(None)
        sys.setprofile(None)
        if enabled:
            gc.enable()
    return count


def assert_linear(counts: list[int]) -> None:
    """The calls each further record costs do not grow with the ledger: the cost per record added between the
    two larger sizes is at most ``SLACK`` times that between the two smaller ones (a quadratic step makes it
    grow with the size: fourfold here). Fixed costs (imports, the ledger's head) cancel out."""
    per_record = [(counts[i + 1] - counts[i]) / (SIZES[i + 1] - SIZES[i]) for i in range(len(SIZES) - 1)]
    assert per_record[0] > 0, (counts, per_record)  # the operation did read every record
    assert per_record[-1] <= per_record[0] * SLACK, (counts, per_record)


# --- the counter itself ----------------------------------------------------------------------------------


def test_the_counter_sees_a_quadratic_step():
    def quadratic(n: int) -> None:
        items = list(range(n))
        for a in items:
            for b in items:
                abs(a - b)

    counts = [calls(lambda n=n: quadratic(n // 10)) for n in SIZES]
    with pytest.raises(AssertionError):
        assert_linear(counts)
    assert_linear([calls(lambda n=n: [abs(i) for i in range(n)]) for n in SIZES])


# --- parse, verify, fill -----------------------------------------------------------------------------------


def test_parse_is_linear():
    texts = [_ledger(n) for n in SIZES]
    counts = [calls(lambda t=t: parse(t, "ledger.md")) for t in texts]
    assert [len(parse(t).records) for t in texts] == list(SIZES)
    assert_linear(counts)


def test_outline_is_linear():
    """The outline verify reads of the committed version."""
    texts = [_ledger(n) for n in SIZES]
    counts = [calls(lambda t=t: outline(t, "HEAD:ledger.md")) for t in texts]
    assert [len(outline(t).records) for t in texts] == list(SIZES)
    assert_linear(counts)


def test_the_read_stage_and_figures_are_linear():
    ledgers = [parse(_ledger(n), "ledger.md") for n in SIZES]
    counts = [calls(lambda lk=lk: Context(Config()).figures(lk)) for lk in ledgers]
    assert_linear(counts)


@pytest.mark.parametrize("check", DEFAULT_CHECKS, ids=lambda c: c.__name__)
def test_each_check_is_linear(check):
    ledgers = [parse(_ledger(n), "ledger.md") for n in SIZES]
    contexts = [Context(Config()) for _ in ledgers]
    for lk, context in zip(ledgers, contexts, strict=True):
        context.figures(lk)  # computed once for every check; counted above
    counts = [calls(lambda lk=lk, c=c: check(lk, c)) for lk, c in zip(ledgers, contexts, strict=True)]
    if max(counts) < 50:  # a check with nothing to do on these ledgers (no base, no encoding configured)
        assert len(set(counts)) == 1, counts
        return
    assert_linear(counts)


def test_a_clean_ledger_verifies_clean():
    """What the counts above measure is a ledger verify finds nothing in, as a kept ledger mostly is."""
    assert verify(parse(_ledger(SIZES[0]), "ledger.md"), config=Config()) == []


@pytest.mark.parametrize("read", [parse, outline], ids=["parsed", "outlined"])
def test_verify_against_a_base_is_linear(read):
    """The append-only comparison with the version before, which gained one record: parsed (a library caller's
    base) or outlined (git's, as the command line reads it)."""
    pairs = [(parse(_ledger(n), "ledger.md"), read(_ledger(n - 1), "ledger.md")) for n in SIZES]
    counts = [calls(lambda lk=lk, b=b: verify(lk, base=b, config=Config())) for lk, b in pairs]
    assert verify(*pairs[0][:1], base=pairs[0][1], config=Config()) == []
    assert_linear(counts)


def test_the_history_walk_comparison_is_linear():
    """verify --history compares each committed version, outlined, with the one before it."""
    pairs = [(outline(_ledger(n - 1), "before"), outline(_ledger(n), "now")) for n in SIZES]
    counts = [calls(lambda b=b, now=now: append_only_problems(b, now)) for b, now in pairs]
    assert append_only_problems(*pairs[0]) == []
    assert_linear(counts)


def test_fill_is_linear(tmp_path: Path):
    make_files(tmp_path, {f"src/f{i}.md": f"line one {i}\nline two\nline three\n" * (i + 1) for i in range(7)})
    ledgers = [parse(_ledger(n, filled=False), str(tmp_path / f"ledger{n}.md")) for n in SIZES]
    results = []
    counts = [calls(lambda lk=lk: results.append(fill(lk, config=Config(), root=tmp_path))) for lk in ledgers]
    results = results[1::2]  # each fill ran twice: unseen, then counted
    assert [len(r.filled) for r in results] == list(SIZES)
    assert all(r.ok for r in results), [d for r in results for d in r.diagnostics][:5]
    assert_linear(counts)


@pytest.mark.parametrize("summary_first", [False, True])
def test_fill_in_place_is_linear(tmp_path: Path, summary_first: bool, monkeypatch: pytest.MonkeyPatch):
    """The fill the command line runs, one record at a time, on the file's bytes (what it would write, unwritten);
    ``summary_first``: every record comes after the summary, so that all their changes wait for it (written out in
    small batches here, so that a batch's search for its changes would show)."""
    from ledgerkit.writing.fill import _InPlace, _Out

    monkeypatch.setattr(_Out, "BATCH", 64)

    make_files(tmp_path, {f"src/f{i}.md": f"line one {i}\nline two\nline three\n" * (i + 1) for i in range(7)})
    texts = [_ledger(n, filled=False) for n in SIZES]
    if summary_first:
        texts = [HEADER.format(budget=1000) + SUMMARY + t.removeprefix(HEADER.format(budget=1000)) for t in texts]
    lines = [Lines.split(t) for t in texts]
    results: list[_InPlace] = []
    counts = [
        calls(lambda s=s: results.append(_InPlace(s, False, str(tmp_path / "ledger.md"), Config(), tmp_path)))
        for s in lines
    ]
    assert [len(r.filled) for r in results[1::2]] == list(SIZES)
    assert_linear(counts)


def test_what_fill_would_change_is_found_in_linear_time(tmp_path: Path):
    """`fill --check` lists the lines fill would change and `fill --diff` prints them: difflib's search over the
    whole texts grew with the square of the lines changed (minutes at 5,000 records); fill's own alignment
    does not."""
    make_files(tmp_path, {f"src/f{i}.md": f"line one {i}\nline two\nline three\n" * (i + 1) for i in range(7)})
    results = [
        fill(parse(_ledger(n, filled=False), str(tmp_path / f"l{n}.md")), config=Config(), root=tmp_path) for n in SIZES
    ]
    assert all(r.changed for r in results)
    counts = [calls(lambda r=r: (r.diff(), r.changed_lines())) for r in results]
    assert_linear(counts)
