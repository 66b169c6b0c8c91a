"""How fast and how lean exact counting is: ledgerkit beside tiktoken itself, on the same text, same run.

Builds (once, under the git-ignored bench/.corpus/) a corpus of about 2,000 files and 50 MB of English
prose, Python code, Korean and mixed Markdown from text made on this machine (bench/corpus.py), a 7-file
corpus (the sources of the sample ledger's first record), and one 200 MB text (the large corpus repeated).
Then, as whole processes (start-up included), --runs times each, round robin, prints the median and the
range of the time, the peak memory and the token total of:

- ledgerkit count --encoding o200k_base FOLDER, with the engine ledgerkit picks (bpe-openai when the
  ``fast`` extra is installed) and with LEDGERKIT_TOKEN_ENGINE=tiktoken;
- tiktoken itself, read the same files, get_encoding("o200k_base"), then encode_ordinary_batch on 2
  threads (the anchor every ratio is taken against) or encode_ordinary on one;
- with --peers: count-tokens and ttok, installed from PyPI into bench/.corpus/peers-venv (never a
  ledgerkit dependency);
- the 200 MB text: ledgerkit.tokens.engine.count_stream over 1 MiB chunks read from the file (both
  engines) beside tiktoken's encode_ordinary on the whole text, and whether the counts are equal.

Peak memory is given three ways: the largest process (getrusage of the child, as a shell's time shows
it), and the sum over the whole process tree sampled from /proc every 25 ms, as RSS (shared pages, such
as a library mapped by two workers, counted in each) and as PSS (shared pages split between the processes
that share them): what counts when ledgerkit counts in worker processes. Every tool loads o200k_base
offline. The machine may be shared: compare figures from one run, not across runs.

    python bench/bench_count.py [--runs 5] [--big-runs 3] [--no-big] [--peers] [--rebuild] [--profile]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corpus  # noqa: E402

HERE = Path(__file__).resolve().parent
WORK = HERE / ".corpus"
LARGE, SMALL, BIG = WORK / "large", WORK / "small", WORK / "big.txt"
PEERS = WORK / "peers-venv"
FILES, MEGABYTES, BIG_BYTES = 2000, 50, 200_000_000
STAMP = f"v3 files={FILES} mb={MEGABYTES} big={BIG_BYTES}"

RAW = """
import sys, tiktoken
names = [p for p in open(sys.argv[1], encoding="utf-8").read().split("\\0") if p]
texts = [open(p, encoding="utf-8-sig").read().replace("\\r\\n", "\\n") for p in names]
enc = tiktoken.get_encoding("o200k_base")
if sys.argv[2] == "batch":
    print(sum(map(len, enc.encode_ordinary_batch(texts, num_threads=2))))
else:
    print(sum(len(enc.encode_ordinary(t)) for t in texts))
"""

#: One huge text, as a program would count it with tiktoken: read whole, encode whole.
WHOLE = """
import sys, tiktoken
text = open(sys.argv[1], encoding="utf-8", newline="").read()
print(len(tiktoken.get_encoding("o200k_base").encode_ordinary(text)))
"""

#: The same text streamed through ledgerkit in 1 MiB chunks, as read from the file.
STREAM = """
import sys
from ledgerkit.tokens import engine
with open(sys.argv[1], encoding="utf-8", newline="") as f:
    print(engine.count_stream(iter(lambda: f.read(1 << 20), ""), "o200k_base"))
