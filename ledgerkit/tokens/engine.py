"""Counting tokens exactly, on every core: tiktoken's encoder releases the GIL, so threads count in parallel."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from . import encodings as _encodings
from .names import resolve

if TYPE_CHECKING:
    import tiktoken

# --- counting ------------------------------------------------------------------------------------------

#: Below this many characters in all, threads cost more than they save.
_PARALLEL_CHARS = 200_000


def workers() -> int:
    """Threads for counting: one per core (tiktoken's encoder releases the GIL)."""
    return max(1, min(os.cpu_count() or 1, 32))


def count(texts: Sequence[str], encoding: str) -> list[int]:
    """The exact token count of each text (special-token text counted as ordinary text), on every core."""
    return count_many(texts, [encoding])[encoding.strip()]


def count_many(
    texts: Iterable[str], encodings: Sequence[str], *, progress: Callable[[int], None] | None = None
) -> dict[str, list[int]]:
    """Exact counts of each text for each name in ``encodings`` (names that share an encoding share a count).

    Texts are counted as they come, each by the next free core, so a caller that reads files lazily counts
    one while it reads the next. ``progress`` gets the number of texts done so far (in the calling thread).
    """
    resolved = [resolve(name) for name in encodings]
    loaded = {r.encoding: _encodings.load_encoding(r.encoding) for r in resolved}
    counts: dict[str, list[int]] = {name: [] for name in loaded}
    small = isinstance(texts, Sequence) and sum(map(len, texts)) < _PARALLEL_CHARS
    if workers() == 1 or small:
        for done, text in enumerate(texts, 1):
            for name, enc in loaded.items():
                counts[name].append(len(enc.encode_ordinary(text)))
            if progress is not None:
                progress(done)
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers(), thread_name_prefix="ledgerkit-count") as pool:
            pending = [[pool.submit(_length, enc, text) for enc in loaded.values()] for text in texts]
            for done, futures in enumerate(pending, 1):
                for values, future in zip(counts.values(), futures, strict=False):
                    values.append(future.result())
                if progress is not None:
                    progress(done)
    return {r.name: counts[r.encoding] for r in resolved}


def _length(enc: tiktoken.Encoding, text: str) -> int:
    return len(enc.encode_ordinary(text))
