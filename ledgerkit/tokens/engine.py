"""Counting tokens exactly, on every core, in bounded memory.

Two engines give the same counts. tiktoken (always there) releases the GIL, so threads count in
parallel; bpe-openai (the ``fast`` extra, ledgerkit.tokens.fast) is faster but holds the GIL, so it counts
in one worker process per core. Either way a long text is cut into pieces only where the counts provably
add up (ledgerkit.tokens.boundaries), only the counts are kept (never a whole token list), and no more
than 2 M characters are queued at once, so a caller that reads lazily never holds the whole corpus.

Importing this module imports neither engine: they are loaded when something is counted.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from . import boundaries, fast
from . import encodings as _encodings
from .names import resolve

if TYPE_CHECKING:
    import tiktoken

#: No more than this many characters are queued for counting at once (and 64 tasks): enough to keep every
#: core busy (a process task is 256 K characters, a thread task one piece), little enough to hold.
_IN_FLIGHT_CHARS = 2 << 20
_IN_FLIGHT_TASKS = 64


def workers() -> int:
    """Counting threads or processes: one per core."""
    return max(1, min(os.cpu_count() or 1, 32))


def engine(encodings: Sequence[str]) -> str:
    """Which engine counts these names: ``"bpe-openai X.Y.Z"`` or ``"tiktoken"``."""
    names = _encoding_names(encodings)
    version = fast.installed_version()
    return f"{fast.DISTRIBUTION} {version}" if version and _fast_can(names) else "tiktoken"


def count(texts: Sequence[str], encoding: str) -> list[int]:
    """The exact token count of each text (special-token text counted as ordinary text), on every core."""
    return count_many(texts, [encoding])[encoding.strip()]


def count_many(
    texts: Iterable[str], encodings: Sequence[str], *, progress: Callable[[int], None] | None = None
) -> dict[str, list[int]]:
    """Exact counts of each text for each name in ``encodings`` (names that share an encoding share a count).

    Texts are counted as they come, so a caller that reads files lazily counts some while it reads the next;
    it is never more than a few MB ahead. ``progress`` gets the number of texts done so far, in order, in the
    calling thread.
    """
    resolved = [resolve(name) for name in encodings]
    names = list(dict.fromkeys(r.encoding for r in resolved))
    run = _Run(_backend(names), progress)
    try:
        for text in texts:
            run.add(text)
        totals = run.finish()
    finally:
        run.close()
    by_encoding = {name: [row[i] for row in totals] for i, name in enumerate(names)}
    return {r.name: by_encoding[r.encoding] for r in resolved}


def count_stream(chunks: Iterable[str], encoding: str) -> int:
    """The exact count of the concatenation of ``chunks`` (any sizes), holding only a bounded window."""
    return count_stream_many(chunks, [encoding])[encoding.strip()]


def count_stream_many(chunks: Iterable[str], encodings: Sequence[str]) -> dict[str, int]:
    """``count_stream`` for several names at once, reading the stream once."""
    resolved = [resolve(name) for name in encodings]
    names = list(dict.fromkeys(r.encoding for r in resolved))
    run = _Run(_backend(names), None)
    try:
        if _chunkable(names):
            owner = run.open_text()
            for piece in boundaries.split_stream(chunks, boundaries.PIECE):
                run.piece(owner, piece)
            run.close_text()
        else:  # no safe cut is known for this encoding's pattern: the text is counted whole
            run.add("".join(chunks))
        (row,) = run.finish()
    finally:
        run.close()
    by_encoding = dict(zip(names, row, strict=True))
    return {r.name: by_encoding[r.encoding] for r in resolved}


def _encoding_names(encodings: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(resolve(name).encoding for name in encodings))


def _fast_can(names: Sequence[str]) -> bool:
    return all(name in fast.SUPPORTED for name in names)


def _chunkable(names: Sequence[str]) -> bool:
    return all(name in boundaries.COVERED for name in names)


# --- the engines ---------------------------------------------------------------------------------------


class _Backend:
    """Counts a batch of texts for each of ``names``: here, or in a pool thread (``in_pool``)."""

    processes = False
    #: A pool task holds pieces up to this many characters (threads: one piece each).
    batch_chars = 1
    #: Below this many characters in all, a pool costs more than it saves.
    parallel_chars = 200_000

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.chunkable = _chunkable(names)

    def here(self, texts: list[str]) -> list[list[int]]:
        raise NotImplementedError

    def in_pool(self, texts: list[str]) -> list[list[int]]:
        return self.here(texts)

    def close(self) -> None:
        """Release what the engine started (worker processes)."""


class _Tiktoken(_Backend):
    """tiktoken's ``encode_ordinary`` releases the GIL: each pool thread counts on its own core."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(names)
        self._encodings = [_encodings.load_encoding(name) for name in names]

    def here(self, texts: list[str]) -> list[list[int]]:
        return [[_tiktoken_count(enc, text) for enc in self._encodings] for text in texts]


