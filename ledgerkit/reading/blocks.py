"""The Markdown block structure of a ledger: where each top-level block (heading, list, code, quote, HTML,
thematic break, paragraph, blank lines) starts and ends, as 1-based line numbers.

The blocks are mistune's (``mistune.block_parser.BlockParser`` with its default rules), so code, quotes and HTML
are never mistaken for records. A line scanner finds the blocks a ledger is made of (headings, breaks, lists of
items, paragraphs, blank lines, quotes ended by a blank line) exactly as mistune would, with cheap string tests;
where it meets a line whose meaning needs more (a fence, HTML, another quote, a reference definition, a setext
underline, a tab or a space before a marker...) mistune parses that region alone, from the last line where the
scanner knew mistune's state to the first where it knows it again. mistune is imported only then.
tests/test_blocks.py holds the proof that the result equals stock mistune's.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left, bisect_right
from operator import length_hint
from typing import Any, NamedTuple

#: string.whitespace, without importing the string module (and the Template pattern it compiles) on every run.
_WHITESPACE = " \t\n\r\x0b\x0c"


class Block(NamedTuple):
    kind: str
    first: int  # 1-based, inclusive
    last: int
    level: int = 0
    text: str = ""


#: ``_new(Block, (kind, first, last, level, text))`` makes the blocks a ledger is made of (four a record) without the
#: NamedTuple's generated __new__ and its call.
_new = tuple.__new__


def blocks(contents: list[str], trace: list[tuple[int, int]] | None = None) -> list[Block]:
    """The top-level blocks of a text given as its lines (without line endings), in order.

    ``trace``, when given, receives the (first, last) lines of each stretch of text handed to mistune.
    """
    if not contents:
        return [Block("blank_line", 1, 1)]  # mistune sees "\n": one blank line
    return _Scanner(contents, trace).run()


# --- the line scanner ----------------------------------------------------------------------------------------
#
# mistune's top-level parse is a loop over lines whose only state is whether the last token is a paragraph
# (a paragraph absorbs what would otherwise start some blocks, and a setext underline turns it into a heading).
# The scanner keeps the same state and judges a line only when the answer is plain from its first characters;
# every rule below mirrors a branch of mistune's block_parser.py or list_parser.py.

_TEXT, _BLANK, _HEADING, _BREAK, _ITEM, _HARD = range(6)
_SIBLING, _CONTINUE, _END = range(6, 9)

_BLANK_CHARS = " \t\v\f"  # what mistune's blank-line rule allows on a blank line
_ATX_TRIM = re.compile(r"(\s+|^)#+\s*$")  # mistune's _ATX_HEADING_TRIM
_PRINTABLE = frozenset(map(chr, range(0x21, 0x7F)))
_ITEM_TEXT = {bullet: _PRINTABLE - {bullet} for bullet in "-*+"}  # what may follow "- " in a plain item

#: Lines of a list of "- " items that its loop reads without a question (``_Scanner._list_lines``): indented by
#: the item's width, the next item ("- " and a character of _ITEM_TEXT, as the loop asks), or empty. Found within
#: _RECORD_SPAN lines, so that a ledger without breaks costs a bounded search per list.
_RECORD_LINE = rf"(?:  [^\n]*|- [{re.escape(''.join(sorted(_ITEM_TEXT['-'])))}][^\n]*|)"
_RECORD_LINES = re.compile(rf"{_RECORD_LINE}(?:\n{_RECORD_LINE})*")
_RECORD_SPAN = 128


def _plain_record_list(contents: list[str], i: int) -> int:
    """The break that ends the "- " list starting on line ``i``, when the list runs plainly to it (a record's
    list as ledgers write it); else -1. Each line before the break is one ``_Scanner._list_lines`` reads as
    indented, as the next item or as blank (_RECORD_LINES says which), so that loop would end the list there too."""
    try:
        j = contents.index("---", i + 1, i + _RECORD_SPAN)
    except ValueError:
        return -1
    return j if _RECORD_LINES.fullmatch("\n".join(contents[i + 1 : j])) else -1


def _classify(s: str, para: bool) -> int:
    """How mistune's top level reads line ``s``, after a paragraph (``para``) or after any other block."""
    if not s:
        return _BLANK
    c = s[0]
    if c in "-*+_" or "0" <= c <= "9":
        return _classify_marker(s, para)
    if c == "#":
        return _HEADING if _atx(s) is not None else _TEXT
    if c == "=":
        return _HARD if para and _setext(s) else _TEXT
    if c in _BLANK_CHARS:
        return _classify_indented(s, para)
    if c == "[":
        # A reference definition cannot interrupt a paragraph; elsewhere it takes mistune to judge.
        return _TEXT if para else _HARD
    return _HARD if _may_open_block(s) else _TEXT


