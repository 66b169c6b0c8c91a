"""ledgerkit.reading.blocks: the line scanner finds exactly the top-level blocks stock mistune finds.

The reference is tests/blocks_reference.py (mistune 3's BlockParser with its default rules, every container's
content parsed). Documents come from a grammar of every CommonMark container and leaf block, with ledger records
mixed in and tabs and stray blanks thrown anywhere, and from a soup of single lines that meet at random.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, example, given, settings

from ledgerkit.files.textfile import Lines
from ledgerkit.reading.blocks import Block, blocks

from .blocks_reference import stock_blocks
from .conftest import DATA, REFERENCE, REPO

_SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}


# --- documents from CommonMark's grammar -------------------------------------------------------------------

_WORDS = st.sampled_from(
    [
        "text",
        "KEY: value",
        "RUN_ID: X",
        "a > b",
        "`tick`",
        "``",
        "*em*",
        "_u_",
        "[link](/u)",
        "[ref]",
        "<b>x</b>",
        "<div>",
        "x\ty",
        "#",
        "1.",
        "2)",
        "-",
        "+",
        "*",
        "=",
        "---",
        "\\",
        "&amp;",
        "한국어",
        "🪷",
        "\xa0",
        "|a|b|",
        '"q"',
        "(p)",
        "]:",
        "it's",
        ")",
        ".",
    ]
)
_TEXT = st.lists(_WORDS, min_size=1, max_size=4).map(" ".join)
_INDENT = st.sampled_from(["", "", "", " ", "  ", "   ", "    ", "\t", " \t"])


def _one(line: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    return line.map(lambda s: [s])


_PARAGRAPH = st.lists(_TEXT, min_size=1, max_size=3)
_ATX = st.builds(
    lambda indent, n, sep, text, close: indent + "#" * n + sep + text + close,
    _INDENT,
    st.integers(1, 7),
    st.sampled_from([" ", "  ", "\t", ""]),
    st.one_of(_TEXT, st.just("")),
    st.sampled_from(["", " #", " ##", "#", " # ", " \\#", "  #  x"]),
)
_SETEXT = st.builds(
    lambda lines, indent, c, k, tail: [*lines, indent + c * k + tail],
    _PARAGRAPH,
    _INDENT,
    st.sampled_from(["=", "-", "=-"]),
    st.integers(1, 4),
    st.sampled_from(["", " ", "  \t", " x"]),
)
_BREAK = st.builds(
    lambda indent, c, k, sep, tail: indent + sep.join([c] * k) + tail,
    _INDENT,
    st.sampled_from(["-", "*", "_"]),
    st.integers(2, 5),
    st.sampled_from(["", " ", "  ", "\t", " \t "]),
    st.sampled_from(["", " ", "\t", " x"]),
)


@st.composite
def _fence(draw: st.DrawFn) -> list[str]:
    c = draw(st.sampled_from("`~"))
    k = draw(st.integers(3, 5))
    indent = draw(st.sampled_from(["", "", " ", "  ", "   ", "    "]))
    info = draw(st.sampled_from(["", "py", " python x", "a`b", "~x", " {.c}"]))
    body = draw(st.lists(st.one_of(_TEXT, st.sampled_from(["", "    x", "- KEY: v", "```", "~~~", "> q"])), max_size=4))
    lines = [indent + c * k + info, *body]
    close = draw(st.sampled_from(["same", "longer", "shorter", "other", "spaced", "indented", "none"]))
    closing = {
        "same": c * k,
        "longer": c * (k + 1),
        "shorter": c * (k - 1),
        "other": ("~" if c == "`" else "`") * k,
        "spaced": " " * draw(st.integers(0, 4)) + c * k + " ",
        "indented": "    " + c * k,
    }.get(close)
    return lines if closing is None else [*lines, closing]


_INDENTED_CODE = st.lists(
    st.builds(lambda pre, text: pre + text, st.sampled_from(["    ", "\t", "  \t", "     ", "        "]), _TEXT)
    | st.sampled_from(["", "    ", "  "]),
    min_size=1,
    max_size=4,
)


@st.composite
def _html(draw: st.DrawFn) -> list[str]:
    """An HTML block of each of CommonMark's 7 kinds, closed or not."""
    kind = draw(st.integers(1, 7))
    start, end = {
        1: (draw(st.sampled_from(["<script>", "<pre class='x'>", "<style", "<textarea>"])), "</script></pre>"),
        2: ("<!-- " + draw(st.sampled_from(["c", "", "- KEY: v"])), "-->"),
        3: ("<?php", "?>"),
        4: ("<!" + draw(st.sampled_from(["DOCTYPE html", "X y"])), ">"),
        5: ("<![CDATA[", "]]>"),
        6: (draw(st.sampled_from(["<div>", "</div>", "<table", "<p class=a>", "<DIV >", "<hr/>"])), ""),
        7: (draw(st.sampled_from(["<custom-tag>", "</a>", '<b class="x">', "<a href='x'>", "<b> x"])), ""),
    }[kind]
    indent = draw(st.sampled_from(["", "", " ", "   ", "    "]))
    body = draw(st.lists(st.one_of(_TEXT, st.sampled_from(["", "- KEY: v", "> q", "### RUN_ID: X"])), max_size=3))
    lines = [indent + start, *body]
    if end and draw(st.booleans()):
        lines.append(draw(st.sampled_from(["", "x ", "  "])) + end)
    return lines