def _tiktoken_count(enc: tiktoken.Encoding, text: str) -> int:
    try:
        return len(enc.encode_ordinary(text))
    except BaseException as exc:
        # A Rust panic (fancy-regex's stack overflowing on a very long run of whitespace) reaches Python as
        # pyo3's PanicException, a BaseException: turn that one into an error; let anything else through.
        if type(exc).__name__ != "PanicException":
            raise
        raise _encodings.EncodingError(
            f"tiktoken cannot count a text of {len(text)} characters with {enc.name}: {exc}"
        ) from None


class _Fast(_Backend):
    """bpe-openai holds the GIL: a pool thread drives one worker process each; small jobs count here."""

    processes = True
    batch_chars = 256_000
    parallel_chars = 2_000_000

    def __init__(self, names: list[str]) -> None:
        super().__init__(names)
        self._counters: list[Callable[[str], int]] | None = None
        self._local = threading.local()
        self._workers: list[fast.Worker] = []
        self._lock = threading.Lock()

    def here(self, texts: list[str]) -> list[list[int]]:
        if self._counters is None:
            self._counters = [fast.counter(name) for name in self.names]
        counters = self._counters
        return [[c(text) for c in counters] for text in texts]

    def in_pool(self, texts: list[str]) -> list[list[int]]:
        worker: fast.Worker | None = getattr(self._local, "worker", None)
        if worker is None:
            with self._lock:
                worker = fast.Worker()
                self._workers.append(worker)
            self._local.worker = worker
        return worker.count(self.names, texts)

    def close(self) -> None:
        with self._lock:
            started, self._workers = self._workers, []
        for worker in started:
            worker.close()


def _backend(names: list[str]) -> _Backend:
    if fast.installed_version() and _fast_can(names):
        return _Fast(names)
    return _Tiktoken(names)


# --- one counting run ----------------------------------------------------------------------------------


class _Run:
    """The pieces of texts, counted here (small jobs) or on a pool, with the counts summed per text."""

    def __init__(self, backend: _Backend, progress: Callable[[int], None] | None) -> None:
        self._backend = backend
        self._progress = progress
        self._totals: list[list[int]] = []
        self._batch: list[str] = []
        self._owners: list[int] = []
        self._batch_chars = 0
        self._seen = 0  # characters so far: decides when a pool is worth starting
        self._closed = 0  # texts whose every piece has been queued
        self._reported = 0
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[tuple[Future[list[list[int]]], list[int], int, int]] = deque()
        self._in_flight = 0

    def add(self, text: str) -> None:
        """Count one whole text (cut into pieces where that is safe)."""
        owner = self.open_text()
        for piece in boundaries.pieces(text, boundaries.PIECE) if self._backend.chunkable else (text,):
            self.piece(owner, piece)
        self.close_text()

    def open_text(self) -> int:
        """Start a text: its number, for its pieces."""
        self._totals.append([0] * len(self._backend.names))
        return len(self._totals) - 1

    def piece(self, owner: int, piece: str) -> None:
        """Queue a piece of text number ``owner``."""
        self._batch.append(piece)
        self._owners.append(owner)
        self._batch_chars += len(piece)
        self._seen += len(piece)
        if self._pool is None and self._seen >= self._backend.parallel_chars and workers() > 1:
            self._pool = ThreadPoolExecutor(workers(), thread_name_prefix="ledgerkit-count")
        if self._pool is not None and self._batch_chars >= self._backend.batch_chars:
            self._submit()

    def close_text(self) -> None:
        """The texts started so far have no more pieces."""
        self._closed = len(self._totals)

    def finish(self) -> list[list[int]]:
        """The counts of every text, one per encoding, once every piece has been counted."""
        if self._pool is None:
            if self._batch:
                self._add_counts(self._owners, self._backend.here(self._batch))
            self._batch, self._owners, self._batch_chars = [], [], 0
        else:
            if self._batch:
                self._submit()
            while self._pending:
                self._collect()
        self._report(self._closed)
        return self._totals

    def close(self) -> None:
        """Stop the pool and the engine's processes (after finish, or on an error)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._backend.close()

    def _submit(self) -> None:
        assert self._pool is not None
        chars = self._batch_chars
        while self._pending and (self._in_flight + chars > _IN_FLIGHT_CHARS or len(self._pending) >= _IN_FLIGHT_TASKS):
            self._collect()
        future = self._pool.submit(self._backend.in_pool, self._batch)
        self._pending.append((future, self._owners, self._closed, chars))
        self._in_flight += chars
        self._batch, self._owners, self._batch_chars = [], [], 0

    def _collect(self) -> None:
        future, owners, closed, chars = self._pending.popleft()
        self._add_counts(owners, future.result())
        self._in_flight -= chars
        self._report(closed)

    def _add_counts(self, owners: list[int], counts: list[list[int]]) -> None:
        for owner, row in zip(owners, counts, strict=True):
            total = self._totals[owner]
            for i, n in enumerate(row):
                total[i] += n

    def _report(self, done: int) -> None:
        while self._reported < done:
            self._reported += 1
            if self._progress is not None:
                self._progress(self._reported)
