"""Where a long text can be cut so that the token counts of the pieces add up to the count of the whole.

tiktoken counts a text in two steps: its pre-tokeniser (the regex ``pat_str`` of the encoding, scanned
left to right with ``find_iter``) splits the text into pre-tokens, then byte-pair encoding runs on each
pre-token alone. So ``count(a + b) == count(a) + count(b)`` whenever the pre-tokens of ``a + b`` are the
pre-tokens of ``a`` followed by those of ``b``. A cut at position ``p`` of ``text`` has that property when

(A) ``p`` is a pre-token boundary of ``text`` (no pre-token spans it), and
(B) scanning ``text[:p]`` alone gives the pre-tokens of ``text`` that lie before ``p``.

The pre-tokens from ``p`` on are then those of ``text[p:]`` alone: no alternative of either pattern looks
behind (no lookbehind, ``^`` or ``\\b``), every character is matched by some alternative (the last ones
take any whitespace, ``[^\\s\\p{L}\\p{N}]`` any other character), so matches are contiguous and the scan
restarts at ``p`` exactly as it starts at 0.

For (B), compare a scan of ``text[:p]`` with the scan of ``text``: they make the same decisions until some
match attempt, starting at ``i < p``, *reads position p* (a character class or ``\\s`` tested against
``text[p]``, the lookahead ``(?!\\S)`` or the anchor ``$`` at ``p``), because that is the first place the two
strings differ: one has ``c = text[p]`` there, the other its end. A path of the regex reads ``p`` only after
consuming all of ``text[i:p]``. The cuts below are chosen so that every such path ends the same way.

**Rule S, before a space.** ``text[p] == " "`` and ``text[p-1]`` is a letter, digit or ``_`` (Python's
``\\w``) or printable ASCII other than space: in every Unicode version, a character that is not
whitespace. (A): no alternative of either pattern consumes a non-whitespace character and then a space:
letters, marks and contractions (o200k alternatives 1-2, cl100k 1-2) take no space, ``\\p{N}{1,3}`` neither,
the punctuation alternative (``" ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*"`` in o200k, ``... [\\r\\n]*+`` in cl100k) takes a
space only as its first character, and the whitespace alternatives start at whitespace. So the pre-token
holding ``text[p-1]`` ends at ``p``. (B): a path that consumed ``text[i:p]`` consumed the non-whitespace
``text[p-1]``, so it is inside a letter, mark, contraction, digit or punctuation loop, or the trailing
``[\\r\\n/]*``; each of them tests ``text[p]`` against a class that contains neither a space nor the end of
the text, so both scans stop the loop there and go on identically. ``$`` and ``(?!\\S)`` only follow
``\\s+``/``\\s++``, which cannot have consumed ``text[p-1]``.

**Rule N, after a newline.** ``text[p-1] == "\\n"`` and ``text[p]`` is ``\\w`` or printable ASCII other than
space and ``/``: not whitespace, not ``\\r``, ``\\n`` or ``/``. Let ``R`` be the run of whitespace that ends
at ``p-1``. A path that consumed ``text[i:p]`` consumed the newline, so it is in one of:

- the punctuation alternative's trailing ``[\\r\\n/]*`` (o200k) or ``[\\r\\n]*+`` (cl100k): ``c`` is in neither
  class and neither is the end, so the loop stops at ``p`` in both scans, with the same match;
- a whitespace alternative started at ``i`` in ``R`` (``text[i:p]`` all whitespace). o200k: alternative 5,
  ``\\s*[\\r\\n]+``, is tried first and succeeds in both scans with the match ``text[i:p]`` (``\\s*`` stops
  at ``p``, non-whitespace or end alike, and gives back the final newline to ``[\\r\\n]+``); the alternatives
  before it cannot consume whitespace past ``i+1 < p``, so ``\\s+(?!\\S)`` (the only place where ``c`` and the
  end differ) is never reached. cl100k: ``\\s++$`` fails at ``p`` in ``text`` (``c`` follows) but succeeds in
  ``text[:p]`` with the match ``text[i:p]``; in ``text``, the next alternative ``\\s*[\\r\\n]`` then matches the
  same ``text[i:p]`` (``\\s*`` backs off to leave the final newline to ``[\\r\\n]``). Same span, same
  pre-token; ``\\s+(?!\\S)`` and ``\\s`` are never reached.

And (A) holds: the pre-token holding ``text[p-1]`` is one of those matches, which end at ``p``.

Anywhere else (inside a run of whitespace, before ``/`` in o200k, between letters, ...) a cut could change
the count, so pieces are cut only by these two rules; a text with no such place within reach is counted
whole. ``tests/test_engine.py`` checks the claim against tiktoken on generated text for both encodings.

Neither cut falls next to a lone surrogate (not ``\\w``, not ASCII), so tiktoken's repair of such text
(``encode("utf-16", "surrogatepass").decode("utf-16", "replace")``) acts on each piece as on the whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

#: The encodings whose pattern the argument above covers (their pat_str in encodings.SHIPPED).
COVERED = frozenset({"o200k_base", "cl100k_base"})

#: Rule S (cut before the space) | rule N (cut after the newline): the match is empty, at the cut.
_CUT = re.compile(r"(?<=[\w!-~])(?= )|(?<=\n)(?=[\w!-.0-~])")

#: Pieces are cut near this many characters: small enough that a token list of one is a few MB.
PIECE = 1 << 19


def cut_at_or_after(text: str, start: int, end: int | None = None) -> int | None:
    """The first safe cut ``p`` with ``start <= p < end`` (``text[p]`` is known), or None."""
    found = _CUT.search(text, max(start, 1), len(text) if end is None else end)
    return None if found is None else found.start()


def pieces(text: str, size: int = PIECE) -> Iterator[str]:
    """``text`` in pieces of about ``size`` characters or more, cut only where the counts add up exactly.

    The pieces are sliced one at a time, so no more than one copy of a piece is made at once.
    """
    start = 0
    while len(text) - start > size:
        cut = cut_at_or_after(text, start + size)
        if cut is None:
            break
        yield text[start:cut]
        start = cut
    yield text[start:] if start else text


class Splitter:
    """Turns chunks of a stream (any sizes, as read from a file) into pieces cut only at safe places.

    Holds about ``size`` characters plus one chunk, unless the stream has no safe cut for a long stretch:
    then that stretch is held until a cut (or the end) comes, and counted whole. Each chunk is searched
    once, with the character before it (a cut depends on the characters on either side), so a long
    stretch without a cut costs linear time.
    """

    def __init__(self, size: int = PIECE) -> None:
        self._size = size
        self._parts: list[str] = []
        self._held = 0
        self._searched = 0  # no cut before this offset of the held text
        self._last = ""  # the last character held

    def feed(self, chunk: str) -> Iterator[str]:
        """The pieces that ``chunk`` completes (possibly none)."""
        if not chunk:
            return
        base = self._held
        self._parts.append(chunk)
        self._held += len(chunk)
        start = max(self._size, self._searched)  # a piece is at least ``size`` long
        if self._held > start:
            window_base = base - len(self._last)
            found = cut_at_or_after(self._last + chunk, start - window_base)
            if found is None:
                self._searched = self._held
            else:
                yield from self._emit(window_base + found)
        self._last = chunk[-1]

    def _emit(self, cut: int | None) -> Iterator[str]:
        text = "".join(self._parts)
        start = 0
        while cut is not None:
            yield text[start:cut]
            start = cut
            cut = cut_at_or_after(text, start + self._size)
        rest = text[start:]
        self._parts, self._held = [rest], len(rest)
        self._searched = self._held  # the last search covered the rest

    def close(self) -> Iterator[str]:
        """The last piece: what is held when the stream ends."""
        if self._held:
            yield "".join(self._parts)
        self._parts, self._held, self._searched, self._last = [], 0, 0, ""


def split_stream(chunks: Iterable[str], size: int = PIECE) -> Iterator[str]:
    """The pieces of the concatenation of ``chunks``, cut only at safe places, holding a bounded window."""
    splitter = Splitter(size)
    for chunk in chunks:
        yield from splitter.feed(chunk)
    yield from splitter.close()
