"""A ledger's text: UTF-8 with or without a BOM, split into lines whose endings are kept byte for byte.

Line endings are those of CommonMark: "\\n", "\\r\\n" and a lone "\\r", mixed as the file has them. Edits
never touch an ending: a line's content is replaced, its ending stays.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from ..errors import LedgerkitError

BOM = "\ufeff"

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


def decode(data: bytes, path: str | Path) -> tuple[str, bool]:
    """Decode a ledger's bytes to (text without BOM, had_bom); non-UTF-8 stops the run."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LedgerkitError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})", path) from None
    if text.startswith(BOM):
        return text[1:], True
    return text, False


def encode(text: str, bom: bool) -> bytes:
    return ((BOM if bom else "") + text).encode("utf-8")


def unified_diff(name: str, before: str, after: str) -> str:
    """The unified diff of a file's text before and after an edit, both sides named ``name``.

    Lines are split as the ledger's own (CommonMark's three endings), not by ``str.splitlines``, which also
    breaks at form feeds, U+2028 and other characters a Markdown line may hold.
    """
    import difflib

    def ended(text: str) -> list[str]:
        lines = Lines.split(text)
        return [c + e for c, e in zip(lines.contents, lines.endings, strict=True)]

    return "".join(difflib.unified_diff(ended(before), ended(after), fromfile=name, tofile=name))