@st.composite
def _reference_definition(draw: st.DrawFn) -> list[str]:
    """A link reference definition, whole or broken: its title may run over later lines, to a closer or not."""
    label = draw(st.sampled_from(["[foo]", "[Foo Bar]", "[ ]", "[a\\]b]", "[foo", "   [x]", "    [x]", "[\nfoo\n]"]))
    colon = draw(st.sampled_from([":", ":", ""]))
    href = draw(st.sampled_from([" /url", " /url", "\n/url", " <a b>", " <>", " (x)", "", " /u(rl"]))
    title = draw(st.sampled_from(["", "", ' "t"', " 't'", " (t)", ' "open', " 'open", " (open", "\n't'", '\n"t', " x"]))
    lines = st.one_of(_TEXT, st.sampled_from(["# h", "- KEY: v", "c'", 'x"', "y)", "", "---"]))
    after = draw(st.lists(lines, max_size=6))
    if draw(st.booleans()):
        # A title left open runs on over the blocks after it, to its closer some lines on (or a blank line).
        opener = draw(st.sampled_from("\"'("))
        label, colon, href, title = draw(st.sampled_from(["[foo]", "   [x]"])), ":", " /url", " " + opener + "t"
        after = [
            draw(st.sampled_from(["# h", "---", "- KEY: v", "***", "> q", "```", "text"])),
            *draw(st.lists(_TEXT, min_size=1, max_size=3)),
            draw(st.sampled_from(["", "end", "end" + {"(": ")"}.get(opener, opener)])),
            *after,
        ]
    return (label + colon + href + title).split("\n") + after


# A paragraph and then a line that may interrupt it, or not.
_INTERRUPTED = st.builds(
    lambda text, marker, rest: [text, marker + rest],
    _TEXT,
    st.sampled_from(
        ["-", "*", "+", "1.", "1)", "2.", "01)", "#", "##", "***", "---", "===", "```", "<div>", "<b>", ">"]
    ),
    st.sampled_from([" x", "", " ", "\tx", "  x"]),
)


@st.composite
def _record(draw: st.DrawFn) -> list[str]:
    """A record in the reference ledger's shape, with some of its items bent."""
    n = draw(st.integers(1, 999))
    items = ["- LOCAL_TS: 2025-08-16 16:20 KST (UTC+09:00)", "- SCOPE: SESSION", "- SOURCE_FILES:"]
    sources = st.sampled_from(["  - /a.md  # 근거", "  - b.md:2-9", "    - deeper", "  - c.md#L3"])
    items += draw(st.lists(sources, max_size=3))
    items += ["- CHAR_COUNT: [fill_after_measure]", "- DISTRIBUTION:", "  - system: 10%", "  - margin: 90%"]
    items += draw(st.lists(st.sampled_from(["- NOTES:", "  - 기록 🪷", "  note", "lazy", "", "- [ ] box"]), max_size=3))
    tail = draw(st.sampled_from([[], ["", "---", ""], ["---"], [""]]))
    return [f"### RUN_ID: TB-LEDGER-20250816-{n:03d}", *items, *tail]


