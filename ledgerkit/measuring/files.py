"""Reading one source file: only a regular file, never blocking, its characters counted as CHAR_COUNT counts them.

CHAR_COUNT is the number of Unicode code points of the UTF-8 text, without a BOM, with CRLF counted as one
character (so a Windows checkout measures the same); a lone CR is a character, not a line break. A line
range counts its lines (split at LF only) with their line endings, so ``path:1-N`` of an N-line file counts
the same as ``path``.

A small file is read whole, once (:class:`FileText`). A file above :data:`STREAM_ABOVE` bytes is measured
by streaming it in :data:`CHUNK` pieces (:class:`StreamedText`), so a line range of a huge file costs one
pass and memory bounded by a chunk and the range. Both check the whole file the same way: a NUL byte
anywhere makes it binary (LK203), a byte that is not UTF-8 anywhere makes it not UTF-8 (LK204).
"""

from __future__ import annotations

import codecs
import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Protocol

from .specs import Problem

#: Files larger than this (bytes) are streamed instead of read whole and kept.
STREAM_ABOVE = 16 * 1024 * 1024
#: How much of a streamed file is read at a time.
CHUNK = 1024 * 1024
#: How much of a chunk is decoded at a time, when a streamed file is checked: a piece and its text stay in the
#: processor's cache, where a whole chunk and its text do not (decoding 1 MiB at once takes half as long
#: again; bench/bench_measure.py times the check).
_PIECE = 16 * 1024

# O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused after fstat anyway).
# O_NOFOLLOW: the path is a real path (the resolver followed every link); a link appearing there since is refused.
_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_SAMPLE = 4096  # bytes looked at to tell UTF-16 or UTF-32 text from binary


class SourceError(Exception):
    """Why a file cannot be measured: a diagnostic code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def problem(self) -> Problem:
        return Problem(self.code, self.message)


def not_regular() -> SourceError:
    return SourceError("LK209", "is not a regular file")


def _os_error(exc: OSError) -> SourceError:
    if isinstance(exc, FileNotFoundError):
        return SourceError("LK201", "not found")
    if isinstance(exc, IsADirectoryError):
        return SourceError("LK202", "is a directory")
    if exc.errno == errno.ENXIO:  # a socket, or a device with nothing behind it
        return not_regular()
    if exc.errno == errno.ELOOP:
        return SourceError("LK208", "cannot be read (it is now a symbolic link)")
    return SourceError("LK208", f"cannot be read ({exc.strerror or exc})")


def open_regular(path: str, *, checked: bool = False) -> tuple[int, os.stat_result]:
    """An open descriptor of a regular file and its status; anything else is refused before a byte is read.

    ``checked``: the caller has just seen with lstat that it is a regular file (the resolver does), so the
    lstat is not repeated; O_NONBLOCK and fstat still close the race."""
    try:
        if not checked:  # opening a device may act on it (a tape rewinds): look before opening
            mode = os.lstat(path).st_mode
            if not stat.S_ISREG(mode):
                raise _kind_error(mode)
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        raise _os_error(exc) from None
    except ValueError:  # a NUL in the path, or a name that cannot be a file name
        raise _impossible(path) from None
    try:
        st = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise _os_error(exc) from None
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise _kind_error(st.st_mode)
    return fd, st


def _impossible(path: str) -> SourceError:
    if "\0" in path:
        return SourceError("LK208", "cannot be read (its path holds a NUL character)")
    return SourceError("LK208", "cannot be read (its path is not valid text)")


def _kind_error(mode: int) -> SourceError:
    if stat.S_ISDIR(mode):
        return SourceError("LK202", "is a directory")
    if stat.S_ISLNK(mode):  # the resolver hands over real paths: a link here appeared since
        return SourceError("LK208", "cannot be read (it is now a symbolic link)")
    return not_regular()


def _read_rest(fd: int, data: bytes) -> bytes:
    """``data`` and the rest of a file that grew since fstat."""
    parts = [data]
    while more := os.read(fd, CHUNK):
        parts.append(more)
    return b"".join(parts)


# --- what a file that is not UTF-8 text is -------------------------------------------------------------


def _wide_encoding(head: bytes) -> str | None:
    """ "UTF-16" or "UTF-32" when the file's first bytes are text in it: a BOM, or the NUL pattern and text."""
    if head.startswith((b"\xff\xfe\0\0", b"\0\0\xfe\xff")):
        return "UTF-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    nuls = head.count(0)
    if len(head) < 16:
        return None  # too little to tell
    # UTF-32 text is at least a quarter NUL (the top byte of every character). UTF-16 text puts its NULs on
    # one side of each pair: half the bytes for Latin letters, an eighth for Korean with spaces. A UTF-8
    # file with stray NULs does neither.
    if nuls * 4 >= len(head) and any(_reads_as_text(head, codec, 4) for codec in ("utf-32-le", "utf-32-be")):
        return "UTF-32"
    odd = head[1::2].count(0)
    if nuls * 8 >= len(head) and max(odd, nuls - odd) * 10 >= nuls * 9:
        if _reads_as_text(head, "utf-16-le" if odd * 2 > nuls else "utf-16-be", 2):
            return "UTF-16"
    return None


