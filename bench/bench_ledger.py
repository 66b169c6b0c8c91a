"""How `ledgerkit` keeps up with a ledger that grows for years: the ledger rows of issue 12, each beside its anchor.

Builds, in a temporary folder, ledgers in the reference ledger's shape (its own head and tail around generated
records: a record every ten minutes, 50 records a session, three of 50 sources each, line ranges of 17
lengths, so that times never repeat and figures seldom do), fills
them with ``ledgerkit fill`` once, and puts them in a git repository whose HEAD holds the ledger one record
shorter, as a pre-commit hook finds it after a record was appended. Then times whole processes (start-up
included, bytecode written as a user's install has it), round robin over every command and size for --runs
rounds, and prints for each the median and range of the wall time, its ratio to the anchor measured in the same
rounds (``python -c "import click, mistune"``: the floor of any process that reads Markdown with click's
command line), the peak memory of the process (getrusage of the child) and per record, and between two sizes
the growth of the time beside the growth of the records (linear: no faster than the records). Each command is
started by a small launcher process that times it and reads its peak, so the bench's own size never counts.

Rows (the issue's table):

- ``startup``: ``ledgerkit verify`` of the reference ledger (against git HEAD, as the hook runs it; the
  reference folder is this checkout's), ``--version`` and ``--help``, each ÷ the anchor;
- ``head``: ``ledgerkit verify LEDGER`` against git HEAD at 1,250 / 5,000 / 20,000 records;
- ``nobase``: ``ledgerkit verify --no-base`` at 5,000 / 20,000;
- ``fill``: ``ledgerkit fill`` of the unfilled ledger (a fresh copy each run) at 5,000;
- ``reports``: ``rollup`` (one session), ``report`` and ``export`` of the filled 20,000-record ledger.

``--big`` adds 50,000 records to every row that names it in the issue (building takes a few minutes). The
other rows of the table have their own benches: CHAR_COUNT and a line range of a 200 MB source in
bench/bench_measure.py, exact counts in bench/bench_count.py, the scanner alone in bench/bench_blocks.py.

``--compare DIR`` runs every command a second time, in the same rounds, with the ledgerkit package found in DIR
(for instance ``git archive main ledgerkit templates | tar -x -C DIR``), and prints that time as a multiple of
this checkout's ("2.00x this": the other takes twice as long): before and after a change, side by side.

The machine may be shared: compare the ratios within one run, not absolute times across runs.

    python bench/bench_ledger.py [--runs 5] [--rows startup head nobase fill reports] [--big] [--compare DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "sample_ledgers" / "token_budget_ledger.md"
PYTHON = sys.executable
LEDGERKIT = shutil.which("ledgerkit") or str(Path(PYTHON).with_name("ledgerkit"))
ANCHOR = (PYTHON, "-c", "import click, mistune")

# A user's pip install has bytecode; an environment that forbids writing it would make every run compile
# ledgerkit from source and time that instead.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("GIT_")}
ENV.update(GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="b@e", GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="b@e")
# The ledgerkit of the checkout this bench is in, whichever checkout the environment's install points to (a git
# worktree shares the main checkout's virtual environment).
ENV["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))

RECORD = """### RUN_ID: TB-LEDGER-{date}-{n:05d}
- LOCAL_TS: {local} KST (UTC+09:00)
- UTC_TS: {utc}
- SCOPE: SESSION
- CONTEXT_ID: GG-SESS-{session:05d}
- SOURCE_FILES:
  - /src/f{a}.md  # 근거 스니펫
  - /src/f{b}.md:2-{end}
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
START = datetime(2025, 8, 16, 0, 0)


def ledger_text(records: int) -> str:
    """The reference ledger's head and tail around ``records`` generated records, none filled."""
    reference = REFERENCE.read_text(encoding="utf-8")
    head = reference[: reference.index("### RUN_ID:")]
    tail = reference[reference.index("## 7)") :]
    body = []
    for n in range(1, records + 1):
        local = START + timedelta(minutes=10 * n)
        body.append(
            RECORD.format(
                n=n,
                date=f"{local:%Y%m%d}",
                local=f"{local:%Y-%m-%d %H:%M}",
                utc=f"{local - timedelta(hours=9):%Y-%m-%dT%H:%M:%S}Z",
                session=n // 50 + 1,
                a=n % 50,
                b=(n * 7) % 50,
                c=(n * 3) % 50,
                end=3 + n % 17,
            )
        )
    return head + "".join(body) + tail


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, env=ENV, check=True, capture_output=True)


