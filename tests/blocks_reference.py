"""The block boundaries ledgerkit's scanner must reproduce: stock mistune's, as ledgerkit read them before the
scanner (ledgerkit/reading/blocks.py at 5b328b0, kept here unchanged so the comparison never drifts with the code
under test).

``stock_blocks`` runs mistune 3's ``BlockParser`` with its default rules on the whole text and records where each
top-level token starts and ends; ``skeleton_blocks`` is the speed trick that came before the scanner (mistune on a
"skeleton" of the text, item contents skipped), kept as a baseline for bench/bench_blocks.py.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any

from mistune.block_parser import BlockParser
from mistune.core import BlockState

from ledgerkit.reading.blocks import Block

_DASH_BREAK = re.compile(r"^(?:-[ \t]*){3,}$")


class _SpanParser(BlockParser):
    """mistune's block parser, recording where each top-level token starts and ends in the source."""

    def parse(self, state: BlockState, rules: list[str] | None = None) -> None:
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


class _StockParser(_SpanParser):
    """The same span recording, but parsing every item's and quote's content as stock mistune does."""

    parse = BlockParser.parse  # type: ignore[assignment]


def _skeleton(contents: list[str]) -> list[str]:
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


def _blocks(contents: list[str], parser: BlockParser, skeleton: bool) -> list[Block]:
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


def stock_blocks(contents: list[str]) -> list[Block]:
    """The top-level blocks stock mistune finds in the lines, with their kinds, spans, levels and texts."""
    return _blocks(contents, _StockParser(), skeleton=False)


def skeleton_blocks(contents: list[str]) -> list[Block]:
    """The same blocks by the skeleton trick (mistune on the text with later sibling items made continuations)."""
    return _blocks(contents, _SpanParser(), skeleton=True)
