"""Cost of reading a ledger's whole history from git, as `verify --history` will.

Builds its own repository in a temporary folder (one `git fast-import`): a ledger that gains one record per
commit over --commits commits, beside an unrelated file changed now and then. Then times, round robin,
`Repository.history()` (the whole call: its git log, its cat-file and the parsing of both) beside an anchor
measured in the same rounds, one `git log --follow` process listing the same file's commits, and
the same plus one `git cat-file --batch` of every version (git's own floor for reading them all), and
`Repository.base()` beside one `git cat-file -p HEAD:ledger.md`; and what `verify --history` does:
the walk (`history_problems`: every version read once, parsed once, compared with the one before it), and
`api.verify_history` (the walk, then the working copy against HEAD). Prints median and range, the cost per
commit, and the git processes each call started (counted, not timed).

    python bench/bench_history.py [--commits 300] [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledgerkit.api import verify_history  # noqa: E402
from ledgerkit.checks.git import Repository, open_repository  # noqa: E402
from ledgerkit.checks.walk import history_problems  # noqa: E402
from ledgerkit.reading.parse import parse  # noqa: E402

ENV = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}

HEADER = "# Ledger\n\n## 0) Budget\n- SESSION_BUDGET_C: 130000 tokens\n\n---\n\n## 6) Ledger (append-only)\n\n"
RECORD = """\
### RUN_ID: TB-LEDGER-20250816-{n:03d}
- LOCAL_TS: 2025-08-16 16:{m:02d} KST (UTC+09:00)
- CONTEXT_ID: S1
- SOURCES:
  - docs/part-{n}.md
- CHAR_COUNT: {chars}
- TOKEN_ESTIMATE: ceil(CHAR_COUNT / 4) = {tokens}
- SESSION_BUDGET_C: 130000
- UTILIZATION: {percent}%
- ACTION: keep
- NOTES:
  - record {n}, appended by commit {n}

"""
SUMMARY = "## 7) Cumulative Summary\n- SESSION_COUNT: {n}\n\n---\n"


def ledger(n: int) -> bytes:
    records = "".join(
        RECORD.format(n=i, m=i % 60, chars=400 * i, tokens=100 * i, percent=i % 100) for i in range(1, n + 1)
    )
    return (HEADER + records + SUMMARY.format(n=n)).encode("utf-8")


def build(folder: Path, commits: int) -> Path:
    """A repository whose ledger.md gains a record in each of ``commits`` commits, made by one fast-import."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(folder)], check=True, env=ENV)
    stream = bytearray()
    for n in range(1, commits + 1):
        files = [("ledger.md", ledger(n))]
        if n % 10 == 0:
            files.append(("notes.txt", f"note {n}\n".encode()))
        message = f"record {n}".encode()
        stream += b"commit refs/heads/main\n"
        stream += f"committer Bench <bench@ledgerkit.invalid> {1_700_000_000 + 60 * n} +0000\n".encode()
        stream += b"data %d\n%s\n" % (len(message), message)
        for name, data in files:
            stream += b"M 100644 inline %s\ndata %d\n%s\n" % (name.encode(), len(data), data)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=folder, input=bytes(stream), check=True, env=ENV)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=folder, check=True, env=ENV)
    return folder / "ledger.md"


def seconds(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def processes_of(action: Callable[[], object]) -> list[str]:
    """The git subcommands a call starts, counted by wrapping subprocess.Popen."""
    seen: list[str] = []
    real = subprocess.Popen

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, args, *rest, **kwargs):  # type: ignore[no-untyped-def]
            words = [os.fsdecode(a) for a in args][1:]
            skip = False
            for word in words:
                if skip:
                    skip = False
                elif word in ("-c", "-C"):
                    skip = True
                elif not word.startswith("-"):
                    seen.append(word)
                    break
            super().__init__(args, *rest, **kwargs)

    subprocess.Popen = Counting  # type: ignore[misc]
    try:
        action()
    finally:
        subprocess.Popen = real  # type: ignore[misc]
    return seen


