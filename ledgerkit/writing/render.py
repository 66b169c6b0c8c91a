"""Jinja rendering: the default templates ship in the package (from the top-level templates/ folder);
a user's folder (--templates or the configuration) overrides them one file at a time.

A user's templates may come from a pull request, so they are treated as hostile: a template is found only by
name (a relative path inside its folder, or a shipped default), never by a path that leaves the folder nor
through a symlink out of it, and it renders in a bounded sandbox (:mod:`ledgerkit.writing.sandbox`). Every
problem is a :class:`~ledgerkit.errors.TemplateError` naming the template and, where known, its line.
HTML and SVG templates autoescape.
"""

from __future__ import annotations

import inspect
import os
import re
import stat
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import jinja2
from jinja2.exceptions import SecurityError

from ..errors import TemplateError
from ..schema import format_percent, plain_number
from .sandbox import BoundedEnvironment, LimitExceeded, Limits, RenderTimeout, TemplateCompileError, wall_clock
from .summary import figure, percent, shipped_folder

__all__ = ["Limits", "default_template", "environment", "render", "template_name_problem"]

# --- names ---------------------------------------------------------------------------------------------


def template_name_problem(name: object) -> str | None:
    """Why ``name`` is not a template name, or None when it is one: a relative path of ``/``-separated
    parts, none empty, ``.`` or ``..``, without a backslash or NUL."""
    if not isinstance(name, str):
        return f"a name is text, not {type(name).__name__}"
    if not name:
        return "it is empty"
    if len(name) > 1024:
        return "it is longer than 1024 characters"
    if "\x00" in name:
        return "it holds a NUL byte"
    if "\\" in name:
        return "it holds a backslash"
    if name.startswith("/"):
        return "it is an absolute path"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "it has an empty, '.' or '..' part"
    return None


def _shown(name: object) -> str:
    text = repr(name)
    return text if len(text) <= 80 else text[:77] + "..."


class TemplateNameError(SecurityError):
    """A template asked for a name that is not a template name, or that leads out of its folder."""


class TemplateLoadError(SecurityError):
    """A template file that cannot be used: not a regular file, too large, unreadable or not UTF-8."""


# --- reading -------------------------------------------------------------------------------------------


def _read_regular(path: str, limit: int) -> bytes:
    """The bytes of a regular file, never through a symlink at its last part, refusing anything else before
    reading (a FIFO or device never blocks)."""
    from ..files.read import NotRegularFile, ReadError, TooLarge, read_with_stat

    try:
        return read_with_stat(path, limit=limit, follow=False)[0]
    except NotRegularFile:
        raise TemplateLoadError("is not a regular file") from None
    except TooLarge:
        raise TemplateLoadError(f"is larger than {limit:,} bytes") from None
    except ReadError as exc:
        raise TemplateLoadError(exc.message) from None


def _decode(data: bytes, shown: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TemplateLoadError(
            f"template {shown} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}, line {line})"
        ) from None


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


class _NameLoader(jinja2.BaseLoader):
    """Templates by name only: from the user's folder (realpath'd, never left) or the shipped defaults."""

    def __init__(self, folder: str | None, shown: str | None, limit: int) -> None:
        self.folder = folder
        self.shown = shown
        self.limit = limit
        self.sources: dict[str, str] = {}  # filename -> source: where an error's line is looked up
        self.names: dict[str, str] = {}  # filename -> the name it was loaded by

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, None]:
        problem = template_name_problem(template)
        if problem is not None:
            raise TemplateNameError(f"{_shown(template)} is not a template name: {problem}")
        parts = template.split("/")
        found = self._from_folder(template, parts) if self.folder is not None else None
        source, filename = found or self._from_defaults(template, parts)
        self.sources[filename] = source
        self.names[filename] = template
        return source, filename, None

    def _from_folder(self, name: str, parts: list[str]) -> tuple[str, str] | None:
        assert self.folder is not None and self.shown is not None
        candidate = os.path.join(self.folder, *parts)
        # realpath before any existence check: whether a file outside exists is not for a template to learn
        real = os.path.realpath(candidate)
        if not _inside(real, self.folder):
            raise TemplateNameError(f"template {_shown(name)} leads out of the templates folder {self.shown}/")
        if not os.path.lexists(candidate):
            return None
        shown = os.path.join(self.shown, name)
        try:
            data = _read_regular(real, self.limit)
        except TemplateLoadError as exc:
            raise TemplateLoadError(f"template {shown} {exc.message}") from None
        except OSError as exc:
            raise TemplateLoadError(f"template {shown} cannot be read: {exc.strerror or exc}") from None
        return _decode(data, shown), shown

    def _from_defaults(self, name: str, parts: list[str]) -> tuple[str, str]:
        if not name.endswith(".j2"):  # the shipped defaults are the *.j2 files; nothing else there is a template
            raise jinja2.TemplateNotFound(name)
        resource = shipped_folder()
        for part in parts:
            resource = resource / part
        try:
            data = resource.read_bytes() if resource.is_file() else None
        except OSError as exc:
            raise TemplateLoadError(f"default template {name} cannot be read: {exc.strerror or exc}") from None
        if data is None:
            raise jinja2.TemplateNotFound(name)
        return _decode(data, name), name


