"""A ledger's text: UTF-8 with or without a BOM, split into lines whose endings are kept byte for byte.

Line endings are those of CommonMark: "\\n", "\\r\\n" and a lone "\\r", mixed as the file has them. Edits
never touch an ending: a line's content is replaced, its ending stays.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal, NamedTuple

from ..errors import LedgerkitError

BOM = "\ufeff"

#: A lone surrogate: how Python holds a byte that is not UTF-8 (a file name's or an argument's, PEP 383). A text
#: decoded as UTF-8 never holds one, and none can be written as UTF-8.
SURROGATE = re.compile("[\ud800-\udfff]")

# "\r\n" first: a CRLF is one ending, not a CR then an empty line.
_ENDINGS = re.compile(r"(\r\n|\r|\n)")


class Lines(NamedTuple):
    """A text split into line contents and their endings ("\\r\\n", "\\n", "\\r", or "" for the last)."""

    contents: list[str]
    endings: list[str]

    @classmethod
    def split(cls, text: str) -> Lines:
        if "\r" not in text:  # the common case, and the fastest split there is
            contents = text.split("\n")
            last = contents.pop()
            endings = ["\n"] * len(contents)
        else:
            pieces = _ENDINGS.split(text)  # content, ending, content, ending, ..., the text after the last
            last = pieces.pop()
            contents, endings = pieces[0::2], pieces[1::2]
        if last:  # the text after the last ending is a line only if it is not empty
            contents.append(last)
            endings.append("")
        return cls(contents, endings)

    def join(self) -> str:
        contents, endings = self.contents, self.endings
        n = len(contents)
        if n and n == len(endings):
            # Every line ending in "\n" but maybe the last (in nothing), as most files are: one join, in C.
            lf = endings.count("\n")
            if lf == n:
                return "\n".join([*contents, ""])  # not join() + "\n": that copies the whole text once more
            if lf == n - 1 and endings[-1] == "":
                return "\n".join(contents)
        return "".join(c + e for c, e in zip(contents, endings, strict=True))

    def newline(self) -> str:
        """The file's newline style: that of its first ended line, LF for a one-line file."""
        return next((e for e in self.endings if e), "\n")