def _may_open_block(s: str) -> bool:
    """Whether ``s`` (not blank, not a marker) may open a fence, a quote or HTML, or has a first character
    mistune's regexes read other than a scanner would (a control character, a Unicode digit or space)."""
    c = s[0]
    if c in "`~":
        return s.startswith(("```", "~~~"))
    return c in "<>" or c < " " or (c > "\x7f" and (c.isspace() or c.isdigit()))


def _classify_marker(s: str, para: bool) -> int:
    """A line that starts like a thematic break, a setext underline or a list item."""
    c = s[0]
    if para and c == "-" and _setext(s):
        return _HARD
    if c in "-*_" and _thematic(s):
        return _BREAK
    marker = _list_marker(s)
    if marker is None:
        return _TEXT
    _key, width, start = marker
    if width == 0:
        return _HARD
    if para and start not in (-1, 1):
        return _TEXT  # an ordered list not starting at 1 cannot interrupt a paragraph
    return _ITEM


def _classify_indented(s: str, para: bool) -> int:
    """A line that starts with a space, a tab, ``\\v`` or ``\\f``."""
    if not s.strip(_BLANK_CHARS):
        if _indent_code_line(s):
            # mistune's indented-code test comes before its blank-line rule: after a paragraph such a line
            # continues it; anywhere else it starts a code block.
            return _TEXT if para else _HARD
        return _BLANK
    if para and _indent_code_line(s):
        return _TEXT
    return _HARD


def _indent_code_line(s: str) -> bool:
    """mistune's _is_indent_code_line."""
    if len(s) > 4 and s.startswith("    "):
        return True
    index = len(s) - len(s.lstrip(" "))
    return index + 1 < len(s) and s[index] == "\t"


def _setext(s: str) -> bool:
    """Whether ``s`` (at column 0) matches mistune's setext underline: only ``=`` and ``-``, then blanks."""
    t = s.rstrip(" \t")
    return bool(t) and not t.strip("=-")


def _thematic(s: str) -> bool:
    """Whether ``s`` (starting with ``-``, ``*`` or ``_``) is a thematic break: three or more, blanks between."""
    c = s[0]
    if s[-1] not in (" \t" + c):
        return False
    t = s.replace(" ", "").replace("\t", "")
    return len(t) >= 3 and not t.strip(c)


def opens_heading(s: str) -> bool:
    """Whether line ``s`` is an ATX heading at the margin, as mistune reads one at the top level: a line that
    joins no block before it (neither a paragraph's continuation nor a setext underline) and ends any list or
    quote open there."""
    return s[:1] == "#" and _atx(s) is not None


def _atx(s: str) -> tuple[int, str] | None:
    """(level, text) when ``s`` (starting with ``#``) is an ATX heading, as mistune reads it."""
    level = len(s) - len(s.lstrip("#"))
    rest = s[level:]
    if level > 6 or (rest and rest[0] not in " \t"):
        return None
    text = rest.strip(_WHITESPACE)
    if "#" in text:
        text = _ATX_TRIM.sub("", text)
    return level, text


def _list_marker(s: str) -> tuple[str, int, int] | None:
    """(kind, continue width, start) when ``s`` starts a list item at column 0, else None.

    The kind is the bullet, or ``.``/``)`` for an ordered item; start is -1 for a bullet. A width of 0 marks an
    item the scanner leaves to mistune: empty, or with a tab after its marker.
    """
    c = s[0]
    if c in "-*+":
        lead, start = 1, -1
    else:
        digits = len(s) - len(s.lstrip("0123456789"))
        if not 0 < digits <= 9 or s[digits : digits + 1] not in (".", ")"):
            return None
        lead, start = digits + 1, int(s[:digits])
    rest = s[lead:]
    if rest and rest[0] not in " \t":
        return None
    text = rest.lstrip(" ")
    if not text or rest[0] == "\t" or text[0].isspace():
        return s[lead - 1], 0, start
    spaces = len(rest) - len(text)
    return s[lead - 1], lead + (1 if spaces >= 5 else spaces), start


