"""Replacing a file atomically: a crash, a full disk or a signal leaves the old file or the new one, never a torn one.

The new bytes go to a temporary file in the same folder (so the rename is atomic), synced, given the old
file's mode and, where permitted, its owner and group, then renamed over the old one. Temporaries are
named ``.NAME.ledgerkit-PID-RANDOM.tmp`` so the next run can tell a stale one (its process is gone) from a
live run's and remove it. See docs/writing.md.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from ..errors import LedgerkitError
from .read import file_type, shown

#: A temporary whose process cannot be checked (no POSIX signals) is stale once it is this old.
STALE_AFTER_NS = 10 * 60 * 10**9

_TAG = ".ledgerkit-"
# Errors of chown(2) that only mean "not allowed here": an ordinary user giving a file away, a file
# system without owners, an id the user namespace does not map.
_CHOWN_REFUSED = {errno.EPERM, errno.EACCES, errno.EINVAL, errno.ENOSYS, getattr(errno, "ENOTSUP", errno.EPERM)}

#: Temporaries this process has made and not yet renamed or removed. A stale temporary may carry this
#: process's own pid (pids are reused, and a container's run often gets the same small pid each time), so
#: "our pid" alone does not mean "ours": only the names in this set do.
_OURS: set[str] = set()


class WriteError(LedgerkitError):
    """A file could not be written; nothing was written."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None) -> None:
        super().__init__(message, None if path is None else shown(path), line)


def write_atomic(path: str | Path, data: bytes, *, before_replace: Callable[[], None] | None = None) -> None:
    """Replace ``path`` with ``data``: a crash leaves the old file or the new one, never a torn one.

    A symlink is followed (its target is replaced, the link stays); the mode is kept, and the owner and
    group where the process may set them. A hard-linked file is refused, since a replace would split the
    links; so is anything that is not a regular file. Every OS error is one WriteError saying nothing was
    written. ``before_replace`` is called once the temporary is written and synced, right before the
    rename (a seam for tests).
    """

    def proceed() -> bool:
        if before_replace is not None:
            before_replace()
        return True

    replace(path, data, proceed)


def replace(path: str | Path, data: bytes | bytearray, guard: Callable[[], bool]) -> bool:
    """Write ``data`` to a temporary beside ``path``'s target and, if ``guard()`` then agrees, rename it
    over the target. Returns whether it did; a refused temporary is removed."""
    target = _target(path)
    old = _old_status(target, path)
    remove_stale_temporaries(target)
    return _write_and_rename(target, path, data, old, guard)


def temporary_name(target: str) -> str:
    """A fresh temporary's path beside ``target``: the pid says whose it is, the random part keeps it unique."""
    folder, name = os.path.split(target)
    return os.path.join(folder, f".{name}{_TAG}{os.getpid()}-{os.urandom(6).hex()}.tmp")


def remove_stale_temporaries(target: str) -> list[str]:
    """Remove the temporaries of ``target`` that no live run is writing; returns their paths.

    Only names of ledgerkit's own pattern for this very file are considered, only regular files among them
    are removed, and a temporary whose process is alive is left alone (it may be writing right now).
    """
    folder, name = os.path.split(target)
    pattern = re.compile(re.escape(f".{name}{_TAG}") + r"([0-9]{1,12})-[0-9a-f]{1,64}\.tmp")
    removed = []
    with contextlib.suppress(OSError), os.scandir(folder or ".") as entries:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if match is None or entry.path in _OURS or not _is_stale(entry, int(match.group(1))):
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(entry.path)
    return removed


# --- steps ---------------------------------------------------------------------------------------------


def _target(path: str | Path) -> str:
    name = os.fspath(path)
    if "\0" in name:
        raise WriteError("cannot write: the path holds a NUL byte; nothing written", name)
    try:
        return os.path.realpath(name)
    except (OSError, ValueError) as exc:
        raise WriteError(f"cannot write: {_reason(exc)}; nothing written", path) from None


def _old_status(target: str, path: str | Path) -> os.stat_result | None:
    """The status of the file being replaced (None for a new file), refusing what must not be replaced."""
    try:
        old = os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteError(f"cannot write: {_reason(exc)}; nothing written", path) from None
    if not stat.S_ISREG(old.st_mode):
        raise WriteError(f"is not a regular file (a {file_type(old.st_mode)}); nothing written", path)
    if old.st_nlink > 1:
        name = os.path.basename(target)
        raise WriteError(
            f"has {old.st_nlink} hard links, and replacing it would leave the other names with the old text; "
            f"nothing written (give it a file of its own: cp {name} {name}.new && mv {name}.new {name})",
            path,
        )
    return old


