"""Reading a ledger's bytes faithfully and writing them back atomically.

A ledger is UTF-8 text, with or without a BOM, with LF or CRLF line endings (mixed is kept as is).
Edits never touch line endings: a line's content is replaced, its ending stays.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..errors import LedgerkitError

BOM = "\ufeff"


@dataclass(frozen=True)
class Lines:
    """A text split into line contents and their endings ("\\r\\n", "\\n" or "" for the last)."""

    contents: list[str]
    endings: list[str]

    @classmethod
    def split(cls, text: str) -> Lines:
        pieces = text.split("\n")
        last = pieces.pop()  # the text after the last newline: a line only if not empty
        if "\r" in text:
            contents = [p[:-1] if p.endswith("\r") else p for p in pieces]
            endings = ["\r\n" if p.endswith("\r") else "\n" for p in pieces]
        else:
            contents, endings = pieces, ["\n"] * len(pieces)
        if last:
            contents.append(last)
            endings.append("")
        return cls(contents, endings)

    def join(self) -> str:
        return "".join(c + e for c, e in zip(self.contents, self.endings, strict=False))

    def newline(self) -> str:
        """The file's newline style: that of its first ended line, LF for a one-line file."""
        return next((e for e in self.endings if e), "\n")


def decode(data: bytes, path: str | Path) -> tuple[str, bool]:
    """Decode a ledger's bytes to (text without BOM, had_bom); non-UTF-8 stops the run."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LedgerkitError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", path) from None
    if text.startswith(BOM):
        return text[1:], True
    return text, False


def unified_diff(name: str, before: str, after: str) -> str:
    """The unified diff of a file's text before and after an edit, both sides named ``name``."""
    import difflib

    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=name, tofile=name
        )
    )


def encode(text: str, bom: bool) -> bytes:
    return ((BOM if bom else "") + text).encode("utf-8")


def read_bytes(path: str | Path) -> bytes:
    """Read a file, turning every OS error into one clear line."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise LedgerkitError("no such file", path) from None
    except IsADirectoryError:
        raise LedgerkitError("is a directory, not a ledger file", path) from None
    except OSError as exc:
        raise LedgerkitError(f"cannot read: {exc.strerror or exc}", path) from None


def write_atomic(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: a crash leaves the old file or the new one, never a torn one.

    The temporary file lives in the same folder (so the rename is atomic), is synced before the rename,
    and takes the old file's mode. A symlink is followed: its target is replaced, the link stays.
    """
    target = Path(os.path.realpath(path))
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise LedgerkitError(f"cannot write: {exc.strerror or exc}", path) from None
        raise
    _fsync_dir(target.parent)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on every platform.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


#: How often a guarded rewrite starts over when the file changes on disk while it works.
ATTEMPTS = 3
T = TypeVar("T")


def rewrite(
    path: Path, compute: Callable[[str, bool], T], new_bytes: Callable[[T], bytes | None], what: str
) -> tuple[T, bool]:
    """Compute from a ledger's text (without BOM) and write the result, never over a change made meanwhile.

    Under the folder lock: read, ``compute(text, bom)``, and when ``new_bytes`` gives bytes, check that the
    file still holds what was read before replacing it atomically; if a person saved (or another run
    wrote) in between, start over on what is there now, up to ATTEMPTS times, then stop writing nothing.
    Returns the result and whether the file was written.
    """
    with folder_lock(path.resolve().parent):
        for _ in range(ATTEMPTS):
            original = read_bytes(path)
            text, bom = decode(original, path)
            result = compute(text, bom)
            data = new_bytes(result)
            if data is None:
                return result, False
            if read_bytes(path) != original:
                continue  # changed under us: start over on what is there now
            write_atomic(path, data)
            return result, True
    raise LedgerkitError(f"the ledger kept changing on disk while {what} ({ATTEMPTS} attempts); nothing written", path)


@contextlib.contextmanager
def folder_lock(folder: str | Path) -> Iterator[None]:
    """Serialise ledgerkit writers in one folder (advisory; a no-op where flock is missing).

    Locking the folder rather than the file: the file's inode changes on every atomic replace, and a
    lock file beside the ledger would show up in the user's ``git status``.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
