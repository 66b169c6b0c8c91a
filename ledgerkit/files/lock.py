"""The folder lock that serialises ledgerkit writers: advisory, and a wait with a bound.

Locking the folder rather than the file: the file's inode changes on every atomic replace, and a lock
file beside the ledger would show up in the user's ``git status``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..errors import LedgerkitError
from .read import shown

#: Seconds a run waits for another run's lock before it gives up; LEDGERKIT_LOCK_TIMEOUT overrides it.
DEFAULT_TIMEOUT = 30
#: The longest timeout LEDGERKIT_LOCK_TIMEOUT may ask for (a day): every wait has a bound.
MAX_TIMEOUT = 86_400
#: After this long waiting, the caller's ``on_wait`` is told (once), so a person knows why nothing happens.
TELL_AFTER_NS = 10**9

_BUSY = {errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES}  # what flock(LOCK_NB) says of a lock held elsewhere
_FIRST_PAUSE_NS, _LONGEST_PAUSE_NS = 2 * 10**6, 100 * 10**6


class LockTimeout(LedgerkitError):
    """Another run held the folder lock for longer than the timeout; nothing was written."""


@contextlib.contextmanager
def folder_lock(
    folder: str | Path, *, timeout: int | Decimal | None = None, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the advisory lock of ``folder`` for the duration (a no-op where flock is missing).

    Waits at most ``timeout`` seconds (default LEDGERKIT_LOCK_TIMEOUT, else 30) for another holder, then
    raises LockTimeout naming the folder. After a second of waiting, ``on_wait`` (if given) is called once
    with a line saying what the run waits for; this module prints nothing itself.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    limit_ns = _timeout_ns(timeout)
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC | os.O_NONBLOCK)
    except (OSError, ValueError):
        yield  # a folder we cannot open cannot be locked; the lock is only advisory
        return
    try:
        _acquire(fd, folder, limit_ns, on_wait, fcntl.flock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _acquire(
    fd: int,
    folder: str | Path,
    limit_ns: int,
    on_wait: Callable[[str], None] | None,
    flock: Callable[[int, int], None],
    operation: int,
) -> None:
    """Take the lock by polling without blocking, with a growing pause, until ``limit_ns`` has passed."""
    start = time.monotonic_ns()
    pause, told = _FIRST_PAUSE_NS, False
    while True:
        try:
            flock(fd, operation)
            return
        except OSError as exc:
            if exc.errno not in _BUSY:
                return  # no locking on this file system (ENOLCK, EOPNOTSUPP): go on without, as advisory
        waited = time.monotonic_ns() - start
        if waited >= limit_ns:
            raise LockTimeout(
                f"another ledgerkit run holds the lock on folder {shown(folder)} (waited {_seconds(limit_ns)} s); "
                "nothing written"
            )
        if not told and waited >= TELL_AFTER_NS and on_wait is not None:
            told = True
            on_wait(
                f"waiting for another ledgerkit run to release the lock on folder {shown(folder)} "
                f"(at most {_seconds(limit_ns)} s)"
            )
        time.sleep(min(pause, limit_ns - waited) / 10**9)
        pause = min(2 * pause, _LONGEST_PAUSE_NS)


def _timeout_ns(timeout: int | Decimal | None) -> int:
    """The bound in nanoseconds: integers throughout, so no float decides when a run gives up."""
    if timeout is not None:
        value, said = Decimal(timeout), f"a timeout of {timeout}"
    else:
        raw = os.environ.get("LEDGERKIT_LOCK_TIMEOUT", "").strip()
        try:
            value = Decimal(raw) if raw else Decimal(DEFAULT_TIMEOUT)
        except InvalidOperation:
            value = Decimal("NaN")
        said = f"LEDGERKIT_LOCK_TIMEOUT={raw!r}"
    if not value.is_finite() or not 0 <= value <= MAX_TIMEOUT:
        raise LedgerkitError(f"{said}: the lock timeout must be a number of seconds from 0 to {MAX_TIMEOUT}")
    return int(value * 10**9)


def _seconds(ns: int) -> str:
    return f"{(Decimal(ns) / 10**9).normalize():f}"