def _write_and_rename(
    target: str, path: str | Path, data: bytes | bytearray, old: os.stat_result | None, guard: Callable[[], bool]
) -> bool:
    tmp = _Temporary(target)
    _OURS.add(tmp.path)  # before the file exists, so no other thread's clean-up takes it for a stale one
    try:
        with _signals_abort() as received:
            try:
                _fill_temporary(tmp, data, old)
                if not guard():
                    return False
                os.replace(tmp.path, target)
            except OSError as exc:
                raise WriteError(f"cannot write: {_reason(exc)}; nothing written", path) from None
            finally:
                tmp.settle(received)
    finally:
        _OURS.discard(tmp.path)
    if received.signum is not None and not tmp.renamed:  # a handler let the process go on after the signal
        raise WriteError(f"interrupted by signal {received.signum}; nothing written", path)
    _fsync_dir(os.path.dirname(target))
    return True


class _Temporary:
    """The temporary beside a target, and whether it was created and then renamed over the target."""

    def __init__(self, target: str) -> None:
        self.path = temporary_name(target)
        self.created = False
        self.renamed = False

    def settle(self, received: _Received) -> None:
        """After the write, however it ended: note whether the rename happened, else remove the temporary.

        A signal may arrive at any point, even here; the handler raises only for the first one, so the
        second pass of the loop always completes.
        """
        while True:
            try:
                received.armed = False
                # Created and gone means renamed: no one else removes a live run's temporary.
                self.renamed = self.created and not os.path.lexists(self.path)
                if not self.renamed:
                    with contextlib.suppress(OSError):
                        os.unlink(self.path)
                return
            except _Interrupted:
                continue


def _fill_temporary(tmp: _Temporary, data: bytes | bytearray, old: os.stat_result | None) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp.path, flags, 0o600)
    tmp.created = True
    try:
        if old is not None:
            _keep_owner(fd, old)
        mode = stat.S_IMODE(old.st_mode) if old is not None else 0o666 & ~_umask()
        if hasattr(os, "fchmod"):  # after chown, which clears the set-id bits
            os.fchmod(fd, mode)
        else:
            os.chmod(tmp.path, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _keep_owner(fd: int, old: os.stat_result) -> None:
    """Give the temporary the old file's owner and group, or at least its group, where permitted."""
    if not hasattr(os, "fchown"):
        return
    new = os.fstat(fd)
    if (new.st_uid, new.st_gid) == (old.st_uid, old.st_gid):
        return
    try:
        os.fchown(fd, old.st_uid, old.st_gid)
        return
    except OSError as exc:
        if exc.errno not in _CHOWN_REFUSED:
            raise
    if new.st_gid != old.st_gid:  # an ordinary user may still set a group they belong to
        with contextlib.suppress(OSError):
            os.fchown(fd, -1, old.st_gid)


def _is_stale(entry: os.DirEntry[str], pid: int) -> bool:
    try:
        if not entry.is_file(follow_symlinks=False):
            return False
        if pid == os.getpid():
            return True  # not in _OURS: an earlier process that had our pid left it
        alive = _alive(pid)
        if alive is not None:
            return not alive
        return time.time_ns() - entry.stat(follow_symlinks=False).st_mtime_ns > STALE_AFTER_NS
    except OSError:
        return False


def _alive(pid: int) -> bool | None:
    """Whether process ``pid`` exists; None when it cannot be told."""
    # os.kill(0, …) would signal our whole process group, and on Windows os.kill terminates the process.
    if os.name != "posix" or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except (OSError, OverflowError):
        return None
    return True


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: str) -> None:
    # Makes the rename itself durable; not possible (nor needed) on every platform.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder or ".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- signals -------------------------------------------------------------------------------------------


class _Interrupted(BaseException):
    """A termination signal arrived while a temporary existed: unwind, remove it, then let the signal act."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Received:
    """The first termination signal received while armed; it is re-delivered once the handlers are restored."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.armed = True

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            return  # the first one is re-delivered; a second must not break the clean-up of the first
        self.signum = signum
        if self.armed:
            raise _Interrupted(signum)


@contextlib.contextmanager
def _signals_abort() -> Iterator[_Received]:
    """For the duration, SIGTERM, SIGINT and SIGHUP abort the write (the caller removes its temporary);
    afterwards the previous handlers are back and the signal is delivered to them, so the process still
    ends the way the signal would have ended it. Only the main thread can do this; elsewhere, nothing."""
    import signal
    import threading

    received = _Received()
    previous: dict[int, signal._HANDLER] = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGINT", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is None:
                continue
            handler = signal.getsignal(signum)
            if handler is None or handler == signal.SIG_IGN:
                continue  # ignored (nohup) or set outside Python: not ours to change
            previous[signum] = signal.signal(signum, received.handle)
    try:
        yield received
    except _Interrupted:
        pass  # the caller has cleaned up; the signal is delivered below
    finally:
        received.armed = False
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received.signum is not None:
            # Delivered to the restored handler: the default one ends the process with the signal's
            # status, Python's SIGINT handler raises KeyboardInterrupt from here.
            signal.raise_signal(received.signum)