def _continue_width(s: str) -> int:
    """The width of the blanks ``s`` starts with, tabs to the next multiple of 4 (list_parser's rule)."""
    width = 0
    for char in s:
        if char == " ":
            width += 1
        elif char == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def _in_list(s: str, kind: str, width: int, after_blank: bool) -> tuple[int, int]:
    """How a list item of ``kind`` reads line ``s``, not blank and not indented by ``width`` spaces.

    (action, argument): (_CONTINUE, 1 if blank else 0), (_SIBLING, the new item's continue width), _END (the
    list ends before this line), _BREAK or _HEADING (that block ends the list), _HARD.
    """
    c = s[0]
    if c in _BLANK_CHARS:
        return _in_list_indented(s, width)
    if c in "-*_" and _thematic(s):
        return _BREAK, 0
    if c in "-*+" or "0" <= c <= "9":
        marker = _list_marker(s)
        if marker is not None:
            return _in_list_marker(marker, kind)
    elif c == "#" and _atx(s) is not None:
        return _HEADING, 0
    elif _may_open_block(s):
        return _HARD, 0
    # Nothing breaks the item here: a lazy continuation line, unless a blank line came first.
    return (_END, 0) if after_blank else (_CONTINUE, 0)


def _in_list_indented(s: str, width: int) -> tuple[int, int]:
    """``_in_list`` for a line that starts with a blank character."""
    if not s.strip(_BLANK_CHARS):
        return _CONTINUE, 1
    # Fewer spaces than the item's content (a tab may still reach it): any other such line goes to mistune.
    return (_CONTINUE, 0) if s[0] in " \t" and _continue_width(s) >= width else (_HARD, 0)


def _in_list_marker(marker: tuple[str, int, int], kind: str) -> tuple[int, int]:
    """``_in_list`` for a line that starts a list item."""
    if marker[0] != kind:
        return _END, 0  # a list of another kind starts here
    return (_SIBLING, marker[1]) if marker[1] else (_HARD, 0)


def _paragraph(contents: list[str], first: int, end: int) -> Block:
    return Block("paragraph", first + 1, end, 0, "\n".join(contents[first:end]) + "\n")


