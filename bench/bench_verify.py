"""Start-up cost of `ledgerkit verify`, which runs as a pre-commit hook on every commit.

Times whole processes (median of --runs): bare `python -c pass`, `python -c "import ledgerkit"`, and
`ledgerkit verify` on the reference ledger (the console script, as pre-commit runs it, and against git
HEAD by default), and prints each with its ratio to bare Python. Also lists what verify imports that
it must not: jinja2 and tiktoken.

    python bench/bench_verify.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "sample_ledgers" / "token_budget_ledger.md"


# A user's pip install has bytecode; an environment that forbids writing it (PYTHONDONTWRITEBYTECODE)
# would make every run compile ledgerkit from source and time that instead.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def median_seconds(command: list[str], runs: int) -> float:
    subprocess.run(command, capture_output=True, check=False, env=ENV)  # warm the file cache, write .pyc
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False, env=ENV)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    script = shutil.which("ledgerkit") or str(Path(sys.executable).with_name("ledgerkit"))
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import ledgerkit'": [sys.executable, "-c", "import ledgerkit"],
        "ledgerkit verify (reference, git HEAD base)": [script, "verify", str(REFERENCE)],
        "ledgerkit verify --no-base": [script, "verify", "--no-base", str(REFERENCE)],
    }
    bare = None
    print(f"{'command':<46} {'ms':>7} {'x bare':>7}")
    for name, command in commands.items():
        seconds = median_seconds(command, args.runs)
        bare = bare or seconds
        print(f"{name:<46} {seconds * 1000:>7.1f} {seconds / bare:>7.1f}")
    probe = (
        "import sys; from ledgerkit.cli import cli\n"
        f"try: cli.main(['verify', {str(REFERENCE)!r}], standalone_mode=False)\n"
        "finally: print(','.join(m for m in ('jinja2', 'tiktoken') if m in sys.modules) or 'none')"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False).stdout.split()[
        -1
    ]
    print(f"jinja2/tiktoken imported by verify: {loaded}")


if __name__ == "__main__":
    main()
