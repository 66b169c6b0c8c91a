"""How fast ledgerkit measures sources, beside plain Python doing the least the same answer needs.

Two rows of issue 12, each ledgerkit beside its anchor in the same run, round robin, median and range:

1. CHAR_COUNT of the 2,000-file / 50 MB corpus that bench/bench_count.py builds (bench/.corpus/large):
   ledgerkit's Measurer over one record naming every file (parse, resolve under the root, read, check,
   count), and over one record naming the folder; the anchor reads each file with
   ``open(p, "rb").read().decode("utf-8")`` and takes ``len``. In this process, page cache warm.
2. A 10-line range in the middle of a 200 MB source, beside one plain ``open(p, "rb").read()`` of it and one
   read as text (``open(p, encoding="utf-8").read()``, which checks every byte as the range does): each
   in a fresh process that reports its own time for the work and its peak memory (getrusage), for a file
   of the corpus's mix (Korean, English, code) and for one of ASCII only (English and code). Peak memory
   is the process's high-water mark (VmHWM); "for the work" is its growth during the work itself.

    python bench/bench_measure.py [--runs 5] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import bench_count, corpus  # noqa: E402

WORK = bench_count.WORK
BIG = WORK / "measure"
BIG_MB = 200

# Peak memory is the child's own high-water mark (VmHWM): getrusage's ru_maxrss in a child counts the
# parent's size at the fork, which would hide the difference being measured. getrusage where there is no /proc.
CHILD = """
import json, os, resource, sys, time
def peak_kb():
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kind, path, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "ledgerkit":
    from pathlib import Path
    from ledgerkit.config import Config
    from ledgerkit.measuring.measure import Measurer
    from ledgerkit.reading.parse import parse
    text = "## 6) Ledger (append-only)\\n\\n### RUN_ID: X-20250101-001\\n- SOURCE_FILES:\\n"
    text += "  - " + os.path.basename(path)
    lk = parse(text + f":{start}-{start + 9}\\n", os.path.join(os.path.dirname(path), "ledger.md"))
before = peak_kb()
t0 = time.perf_counter()
if kind == "ledgerkit":
    m = Measurer(lk, Config(), os.path.dirname(path))
    measurement, problems = m.measure(lk.records[0])
    assert not problems, problems
    answer = measurement.chars
elif kind == "text":
    with open(path, encoding="utf-8") as f:
        answer = len(f.read())
else:
    with open(path, "rb") as f:
        answer = len(f.read())