class _Scanner:
    """One pass over the lines; regions it cannot judge go to mistune (``_Mistune``)."""

    def __init__(self, contents: list[str], trace: list[tuple[int, int]] | None) -> None:
        self.contents = contents
        self.trace = trace
        self.out: list[Block] = []
        self.mistune: _Mistune | None = None

    def run(self) -> list[Block]:
        contents, out = self.contents, self.out
        n = len(contents)
        i = 0
        # mistune restarts safely where the last token is not a paragraph: from there its parse depends on
        # nothing before. ``safe`` is the latest such line, ``kept`` how many blocks end before it.
        safe = kept = 0
        para = -1  # the first line of the open paragraph
        while i < n:
            s = contents[i]
            if para < 0 and (s[:1] in ("#", ">") or not s or s[:2] == "- "):
                j = self._ledger_block(s, i)  # a record's heading, its list, a blank line, a plain quote
                if j:
                    i = j if j > 0 else self._hand_over(safe, kept)
                    safe, kept = i, len(out)
                    continue
            kind = _classify(s, para >= 0)
            if kind == _TEXT:
                if para < 0:
                    para = i
                i += 1
                continue
            if kind != _HARD and para >= 0:
                out.append(_paragraph(contents, para, i))
            para = -1
            i = self._block(kind, i)
            if i < 0:
                i = self._hand_over(safe, kept)
            safe, kept = i, len(out)
        if para >= 0:
            out.append(_paragraph(contents, para, n))
        return out

    def _ledger_block(self, s: str, i: int) -> int:
        """The blocks a ledger is made of, judged at once after a block other than a paragraph: the line after the
        block on line ``i`` (``s``), -1 to hand over, or 0 to leave the line to ``_classify``."""
        if not s:
            return self._block(_BLANK, i)
        if s[0] == "#":
            heading = _atx(s)
            if heading is None:
                return 0
            self.out.append(_new(Block, ("heading", i + 1, i + 1, heading[0], heading[1])))
            return i + 1
        if s[0] == ">":
            return self._quote(i)
        if s[2:3] in _ITEM_TEXT["-"]:
            return self._list(i, "-", 2)
        return 0

    def _quote(self, i: int) -> int:
        """A block quote of lines that all start with ``>``, followed by a blank line or the end of the text: the
        line after it, else 0. Whatever the quote holds, mistune's extract_block_quote ends it at that blank line
        (a blank line is never a lazy continuation), and nothing before the quote matters where no paragraph is
        open."""
        contents = self.contents
        j = i + 1
        while j < len(contents) and contents[j][:1] == ">":
            j += 1
        if j < len(contents) and _classify(contents[j], False) != _BLANK:
            # A lazy continuation line, a block that may end the quote, or a blank line that is indented code
            # where no quote came before (inside the quote mistune reads it as a blank line): mistune's to judge.
            return 0
        self.out.append(Block("block_quote", i + 1, j))
        return j

    def _block(self, kind: int, i: int) -> int:
        """Emit the block of ``kind`` that starts on line ``i``; the line after it, or -1 to hand over."""
        contents = self.contents
        if kind == _BLANK:
            j = i + 1
            while j < len(contents) and not contents[j].strip(_BLANK_CHARS):
                j += 1
            self.out.append(_new(Block, ("blank_line", i + 1, j, 0, "")))
            return j
        if kind == _HEADING:
            level, text = _atx(contents[i]) or (0, "")
            self.out.append(_new(Block, ("heading", i + 1, i + 1, level, text)))
            return i + 1
        if kind == _BREAK:
            self.out.append(_new(Block, ("thematic_break", i + 1, i + 1, 0, "")))
            return i + 1
        if kind == _ITEM:
            return self._list(i)
        return -1

    def _list(self, i: int, kind: str = "", width: int = 0) -> int:
        """Emit the list whose first item is on line ``i`` (and the break or heading that ends it, if one does).

        ``kind`` and ``width`` are the item's, when the caller knows them.
        """
        if not width:
            kind, width, _start = _list_marker(self.contents[i]) or ("", 0, 0)
        if kind == "-" and width == 2:
            j = _plain_record_list(self.contents, i)
            if j >= 0:
                return self._close_list(i, j, _BREAK)
        return self._list_lines(i, kind, width)

    def _list_lines(self, i: int, kind: str, width: int) -> int:
        """:meth:`_list`, line by line: each line judged by a test or two, the rare ones by ``_in_list``."""
        contents = self.contents
        n = len(contents)
        pad = " " * width
        # A bullet, a space and a printable character other than the bullet: the next item, of width 2.
        sibling = kind + " " if kind in "-*+" else "\n"
        third = _ITEM_TEXT.get(kind, frozenset())
        after_blank = False
        action = _END
        j = n
        # A plain loop over a list iterator is the cheapest way through the lines; its position is set the way
        # pickling restores it (islice would step over every line before), and length_hint tells where it is.
        lines = iter(contents)
        lines.__setstate__(i + 1)  # type: ignore[attr-defined]
        for s in lines:
            # The lines of a ledger's record, each judged by a test or two: indented items and continuation
            # lines, ``- KEY: value`` items and blank lines.
            head = s[:width]
            if head == pad:
                after_blank = s.isspace() and not s.strip(_BLANK_CHARS)
            elif head[:2] == sibling and s[2:3] in third:
                if width != 2:
                    width, pad = 2, "  "
                after_blank = False
            elif not s:
                after_blank = True
            elif s == "---":
                action = _BREAK  # the break that ends a record
                j = n - length_hint(lines) - 1
                break
            else:
                action, arg = _in_list(s, kind, width, after_blank)
                if action == _CONTINUE:
                    after_blank = arg == 1
                elif action == _SIBLING:
                    width, after_blank = arg, False
                    pad = " " * width
                else:
                    j = n - length_hint(lines) - 1
                    break
        return self._close_list(i, j, action)

    def _close_list(self, i: int, j: int, action: int) -> int:
        """Emit the list on lines ``i``..``j - 1`` and what ``action`` says follows it; the line after, or -1."""
        if action == _HARD:
            return -1
        self.out.append(_new(Block, ("list", i + 1, j, 0, "")))
        if action == _END:
            return j
        if action == _BREAK:
            self.out.append(_new(Block, ("thematic_break", j + 1, j + 1, 0, "")))
            return j + 1
        return self._block(action, j)

    def _hand_over(self, safe: int, kept: int) -> int:
        """Let mistune parse from line ``safe``, dropping the blocks found after it; the line to resume at."""
        if self.mistune is None:
            self.mistune = _Mistune(self.contents, self.trace)
        del self.out[kept:]
        found, resume = self.mistune.parse_from(safe)
        self.out.extend(found)
        return resume