# An item and then a line that may go on with its list, end it, or start a block of its own.
_PROBES = [
    ") x",
    ". x",
    "-x",
    "- x",
    "* x",
    "+ x",
    "2. x",
    "1) x",
    "  x",
    " x",
    "    x",
    "\tx",
    "#x",
    "# x",
    "---",
    "***",
]
_PROBES += ["text", "```", "~~~", "<div>", "<b>", "> q", "[x]: /u", "===", "- ", "-", "2.", "\xa0x", "١. x", "_ _ _"]
_AFTER_ITEM = st.builds(
    lambda marker, text, blank, probe: [marker + " " + text, *blank, probe],
    st.sampled_from(["-", "*", "+", "1.", "1)", "2.", "10)"]),
    _TEXT,
    st.sampled_from([[], [""], ["  "]]),
    st.sampled_from(_PROBES),
)


_LEAF = st.one_of(
    _PARAGRAPH,
    _one(_ATX),
    _SETEXT,
    _one(_BREAK),
    _fence(),
    _INDENTED_CODE,
    _html(),
    _reference_definition(),
    _INTERRUPTED,
    _AFTER_ITEM,
    _record(),
    st.sampled_from([[""], ["  "], ["\t"], ["", ""], ["\f"], [" \x0b "]]),
)


@st.composite
def _list(draw: st.DrawFn, children: st.SearchStrategy[list[str]]) -> list[str]:
    """A list: bullet or ordered, items tight or loose, continuation lines indented, short or lazy."""
    marker = draw(st.sampled_from(["-", "*", "+", "1.", "1)", "2.", "10)", "01."]))
    lines: list[str] = []
    for k in range(draw(st.integers(1, 3))):
        item = draw(children)
        indent = draw(st.sampled_from(["", "", "", " ", "  ", "   "]))
        gap = draw(st.sampled_from([" ", " ", " ", "  ", "    ", "     ", "\t", ""]))
        bullet = marker if marker in "-*+" or k == 0 else str(int(marker[:-1]) + k) + marker[-1]
        width = len(indent) + len(bullet) + len(gap)
        if k and draw(st.booleans()):
            lines.append("")  # loose
        first, rest = (item[0], item[1:]) if item else ("", [])
        lines.append(indent + bullet + (gap + first if first else draw(st.sampled_from(["", " "]))))
        for line in rest:
            style = draw(st.sampled_from(["indented", "indented", "lazy", "short", "tab"]))
            pre = {"indented": " " * width, "lazy": "", "short": " " * max(width - 1, 0), "tab": "\t"}[style]
            lines.append(pre + line if line else line)
    return lines


@st.composite
def _quote(draw: st.DrawFn, children: st.SearchStrategy[list[str]]) -> list[str]:
    """A block quote, its lines marked or lazy."""
    indent = draw(st.sampled_from(["", "", " ", "   "]))
    out = []
    for k, line in enumerate(draw(children)):
        style = draw(st.sampled_from(["> ", "> ", ">", "lazy"])) if k else "> "
        out.append(line if style == "lazy" else indent + style + line)
    return out or [indent + ">"]


_BLOCK = st.recursive(_LEAF, lambda children: _list(children) | _quote(children), max_leaves=6)


@st.composite
def _document(draw: st.DrawFn) -> list[str]:
    lines: list[str] = []
    for block in draw(st.lists(st.one_of(_LEAF, _LEAF, _BLOCK), min_size=1, max_size=8)):
        lines += draw(st.sampled_from([[], [], [""], ["", ""], ["   "]]))
        lines += block
    # Tabs and blanks anywhere: a line's leading spaces become a tab, or a tab or spaces go somewhere in it.
    for where, how in draw(st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 4)), max_size=3)):
        if not lines:
            break
        k = where % len(lines)
        s = lines[k]
        pos = where % (len(s) + 1)
        lines[k] = [
            "\t" + s.lstrip(" "),
            s[:pos] + "\t" + s[pos:],
            s + "  ",
            " " + s,
            s[:pos] + " \t" + s[pos:],
        ][how]
    return lines


@settings(max_examples=5000, **_SETTINGS)
@given(_document())
def test_blocks_equal_stock_mistune_on_commonmark_documents(lines):
    assert blocks(lines) == stock_blocks(lines)