seconds = time.perf_counter() - t0
peak = peak_kb()
print(json.dumps({"seconds": seconds, "peak_kb": peak, "before_kb": before, "answer": answer}))
"""


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.3f} s  ({min(values):.3f}–{max(values):.3f})"


def round_robin(tasks: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in tasks}
    for _ in range(runs):
        for name, task in tasks.items():
            start = time.perf_counter()
            task()
            times[name].append(time.perf_counter() - start)
    return times


# --- 1. CHAR_COUNT of 2,000 files ----------------------------------------------------------------------


def char_count_row(runs: int) -> None:
    from ledgerkit.config import Config
    from ledgerkit.measuring.measure import Measurer
    from ledgerkit.reading.parse import parse

    root = bench_count.LARGE
    files = bench_count.files_of(root)
    names = [p.relative_to(root).as_posix() for p in files]
    size = sum(p.stat().st_size for p in files)

    def ledger_of(entries: list[str]) -> object:
        body = "".join(f"  - {e}\n" for e in entries)
        head = "## 6) Ledger (append-only)\n\n### RUN_ID: X-20250101-001\n- SOURCE_FILES:\n"
        return parse(head + body, str(root / "l.md"))

    every, folder = ledger_of(names), ledger_of(["/"])

    def ledgerkit(lk: object) -> int:
        m = Measurer(lk, Config(), root)  # type: ignore[arg-type]
        measurement, problems = m.measure(lk.records[0])  # type: ignore[attr-defined]
        assert not problems, problems[:3]
        return measurement.chars  # type: ignore[union-attr]

    def anchor() -> int:
        total = 0
        for p in files:
            with open(p, "rb") as f:
                total += len(f.read().decode("utf-8"))
        return total

    counts = {"anchor": anchor(), "files": ledgerkit(every), "folder": ledgerkit(folder)}  # and warms the cache
    crlf = sum(p.read_bytes().count(b"\r\n") for p in files)
    assert counts["files"] == counts["folder"] == counts["anchor"] - crlf, counts
    times = round_robin(
        {
            "python: read + decode + len, per file": anchor,
            "ledgerkit: Measurer, 2,000 entries": lambda: ledgerkit(every),
            "ledgerkit: Measurer, one folder entry": lambda: ledgerkit(folder),
        },
        runs,
    )
    print(f"CHAR_COUNT of {len(files):,} files, {size / 1e6:.1f} MB ({counts['files']:,} characters), {runs} runs")
    base = statistics.median(times["python: read + decode + len, per file"])
    for name, values in times.items():
        ratio = statistics.median(values) / base
        per = statistics.median(values) / len(files) * 1e6
        print(f"  {name:42} {spread(values)}  {ratio:5.2f}×  {per:6.1f} µs/file")
    print()


# --- 2. a 10-line range of a 200 MB file ---------------------------------------------------------------


def build_big(rebuild: bool) -> dict[str, Path]:
    BIG.mkdir(parents=True, exist_ok=True)
    target = BIG_MB * 1_000_000
    built = {"mixed": BIG / "mixed.md", "ascii": BIG / "ascii.md"}
    if rebuild or not all(p.exists() and p.stat().st_size >= target for p in built.values()):
        print("building the 200 MB sources ...", file=sys.stderr)
        pieces = [p.read_bytes() for p in bench_count.files_of(bench_count.LARGE)]
        ascii_pool = (corpus.english() + corpus.code()).encode("ascii", "ignore")
        for name, pool in (("mixed", b"\n".join(pieces)), ("ascii", ascii_pool)):
            with open(built[name], "wb") as f:
                written = 0
                while written < target:
                    f.write(pool)
                    written += len(pool)
    return built


def child(kind: str, path: Path, start: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(path), str(start)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed: {done.stderr.strip()}")
    result: dict[str, float] = json.loads(done.stdout)
    return result


def range_row(runs: int, built: dict[str, Path]) -> None:
    for name, path in built.items():
        with open(path, "rb") as f:
            lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        start = lines // 2
        results: dict[str, list[dict[str, float]]] = {"plain read": [], "text read": [], "ledgerkit range": []}
        for _ in range(runs):
            results["plain read"].append(child("plain", path, start))
            results["text read"].append(child("text", path, start))
            results["ledgerkit range"].append(child("ledgerkit", path, start))
        size = path.stat().st_size / 1e6
        print(f"lines {start:,}-{start + 9:,} of a {size:.0f} MB source ({name}, {lines:,} lines), {runs} runs")
        base = statistics.median(r["seconds"] for r in results["plain read"])
        text = statistics.median(r["seconds"] for r in results["text read"])
        for label, rs in results.items():
            seconds = [r["seconds"] for r in rs]
            peak = statistics.median(r["peak_kb"] for r in rs) / 1024
            grew = statistics.median(r["peak_kb"] - r["before_kb"] for r in rs) / 1024
            ratios = f"{statistics.median(seconds) / base:5.2f}× plain, {statistics.median(seconds) / text:5.2f}× text"
            print(f"  {label:24} {spread(seconds)}  {ratios}  peak {peak:6.1f} MB (+{grew:.1f} MB for the work)")
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    bench_count.prepare(args.rebuild)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; compare figures within this run only\n")
    char_count_row(args.runs)
    range_row(args.runs, build_big(args.rebuild))


if __name__ == "__main__":
    main()