def _reads_as_text(head: bytes, codec: str, width: int) -> bool:
    sample = head[: len(head) // width * width]
    try:
        text = codecs.getincrementaldecoder(codec)().decode(sample)  # not final: a pair cut at the end is fine
    except UnicodeDecodeError:
        return False
    # Binary read as wide text holds U+0000 or other control characters; text holds none but layout.
    return bool(text) and not any(c < " " and c not in "\t\n\r\f\v" for c in text)


def _binary(head: bytes) -> SourceError:
    wide = _wide_encoding(head)
    if wide is not None:
        return _wide(wide)
    return SourceError("LK203", "is a binary file")


def _wide(name: str) -> SourceError:
    return SourceError("LK204", f"is {name} text; ledgerkit measures UTF-8 (convert it, e.g. iconv -f {name} -t UTF-8)")


def _not_utf8(byte: int, offset: int) -> SourceError:
    return SourceError("LK204", f"is not UTF-8 text (byte 0x{byte:02x} at offset {offset})")


# --- the text of a source ------------------------------------------------------------------------------


class SourceText(Protocol):
    """What measuring and token counting need of a source's text, whether it is held whole or streamed."""

    @property
    def chars(self) -> int: ...

    @property
    def line_count(self) -> int: ...

    def count(self, start: int | None, end: int | None) -> int:
        """Characters of lines start..end (1-based, inclusive), or of the whole file; raises SourceError."""
        ...

    def slice(self, start: int | None, end: int | None) -> str:
        """The text of lines start..end (the whole file when no range), CRLF kept as written."""
        ...

    def chunks(self, start: int | None, end: int | None) -> Iterator[str]:
        """The same text in pieces, CRLF read as LF (as token counting reads it), for texts too large to hold."""
        ...


def _check_range(start: int, end: int, lines: int) -> None:
    if start < 1 or end < start:
        raise SourceError("LK207", "is not a range of lines (1-based, start <= end)")
    if end > lines:
        raise SourceError("LK207", f"goes beyond the end of the file ({lines} line" + ("" if lines == 1 else "s") + ")")


def _lf(pieces: Iterator[str]) -> Iterator[str]:
    """Pieces of text with CRLF read as LF, a CR at the end of a piece kept until the next one shows its LF."""
    held = ""
    for piece in pieces:
        piece = held + piece
        held = ""
        if piece.endswith("\r"):
            piece, held = piece[:-1], "\r"
        if piece:
            yield piece.replace("\r\n", "\n") if "\r" in piece else piece
    if held:
        yield held


@dataclass(slots=True)  # one is made for every file read: slots make it cheaper to make
class FileText:
    """A small source file held whole, checked, its characters counted; its text (BOM removed) and lines
    decoded only when asked for.

    It keeps the bytes rather than the text: a run that only counts characters then holds no decoded
    text at all, which is most of the cost of keeping 2,000 files' text (measured in bench/bench_measure.py).
    """

    data: bytes
    chars: int
    _text: str | None = field(default=None, repr=False)
    _ends: list[int] | None = field(default=None, repr=False)  # cumulative characters at each line end

    @classmethod
    def from_bytes(cls, data: bytes) -> FileText:
        if b"\0" in data:
            raise _binary(data[:_SAMPLE])
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # never UTF-8: the BOM of UTF-16
                raise _wide("UTF-16") from None
            raise _not_utf8(data[exc.start], exc.start) from None
        # CR and LF never occur inside a UTF-8 sequence: counting pairs in the bytes is counting them in the text.
        bom = text.startswith("\ufeff")
        return cls(data, len(text) - bom - (data.count(b"\r\n") if b"\r" in data else 0))

    @property
    def text(self) -> str:
        if self._text is None:
            text = self.data.decode("utf-8")  # checked when read
            self._text = text[1:] if text.startswith("\ufeff") else text
        return self._text

    @property
    def line_count(self) -> int:
        return len(self._line_ends())

    def _line_ends(self) -> list[int]:
        if self._ends is None:
            pieces = self.text.replace("\r\n", "\n").split("\n")
            counts = [len(p) + 1 for p in pieces[:-1]] + ([len(pieces[-1])] if pieces[-1] else [])
            self._ends = list(accumulate(counts))
        return self._ends

    def count(self, start: int | None, end: int | None) -> int:
        if start is None or end is None:
            return self.chars
        ends = self._line_ends()
        _check_range(start, end, len(ends))
        return ends[end - 1] - (ends[start - 2] if start > 1 else 0)

    def slice(self, start: int | None, end: int | None) -> str:
        if start is None or end is None:
            return self.text
        pieces = self.text.split("\n")  # a CR of CRLF stays with its line
        lines = [p + "\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
        return "".join(lines[start - 1 : end])

    def chunks(self, start: int | None, end: int | None) -> Iterator[str]:
        piece = self.slice(start, end)
        yield piece.replace("\r\n", "\n") if "\r" in piece else piece


def read_source(path: str, *, checked: bool = False) -> SourceText:
    """A source file's text: read whole when small, else streamed on demand; raises SourceError.
    ``checked``: as for :func:`open_regular`."""
    fd, st = open_regular(path, checked=checked)
    try:
        size = st.st_size
        if size > STREAM_ABOVE:
            return StreamedText(path, st)
        data = os.read(fd, size + 1)
        if len(data) > size:  # a regular file reads short only at its end: it grew since fstat
            data = _read_rest(fd, data)
    except OSError as exc:
        raise _os_error(exc) from None
    finally:
        os.close(fd)
    return FileText.from_bytes(data)


class SourceReader:
    """Reads each file at most once per run, however many records name it (``reads`` counts the reads)."""

    def __init__(self) -> None:
        self._cache: dict[str, SourceText | SourceError] = {}
        self.reads = 0

    def read(self, path: str | os.PathLike[str], *, checked: bool = False) -> SourceText:
        """The text of a file (a real path, as the resolver gives it); raises SourceError.
        ``checked``: as for :func:`open_regular`."""
        key = os.fspath(path)
        cached = self._cache.get(key)
        if cached is None:
            self.reads += 1
            try:
                cached = read_source(key, checked=checked)
            except SourceError as exc:
                cached = exc
            self._cache[key] = cached
        if isinstance(cached, SourceError):
            raise cached
        return cached


# --- streaming a large file ----------------------------------------------------------------------------


def _nth_newline(buf: bytes, n: int) -> int:
    """The index of the n-th (n >= 1) LF in ``buf``, which holds at least n: halving with C-speed counts."""
    lo, hi = 0, len(buf)
    while hi - lo > 4096:
        mid = (lo + hi) // 2
        seen = buf.count(b"\n", lo, mid)
        if seen >= n:
            hi = mid
        else:
            n, lo = n - seen, mid
    i = lo - 1
    for _ in range(n):
        i = buf.index(b"\n", i + 1)
    return i


def _changed() -> SourceError:
    return SourceError("LK208", "cannot be read (it changed while it was measured)")


@dataclass
class _Pass:
    """Where one pass over a streamed file has got to, and what it found of the lines asked for."""

    offset: int
    newlines: int  # LFs before offset
    open_line: bool = False  # the bytes before offset end inside a line (not after an LF, nor in the BOM)
    start: int | None = None  # byte offset of the first line asked for
    end: int | None = None  # byte offset just past the last line asked for


class _Checker:
    """Every byte of a file checked a chunk at a time, as :meth:`FileText.from_bytes` checks them at once:
    a NUL anywhere, the first byte that is not UTF-8, and the code points and CRLF pairs counted."""

    def __init__(self) -> None:
        self.held = b""  # the start of a sequence that the last piece cut off
        self.nul = False
        self.bad: tuple[int, int] | None = None  # (byte, offset) of the first byte that is not UTF-8
        self.points = self.crlf = 0
        self.cr_before = False

    def feed(self, chunk: bytes, offset: int) -> None:
        self.nul = self.nul or b"\0" in chunk
        if self.bad is None and not self.nul:
            if self.held or not chunk.isascii():  # ASCII needs no decoding, unless it ends a cut sequence
                self._decode(memoryview(chunk), offset)
            else:
                self.points += len(chunk)
        if b"\r" in chunk:
            self.crlf += chunk.count(b"\r\n")
        self.crlf += self.cr_before and chunk[0] == 10
        self.cr_before = chunk[-1] == 13

    def _decode(self, chunk: memoryview, offset: int) -> None:
        """Decode a chunk a piece at a time, as an incremental decoder would, holding a sequence cut at the end
        of a piece over to the next."""
        for at in range(0, len(chunk), _PIECE):
            piece = self.held + chunk[at : at + _PIECE] if self.held else chunk[at : at + _PIECE]
            try:
                text, used = codecs.utf_8_decode(piece, "strict", False)
            except UnicodeDecodeError as exc:
                self.bad = (piece[exc.start], offset + at - len(self.held) + exc.start)
                return
            self.points += len(text)
            self.held = bytes(piece[used:])

    def finish(self, offset: int) -> None:
        if self.bad is None and not self.nul and self.held:  # the file ends inside a sequence
            try:
                codecs.utf_8_decode(self.held, "strict", True)
            except UnicodeDecodeError as exc:
                self.bad = (self.held[exc.start], offset - len(self.held) + exc.start)


class StreamedText:
    """A file too large to hold whole, measured by streaming it: memory stays bounded by a chunk (and by the
    range asked for, for :meth:`slice`). The first question reads the whole file once, checking every byte
    as a small file is checked and finding the lines asked for on the way; later ranges start from a mark."""

    def __init__(self, path: str, st: os.stat_result) -> None:
        self.path = path
        self.size = st.st_size
        self._identity = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        self._checked = False
        self._error: SourceError | None = None
        self._chars = 0
        self._bom = 0
        self._lines: int | None = None
        self._marks: list[tuple[int, int]] = [(0, 0)]  # (byte offset, LFs before it) at chunk starts
        self._spans: dict[tuple[int, int], tuple[int, int]] = {}
        self._counts: dict[tuple[int, int], int] = {}

    def _open(self) -> int:
        """The file opened anew, with the same checks, and still the file first seen."""
        fd, st = open_regular(self.path)
        if (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) != self._identity:
            os.close(fd)
            raise _changed()
        return fd

    @property
    def chars(self) -> int:
        self._check(None)
        return self._chars

    @property
    def line_count(self) -> int:
        self._check(None)
        if self._lines is None:
            self._find(None)
        assert self._lines is not None
        return self._lines

    def count(self, start: int | None, end: int | None) -> int:
        if start is None or end is None:
            return self.chars
        key = (start, end)
        if key not in self._counts:
            chars = 0
            for text in _lf(self._decoded(*self._span(start, end))):
                chars += len(text)
            self._counts[key] = chars
        return self._counts[key]

    def slice(self, start: int | None, end: int | None) -> str:
        return "".join(self._pieces(start, end))

    def chunks(self, start: int | None, end: int | None) -> Iterator[str]:
        return _lf(self._pieces(start, end))

    def _pieces(self, start: int | None, end: int | None) -> Iterator[str]:
        if start is None or end is None:
            self._check(None)
            return self._decoded(self._bom, self.size)
        return self._decoded(*self._span(start, end))

    def _span(self, start: int, end: int) -> tuple[int, int]:
        if start < 1 or end < start:
            _check_range(start, end, 0)
        if (start, end) not in self._spans:
            self._check((start, end))
            if (start, end) not in self._spans:
                self._find((start, end))
        return self._spans[(start, end)]

    # --- the passes ---

    def _check(self, want: tuple[int, int] | None) -> None:
        """Read the whole file once: every byte checked, the characters counted, ``want``'s lines found."""
        if self._error is not None:
            raise self._error
        if self._checked:
            return
        try:
            self._check_pass(want)
        except SourceError as exc:
            self._error = exc
            raise
        except OSError as exc:
            self._error = _os_error(exc)
            raise self._error from None

    def _check_pass(self, want: tuple[int, int] | None) -> None:
        fd = self._open()
        try:
            head = os.read(fd, max(CHUNK, _SAMPLE))  # the BOM and the sample, whatever the chunk
            self._bom = 3 if head.startswith(codecs.BOM_UTF8) else 0
            at = _Pass(0, 0)
            check = _Checker()
            chunk = head
            while chunk:
                check.feed(chunk, at.offset)
                if want is not None and at.end is None:
                    self._lines_in(chunk, at, want)
                else:
                    at.offset += len(chunk)
                chunk = os.read(fd, CHUNK)
            check.finish(at.offset)
        finally:
            os.close(fd)
        if at.offset != self.size:
            raise _changed()
        if check.nul:
            raise _binary(head[:_SAMPLE])
        if check.bad is not None:
            raise _wide("UTF-16") if head.startswith((b"\xff\xfe", b"\xfe\xff")) else _not_utf8(*check.bad)
        self._chars = check.points - (1 if self._bom else 0) - check.crlf
        self._checked = True
        if want is not None:
            self._settle(at, want)

    def _find(self, want: tuple[int, int] | None) -> None:
        """Count lines from the nearest mark before ``want`` (to the end when None); the file is checked."""
        limit = self._marks[-1][1] + 1 if want is None else want[0] - 1
        mark = max((m for m in self._marks if m[1] < limit), default=(0, 0))
        at = _Pass(*mark)
        fd = self._open()
        try:
            os.lseek(fd, at.offset, os.SEEK_SET)
            while at.end is None and (chunk := os.read(fd, CHUNK)):
                self._lines_in(chunk, at, want)
        except OSError as exc:
            raise _os_error(exc) from None
        finally:
            os.close(fd)
        if want is None:
            self._lines = at.newlines + at.open_line
        else:
            self._settle(at, want)

    def _lines_in(self, chunk: bytes, at: _Pass, want: tuple[int, int] | None) -> None:
        """Count one chunk's LFs, noting where the lines asked for start and end, and move past it."""
        if at.offset > self._marks[-1][0]:
            self._marks.append((at.offset, at.newlines))
        n = chunk.count(b"\n")
        if want is not None:
            start, end = want
            if at.start is None:
                if start == 1:
                    at.start = self._bom
                elif at.newlines < start - 1 <= at.newlines + n:
                    at.start = at.offset + _nth_newline(chunk, start - 1 - at.newlines) + 1
            if at.start is not None and at.newlines < end <= at.newlines + n:
                at.end = at.offset + _nth_newline(chunk, end - at.newlines) + 1
        at.newlines += n
        at.open_line = chunk[-1] != 10 and at.offset + len(chunk) > self._bom
        at.offset += len(chunk)

    def _settle(self, at: _Pass, want: tuple[int, int]) -> None:
        """After a pass: the byte span of ``want``; or, when it reached the end without, the line total and
        either the last line (left open by the end of the file) or the problem."""
        if at.end is None:
            self._lines = at.newlines + at.open_line
            if at.start is not None and want[1] == self._lines and at.open_line:
                at.end = self.size
            else:
                _check_range(*want, self._lines)
        assert at.start is not None and at.end is not None
        self._spans[want] = (at.start, at.end)

    def _decoded(self, a: int, b: int) -> Iterator[str]:
        """The text of bytes a..b (checked already), read a chunk at a time."""
        fd = self._open()
        try:
            decoder = codecs.getincrementaldecoder("utf-8")()
            while a < b:
                piece = os.pread(fd, min(CHUNK, b - a), a)
                if not piece:
                    raise _changed()
                a += len(piece)
                text = decoder.decode(piece, final=a >= b)
                if text:
                    yield text
        except UnicodeDecodeError:
            raise _changed() from None
        except OSError as exc:
            raise _os_error(exc) from None
        finally:
            os.close(fd)