def row(name: str, times: list[float], per: int | None = None) -> str:
    median = statistics.median(times)
    line = f"{name:<44} {median * 1000:>9.1f} {min(times) * 1000:>9.1f} {max(times) * 1000:>9.1f}"
    if per:
        line += f" {median / per * 1e6:>10.0f}"
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledgerkit-bench-") as scratch:
        started = time.perf_counter()
        path = build(Path(scratch) / "repo", args.commits)
        built = time.perf_counter() - started
        repository = open_repository(path)
        assert isinstance(repository, Repository)
        top = str(repository.top)
        anchor_log = ["git", "-C", top, "log", "--follow", "--format=%H", "--", "ledger.md"]
        anchor_show = ["git", "-C", top, "cat-file", "-p", "HEAD:ledger.md"]
        versions = repository.history(path)  # also warms the file cache
        assert len(versions) == args.commits and versions[-1].data == ledger(args.commits)
        total = sum(len(v.data or b"") for v in versions)
        texts = [v.data.decode("utf-8") for v in versions if v.data is not None]
        requests = "".join(f"{v.blob}\n" for v in versions).encode()
        anchor_batch = ["git", "-C", top, "cat-file", "--batch"]

        def floor() -> None:
            subprocess.run(anchor_log, capture_output=True, env=ENV)
            subprocess.run(anchor_batch, input=requests, capture_output=True, env=ENV)

        work: dict[str, Callable[[], object]] = {
            "anchor: git log --follow (1 process)": lambda: subprocess.run(anchor_log, capture_output=True, env=ENV),
            "anchor: + cat-file --batch of every version": floor,
            "Repository.history() (all versions read)": lambda: repository.history(path),
            "anchor: git cat-file -p HEAD:ledger.md": lambda: subprocess.run(anchor_show, capture_output=True, env=ENV),
            "Repository.base()": lambda: repository.base(path),
            "anchor: parse every version (the parser alone)": lambda: [parse(text) for text in texts],
            "verify --history: the walk (history_problems)": lambda: history_problems(repository, path),
            "verify --history: api.verify_history": lambda: verify_history(path),
        }
        times: dict[str, list[float]] = {name: [] for name in work}
        for _ in range(args.rounds):
            for name, action in work.items():
                times[name].append(seconds(action))
        print(f"{args.commits} commits, {total / 1e6:.1f} MB of ledger versions (built in {built:.1f} s), git {git()}")
        title = f"ms, {args.rounds} rounds, round robin"
        print(f"{title:<44} {'median':>9} {'min':>9} {'max':>9} {'us/commit':>10}")
        for name in work:
            per_commit = "base()" not in name and "-p HEAD" not in name
            print(row(name, times[name], args.commits if per_commit else None))
        history = statistics.median(times["Repository.history() (all versions read)"])
        for anchor in ("anchor: git log --follow (1 process)", "anchor: + cat-file --batch of every version"):
            print(f"history / {anchor[8:]}: {history / statistics.median(times[anchor]):.2f}x")
        print(f"git processes of history(): {processes_of(lambda: repository.history(path))}")
        print(f"git processes of base():    {processes_of(lambda: repository.base(path))}")
        walk = statistics.median(times["verify --history: the walk (history_problems)"])
        parsing = statistics.median(times["anchor: parse every version (the parser alone)"])
        print(f"walk / history(): {walk / history:.2f}x; walk / parsing every version: {walk / parsing:.2f}x")
        assert history_problems(repository, path) == []  # a clean history: the figure is of a walk that passed
        print(f"git processes of the walk:  {processes_of(lambda: history_problems(repository, path))}")
        print(f"git processes of verify_history(): {processes_of(lambda: verify_history(path))}")


def git() -> str:
    return subprocess.run(["git", "--version"], capture_output=True, text=True, env=ENV).stdout.split()[-1]


if __name__ == "__main__":
    main()