# --- mistune, on the regions the scanner cannot judge ----------------------------------------------------------


def _is_bracket_line(s: str) -> bool:
    """A line mistune may read as the start of a link reference definition (``[`` after up to 3 spaces)."""
    t = s.lstrip(" ")
    return t.startswith("[") and len(s) - len(t) <= 3


class _Source:
    """The text of lines first..end-1 as mistune reads it, with where each line starts in it."""

    def __init__(self, contents: list[str], first: int, end: int) -> None:
        self.first = first
        self.end = end
        self.src = "\n".join(contents[first:end]) + "\n"
        starts = array("q", [0])
        pos = 0
        for k in range(first, end):
            pos += len(contents[k]) + 1
            starts.append(pos)
        self.starts = starts
        self.env: dict[str, Any] = {"ref_links": {}}  # kept across runs: mistune caches blank lines here

    def offset(self, line: int) -> int:
        return self.starts[line - self.first]

    def line_of(self, pos: int) -> int:
        """The 1-based line number of the character at ``pos``."""
        return self.first + bisect_right(self.starts, pos)


class _Mistune:
    """Runs mistune's block parser from a safe line until it ends a block before a line the scanner can judge.

    mistune reads past the end of a block only to find where a block ends (a fence's closing line, the end of an
    HTML block, the next blank line) or, for a link reference definition, up to the next blank line. So it is given
    a window of lines, grown until its run stops inside it; a region with a line that may start a reference
    definition gets the whole rest of the text, built once and kept for later regions.
    """

    def __init__(self, contents: list[str], trace: list[tuple[int, int]] | None) -> None:
        from mistune.core import BlockState

        self.state_class = BlockState
        self.contents = contents
        self.trace = trace
        self.parser = _span_parser()
        self.whole: _Source | None = None

    def parse_from(self, first: int) -> tuple[list[Block], int]:
        contents = self.contents
        n = len(contents)
        end = _next_judged(contents, first + 1) + 2
        while self.whole is None:
            if end >= n or any(_is_bracket_line(contents[k]) for k in range(first, end)):
                self.whole = _Source(contents, first, n)
                break
            found = self._run(_Source(contents, first, end), first)
            if found is not None:
                return found
            end = max(2 * end - first, _next_judged(contents, end) + 2)
        found = self._run(self.whole, first)
        assert found is not None  # the whole rest always ends inside itself
        return found

    def _run(self, source: _Source, first: int) -> tuple[list[Block], int] | None:
        """The blocks from line ``first`` and the line to resume at; None if the run needs more text."""
        contents = self.contents
        n = len(contents)

        def stop_at(pos: int) -> bool:
            k = bisect_left(source.starts, pos)
            line = source.first + k
            return (
                k < len(source.starts)
                and source.starts[k] == pos
                and first < line < source.end
                and _classify(contents[line], False) != _HARD
            )

        state = self.state_class()
        state.process(source.src)
        state.env = source.env
        state.cursor = source.offset(first)
        self.parser.stop_at = stop_at
        self.parser.stopped = None
        self.parser.parse(state)
        stopped = self.parser.stopped
        if stopped is None and source.end < n:
            return None
        resume = n if stopped is None else source.line_of(stopped) - 1
        if self.trace is not None:
            self.trace.append((first + 1, source.end if source is not self.whole else resume))
        limit = len(source.src) if stopped is None else stopped
        return _tokens_to_blocks(state.tokens, source, source.offset(first), limit), resume