def default_template(name: str) -> str:
    """The text of a default template shipped with ledgerkit."""
    loader = _NameLoader(None, None, Limits().template_bytes)
    try:
        return loader.get_source(jinja2.Environment(), name)[0]
    except jinja2.TemplateNotFound:
        raise TemplateError(f"template {name} is not among the default templates") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(exc.message or str(exc)) from None


# --- the environment -----------------------------------------------------------------------------------

_ASKING = re.compile(r"\{%[-+]?\s*(include|import|from|extends)\b")


def _asking_template() -> tuple[Any, int] | None:
    """The innermost template being rendered on the current stack and the line it is at."""
    frame = inspect.currentframe()
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:
            return template, template.get_corresponding_lineno(frame.f_lineno)
        frame = frame.f_back
    return None


class _Environment(BoundedEnvironment):
    """The bounded sandbox with ledgerkit's loader: every include, import, from-import and extends passes
    its name through :meth:`join_path`, which refuses anything that is not a template name."""

    loader: _NameLoader

    def join_path(self, template: str, parent: str) -> str:
        problem = template_name_problem(template)
        if problem is not None:
            raise TemplateNameError(f"{self._statement()} {_shown(template)} is not a template name: {problem}")
        return template

    def _statement(self) -> str:
        asking = _asking_template()
        if asking is not None:
            template, line = asking
            lines = self.loader.sources.get(template.filename or "", "").splitlines()
            match = _ASKING.search(lines[line - 1]) if 0 < line <= len(lines) else None
            if match:
                return "import" if match.group(1) == "from" else match.group(1)
        return "a template asks for"


def environment(templates: str | Path | None = None, *, limits: Limits | None = None) -> BoundedEnvironment:
    """The environment templates render in: the user's folder (which must exist) over the defaults, ledgerkit's
    filters, and the bounds of ``limits``."""
    limits = limits or Limits()
    folder = None if templates is None else _templates_folder(templates)
    shown = None if templates is None else str(templates).rstrip("/") or "/"
    env = _Environment(
        loader=_NameLoader(folder, shown, limits.template_bytes),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2", "htm", "svg", "svg.j2"), default_for_string=False
        ),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        limits=limits,
    )
    env.filters.update(_FILTERS)
    env.bound_filters()
    return env