def decode(data: bytes | bytearray, path: str | Path) -> tuple[str, bool]:
    """Decode a ledger's bytes to (text without BOM, had_bom); non-UTF-8 stops the run."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(data, exc.start, path) from None
    if text.startswith(BOM):
        return text[1:], True
    return text, False


class Held:
    """Strings met lately, each handed back as one object: a ledger's records repeat most of their lines and of
    their values, and a string held once is memory not touched. It remembers at most ``MOST`` before it starts
    over: the strings met lately are enough, and a memory of every line (a long ledger has hundreds of thousands
    held once) made decoding a 50,000-record ledger twice as slow (bench/bench_ledger.py)."""

    MOST = 20_000
    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def each(self, strings: Sequence[str]) -> Iterator[str]:
        """``strings``, each one met lately replaced by the object first met."""
        seen = self.seen
        if len(seen) > self.MOST:
            seen.clear()
        return map(seen.setdefault, strings, strings)


def decode_lines(data: bytes | bytearray, path: str | Path, chunk: int = 1 << 16) -> tuple[Lines, bool]:
    """``Lines.split(decode(data, path)[0])`` and the BOM, without the whole text ever held: the bytes are decoded
    a ``chunk`` at a time, each cut just after a LF (so no character nor CRLF is cut), and a line met again soon
    is the same string object (a ledger's records repeat most of their lines). The same lines, the same errors."""
    bom = data.startswith(codecs.BOM_UTF8)
    contents: list[str] = []
    endings: list[str] = []
    held = Held()
    view = memoryview(data)
    start = 3 if bom else 0
    while start < len(data):
        end = data.rfind(b"\n", start, start + chunk) + 1
        if not end:  # no LF within the chunk: the piece runs to the next one, or to the end
            end = data.find(b"\n", start + chunk) + 1 or len(data)
        try:
            text = str(view[start:end], "utf-8")
        except UnicodeDecodeError as exc:
            raise _not_utf8(data, start + exc.start, path) from None
        piece = Lines.split(text)
        contents += held.each(piece.contents)
        endings += piece.endings
        start = end
    return Lines(contents, endings), bom


def check_utf8(data: bytes | bytearray, path: str | Path, chunk: int = 1 << 16) -> None:
    """Raise what :func:`decode` raises for ``data`` that is not UTF-8, without its text ever held: the bytes are
    decoded a ``chunk`` at a time, each piece starting where the last one's whole characters ended."""
    if data.isascii():
        return
    view = memoryview(data)
    chunk = max(chunk, 4)  # a piece holds a whole character at least: each step moves on
    start = 0
    while start < len(data):
        piece = view[start : start + chunk]
        try:
            _text, used = codecs.utf_8_decode(piece, "strict", start + chunk >= len(data))
        except UnicodeDecodeError as exc:
            raise _not_utf8(data, start + exc.start, path) from None
        start += used


def _not_utf8(data: bytes | bytearray, at: int, path: str | Path) -> LedgerkitError:
    return LedgerkitError(f"not UTF-8 text (byte 0x{data[at]:02x} at offset {at})", path)


def encode(text: str, bom: bool) -> bytes:
    return ((BOM if bom else "") + text).encode("utf-8")


def unified_diff(name: str, before: str, after: str, block: tuple[int, int] | None = None) -> str:
    """The unified diff of a file's text before and after an edit, both sides named ``name``.

    Lines are split as the ledger's own (CommonMark's three endings), not by ``str.splitlines``, which also
    breaks at form feeds, U+2028 and other characters a Markdown line may hold. ``block``: the edit changed
    lines in place but for the lines ``[start, end)`` of ``before`` (0-based), which it may have replaced by
    another number of lines, as fill does; the diff then costs time linear in the lines (see
    :func:`aligned_opcodes`), where difflib's search grows with the square of the lines changed.
    """
    import difflib

    def ended(text: str) -> list[str]:
        lines = Lines.split(text)
        return [c + e for c, e in zip(lines.contents, lines.endings, strict=True)]

    a, b = ended(before), ended(after)
    if block is None:
        return "".join(difflib.unified_diff(a, b, fromfile=name, tofile=name))
    return "".join(_unified(a, b, aligned_opcodes(a, b, block), name))


Tag = Literal["replace", "delete", "insert", "equal"]
Opcode = tuple[Tag, int, int, int, int]


def aligned_opcodes(a: Sequence[str], b: Sequence[str], block: tuple[int, int] | None) -> list[Opcode]:
    """difflib's opcodes (tag, i1, i2, j1, j2) for lines that correspond one for one, but for the lines
    ``[start, end)`` of ``a``, which ``b`` holds as its lines ``[start, end + len(b) - len(a))``: lines
    outside the block are equal or replaced where they stand, and only the block (a ledger's summary) is
    matched by difflib. Adjacent changes are one opcode, as difflib gives them. Linear in the lines."""
    start, end = block if block is not None else (len(a), len(a))
    shift = len(b) - len(a)
    assert 0 <= start <= end <= len(a) and end + shift >= start, "the block must be within both texts"
    codes: list[Opcode] = []

    def add(tag: Tag, i1: int, i2: int, j1: int, j2: int) -> None:
        if i1 == i2 and j1 == j2:
            return
        if codes and (codes[-1][0] == "equal") == (tag == "equal"):
            _, p1, _, q1, _ = codes.pop()
            i1, j1 = p1, q1
            if tag != "equal":
                tag = "replace" if i1 < i2 and j1 < j2 else ("delete" if j1 == j2 else "insert")
        codes.append((tag, i1, i2, j1, j2))

    def in_place(first: int, last: int, offset: int) -> None:
        i = first
        while i < last:
            same = a[i] == b[i + offset]
            j = i + 1
            while j < last and (a[j] == b[j + offset]) == same:
                j += 1
            add("equal" if same else "replace", i, j, i + offset, j + offset)
            i = j

    in_place(0, start, 0)
    if block is not None:
        import difflib

        matcher = difflib.SequenceMatcher(None, a[start:end], b[start : end + shift], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            add(tag, start + i1, start + i2, start + j1, start + j2)
    in_place(end, len(a), shift)
    return codes


def _unified(a: Sequence[str], b: Sequence[str], opcodes: list[Opcode], name: str, n: int = 3) -> Iterator[str]:
    """difflib.unified_diff's lines for known opcodes: its hunks (``n`` lines of context) and its headers."""
    import difflib

    class Known(difflib.SequenceMatcher[str]):
        def get_opcodes(self) -> list[Opcode]:
            return opcodes

    started = False
    for group in Known(None, (), ()).get_grouped_opcodes(n):
        if not started:
            started = True
            yield f"--- {name}\n"
            yield f"+++ {name}\n"
        first, last = group[0], group[-1]
        yield f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (" " + line for line in a[i1:i2])
                continue
            if tag in ("replace", "delete"):
                yield from ("-" + line for line in a[i1:i2])
            if tag in ("replace", "insert"):
                yield from ("+" + line for line in b[j1:j2])


def _range(start: int, stop: int) -> str:
    """A hunk's range as unified diffs write it (difflib's _format_range_unified)."""
    length = stop - start
    beginning = start + 1
    if length == 1:
        return f"{beginning}"
    if not length:
        beginning -= 1  # an empty range begins before its first line
    return f"{beginning},{length}"
