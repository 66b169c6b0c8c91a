"""Representative text made on this machine, with no download: the pools bench/calibrate.py measures and
bench/bench_count.py builds its corpus from.

- English prose: the Python Language Reference and library topics that ship with Python (pydoc_data).
- Code: the source of a fixed list of standard library modules (fixed for a Python version), and the
  same modules without comments and docstrings.
- Korean: the Korean translations in the gettext catalogs under /usr/share/locale/ko (Debian and Ubuntu
  ship them with apt, coreutils, dpkg, ...; only messages written mostly in Hangul are kept), and the
  Korean lines of the sample ledger and its sources. Where there are no catalogs, the sample alone.
- Mixed Markdown: the sample ledger and its sources as people wrote them, and generated notes that
  interleave headings, lists, tables and code fences with Korean and English sentences from the pools.
"""

from __future__ import annotations

import gettext
import glob
import importlib
import inspect
import random
import re
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_ledgers"
KOREAN_CATALOGS = "/usr/share/locale/ko/LC_MESSAGES/*.mo"
STDLIB_MODULES = (
    "argparse",
    "ast",
    "asyncio.base_events",
    "calendar",
    "collections",
    "configparser",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "email.message",
    "enum",
    "fractions",
    "functools",
    "gettext",
    "glob",
    "heapq",
    "http.client",
    "inspect",
    "ipaddress",
    "json.decoder",
    "logging",
    "pathlib",
    "pprint",
    "shutil",
    "statistics",
    "string",
    "subprocess",
    "tarfile",
    "textwrap",
    "threading",
    "tokenize",
    "typing",
    "unittest.case",
    "urllib.parse",
    "uuid",
    "zipfile",
)
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LETTER = re.compile(r"[^\W\d_]")


def _mostly_hangul(text: str) -> bool:
    letters = len(_LETTER.findall(text))
    return letters > 0 and len(_HANGUL.findall(text)) * 2 > letters


@cache
def english() -> str:
    import pydoc_data.topics

    topics = pydoc_data.topics.topics
    return "\n\n".join(topics[key].strip() + "\n" for key in sorted(topics))


@cache
def code() -> str:
    return "\n\n".join(inspect.getsource(importlib.import_module(name)) for name in STDLIB_MODULES)


@cache
def bare_code() -> str:
    """The same code without comments and docstrings (``ast.unparse``): denser in symbols than prose."""
    import ast

    out = []
    for name in STDLIB_MODULES:
        tree = ast.parse(inspect.getsource(importlib.import_module(name)))
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (
                isinstance(body, list)
                and body
                and isinstance(body[0], ast.Expr)
                and isinstance(getattr(body[0], "value", None), ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
        out.append(ast.unparse(tree) + "\n")
    return "\n\n".join(out)


@cache
def korean_sources() -> list[str]:
    """Where the Korean pool comes from (for the report)."""
    return sorted(glob.glob(KOREAN_CATALOGS)) + [str(p.relative_to(REPO)) for p in _sample_files()]


def _sample_files() -> list[Path]:
    return sorted(p for p in SAMPLE.rglob("*") if p.is_file() and p.suffix in (".md", ".log"))


@cache
def korean() -> str:
    messages: list[str] = []
    for path in sorted(glob.glob(KOREAN_CATALOGS)):
        try:
            with open(path, "rb") as f:
                catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
        except (OSError, UnicodeDecodeError, gettext.error):  # type: ignore[attr-defined]
            continue
        for key in sorted(catalog, key=str):
            value = catalog[key]
            if key and isinstance(value, str) and _mostly_hangul(value):
                messages.append(value.strip())
    for path in _sample_files():
        messages += [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if _mostly_hangul(line)]
    return "\n".join(messages) + "\n"


@cache
def sample_markdown() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in _sample_files())


@cache
def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if len(line.strip()) > 20]


def _sentences(text: str, rng: random.Random, count: int) -> list[str]:
    lines = _lines(text)
    return [rng.choice(lines) for _ in range(count)]


def mixed_markdown(size: int, seed: int) -> str:
    """Generated notes in Markdown that mix Korean and English prose with lists, tables and code."""
    rng = random.Random(seed)
    parts: list[str] = []
    length = 0
    section = 0
    while length < size:
        section += 1
        kind = rng.random()
        if kind < 0.15:
            block = f"## {section}) " + _sentences(korean(), rng, 1)[0][:40] + "\n"
        elif kind < 0.45:
            block = "\n".join(_sentences(english(), rng, 2) + _sentences(korean(), rng, 2)) + "\n"
        elif kind < 0.7:
            items = _sentences(korean(), rng, 2) + _sentences(english(), rng, 2)
            rng.shuffle(items)
            block = "\n".join(f"- {item[:120]}" for item in items) + "\n"
        elif kind < 0.85:
            start = rng.randrange(max(1, len(code()) - 600))
            block = "```python\n" + code()[start : start + rng.randint(150, 600)] + "\n```\n"
        else:
            rows = [
                f"| {a[:30]} | {b[:30]} | {rng.randint(1, 99)}% |"
                for a, b in zip(_sentences(korean(), rng, 3), _sentences(english(), rng, 3), strict=False)
            ]
            block = "| 항목 | item | share |\n| --- | --- | --- |\n" + "\n".join(rows) + "\n"
        parts.append(block)
        length += len(block) + 1
    return "\n".join(parts)


def slice_of(pool: str, size: int, rng: random.Random) -> str:
    """``size`` characters of ``pool`` from a random line start (wrapping around)."""
    start = pool.find("\n", rng.randrange(len(pool))) + 1
    text = (pool[start:] + pool[:start]) * (size // max(1, len(pool)) + 1)
    end = text.find("\n", size)
    return text[: end + 1 if end != -1 else size]


POOLS = {
    "english": english,
    "code": code,
    "korean": korean,
}