# --- documents from a soup of lines ---------------------------------------------------------------------------

_LINES = st.sampled_from(
    [
        "",
        "- KEY: value",
        "- SOURCE_FILES:",
        "  - a.md",
        "    - deeper",
        "- [ ] box",
        "-",
        "- ",
        "-  two spaces",
        "-    four spaces",
        "-     five spaces",
        "* star",
        "+ plus",
        "1. one",
        "2) two",
        "10. ten",
        "  1. nested",
        "### RUN_ID: X",
        "## Section",
        "# Title #",
        "#######",
        "#x",
        "---",
        "***",
        "- - -",
        "___",
        "--",
        "===",
        "=== ",
        "```",
        "  ```",
        "```py",
        "~~~",
        "    code",
        "\tcode",
        "     ",
        "  ",
        "\t",
        " \t ",
        "\f",
        "> quote",
        "> - quoted item",
        ">",
        " > q",
        "<!--",
        "-->",
        "<div>",
        "</div>",
        "<?php",
        "<custom-a>",
        "text",
        "lazy text",
        "  indented text",
        " one space",
        "   - three",
        "- `tick`",
        "- ~tilde",
        "  - <b>",
        "- a > b",
        "[ref]: /url",
        "[ref]: /url 'open",
        "c'",
        '"title"',
        "\t- tab item",
        "- x\ty",
        "-\tb",
        ") x",
        ". y",
        "\xa0x",
        "١. x",
    ]
)


@settings(max_examples=3000, **_SETTINGS)
@given(st.lists(_LINES, max_size=30))
@example(["=== ", "", "=== ", "> quote", "2) two", "=== ", "\t- tab item"])  # a quote hands a line back
@example(["lazy text", "> quote", "- ", "-->", "<div>", "", ""])
@example([])
@example([""])
def test_blocks_equal_stock_mistune_on_line_soups(lines):
    assert blocks(lines) == stock_blocks(lines)


# --- golden: the reference ledger and every Markdown file of the tests -------------------------------------


def _markdown_files() -> list[Path]:
    return [REFERENCE, *sorted(DATA.rglob("*.md"))]


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_blocks_equal_stock_mistune_on_the_repository_ledgers(path):
    text = path.read_text(encoding="utf-8")
    assert blocks(Lines.split(text).contents) == stock_blocks(Lines.split(text).contents)
    lines = text.split("\n")  # with the empty line after the last newline
    assert blocks(lines) == stock_blocks(lines)


def test_the_reference_ledger_blocks():
    """What parse.py relies on, read off the file by eye: the record headings, their lists and the breaks."""
    found = blocks(Lines.split(REFERENCE.read_text(encoding="utf-8")).contents)
    assert Block("heading", 76, 76, 3, "RUN_ID: TB-LEDGER-20250816-001") in found
    assert Block("list", 77, 102) in found and Block("thematic_break", 103, 103) in found
    assert Block("block_quote", 3, 5) in found
    assert Block("paragraph", 21, 21, 0, "예시\n") in found  # a paragraph a list interrupts on line 22
    assert [b.first for b in found] == sorted(b.first for b in found)


# --- what is handed to mistune -------------------------------------------------------------------------------

_HEAD, _TAIL = (lambda t: (t[: t.index("### RUN_ID:")], t[t.index("## 7)") :]))(REFERENCE.read_text(encoding="utf-8"))


def _big_ledger(records: int, extra: str = "") -> list[str]:
    """A ledger of the reference's shape (as bench/bench_fill.py builds them), ``extra`` inside every record."""
    body = "".join(
        f"### RUN_ID: TB-LEDGER-20250816-{n:05d}\n- SCOPE: SESSION\n- SOURCE_FILES:\n  - /src/f{n % 50}.md  # 근거\n"
        f"  - /src/g.md:2-9\n- CHAR_COUNT: [fill_after_measure]\n- DISTRIBUTION:\n  - system: 10%\n  - margin: 90%\n"
        f"- THRESHOLD_ACTION: [fill]\n- NOTES:\n  - 기록 {n} 🪷\n{extra}\n---\n\n"
        for n in range(1, records + 1)
    )
    return Lines.split(_HEAD + body + _TAIL).contents


