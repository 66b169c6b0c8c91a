"""How fast `ledgerkit count --encoding o200k_base` is, beside raw tiktoken and the peers, on the same files.

Builds (once, under the git-ignored bench/.corpus/) a corpus of about 2,000 files and 50 MB of English
prose, Python code, Korean and mixed Markdown from text made on this machine (bench/corpus.py), and a
7-file corpus (the sources of the sample ledger's first record). Then times, as whole processes (start-up
included), --runs times each, round robin, and prints the median and the fastest:

- ledgerkit count --encoding o200k_base FOLDER (its encoding cache warm; one cold start is shown too);
- tiktoken itself: read the same files, get_encoding("o200k_base"), encode_ordinary on one thread;
- tiktoken itself: the same with encode_ordinary_batch(num_threads=2);
- count-tokens -d FOLDER -r -e o200k_base, and ttok -m gpt-4o on the files' concatenation (stdin),
  installed from PyPI into bench/.corpus/peers-venv (never a ledgerkit dependency; --no-peers skips).

Every tool loads o200k_base offline: tiktoken and the peers from a tiktoken cache folder filled with the
rank file ledgerkit ships. Prints seconds, MB/s, the ratio to ledgerkit and each tool's token total.
The machine may be shared: compare figures from one run, not across runs.

    python bench/bench_count.py [--runs 3] [--rebuild] [--no-peers] [--profile]
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
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corpus  # noqa: E402

HERE = Path(__file__).resolve().parent
WORK = HERE / ".corpus"
LARGE, SMALL = WORK / "large", WORK / "small"
PEERS = WORK / "peers-venv"
FILES, MEGABYTES = 2000, 50
STAMP = f"v2 files={FILES} mb={MEGABYTES}"

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
        print("building the corpora ...", file=sys.stderr)
        build_large(LARGE)
        build_small(SMALL)
        stamp.write_text(STAMP)


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


# --- timing --------------------------------------------------------------------------------------------


def run_once(cmd: list[str], env: dict[str, str], stdin: Path | None = None) -> tuple[float, str]:
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as f:
        start = time.perf_counter()
        done = subprocess.run(cmd, env=env, stdin=f, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed: {done.stderr.strip()}")
    return seconds, done.stdout


def bench(label: str, folder: Path, runs: int, peer: dict[str, Path | None]) -> None:
    files = files_of(folder)
    size = sum(p.stat().st_size for p in files)
    listing = WORK / f"{folder.name}.list"
    listing.write_text("\0".join(str(p) for p in files), encoding="utf-8")
    joined = WORK / f"{folder.name}.joined"
    joined.write_bytes(b"".join(p.read_bytes() for p in files))
    cache = WORK / "ledgerkit-cache"
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tiktoken_cache()), "LEDGERKIT_CACHE_DIR": str(cache)}
    # Every tool runs with its bytecode cached, as after a pip install (which compiles it): an environment
    # that forbids writing bytecode would make whoever runs from a checkout compile its modules at each start.
    env.pop("PYTHONDONTWRITEBYTECODE", None)

    # (name, command, stdin, how to read its total)
    tools: list[tuple[str, list[str] | None, Path | None, Callable[[str], str]]] = [
        (
            "ledgerkit count --encoding o200k_base",
            [sys.executable, "-m", "ledgerkit", "count", "--encoding", "o200k_base", "--json", str(folder)],
            None,
            lambda out: str(json.loads(out)["total"]["tokens"]["o200k_base"]),
        ),
        ("tiktoken encode_ordinary, 1 thread", [sys.executable, "-c", RAW, str(listing), "one"], None, str.strip),
        (
            "tiktoken encode_ordinary_batch, 2 threads",
            [sys.executable, "-c", RAW, str(listing), "batch"],
            None,
            str.strip,
        ),
        (
            "count-tokens -d -r -e o200k_base",
            peer["count-tokens"]
            and [str(peer["count-tokens"]), "-d", str(folder), "-r", "-e", "o200k_base", "-q", "-p", "*.md,*.py,*.log"],
            None,
            str.strip,
        ),
        (
            "ttok -m gpt-4o --allow-special < concatenation",
            peer["ttok"] and [str(peer["ttok"]), "-m", "gpt-4o", "--allow-special"],
            joined,
            lambda out: out.strip() + " (one text)",
        ),
    ]
    shutil.rmtree(cache, ignore_errors=True)
    cold, _ = run_once(tools[0][1], env)  # type: ignore[arg-type]
    # Round robin, so that a burst of load from elsewhere falls on every tool alike.
    times: dict[str, list[float]] = {name: [] for name, *_ in tools}
    totals: dict[str, str] = {}
    for _ in range(runs):
        for name, cmd, stdin, total in tools:
            if cmd:
                seconds, out = run_once(cmd, env, stdin)
                times[name].append(seconds)
                totals[name] = total(out)

    base = statistics.median(times[tools[0][0]])
    unit, scale = ("MB", 1e6) if size >= 1e6 else ("KB", 1e3)
    print(f"\n{label}: {len(files)} files, {size / scale:.1f} {unit}; whole process, {runs} runs each, round robin")
    print(f"{'':48} {'median s':>8} {'min s':>6} {unit + '/s':>7} {'x ledgerkit':>11}  tokens")
    for name, *_ in tools:
        if not times[name]:
            print(f"{name:48} {'not installed':>14}")
            continue
        median = statistics.median(times[name])
        print(
            f"{name:48} {median:8.2f} {min(times[name]):6.2f} {size / scale / median:7.1f} "
            f"{median / base:11.2f}  {totals[name]}"
        )
        if name == tools[0][0]:
            print(f"{'  the same, first start (encoding cache empty)':48} {cold:8.2f}")


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
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the corpora")
    parser.add_argument("--no-peers", action="store_true", help="do not install or time count-tokens and ttok")
    parser.add_argument("--profile", action="store_true", help="profile ledgerkit on the large corpus instead")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    prepare(args.rebuild)
    if args.profile:
        profile(LARGE)
        return
    peer = peers(not args.no_peers)
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    bench("7-file corpus (the sample ledger's first record)", SMALL, args.runs, peer)
    bench("large corpus", LARGE, args.runs, peer)


if __name__ == "__main__":
    main()