def _templates_folder(templates: str | Path) -> str:
    """The real path of the user's templates folder; a folder that is missing or unreadable stops the run."""
    shown = str(templates).rstrip("/") or "/"
    try:
        real = os.path.realpath(templates)
        info = os.stat(real)
    except FileNotFoundError:
        raise TemplateError(f"templates folder {shown}/ does not exist") from None
    except (OSError, ValueError) as exc:
        raise TemplateError(
            f"templates folder {shown}/ cannot be read: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    if not stat.S_ISDIR(info.st_mode):
        raise TemplateError(f"templates folder {shown} is not a folder")
    if not os.access(real, os.R_OK | os.X_OK):
        raise TemplateError(f"templates folder {shown}/ cannot be read: permission denied")
    return real


# --- rendering -----------------------------------------------------------------------------------------


#: What a render may raise that is the template's doing, each turned into one TemplateError.
_RENDER_FAILURES = (
    RenderTimeout,
    jinja2.TemplateError,
    LimitExceeded,
    TemplateNameError,
    TemplateLoadError,
    TemplateCompileError,
    RecursionError,
    MemoryError,
    ArithmeticError,
    LookupError,
    TypeError,
    ValueError,
    AttributeError,
)


def render(
    name: str, context: dict[str, Any], templates: str | Path | None = None, *, limits: Limits | None = None
) -> str:
    """Render a template by name within ``limits``; a missing, refused or failing template is a TemplateError
    naming the template and line."""
    env = environment(templates, limits=limits)
    loader = env.loader
    assert isinstance(loader, _NameLoader)
    top: str | None = None  # the loaded template: where an error outside any template line is reported
    try:
        with wall_clock(env.limits.seconds):
            env.start()
            template = env.get_template(name)
            top = template.filename or name
            return env.collect(template.generate(**context))
    except TemplateError:
        raise
    except _RENDER_FAILURES as exc:
        raise _failure(exc, _Failed(name, loader, env.limits.seconds, top)) from None


class _Failed(NamedTuple):
    """What a failure's message needs: the template asked for, the loader, the time limit, the top template."""

    name: str
    loader: _NameLoader
    seconds: float | None
    top: str | None


def _failure(exc: BaseException, where: _Failed) -> TemplateError:
    """The TemplateError for what a render raised."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        source = exc.filename or exc.name or where.name
        return TemplateError(f"template syntax error: {exc.message}", source, exc.lineno or None)
    message, failed = _explain(exc, where)
    return _at_line(message, exc, where, failed)


def _explain(exc: BaseException, where: _Failed) -> tuple[str, bool]:
    """The message for a failure, and whether it reads "template NAME failed: ..."."""
    if isinstance(exc, RenderTimeout):
        return f"ran longer than {where.seconds or 0:g} s, the limit for one render", False
    if isinstance(exc, jinja2.TemplateNotFound):
        shown = f" in {where.loader.shown}/ or" if where.loader.shown else " among"
        missing = ", ".join(map(str, exc.templates)) if isinstance(exc, jinja2.TemplatesNotFound) else exc.name
        return f"template {missing} not found{shown} the default templates", False
    if isinstance(exc, (LimitExceeded, TemplateNameError, TemplateLoadError, TemplateCompileError)):
        return getattr(exc, "message", None) or str(exc), False
    if isinstance(exc, jinja2.TemplateError):
        return str(exc.message or exc), True
    if isinstance(exc, RecursionError):
        return "recurses too deeply (a macro, include or extends that reaches itself?)", False
    if isinstance(exc, MemoryError):
        return "ran out of memory", False
    return f"{type(exc).__name__}: {exc}", True


def _at_line(message: str, exc: BaseException, where: _Failed, failed: bool) -> TemplateError:
    """The error at the innermost template line the traceback passes through; ``failed`` words it as
    "template NAME failed: ..."."""
    loader = where.loader
    found = _innermost(exc.__traceback__, set(loader.sources))
    path = found[0] if found else where.top
    if failed:
        message = f"template {loader.names.get(path or '', where.name)} failed: {message}"
    if len(message) > 300:
        message = message[:297] + "..."
    if path is None:
        return TemplateError(message)
    return TemplateError(message, path, found[1] if found else None)


def _innermost(tb: TracebackType | None, filenames: set[str]) -> tuple[str, int] | None:
    found = None
    while tb is not None:
        frame = tb.tb_frame
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:  # a frame Jinja did not rewrite (a BaseException it let through)
            found = (template.filename or template.name, template.get_corresponding_lineno(tb.tb_lineno))
        elif frame.f_code.co_filename in filenames:  # a frame Jinja rewrote to the template's own line
            found = (frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


# --- filters -------------------------------------------------------------------------------------------


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


def _plain(value: Any) -> str:
    return dash(None if value is None else plain_number(Fraction(value)))


# Characters that open or close inline Markdown a cell must not start: links and images ([ ]), code spans
# (a stray ` would pair with the fence of a code span later on the line and expose its text), escapes (\)
# and table cells (|), and ~ (mistune's strikethrough, unlike CommonMark's emphasis, is matched before a code
# span later on the line, so ~~ in a cell would swallow that span's opening fence). < and > become entities,
# so no autolink or raw HTML forms; an & that would start an entity is escaped so the text shows as written.
_MD_ESCAPE = re.compile(r"[\\`\[\]|~]")
_MD_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def md_cell(value: Any) -> str:
    """Ledger text made safe for a Markdown table cell: no pipe splits the row, no newline ends it, no link,
    image or code span forms, and no raw HTML reaches a renderer that would run it."""
    text = " ".join(("" if value is None else str(value)).split())
    text = _MD_ENTITY.sub(r"\\&", _MD_ESCAPE.sub(r"\\\g<0>", text))
    return text.replace("<", "&lt;").replace(">", "&gt;")


def md_code(value: Any) -> str:
    """Ledger text as an inline code span (a path), with a fence longer than any backtick run inside; inside a
    code span nothing is a link."""
    # A table row is split at every pipe not escaped by a backslash, backslashes pairing up first: a run of k
    # backslashes before a pipe becomes 2k + 1, so the pipe is always escaped and never ends the cell.
    text = re.sub(r"(\\*)\|", lambda m: "\\" * (2 * len(m.group(1)) + 1) + "|", " ".join(str(value).split()))
    if not text:
        return "` `"  # a bare `` is no code span: it would pair with a later backtick run on the line
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_FILTERS: dict[str, Callable[..., Any]] = {
    "figure": figure,
    "percent": percent,
    "dash": dash,
    "money": _money,
    "pct": pct,
    "plain": _plain,
    "md_cell": md_cell,
    "md_code": md_code,
    "bar": _bar,
    "iso": _iso,
}