"""


# --- the corpora ---------------------------------------------------------------------------------------


def build_large(folder: Path) -> None:
    rng = random.Random(2024)
    kinds = ["english", "code", "korean", "mixed"]
    per_file = MEGABYTES * 1_000_000 // FILES
    pools = {k: corpus.POOLS[k]() for k in ("english", "code", "korean")}
    bytes_per_char = {k: len(v.encode()) / len(v) for k, v in pools.items()}
    bytes_per_char["mixed"] = 1.35
    for i in range(FILES):
        kind = kinds[i % 4]
        size = int(rng.lognormvariate(0, 0.8) * per_file / 1.377 / bytes_per_char[kind])  # mean of lognorm(0, .8)
        size = max(200, size)
        text = corpus.mixed_markdown(size, seed=i) if kind == "mixed" else corpus.slice_of(pools[kind], size, rng)
        path = folder / kind / f"{i:04d}.{'py' if kind == 'code' else 'md'}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def build_small(folder: Path) -> None:
    from ledgerkit import load
    from ledgerkit.measuring.measure import source_specs

    first = load(corpus.SAMPLE / "token_budget_ledger.md").records[0]
    names = [spec.path.lstrip("/") for spec in source_specs(first)]
    for name in names:
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus.SAMPLE / name, target)
    assert len(names) == 7, names


def prepare(rebuild: bool) -> None:
    stamp = WORK / "stamp"
    if rebuild or not stamp.exists() or stamp.read_text() != STAMP:
        shutil.rmtree(LARGE, ignore_errors=True)
        shutil.rmtree(SMALL, ignore_errors=True)
        BIG.unlink(missing_ok=True)
        print("building the corpora ...", file=sys.stderr)
        build_large(LARGE)
        build_small(SMALL)
        build_big(BIG)
        stamp.write_text(STAMP)


def build_big(path: Path) -> None:
    """About BIG_BYTES of text: the large corpus's files joined, repeated until long enough."""
    files = files_of(LARGE)
    with open(path, "wb") as out:
        written = 0
        while written < BIG_BYTES:
            for p in files:
                data = p.read_bytes()
                out.write(data)
                written += len(data)
                if written >= BIG_BYTES:
                    break


def files_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def tiktoken_cache() -> Path:
    """A tiktoken cache folder holding the shipped o200k_base, where tiktoken looks before downloading."""
    folder = WORK / "tiktoken-cache"
    url = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
    target = folder / hashlib.sha1(url.encode()).hexdigest()
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        target.write_bytes(
            gzip.decompress((HERE.parent / "ledgerkit" / "data" / "o200k_base.tiktoken.gz").read_bytes())
        )
    return folder