class Corpus:
    """The bench's folder: 50 sources, a configuration, and per size an unfilled ledger, a filled one, and a git
    repository whose HEAD holds the filled ledger one record shorter."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        src = folder / "src"
        src.mkdir(parents=True, exist_ok=True)
        for i in range(50):
            (src / f"f{i}.md").write_text(f"한국어와 English 줄 {i}\n" * (20 + i), encoding="utf-8")
        (folder / "ledgerkit.yaml").write_text("root: .\n", encoding="utf-8")
        _git(folder, "init", "-q")

    def unfilled(self, records: int) -> Path:
        path = self.folder / f"unfilled_{records}.md"
        if not path.exists():
            path.write_text(ledger_text(records), encoding="utf-8")
        return path

    def filled(self, records: int) -> Path:
        path = self.folder / f"filled_{records}.md"
        if not path.exists():
            shutil.copyfile(self.unfilled(records), path)
            subprocess.run([LEDGERKIT, "fill", str(path)], env=ENV, check=True, capture_output=True)
        return path

    def in_git(self, records: int) -> Path:
        """``ledger_N.md``, committed with N - 1 records and holding N in the work tree."""
        path = self.folder / f"ledger_{records}.md"
        if not path.exists():
            shutil.copyfile(self.filled(records - 1), path)
            _git(self.folder, "add", path.name)
            _git(self.folder, "commit", "-q", "-m", f"{records - 1} records")
            shutil.copyfile(self.filled(records), path)
        return path


@dataclass
class Command:
    """One process to time; ``prepare`` runs before each timing (a fresh copy for fill)."""

    name: str
    argv: tuple[str, ...]
    records: int = 0
    prepare: tuple[Path, Path] | None = None  # copy [0] to [1] before each run
    cwd: Path | None = None
    pythonpath: str | None = None  # another checkout of ledgerkit to run instead (--compare)
    times: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)  # KB

    def run(self) -> None:
        if self.prepare is not None:
            shutil.copyfile(*self.prepare)
        env = ENV if self.pythonpath is None else {**ENV, "PYTHONPATH": self.pythonpath}
        done = subprocess.run(
            [PYTHON, "-c", LAUNCHER, *self.argv], cwd=self.cwd, env=env, capture_output=True, text=True, check=False
        )
        code, seconds, peak = done.stdout.split()[-3:]
        if int(code) not in (0, 1):
            raise SystemExit(f"{self.name} ({self.records} records) exited {code}: {' '.join(self.argv)}")
        self.times.append(float(seconds))
        self.peaks.append(int(peak))


# A child's peak memory (ru_maxrss) starts at its parent's when it is spawned, and this bench grows large
# building ledgers: each command is started by this small process instead, which times it and reports its peak.
LAUNCHER = """
import os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), time.perf_counter() - start, usage.ru_maxrss)
"""


def rows(corpus: Corpus, wanted: list[str], big: bool) -> dict[str, list[Command]]:
    more = (50000,) if big else ()
    lk = LEDGERKIT
    out: dict[str, list[Command]] = {}
    if "startup" in wanted:
        out["hook start-up (goal: verify <= 1.2x, --version and --help <= 1.1x the anchor)"] = [
            Command("verify reference (git HEAD)", (lk, "verify", str(REFERENCE)), cwd=REPO),
            Command("--version", (lk, "--version")),
            Command("--help", (lk, "--help")),
        ]
    if "head" in wanted:
        out["verify against git HEAD (goal: linear; <= 0.5 s at 5,000, <= 3 s at 50,000)"] = [
            Command("verify LEDGER", (lk, "verify", str(corpus.in_git(n))), n, cwd=corpus.folder)
            for n in (1250, 5000, 20000, *more)
        ]
    if "nobase" in wanted:
        out["verify --no-base (goal: <= 1 s at 20,000, <= 2.5 s at 50,000)"] = [
            Command("verify --no-base", (lk, "verify", "--no-base", str(corpus.filled(n))), n)
            for n in (5000, 20000, *more)
        ]
    if "fill" in wanted:
        out["fill (goal: <= 0.6 s at 5,000, <= 5 s at 50,000; <= 4 KB per record)"] = [
            Command(
                "fill",
                (lk, "fill", str(corpus.folder / f"work_{n}.md")),
                n,
                prepare=(corpus.unfilled(n), corpus.folder / f"work_{n}.md"),
            )
            for n in (5000, *more)
        ]
    if "reports" in wanted:
        filled = str(corpus.filled(20000))
        out["rollup, report, export of 20,000 records (goal: <= 1.5 s)"] = [
            Command("rollup --session", (lk, "rollup", filled, "--session", "GG-SESS-00002"), 20000),
            Command("report", (lk, "report", filled), 20000),
            Command("export --format json", (lk, "export", filled, "--format", "json"), 20000),
        ]
    return out


def _twins(table: dict[str, list[Command]], other: str) -> dict[str, list[Command]]:
    """Every command beside the same command run by another checkout of ledgerkit (``other``)."""
    out: dict[str, list[Command]] = {}
    for title, commands in table.items():
        out[title] = []
        for c in commands:
            twin = Command("  the --compare checkout", c.argv, c.records, c.prepare, c.cwd, other)
            out[title] += [c, twin]
    return out


def _print(title: str, commands: list[Command], anchor: Command) -> None:
    base = statistics.median(anchor.times)
    print(f"\n{title}")
    print(
        f"  {'command':<28} {'records':>8} {'median s':>9} {'range s':>13} {'x anchor':>9} "
        f"{'peak MB':>8} {'KB/rec':>7} {'growth: time':>13} {'records':>8}"
    )
    print(
        f"  {'anchor: import click, mistune':<28} {'':>8} {base:>9.3f} "
        f"{min(anchor.times):>6.3f}-{max(anchor.times):<6.3f} {1:>9.2f} {statistics.median(anchor.peaks) / 1024:>8.1f}"
    )
    previous: dict[str, Command] = {}
    last: Command | None = None
    for c in commands:
        median = statistics.median(c.times)
        peak = statistics.median(c.peaks)
        per = f"{peak / c.records:>7.1f}" if c.records else f"{'':>7}"
        growth = ""
        before = previous.get(c.name)
        if c.pythonpath is not None and last is not None:
            growth = f"{median / statistics.median(last.times):>12.2f}x this"
        elif before is not None:
            growth = f"{median / statistics.median(before.times):>12.2f}x {c.records / before.records:>7.1f}x"
        last = c
        print(
            f"  {c.name:<28} {c.records or '':>8} {median:>9.3f} {min(c.times):>6.3f}-{max(c.times):<6.3f} "
            f"{median / base:>9.2f} {peak / 1024:>8.1f} {per} {growth}"
        )
        previous[c.name] = c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", nargs="+", default=["startup", "head", "nobase", "fill", "reports"])
    parser.add_argument("--big", action="store_true", help="add 50,000 records where the issue names them")
    parser.add_argument(
        "--compare", metavar="DIR", help="also run every command with another checkout's ledgerkit (its folder)"
    )
    args = parser.parse_args()
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(REPO / "ledgerkit")], env=ENV, check=False)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Corpus(Path(tmp))
        built = time.perf_counter()
        table = rows(corpus, args.rows, args.big)
        if args.compare:
            subprocess.run([PYTHON, "-m", "compileall", "-q", args.compare], env=ENV, check=False)
            table = _twins(table, str(Path(args.compare).resolve()))
        print(f"ledgers built in {time.perf_counter() - built:.1f} s; {args.runs} rounds, round robin")
        anchor = Command("anchor", ANCHOR)
        everything = [anchor, *(c for commands in table.values() for c in commands)]
        for c in everything:
            c.run()  # warm the file cache and the bytecode; not counted
            c.times.clear()
            c.peaks.clear()
        for _ in range(args.runs):
            for c in everything:
                c.run()
        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load {os.getloadavg()[0]:.2f}")
        for title, commands in table.items():
            _print(title, commands, anchor)


if __name__ == "__main__":
    main()
