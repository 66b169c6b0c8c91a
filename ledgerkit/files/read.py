"""Reading a file ledgerkit was given (ledger, configuration, template, source): regular files only, never a wait.

A FIFO with no writer, a terminal, ``/dev/zero`` or a socket would block a read or never end it, so the
file is opened without blocking and its descriptor checked before a byte is read. Every failure is one
:class:`ReadError` naming the path, of a kind a caller can tell apart (a source maps them to diagnostics).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..errors import LedgerkitError

# O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one.
# O_NOCTTY: opening a terminal never makes it the process's controlling terminal.
_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)

_MISSING = {errno.ENOENT, errno.ENOTDIR}


class ReadError(LedgerkitError):
    """A file ledgerkit was given cannot be read; the subclass says why."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None) -> None:
        super().__init__(message, None if path is None else shown(path), line)


class MissingFile(ReadError):
    """No file at the path (nor a folder on its way)."""


class NotRegularFile(ReadError):
    """The path names a folder, FIFO, device or socket: only regular files are read."""

    def __init__(self, file_type: str, path: str | Path) -> None:
        message = "is a directory, not a regular file" if file_type == "directory" else None
        super().__init__(message or f"is not a regular file (a {file_type})", path)
        #: "directory", "FIFO", "character device", "block device", "socket" or "special file".
        self.file_type = file_type


class UnreadableFile(ReadError):
    """The file exists (or the path is malformed) but cannot be read: permissions, a loop, a long name."""


class TooLarge(ReadError):
    """The file holds more bytes than the reader takes (a configuration, a template)."""

    def __init__(self, limit: int, path: str | Path) -> None:
        super().__init__(f"is larger than {limit:,} bytes", path)
        self.limit = limit


def read_regular(path: str | Path) -> bytes:
    """The whole content of the regular file at ``path`` (symlinks followed); anything else is a ReadError."""
    return read_with_stat(path)[0]


#: A ledger's bytes: :func:`read_regular` itself, under the name the ledger readers call (docs/writing.md).
read_bytes = read_regular


def read_with_stat(path: str | Path, *, limit: int | None = None, follow: bool = True) -> tuple[bytes, os.stat_result]:
    """:func:`read_regular` and the status of the very file read (the descriptor's, not the name's).

    ``limit``: more bytes than that is TooLarge, found without reading more than ``limit + 1``; ``follow``
    False refuses a symlink as the last part of the path (a template that is a link out of its folder).
    """
    fd = _open_regular(path, follow)
    try:
        status = os.fstat(fd)
        _refuse_irregular(status, path)
        with open(fd, "rb", buffering=0, closefd=False) as f:
            data = f.readall() if limit is None else f.read(limit + 1)
    except OSError as exc:
        raise read_error(exc, path) from None
    finally:
        os.close(fd)
    if limit is not None and len(data) > limit:
        raise TooLarge(limit, path)
    return data, status


def sha256_of(path: str | Path, chunk: int = 1 << 16) -> bytes:
    """The SHA-256 digest of the regular file at ``path``, read a ``chunk`` at a time, so that a large file is
    never held whole (a ReadError as :func:`read_regular` raises it)."""
    import hashlib

    fd = _open_regular(path, True)
    digest = hashlib.sha256()
    try:
        _refuse_irregular(os.fstat(fd), path)
        while piece := os.read(fd, chunk):
            digest.update(piece)
    except OSError as exc:
        raise read_error(exc, path) from None
    finally:
        os.close(fd)
    return digest.digest()


def _open_regular(path: str | Path, follow: bool) -> int:
    """A descriptor of the file at ``path``, opened without waiting; not yet proved regular (fstat it)."""
    name = _checked_name(path)
    try:
        # A first look by name spares opening a device at all (opening some has effects, a tape rewinds);
        # the descriptor's own status is what decides, since the name may change in between.
        _refuse_irregular(os.stat(name) if follow else os.lstat(name), path)
        return os.open(name, _FLAGS if follow else _FLAGS | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise read_error(exc, path) from None


def read_error(exc: OSError, path: str | Path) -> ReadError:
    """The ReadError for an OSError met while opening or reading ``path``."""
    if exc.errno in _MISSING:
        return MissingFile("no such file", path)
    if exc.errno == errno.EISDIR:
        return NotRegularFile("directory", path)
    return UnreadableFile(f"cannot read: {exc.strerror or exc}", path)


def file_type(mode: int) -> str:
    """What a non-regular file is, in words for a message."""
    for test, name in (
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return name
    return "special file"


def shown(path: str | Path) -> str:
    """A path as a message may print it: what a terminal would act on (a NUL, an escape sequence, an
    undecodable byte held as a surrogate) written as a Python escape, so one line stays one line."""
    text = os.fspath(path)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _checked_name(path: str | Path) -> str:
    name = os.fspath(path)
    if "\0" in name:  # os calls raise ValueError for it; say it plainly, and never print the NUL
        raise UnreadableFile("cannot read: the path holds a NUL byte", name)
    return name


def _refuse_irregular(status: os.stat_result, path: str | Path) -> None:
    if not stat.S_ISREG(status.st_mode):
        raise NotRegularFile(file_type(status.st_mode), path)