def peers(enabled: bool) -> dict[str, Path | None]:
    if not enabled:
        return {"count-tokens": None, "ttok": None}
    if not (PEERS / "bin" / "ttok").exists() or not (PEERS / "bin" / "count-tokens").exists():
        print("installing count-tokens and ttok into bench/.corpus/peers-venv ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        subprocess.run(
            [str(PEERS / "bin" / "pip"), "install", "-q", "count-tokens", "ttok"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return {
        name: (PEERS / "bin" / name if (PEERS / "bin" / name).exists() else None) for name in ("count-tokens", "ttok")
    }


# --- timing and memory ---------------------------------------------------------------------------------


@dataclass
class Measured:
    seconds: list[float] = field(default_factory=list)
    largest_mb: list[float] = field(default_factory=list)  # the largest process of the run
    tree_mb: list[float] = field(default_factory=list)  # all its processes together: summed RSS
    pss_mb: list[float] = field(default_factory=list)  # ... and summed PSS (shared pages counted once)
    total: str = ""


def _memory_kb(pid: int) -> tuple[int, int]:
    """Resident and proportional set size (shared pages split among the processes sharing them)."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, pss


def _children(pids: set[int]) -> set[int]:
    found = set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid in pids:
                found.add(int(name))
    return found


class TreeMemory(threading.Thread):
    """Samples the summed resident memory of a process and its descendants until it exits."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.done = pid, threading.Event()
        self.rss_kb = self.pss_kb = 0

    def run(self) -> None:
        tree, rounds = {self.pid}, 0
        while not self.done.is_set():
            if rounds % 8 == 0:  # finding new processes costs a scan of /proc: not at every sample
                tree |= _children(tree)
            sizes = [_memory_kb(pid) for pid in tree]
            self.rss_kb = max(self.rss_kb, sum(rss for rss, _ in sizes))
            self.pss_kb = max(self.pss_kb, sum(pss for _, pss in sizes))
            rounds += 1
            self.done.wait(0.025)


def run_once(cmd: list[str], env: dict[str, str], stdin: Path | None = None) -> tuple[float, str, float, float, float]:
    """Seconds, standard output, and the peak MB of the largest process, of the tree (RSS) and (PSS)."""
    with (
        open(stdin, "rb") if stdin else open(os.devnull, "rb") as f,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        start = time.perf_counter()
        process = subprocess.Popen(cmd, env=env, stdin=f, stdout=out, stderr=err)
        sampler = TreeMemory(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise SystemExit(f"{cmd[:3]} failed: {err.read().decode(errors='replace').strip()[-2000:]}")
        largest = usage.ru_maxrss / 1024
        return seconds, out.read().decode(), largest, max(sampler.rss_kb / 1024, largest), sampler.pss_kb / 1024


Tool = tuple[str, list[str] | None, dict[str, str], Path | None, Callable[[str], str]]


def round_robin(tools: list[Tool], runs: int) -> dict[str, Measured]:
    # Round robin, so that a burst of load from elsewhere falls on every tool alike.
    measured = {name: Measured() for name, *_ in tools}
    for _ in range(runs):
        for name, cmd, env, stdin, total in tools:
            if cmd:
                seconds, out, largest, tree, pss = run_once(cmd, env, stdin)
                m = measured[name]
                m.seconds.append(seconds)
                m.largest_mb.append(largest)
                m.tree_mb.append(tree)
                m.pss_mb.append(pss)
                m.total = total(out)
    return measured


def _range(values: list[float], fmt: str) -> str:
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}-{max(values):{fmt}})"


def report(measured: dict[str, Measured], anchor: str, size: float, unit: str, scale: float) -> None:
    base = statistics.median(measured[anchor].seconds)
    w = max(map(len, measured))
    print(
        f"{'':{w}} {'median s (range)':>20} {unit + '/s':>6} {'x anchor':>8} "
        f"{'largest MB':>10} {'all RSS':>7} {'all PSS':>7}  tokens"
    )
    for name, m in measured.items():
        if not m.seconds:
            print(f"{name:{w}} {'not installed':>20}")
            continue
        median = statistics.median(m.seconds)
        print(
            f"{name:{w}} {_range(m.seconds, '.2f'):>20} {size / scale / median:6.1f} {base / median:8.2f} "
            f"{statistics.median(m.largest_mb):10.0f} {statistics.median(m.tree_mb):7.0f} "
            f"{statistics.median(m.pss_mb):7.0f}  {m.total}"
        )
    print(
        f"x anchor: how many times faster than '{anchor}' (median over median); memory: median peak in MB of "
        "the largest process, and of all the run's processes summed (RSS counts shared pages in each; PSS once)"
    )


def environment() -> dict[str, str]:
    cache = WORK / "ledgerkit-cache"
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tiktoken_cache()), "LEDGERKIT_CACHE_DIR": str(cache)}
    # Every tool runs with its bytecode cached, as after a pip install (which compiles it): an environment
    # that forbids writing bytecode would make whoever runs from a checkout compile its modules at each start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("LEDGERKIT_TOKEN_ENGINE", None)
    return env


def engine_label() -> str:
    from ledgerkit.tokens import engine

    return engine.engine(["o200k_base"])


