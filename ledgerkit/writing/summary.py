"""The cumulative summary's body, and the figure filters the ledger's own templates use.

The shipped ``templates/summary.md.j2`` is what a person reads and overrides with ``--templates``. A fill
with no templates folder renders the same bytes here, without loading Jinja (about a tenth of a second
a run, and fill runs on every commit), but only while the shipped file is the one this code mirrors: its
digest is checked on each run, and tests/test_summary.py proves both give the same text for generated
sessions. A maintainer who edits the template and not this file gets Jinja, and a failing test.
"""

from __future__ import annotations

import hashlib
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..figures.sessions import Project
from ..schema import format_percent

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

BLANK_FIGURE = "[fill]"  # what a figure that cannot be had is written as; schema.PLACEHOLDER reads any

#: sha256 of the templates/summary.md.j2 that :func:`_shipped_body` writes the same text as.
SHIPPED_DIGEST = "89219b5d9f1e5cdcbb4a249c6b0b130a523ddb47ecd715f3bd1fb55a0e2b7407"
NAME = "summary.md.j2"


def shipped_folder() -> Traversable:
    """The templates ledgerkit ships (the package data, or the folder beside a bare checkout)."""
    from importlib.resources import files

    try:
        return files("ledgerkit.templates")
    except ModuleNotFoundError:  # a bare checkout, not installed: the folder beside the package
        return Path(__file__).resolve().parent.parent.parent / "templates"


def figure(value: Any) -> str:
    """A figure as the ledger writes it; a missing one stays a placeholder."""
    return BLANK_FIGURE if value is None else str(value)


def percent(value: Fraction | None) -> str:
    """A utilization as the ledger writes it (two decimals, toward zero), without the % sign."""
    return BLANK_FIGURE if value is None else format_percent(Fraction(value))


def mirrored_body(project: Project, templates: str | Path | None) -> str | None:
    """The summary's body for ``project`` as the shipped template writes it, when no templates folder is
    given and the shipped template is the one this mirrors; else None (render the template with Jinja)."""
    return _shipped_body(project) if mirrors(templates) else None


def mirrors(templates: str | Path | None) -> bool:
    """Whether :func:`mirrored_body` writes the summary (it reads only the sessions' totals), not the template."""
    return templates is None and shipped_digest() == SHIPPED_DIGEST


@lru_cache(maxsize=1)
def shipped_digest() -> str:
    """The sha256 of the shipped summary template, as installed."""
    return hashlib.sha256(_shipped_template()).hexdigest()


def _shipped_template() -> bytes:
    """The shipped summary template's bytes: read from the templates package's folder when it is one, as
    installed or editable (importlib.resources imports zipfile, tempfile and more: a few milliseconds of
    every fill), else through :func:`shipped_folder`."""
    try:
        from .. import templates
    except ImportError:  # a bare checkout, not installed
        templates = None
    for folder in getattr(templates, "__path__", ()):
        try:
            return Path(folder, NAME).read_bytes()
        except OSError:  # not a folder on disk (a zip), or no template there
            continue
    return shipped_folder().joinpath(NAME).read_bytes()


def _shipped_body(project: Project) -> str:
    out = []
    for s in project.sessions:
        out.append(
            f"- SESSION_ID: {s.id}\n"
            f"  - ENTRIES: {s.count}\n"
            f"  - CHAR_COUNT_TOTAL: {figure(s.char_count_total)}\n"
            f"  - TOKEN_ESTIMATE_TOTAL: {figure(s.token_estimate_total)}\n"
            f"  - UTILIZATION_PEAK: {percent(s.utilization_peak)}%\n"
            f"  - LAST_THRESHOLD_ACTION: {figure(s.last_threshold_action)}\n\n"
        )
    project_id = project.id if project.id is not None else "[assign_when_available]"
    out.append(
        f"- PROJECT_ID: {project_id}\n"
        f"  - SESSION_COUNT: {project.session_count}\n"
        f"  - TOKEN_ESTIMATE_TOTAL: {figure(project.token_estimate_total)}\n"
        f"  - UTILIZATION_PEAK: {percent(project.utilization_peak)}%\n"
    )
    return "".join(out)
