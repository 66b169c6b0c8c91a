"""Jinja rendering: the default templates ship in the package (from the top-level templates/ folder);
a user's folder (--templates or the configuration) overrides them one file at a time.

Templates run in Jinja's sandbox; HTML templates autoescape.
"""

from __future__ import annotations

import re
from fractions import Fraction
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from ..errors import TemplateError
from ..schema import format_percent, plain_number

PLACEHOLDER = "[fill]"


def _default_folder() -> Traversable:
    try:
        return files("ledgerkit.templates")
    except ModuleNotFoundError:  # a bare checkout, not installed: the folder beside the package
        return Path(__file__).resolve().parent.parent / "templates"


def default_template(name: str) -> str:
    """The text of a default template shipped with ledgerkit."""
    return (_default_folder() / name).read_text(encoding="utf-8")


def _load_default(name: str) -> str | None:
    try:
        return default_template(name)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def figure(value: Any) -> str:
    """A figure as the ledger writes it; a missing one stays a placeholder."""
    return PLACEHOLDER if value is None else str(value)


def percent(value: Fraction | None) -> str:
    """A utilization as the ledger writes it (two decimals, toward zero), without the % sign."""
    return PLACEHOLDER if value is None else format_percent(Fraction(value))


def _bar(value: Fraction | None) -> str:
    from ..reports.formatting import bar

    return bar(value)


def _iso(value: Any) -> str:
    from ..reports.formatting import iso

    return iso(value) or ""


def dash(value: Any) -> str:
    """A figure in a report: whole numbers with thousands separators (``130,000``), ``—`` where it cannot be had."""
    from ..reports.formatting import thousands

    return thousands(value)


def _money(value: Any) -> str:
    from ..reports.formatting import money

    return money(value)


def pct(value: Fraction | None) -> str:
    """A utilization in a report: ``3.79%`` (two decimals, toward zero), ``—`` where it cannot be had."""
    return "—" if value is None else f"{format_percent(Fraction(value))}%"


def md_cell(value: Any) -> str:
    """Ledger text made safe for a Markdown table cell: no pipe splits the row, no newline ends it, and no
    raw HTML reaches a renderer that would run it."""
    text = "" if value is None else str(value)
    return " ".join(text.split()).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def md_code(value: Any) -> str:
    """Ledger text as an inline code span (a path), with a fence longer than any backtick run inside."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def environment(templates: str | Path | None = None) -> SandboxedEnvironment:
    loaders: list[jinja2.BaseLoader] = []
    if templates is not None:
        loaders.append(jinja2.FileSystemLoader(str(templates)))
    loaders.append(jinja2.FunctionLoader(_load_default))
    env = SandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2", "htm"), default_for_string=False),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["figure"] = figure
    env.filters["percent"] = percent
    env.filters["dash"] = dash
    env.filters["money"] = _money
    env.filters["pct"] = pct
    env.filters["plain"] = lambda v: dash(None if v is None else plain_number(Fraction(v)))
    env.filters["md_cell"] = md_cell
    env.filters["md_code"] = md_code
    env.filters["bar"] = _bar
    env.filters["iso"] = _iso
    return env


def render(name: str, context: dict[str, Any], templates: str | Path | None = None) -> str:
    """Render a template by name; a missing or failing template is a TemplateError naming file and line."""
    env = environment(templates)
    try:
        return env.get_template(name).render(**context)
    except jinja2.TemplateNotFound:
        where = f" in {templates} or" if templates else " among"
        raise TemplateError(f"template {name} not found{where} the default templates") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template syntax error: {exc.message}", exc.filename or name, exc.lineno) from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"template {name} failed: {exc}") from None
