"""How long finding a ledger's top-level Markdown blocks takes, and how that time grows with the ledger.

Builds ledgers of 1,250 to 50,000 records in the reference ledger's shape (the records bench/bench_fill.py
writes, between the reference's own head and tail) and times, round robin, on the same lines:

- ``scanner``: ``ledgerkit.reading.blocks.blocks``, the line scanner (mistune only for the reference's quote);
- ``skeleton``: the approach before it, mistune's block parser on a "skeleton" of the text;
- ``stock``: stock mistune 3, every item's content parsed (the reference the tests compare with);
- ``loop``: a bare Python loop testing each line with ``startswith``, an anchor for the machine's speed.

Prints, per ledger and method, the median and range of --runs timings, microseconds per line, the growth of the
time per line against the smallest ledger (linear growth keeps it at 1.00x), the scanner's share of stock
mistune's time, how many lines the scanner handed to mistune, and the scanner's peak memory per record.

    python bench/bench_blocks.py [--runs 3] [--records 1250 5000 20000 50000] [--anchors-up-to 50000]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_fill import RECORD, REFERENCE  # noqa: E402
from ledgerkit.files.textfile import Lines  # noqa: E402
from ledgerkit.reading.blocks import blocks  # noqa: E402
from tests.blocks_reference import skeleton_blocks, stock_blocks  # noqa: E402


def ledger_lines(records: int) -> list[str]:
    reference = REFERENCE.read_text(encoding="utf-8")
    head = reference[: reference.index("### RUN_ID:")]
    tail = reference[reference.index("## 7)") :]
    body = "".join(
        RECORD.format(n=n, session=n // 50, a=n % 50, b=(n * 7) % 50, c=(n * 3) % 50) for n in range(1, records + 1)
    )
    return Lines.split(head + body + tail).contents


def bare_loop(lines: list[str]) -> int:
    count = 0
    for s in lines:
        if s.startswith("  "):
            count += 1
    return count


def timed(function: Callable[[list[str]], object], lines: list[str]) -> float:
    gc.collect()
    start = time.perf_counter()
    function(lines)
    return time.perf_counter() - start


def peak_bytes(lines: list[str]) -> int:
    gc.collect()
    tracemalloc.start()
    found = blocks(lines)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del found
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--records", type=int, nargs="+", default=[1250, 5000, 20000, 50000])
    parser.add_argument("--anchors-up-to", type=int, default=50000, help="time mistune only up to this many records")
    args = parser.parse_args()
    methods: dict[str, Callable[[list[str]], object]] = {
        "scanner": blocks,
        "skeleton": skeleton_blocks,
        "stock": stock_blocks,
        "loop": bare_loop,
    }
    print(f"Python {sys.version.split()[0]}, {args.runs} runs round robin; times are median [min-max]")
    print(
        f"{'records':>8} {'lines':>9} {'method':>9} {'seconds':>9} {'range':>17} {'us/line':>8} {'growth':>7}"
        f" {'vs stock':>9} {'handed':>7} {'KB/rec':>7}"
    )
    first_per_line: dict[str, float] = {}
    for records in args.records:
        lines = ledger_lines(records)
        names = [m for m in methods if m in ("scanner", "loop") or records <= args.anchors_up_to]
        if "skeleton" in names:
            assert blocks(lines) == skeleton_blocks(lines)  # the same blocks, or the timings mean nothing
        times: dict[str, list[float]] = {m: [] for m in names}
        for _ in range(args.runs):
            for name in names:
                times[name].append(timed(methods[name], lines))
        trace: list[tuple[int, int]] = []
        blocks(lines, trace)
        handed = sum(last - first + 1 for first, last in trace)
        kb = peak_bytes(lines) / records / 1024
        stock = statistics.median(times["stock"]) if "stock" in times else None
        for name in names:
            median = statistics.median(times[name])
            per_line = median / len(lines) * 1e6
            growth = per_line / first_per_line.setdefault(name, per_line)
            share = f"{median / stock:>8.1%}" if stock else f"{'':>8}"
            extra = f" {handed:>7} {kb:>7.2f}" if name == "scanner" else ""
            span = f"{min(times[name]):.4f}-{max(times[name]):.4f}"
            print(
                f"{records:>8} {len(lines):>9} {name:>9} {median:>9.4f} {span:>17} {per_line:>8.3f} {growth:>6.2f}x"
                f" {share}{extra}"
            )


if __name__ == "__main__":
    main()
