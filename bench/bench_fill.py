"""How long `ledgerkit fill` takes on large ledgers, and how that time grows with the number of records.

Builds ledgers of 1,250 to 10,000 records (each naming three sources out of 50 files, with line ranges)
in a temporary folder, then times the whole process (`python -m ledgerkit fill`, start-up included),
median of --runs, on a fresh copy each time. Prints seconds, microseconds per record and the ratio to
the smallest ledger: linear growth keeps the per-record figure flat.

    python bench/bench_fill.py [--runs 3] [--records 1250 2500 5000 10000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "sample_ledgers" / "token_budget_ledger.md"

RECORD = """### RUN_ID: TB-LEDGER-20250816-{n:05d}
- LOCAL_TS: 2025-08-16 16:20 KST (UTC+09:00)
- UTC_TS: 2025-08-16T07:20:00Z
- SCOPE: SESSION
- CONTEXT_ID: GG-SESS-{session:04d}
- SOURCE_FILES:
  - /src/f{a}.md  # 근거 스니펫
  - /src/f{b}.md:2-9
  - /src/f{c}.md#L3
- CHAR_COUNT: [fill_after_measure]
- TOKEN_ESTIMATE: ceil(CHAR_COUNT / 4) = [fill]
- BUDGET_C: 130000
- UTILIZATION: [fill]%
- DISTRIBUTION:
  - system: 10%
  - rolling_summary: 20%
  - task_brief_and_acceptance: 30%
  - evidence_snippets: 30%
  - margin: 10%
- THRESHOLD_ACTION: {{NONE|ALERT70|ALERT85|ALERT95|MINIMAL}} → [fill]
- NOTES:
  - 기록 {n} 🪷

---

"""


def build(folder: Path, records: int) -> Path:
    src = folder / "src"
    src.mkdir(parents=True, exist_ok=True)
    for i in range(50):
        (src / f"f{i}.md").write_text(f"한국어와 English 줄 {i}\n" * (20 + i), encoding="utf-8")
    (folder / "ledgerkit.yaml").write_text("root: .\n", encoding="utf-8")
    reference = REFERENCE.read_text(encoding="utf-8")
    head = reference[: reference.index("### RUN_ID:")]
    tail = reference[reference.index("## 7)") :]
    body = "".join(
        RECORD.format(n=n, session=n // 50, a=n % 50, b=(n * 7) % 50, c=(n * 3) % 50) for n in range(1, records + 1)
    )
    path = folder / f"ledger_{records}.md"
    path.write_text(head + body + tail, encoding="utf-8")
    return path


def time_fill(path: Path, runs: int) -> float:
    times = []
    for _ in range(runs):
        work = path.with_name("work.md")
        shutil.copyfile(path, work)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "ledgerkit", "fill", str(work)], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--records", type=int, nargs="+", default=[1250, 2500, 5000, 10000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'records':>8} {'MB':>6} {'seconds':>8} {'us/record':>10} {'vs first':>9}")
        first = None
        for n in args.records:
            path = build(Path(tmp), n)
            seconds = time_fill(path, args.runs)
            per = seconds / n * 1e6
            first = first or per
            size = path.stat().st_size / 1e6
            print(f"{n:>8} {size:>6.1f} {seconds:>8.2f} {per:>10.0f} {per / first:>8.2f}x")


if __name__ == "__main__":
    main()
