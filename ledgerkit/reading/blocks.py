"""The Markdown block structure of a ledger: where each top-level block (heading, list, code, quote, HTML,
thematic break, paragraph) starts and ends, as 1-based line numbers.

mistune finds the blocks, so code, quotes and HTML are never mistaken for records.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any

from mistune.block_parser import BlockParser
from mistune.core import BlockState

_DASH_BREAK = re.compile(r"^(?:-[ \t]*){3,}$")


# --- blocks (mistune) --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    kind: str
    first: int  # 1-based, inclusive
    last: int
    level: int = 0
    text: str = ""


class _SpanParser(BlockParser):
    """mistune's block parser, recording where each top-level token starts and ends in the source.

    mistune's tokens carry no positions. Every top-level rule passes through ``parse_method`` with the
    cursor at the rule's start, so the source span of the tokens each call appends is known; a rule that
    ends by handing over to another (a list ended by a thematic break) records the inner token first.
    """

    def parse(self, state: BlockState, rules: list[str] | None = None) -> None:
        # Only top-level blocks matter: the inside of a list item is read by _items and _entries, the inside
        # of a quote is opaque. mistune decides where an item or quote ends before it parses the content,
        # so skipping the content changes no boundary (tests compare with stock mistune) and halves the time
        # on a large ledger.
        if state.parent is not None:
            state.cursor = state.cursor_max
            return
        super().parse(state, rules)

    def parse_method(self, m: re.Match[str], state: BlockState) -> Any:
        if state.parent is not None:
            return super().parse_method(m, state)
        n = len(state.tokens)
        start = state.cursor
        end = super().parse_method(m, state)
        new = state.tokens[n:]
        inner = [t["_span"][0] for t in new if "_span" in t]
        stop = min(inner) if inner else (end or state.find_line_end_at(start))
        for token in new:
            if "_span" not in token:
                token["_span"] = (start, stop)
                start = stop  # any further token of this call is zero-width
        if not new and state.tokens and state.tokens[-1].get("style") == "setext":
            state.tokens[-1].setdefault("_span_end", end)
        return end


_PARSER = _SpanParser()


def _skeleton(contents: list[str]) -> list[str]:
    """The lines as mistune needs to see them to find the same top-level blocks, faster.

    mistune spends ~30 µs on every list item, and a record is a dozen ``- KEY: value`` items. In a run of
    lines that starts with an item ``- X`` and goes on with items ``- Y`` and lines indented by two spaces
    or more, with no blank line, the later items can be written as continuation lines of the first (``  Y``)
    without moving any block boundary: a list item of content width 2 takes every line indented by 2 as
    its own without looking at it, and a sibling item ``- Y`` keeps the same list going in the same state.
    Lines that could close a fence or an HTML block (`` ` ``, ``~``, ``>``) end a run, so a run inside
    such a block changes nothing either; so does ``- - -``, a thematic break.
    tests/test_parse.py checks the boundaries against stock mistune.
    """
    out = list(contents)
    in_run = False
    for i, line in enumerate(contents):
        if ">" in line or _DASH_BREAK.match(line):
            in_run = False
        elif line.startswith("- ") and len(line) > 2 and line[2] not in " \t`~":
            if in_run:
                out[i] = "  " + line[2:]
            in_run = True
        elif not (in_run and line.startswith("  ") and line.strip()[:1] not in ("", "`", "~")):
            in_run = False
    return out


def blocks(contents: list[str], parser: BlockParser = _PARSER, skeleton: bool = True) -> list[Block]:
    """The top-level blocks of a text given as its lines (without line endings), in order."""
    src = "\n".join(_skeleton(contents) if skeleton else contents) + "\n"
    state = BlockState()
    state.process(src)
    parser.parse(state)
    starts = [0]
    for line in contents:
        starts.append(starts[-1] + len(line) + 1)

    def line_of(pos: int) -> int:
        return bisect_right(starts, pos)

    found = []
    gap = 0
    tokens = state.tokens
    for i, token in enumerate(tokens):
        span = token.get("_span")
        if span is None:
            # Paragraphs, and blocks mistune finds without a rule call: they fill the gap up to the next
            # recorded token.
            nxt = next((t["_span"][0] for t in tokens[i + 1 :] if "_span" in t), len(src))
            span = (gap, token.get("_span_end", nxt))
        start, end = span
        gap = max(gap, end)
        if end <= start:
            continue
        first, last = line_of(start), line_of(end - 1)
        attrs = token.get("attrs") or {}
        found.append(Block(token["type"], first, last, attrs.get("level", 0), token.get("text", "")))
    return found
