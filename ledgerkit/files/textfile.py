"""Reading a ledger's bytes faithfully and writing them back atomically, never over a person's save.

The pieces live in their own modules (text, read, atomic, lock); this one joins them into the guarded
rewrite every command that edits a ledger goes through, and keeps every name importable from one place.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .atomic import WriteError, replace, write_atomic
from .lock import LockTimeout, folder_lock
from .read import (
    MissingFile,
    NotRegularFile,
    ReadError,
    UnreadableFile,
    read_bytes,
    read_regular,
    read_with_stat,
    sha256_of,
)
from .text import BOM, Lines, decode, encode, unified_diff

__all__ = [
    "ATTEMPTS",
    "BOM",
    "Lines",
    "LockTimeout",
    "MissingFile",
    "NotRegularFile",
    "ReadError",
    "UnreadableFile",
    "WriteError",
    "decode",
    "encode",
    "folder_lock",
    "read_bytes",
    "read_regular",
    "rewrite",
    "rewrite_data",
    "unified_diff",
    "write_atomic",
]

#: How often a guarded rewrite starts over when the file changes on disk while it works.
ATTEMPTS = 3
T = TypeVar("T")


def rewrite(
    path: Path,
    compute: Callable[[str, bool], T],
    new_bytes: Callable[[T], bytes | None],
    what: str,
    *,
    before_replace: Callable[[], None] | None = None,
    on_lock_wait: Callable[[str], None] | None = None,
) -> tuple[T, bool]:
    """Compute from a ledger's text (without BOM) and write the result, never over a change made meanwhile.

    Under the folder lock: read, ``compute(text, bom)``, and when ``new_bytes`` gives bytes, write and
    sync them to a temporary; only then, right before the rename, check that the file still is the one
    read (device, inode, size, times, links, mode, owner) and still holds the same bytes. If a person
    saved (or another run wrote) in between, the temporary is removed and the work starts over on what is
    there now, up to ATTEMPTS times, then stops writing nothing. Returns the result and whether it wrote.

    What remains unguarded is the time between that last check and rename(2): a few microseconds of
    Python, against the milliseconds-to-seconds a read, a compute and an fsync take (docs/writing.md).
    ``before_replace`` is called right before each check (a seam: tests save a file at the worst moment);
    ``on_lock_wait`` is told when another run's lock makes this one wait (see folder_lock).
    """

    def compute_data(original: bytearray) -> T:
        return compute(*decode(original, path))

    return rewrite_data(path, compute_data, new_bytes, what, before_replace=before_replace, on_lock_wait=on_lock_wait)


def rewrite_data(
    path: Path,
    compute: Callable[[bytearray], T],
    new_bytes: Callable[[T], bytes | bytearray | None],
    what: str,
    *,
    before_replace: Callable[[], None] | None = None,
    on_lock_wait: Callable[[str], None] | None = None,
) -> tuple[T, bool]:
    """:func:`rewrite`, computing from the file's bytes as read (a BOM included), for a caller that decodes
    them its own way: ``compute`` may empty the buffer once it has read it (fill in place does, so that a large
    ledger is not held twice). What the guard compares the file with later is the SHA-256 of those bytes."""
    import hashlib

    target = _real(path)
    with folder_lock(os.path.dirname(target), on_wait=on_lock_wait):
        for _ in range(ATTEMPTS):
            read, seen = read_with_stat(path)  # by the name given, so errors name it
            original = bytearray(read)
            del read
            digest = hashlib.sha256(original).digest()
            result = compute(original)
            del original
            data = new_bytes(result)
            if data is None:
                return result, False

            def unchanged(digest: bytes = digest, seen: os.stat_result = seen) -> bool:
                if before_replace is not None:
                    before_replace()
                return _unchanged(target, digest, seen)

            if replace(target, data, unchanged):
                return result, True
    raise WriteError(f"the ledger kept changing on disk while {what} ({ATTEMPTS} attempts); nothing written", path)


def _unchanged(target: str, digest: bytes, seen: os.stat_result) -> bool:
    """Whether ``target`` still is the file read and holds its bytes (their SHA-256 is ``digest``).

    The bytes are read first and the name's status taken last, so a save that lands during the re-read
    (written in place, or renamed over the name) is seen, and the unguarded window starts at that stat.
    """
    try:
        same = sha256_of(target) == digest
        status = os.stat(target)
    except (ReadError, OSError):
        return False  # gone or replaced by something else: start over, and say so if it stays that way
    return same and _identity(status) == _identity(seen)


def _identity(status: os.stat_result) -> tuple[int, ...]:
    # ctime moves on any change to the inode even when mtime is set back, but only as finely as the file
    # system's clock ticks: mode, owner and link count are compared outright.
    return (
        status.st_dev,
        status.st_ino,
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
        status.st_nlink,
        status.st_mode,
        status.st_uid,
        status.st_gid,
    )


def _real(path: str | Path) -> str:
    name = os.fspath(path)
    if "\0" in name:
        raise UnreadableFile("cannot read: the path holds a NUL byte", name)
    return os.path.realpath(name)
