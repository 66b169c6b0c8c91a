"""The HTML rollup in a real browser: headless Chromium, driven by Selenium through Debian's chromedriver,
loads it offline, runs nothing from the ledger, and draws a chart whose every label, bar and line is
measured on screen: no label overlaps another or a threshold line, nothing leaves the SVG or its card,
no non-zero bar is too thin to see, and a Korean file name is drawn with real glyphs.

Without Chromium, chromedriver, Selenium or a Korean font these tests skip and say so; `.ci/run`
installs them and sets LEDGERKIT_REQUIRE_BROWSER=1, which turns any of them missing into a failure.
"""

from __future__ import annotations

import itertools
import os
import shutil
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ledgerkit.cli import cli
from ledgerkit.schema import format_percent

from .conftest import ledger, make_files, record

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
CHROMEDRIVER = "/usr/bin/chromedriver"  # Debian's chromium-driver; never one Selenium Manager would fetch
HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
KOREAN = "회의 노트.md"
MIN_BAR_PX = 2  # a non-zero bar drawn lower than this is not seen
BUDGET = 10_000  # tokens: a record of T tokens is at T / 100 %, so every value below is exact


def _missing(what: str) -> None:
    if os.environ.get("LEDGERKIT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"LEDGERKIT_REQUIRE_BROWSER=1 but {what}")
    pytest.skip(f"{what}: the HTML rollup is not checked in a browser here")


def _chromium() -> str:
    for name in (os.environ.get("LEDGERKIT_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name) if name else None
        if found:
            return found
    _missing("no Chromium found (apt-get install chromium)")
    raise AssertionError  # unreachable: _missing skips or fails


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Any]:
    """One headless Chromium for the module, started from Debian's chromedriver; Selenium Manager (which
    would download a driver) is made to fail if anything reaches it."""
    chromium = _chromium()
    if not os.access(CHROMEDRIVER, os.X_OK):
        _missing(f"no {CHROMEDRIVER} (apt-get install chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.selenium_manager import SeleniumManager
    except ImportError:
        _missing("Selenium is not installed (pip install -e '.[test]')")

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError("Selenium Manager was asked for a driver: it would use the network")

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('profile')}"):
        options.add_argument(flag)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SeleniumManager, "binary_paths", no_download)
        driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def _open(driver: Any, page: Path, width: int, height: int = 900) -> None:
    driver.set_window_size(width, height)
    driver.get(page.as_uri())


def _rollup(folder: Path, *extra: str, ok: tuple[int, ...] = (0,)) -> Path:
    page = folder / "rollup.html"
    result = CliRunner().invoke(
        cli, ["rollup", str(folder / "ledger.md"), "--session", "S", "--format", "html", "-o", str(page), *extra]
    )
    assert result.exit_code in ok, result.output
    return page


# --- the page runs nothing from the ledger ------------------------------------------------------------------


@pytest.fixture
def hostile_page(tmp_path) -> Path:
    records = [
        record(i, context="S", char_count=str(c), token_estimate="[fill]", budget="100").replace(
            "  - note", f"  - {HOSTILE}"
        )
        for i, c in enumerate((100, 300, 360, 420), 1)
    ]
    make_files(
        tmp_path, {"ledger.md": ledger(*records, budget=100), f"a{HOSTILE.replace('/', '')}.md": "x", "a.md": "x" * 10}
    )
    return _rollup(tmp_path)


def test_nothing_from_the_ledger_runs_and_the_chart_is_drawn(browser, hostile_page):
    _open(browser, hostile_page, 1100)
    dom = browser.page_source  # the document after scripts would have run
    assert browser.title == "Session rollup — S"
    assert "pwned" not in dom.replace("document.title='pwned'", "")  # only the escaped text itself
    assert dom.count('<rect class="bar"') == 4
    assert "<img" not in dom


def test_the_page_renders_to_a_screenshot(browser, hostile_page):
    _open(browser, hostile_page, 1100)
    data = browser.get_screenshot_as_png()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == tuple(browser.execute_script("return [innerWidth, innerHeight]"))
    assert len(data) > 20_000  # a drawn page, not a blank one (blank PNGs of this size are a few kB)


# --- the chart, measured -------------------------------------------------------------------------------------

#: The values the issue names, in tokens of BUDGET (0.01 %, 69.99 %, 97.47 %, 100 %, 250 %), None for a
#: record whose figures cannot be had, and the pair that collided at 40 records (94.60 %, 99.20 %).
NAMED = (1, 6999, 9747, 10000, 25000, None, 9460, 9920)


@dataclass(frozen=True)
class Case:
    tokens: tuple[int | None, ...]
    thresholds: dict[str, int] | None = None


def _spread(n: int) -> tuple[int | None, ...]:
    """n values: the named ones first, then a deterministic scatter over 0-260 % of the budget."""
    scatter = ((i * 7919) % 26_000 for i in itertools.count(1))
    return tuple(itertools.islice(itertools.chain(NAMED, scatter), n))


CASES = {
    "1-at-97.47": Case((9747,)),
    "1-unknown": Case((None,)),
    "2-tiny-and-over": Case((1, 25000)),
    "2-just-below-and-at": Case((6999, 10000)),
    "40": Case(_spread(40)),
    "40-close-thresholds": Case(_spread(40), {"ALERT70": 94, "ALERT85": 95, "ALERT95": 96, "MINIMAL": 100}),
    "500": Case(_spread(500)),
}


def _case_ledger(folder: Path, case: Case) -> None:
    def one(n: int, tokens: int | None) -> str:
        chars = "unreadable" if tokens is None else str(4 * tokens)  # ceil(chars / 4) = tokens
        return record(n, context="S", char_count=chars, token_estimate="[fill]", budget=str(BUDGET))

    files = {"ledger.md": ledger(*(one(n, t) for n, t in enumerate(case.tokens, 1)), budget=BUDGET), "a.md": "x"}
    if case.thresholds:
        files["ledgerkit.yaml"] = "thresholds:\n" + "".join(f"  {k}: {v}\n" for k, v in case.thresholds.items())
    make_files(folder, files)


@pytest.fixture(scope="module")
def case_pages(tmp_path_factory) -> dict[str, Path]:
    """Each case's rollup, rendered once for the module (an unknown figure makes the exit code 1)."""
    pages = {}
    for name, case in CASES.items():
        folder = tmp_path_factory.mktemp(name)
        _case_ledger(folder, case)
        pages[name] = _rollup(folder, ok=(1,) if None in case.tokens else (0,))
    return pages


# Every chart element's box on screen; bars and threshold lines told apart by their markup, so the same
# measurement reads an older chart too.
MEASURE = """
const svg = document.querySelector('.chart svg'), card = svg.parentElement;
const box = r => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height});
const style = getComputedStyle(card);
const inner = card.getBoundingClientRect();
return {
  svg: box(svg.getBoundingClientRect()),
  card: {left: inner.left + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft),
         right: inner.right - parseFloat(style.borderRightWidth) - parseFloat(style.paddingRight),
         top: inner.top, bottom: inner.bottom},
  elements: [...svg.querySelectorAll('text, rect, line, polyline, polygon, path')].map(e => ({
    tag: e.tagName, cls: e.getAttribute('class') || '', text: e.tagName === 'text' ? e.textContent : '',
    threshold: e.tagName === 'line' && e.hasAttribute('stroke-dasharray'), ...box(e.getBoundingClientRect())})),
};
"""


def _overlap(a: dict[str, float], b: dict[str, float], slack: float = 0.0) -> bool:
    return (
        a["left"] < b["right"] - slack
        and b["left"] < a["right"] - slack
        and a["top"] < b["bottom"] - slack
        and b["top"] < a["bottom"] - slack
    )


def _crosses(label: dict[str, float], line: dict[str, float]) -> bool:
    """A horizontal line (its box has no height; the stroke takes half a pixel each side) through a label."""
    return (
        label["left"] < line["right"]
        and line["left"] < label["right"]
        and label["top"] < line["top"] + 0.5
        and line["top"] - 0.5 < label["bottom"]
    )


def _outside(e: dict[str, float], frame: dict[str, float], slack: float = 0.5) -> bool:
    return (
        e["left"] < frame["left"] - slack
        or e["right"] > frame["right"] + slack
        or e["top"] < frame["top"] - slack
        or e["bottom"] > frame["bottom"] + slack
    )


def _problems(measured: dict[str, Any], case: Case) -> list[str]:
    """Everything wrong with the chart on screen, each said in a line."""
    svg, card, elements = measured["svg"], measured["card"], measured["elements"]
    texts = [e for e in elements if e["tag"] == "text"]
    lines = [e for e in elements if e["threshold"]]
    bars = [e for e in elements if e["tag"] == "rect" and "bar" in e["cls"].split()]
    problems = []
    if svg["width"] > card["right"] - card["left"] + 0.5:
        problems.append(f"the SVG is {svg['width']:.0f} px wide in a card of {card['right'] - card['left']:.0f} px")
    for a, b in itertools.combinations(texts, 2):
        if _overlap(a, b):
            problems.append(f"labels overlap: {a['text']!r} and {b['text']!r}")
    problems += [f"{t['text']!r} is crossed by a threshold line" for t in texts for line in lines if _crosses(t, line)]
    for e in elements:
        what = e["text"] or e["cls"] or e["tag"]
        if _outside(e, svg):
            problems.append(f"{what!r} leaves the SVG (clipped)")
        elif _outside(e, card):
            problems.append(f"{what!r} leaves its card")
    if len(bars) != len(case.tokens):
        problems.append(f"{len(bars)} bars for {len(case.tokens)} records")
    for n, (b, tokens) in enumerate(zip(bars, case.tokens, strict=False), 1):
        if tokens != 0 and b["height"] < MIN_BAR_PX:
            problems.append(f"bar {n} ({tokens} tokens) is {b['height']:.2f} px high")
    return problems


def _shown(tokens: int | None) -> str:
    return "—" if tokens is None else f"{format_percent(Fraction(tokens * 100, BUDGET))}%"


@pytest.mark.parametrize("width", [1100, 800])
@pytest.mark.parametrize("name", list(CASES))
def test_the_chart_holds_at_every_size(browser, case_pages, name, width):
    case = CASES[name]
    _open(browser, case_pages[name], width)
    measured = browser.execute_script(MEASURE)
    assert _problems(measured, case) == []
    texts = [e["text"] for e in measured["elements"] if e["tag"] == "text"]
    known = [t for t in case.tokens if t is not None]
    if known:
        assert _shown(max(known)) in texts  # the peak is always labelled, at its true value
    if len(case.tokens) <= 2:  # few records: every bar is labelled
        assert all(_shown(t) in texts for t in case.tokens)
    levels = case.thresholds or {"ALERT70": 70, "ALERT85": 85, "ALERT95": 95, "MINIMAL": 100}
    for name_, level in levels.items():  # every threshold is named beside its line, whole
        assert f"{level}% {'budget' if name_ == 'MINIMAL' else name_}" in texts


def test_a_bar_above_the_scale_is_capped_with_a_mark_and_its_true_value(browser, case_pages):
    _open(browser, case_pages["2-tiny-and-over"], 1100)
    measured = browser.execute_script(MEASURE)
    bars = [e for e in measured["elements"] if e["cls"] == "bar"]
    marks = [e for e in measured["elements"] if e["cls"] == "cap"]
    assert len(marks) == 1 and abs(marks[0]["bottom"] - bars[1]["top"]) < 1  # on top of the 250 % bar
    assert bars[1]["top"] - 1 < min(e["top"] for e in measured["elements"] if e["threshold"])  # above every line
    assert "250.00%" in [e["text"] for e in measured["elements"]]


def test_every_bar_has_a_tooltip_with_its_figures(browser, case_pages):
    _open(browser, case_pages["500"], 1100)
    titles = browser.execute_script(
        "return [...document.querySelectorAll('.chart rect.bar')].map(r => r.querySelector('title').textContent)"
    )
    assert len(titles) == 500
    for n, (title, tokens) in enumerate(zip(titles, CASES["500"].tokens, strict=True), 1):
        run = f"TB-LEDGER-20250816-{n:03d}"
        if tokens is None:
            assert title == f"{run}: utilization unknown (level unknown)"
        else:
            assert title.startswith(f"{run}: {_shown(tokens)} (")
    assert titles[0] == "TB-LEDGER-20250816-001: 0.01% (NONE)"
    assert titles[4] == "TB-LEDGER-20250816-005: 250.00% (MINIMAL)"


# --- a Korean file name, drawn with real glyphs ---------------------------------------------------------------

# The width of the Hangul syllables in the sources table, measured on the text itself, beside the width
# of as many U+FFFF (a noncharacter no font has: always drawn as the missing-glyph box) in the same font.
GLYPHS = """
const code = [...document.querySelectorAll('td.path code')].find(c => c.textContent.includes(arguments[0]));
const text = code.firstChild, at = text.data.indexOf(arguments[0]);
const range = document.createRange();
range.setStart(text, at); range.setEnd(text, at + arguments[0].length);
const probe = code.cloneNode(false);
probe.textContent = '\\uFFFF'.repeat(arguments[0].length);
code.after(probe);
const result = {hangul: range.getBoundingClientRect().width, tofu: probe.getBoundingClientRect().width,
                em: parseFloat(getComputedStyle(code).fontSize)};
probe.remove();
return result;
"""


def _korean_font() -> None:
    fc_list = shutil.which("fc-list")  # fontconfig, which Chromium on Linux draws its fonts through
    found = fc_list and subprocess.run([fc_list, ":lang=ko", "family"], capture_output=True, text=True, timeout=30)
    if not found or not found.stdout.strip():
        _missing("no font with Korean glyphs (apt-get install fonts-noto-cjk)")


def test_a_korean_file_name_is_drawn_with_real_glyphs(browser, tmp_path):
    _korean_font()
    make_files(tmp_path, {"ledger.md": ledger(record(1, (KOREAN,), context="S")), KOREAN: "회의 내용\n"})
    _open(browser, _rollup(tmp_path), 1100)
    syllables = KOREAN.split(".")[0].replace(" ", "")  # 회의노트: four syllables, each a full em in a CJK font
    for word in KOREAN.split(".")[0].split(" "):
        w = browser.execute_script(GLYPHS, word)
        assert abs(w["hangul"] - len(word) * w["em"]) <= 0.1 * len(word) * w["em"], (word, w)  # full-width glyphs
        assert abs(w["hangul"] - w["tofu"]) > 0.1 * w["tofu"], (word, w)  # not the missing-glyph box
    assert len(syllables) == 4