def _next_judged(contents: list[str], j: int) -> int:
    """The first line from ``j`` on that the scanner can judge (where mistune may hand back)."""
    while j < len(contents) and _classify(contents[j], False) == _HARD:
        j += 1
    return j


def _tokens_to_blocks(tokens: list[dict[str, Any]], source: _Source, gap: int, limit: int) -> list[Block]:
    """Blocks from mistune's top-level tokens, each spanning from its rule's start to its end.

    Tokens made without a rule call (paragraphs, and indented code found by mistune's fast path) fill the gap up
    to the next recorded token.
    """
    following = [limit] * (len(tokens) + 1)
    for k in range(len(tokens) - 1, -1, -1):
        span = tokens[k].get("_span")
        following[k] = span[0] if span is not None else following[k + 1]
    found = []
    for k, token in enumerate(tokens):
        span = token.get("_span")
        if span is None:
            span = (gap, token.get("_span_end", following[k + 1]))
        start, end = span
        gap = max(gap, end)
        if end <= start:
            continue
        attrs = token.get("attrs") or {}
        first, last = source.line_of(start), source.line_of(end - 1)
        found.append(Block(token["type"], first, last, attrs.get("level", 0), token.get("text", "")))
    return found


_PARSER_CLASS: Any = None


def _span_parser() -> Any:
    """A new mistune block parser that records where each top-level token starts and ends.

    The class is built on first use, so that a ledger the scanner reads alone never imports mistune; each run
    gets its own instance, which holds the run's stop test.
    """
    global _PARSER_CLASS
    if _PARSER_CLASS is None:
        _PARSER_CLASS = _span_parser_class()
    return _PARSER_CLASS()


def _span_parser_class() -> Any:
    from mistune.block_parser import BlockParser
    from mistune.core import BlockState

    class _SpanParser(BlockParser):
        """mistune's tokens carry no positions. Every top-level rule passes through ``parse_method`` with the
        cursor at the rule's start, so the source span of the tokens each call appends is known; a rule that ends
        by handing over to another (a list ended by a thematic break) records the inner token first.

        ``stop_at(end)`` is asked after each outermost rule that made a token; when it says yes the parse ends
        there (``stopped``), so the scanner can take over.
        """

        def __init__(self) -> None:
            super().__init__()
            self.depth = 0
            self.stop_at: Any = lambda end: False
            self.stopped: int | None = None

        def parse(self, state: BlockState, rules: list[str] | None = None) -> None:
            # Only top-level blocks matter: the inside of a list item is read by parse.py, the inside of a quote
            # is opaque. mistune decides where an item or quote ends before it parses the content, so skipping
            # the content changes no boundary (tests compare with stock mistune) and halves the time.
            if state.parent is not None:
                state.cursor = state.cursor_max
                return
            super().parse(state, rules)

        def parse_method(self, m: re.Match[str], state: BlockState) -> Any:
            if state.parent is not None:
                return super().parse_method(m, state)
            n = len(state.tokens)
            start = state.cursor
            self.depth += 1
            try:
                end = super().parse_method(m, state)
            finally:
                self.depth -= 1
            new = state.tokens[n:]
            inner = [t["_span"][0] for t in new if "_span" in t]
            stop = min(inner) if inner else (end or state.find_line_end_at(start))
            for token in new:
                if "_span" not in token:
                    token["_span"] = (start, stop)
                    start = stop  # any further token of this call is zero-width
            if not new and state.tokens and state.tokens[-1].get("style") == "setext":
                state.tokens[-1].setdefault("_span_end", end)
            # A stop needs a finished block last: not a paragraph (a rule may hand a line back to one, and the
            # next line may extend it or turn it into a setext heading).
            last = state.tokens[-1] if new else None
            if self.depth == 0 and end and last and last["type"] != "paragraph" and self.stop_at(end):
                self.stopped = end
                return state.cursor_max  # ends mistune's loop; the tokens so far are final
            return end

    return _SpanParser