def _handed(lines: list[str]) -> int:
    trace: list[tuple[int, int]] = []
    blocks(lines, trace)
    return sum(last - first + 1 for first, last in trace)


def test_a_plain_ledger_hands_mistune_nothing():
    lines = _big_ledger(1000)
    trace: list[tuple[int, int]] = []
    found = blocks(lines, trace)
    assert found == stock_blocks(lines)
    quote = [k + 1 for k, s in enumerate(lines) if s.startswith(">")]
    assert quote == [3, 4, 5]
    # The reference's quote ends at a blank line: the scanner reads it alone.
    assert Block("block_quote", 3, 5) in found
    assert trace == []


@st.composite
def _quote_then(draw: st.DrawFn) -> list[str]:
    """A quote of marked lines (any content), then what may end it: a blank line of any kind (a tab or five
    spaces may be indented code outside the quote), the end, or a line that may continue it."""
    before = draw(st.sampled_from([[], [""], ["# h"], ["- KEY: v", ""], ["text"], ["    code"]]))
    content = st.one_of(_TEXT, st.sampled_from(["", " ", "- text", "```", "    code", "<div>", "# h", "> q", "---"]))
    marks = st.sampled_from([">", "> ", ">  "])
    quote = [draw(marks) + line for line in draw(st.lists(content, min_size=1, max_size=4))]
    ends = st.sampled_from(["", " ", "   ", "\t", "    ", "     ", " \t ", "\v", "\f", "  \t  x", "text", "- x", "---"])
    after = draw(st.lists(st.one_of(ends, _TEXT, st.sampled_from(["# h", "- KEY: v", "> q", "```"])), max_size=4))
    return before + quote + after


@settings(max_examples=3000, **_SETTINGS)
@given(_quote_then())
def test_blocks_equal_stock_mistune_after_a_quote(lines):
    assert blocks(lines) == stock_blocks(lines)


def test_lines_handed_to_mistune_grow_linearly():
    """Records with a fence or a quote in them go to mistune one region each: the work grows with the records."""
    for extra in ("```\ncode\n```\n", "> quoted note\n", "<!-- note -->\n", "\n[x]: /url\n"):
        small, large = _big_ledger(250, extra), _big_ledger(1000, extra)
        assert blocks(small) == stock_blocks(small)
        base = _handed(_big_ledger(0, extra))
        assert (_handed(large) - base) == 4 * (_handed(small) - base) > 0


def test_the_scanner_hands_over_a_region_that_runs_to_the_end():
    """An unclosed fence takes the rest of the text; the window given to mistune grows until it holds it."""
    lines = _big_ledger(300)
    lines[len(lines) // 2 : len(lines) // 2] = ["```"]
    assert blocks(lines) == stock_blocks(lines)
    lines = _big_ledger(300)
    lines[len(lines) // 2 : len(lines) // 2] = ["<!-- unclosed"]
    assert blocks(lines) == stock_blocks(lines)


def test_a_plain_ledger_never_imports_mistune(tmp_path):
    plain = tmp_path / "plain.md"
    plain.write_text("\n".join(_big_ledger(20)[8:]), encoding="utf-8")  # without the reference's quote
    code = (
        "import sys\nfrom ledgerkit.files.textfile import Lines\nfrom ledgerkit.reading.blocks import blocks\n"
        "found = blocks(Lines.split(open(sys.argv[1], encoding='utf-8').read()).contents)\n"
        "print(len(found), 'mistune' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(plain)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    count, imported = out.stdout.split()
    assert int(count) > 100 and imported == "False"
    out = subprocess.run([sys.executable, "-c", code, str(REFERENCE)], capture_output=True, text=True, timeout=60)
    assert out.stdout.split()[1] == "False"  # nor the reference, whose quote ends at a blank line
    fenced = tmp_path / "fenced.md"
    fenced.write_text(plain.read_text(encoding="utf-8") + "\n```\ncode\n```\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", code, str(fenced)], capture_output=True, text=True, timeout=60)
    assert out.stdout.split()[1] == "True"  # a fence does need it


def test_the_scanners_whitespace_is_the_string_modules():
    """blocks.py spells string.whitespace out (the string module is one import fewer for the hook)."""
    import string

    from ledgerkit.reading import blocks as module

    assert module._WHITESPACE == string.whitespace