def bench(label: str, folder: Path, runs: int, peer: dict[str, Path | None]) -> None:
    files = files_of(folder)
    size = sum(p.stat().st_size for p in files)
    listing = WORK / f"{folder.name}.list"
    listing.write_text("\0".join(str(p) for p in files), encoding="utf-8")
    joined = WORK / f"{folder.name}.joined"
    joined.write_bytes(b"".join(p.read_bytes() for p in files))
    env = environment()
    slow = {**env, "LEDGERKIT_TOKEN_ENGINE": "tiktoken"}
    count = [sys.executable, "-m", "ledgerkit", "count", "--encoding", "o200k_base", "--json", str(folder)]

    def ledgerkit_total(out: str) -> str:
        return str(json.loads(out)["total"]["tokens"]["o200k_base"])

    anchor = "tiktoken encode_ordinary_batch, 2 threads"
    tools: list[Tool] = [
        (f"ledgerkit count ({engine_label()})", count, env, None, ledgerkit_total),
        ("ledgerkit count (tiktoken engine)", count, slow, None, ledgerkit_total),
        (anchor, [sys.executable, "-c", RAW, str(listing), "batch"], env, None, str.strip),
        ("tiktoken encode_ordinary, 1 thread", [sys.executable, "-c", RAW, str(listing), "one"], env, None, str.strip),
        (
            "count-tokens -d -r -e o200k_base",
            [str(peer["count-tokens"]), "-d", str(folder), "-r", "-e", "o200k_base", "-q", "-p", "*.md,*.py,*.log"]
            if peer["count-tokens"]
            else None,
            env,
            None,
            str.strip,
        ),
        (
            "ttok -m gpt-4o --allow-special < concatenation",
            [str(peer["ttok"]), "-m", "gpt-4o", "--allow-special"] if peer["ttok"] else None,
            env,
            joined,
            lambda out: out.strip() + " (one text)",
        ),
    ]
    shutil.rmtree(WORK / "ledgerkit-cache", ignore_errors=True)
    cold, *_ = run_once(count, slow)  # fills the encoding cache, and shows what a first start costs
    measured = round_robin(tools, runs)
    unit, scale = ("MB", 1e6) if size >= 1e6 else ("KB", 1e3)
    print(f"\n{label}: {len(files)} files, {size / scale:.1f} {unit}; whole process, {runs} runs each, round robin")
    report(measured, anchor, size, unit, scale)
    print(f"first start of the tiktoken engine (encoding cache empty): {cold:.2f} s")


def bench_big(runs: int) -> None:
    size = BIG.stat().st_size
    env = environment()
    slow = {**env, "LEDGERKIT_TOKEN_ENGINE": "tiktoken"}
    anchor = "tiktoken encode_ordinary, the whole text"
    stream, whole = [sys.executable, "-c", STREAM, str(BIG)], [sys.executable, "-c", WHOLE, str(BIG)]
    tools: list[Tool] = [
        (f"ledgerkit count_stream, 1 MiB chunks ({engine_label()})", stream, env, None, str.strip),
        ("ledgerkit count_stream, 1 MiB chunks (tiktoken)", stream, slow, None, str.strip),
        (anchor, whole, env, None, str.strip),
    ]
    measured = round_robin(tools, runs)
    print(f"\none text of {size / 1e6:.1f} MB ({BIG.name}); whole process, {runs} runs each, round robin")
    report(measured, anchor, size, "MB", 1e6)
    totals = {m.total for m in measured.values() if m.total}
    print("counts equal: " + ("yes" if len(totals) == 1 else f"NO: {sorted(totals)}"))


def profile(folder: Path) -> None:
    import cProfile
    import pstats

    from ledgerkit.reports.count import count_paths

    cProfile.runctx(
        "count_paths([str(folder)])", globals(), {"count_paths": count_paths, "folder": folder}, str(WORK / "profile")
    )
    pstats.Stats(str(WORK / "profile")).sort_stats("cumulative").print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big-runs", type=int, default=3)
    parser.add_argument("--no-big", action="store_true", help="skip the 200 MB text")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the corpora")
    parser.add_argument("--peers", action="store_true", help="also install and time count-tokens and ttok")
    parser.add_argument("--profile", action="store_true", help="profile ledgerkit on the large corpus instead")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    prepare(args.rebuild)
    if args.profile:
        profile(LARGE)
        return
    peer = peers(args.peers)
    print(
        f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; "
        f"ledgerkit's engine: {engine_label()}"
    )
    bench("7-file corpus (the sample ledger's first record)", SMALL, args.runs, peer)
    bench("large corpus", LARGE, args.runs, peer)
    if not args.no_big:
        bench_big(args.big_runs)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
