"""The cumulative summary without Jinja: the shipped template's text, written by writing/summary.py, is the
same as Jinja's rendering of templates/summary.md.j2, and a fill with no templates folder loads no jinja2."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from fractions import Fraction
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from ledgerkit.writing import summary
from ledgerkit.writing.render import render

from .conftest import REPO

FIGURE = st.none() | st.integers(min_value=0, max_value=10**12)
PERCENT = st.none() | st.fractions(min_value=0, max_value=1000, max_denominator=10**6)
ACTION = st.none() | st.sampled_from(["NONE", "ALERT70", "ALERT85", "ALERT95", "MINIMAL"])
TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=20)
SESSION = st.builds(
    SimpleNamespace,
    id=TEXT,
    count=st.integers(min_value=1, max_value=10**6),
    char_count_total=FIGURE,
    token_estimate_total=FIGURE,
    utilization_peak=PERCENT,
    last_threshold_action=ACTION,
)


@st.composite
def projects(draw: st.DrawFn) -> SimpleNamespace:
    sessions = tuple(draw(st.lists(SESSION, max_size=6)))
    return SimpleNamespace(
        id=draw(st.none() | TEXT),
        sessions=sessions,
        session_count=len(sessions),
        token_estimate_total=draw(FIGURE),
        utilization_peak=draw(PERCENT),
    )


def test_the_mirrored_template_is_the_shipped_one():
    # Edit templates/summary.md.j2 and this fails: update _shipped_body (and SHIPPED_DIGEST) to match it.
    shipped = (REPO / "templates" / "summary.md.j2").read_bytes()
    assert hashlib.sha256(shipped).hexdigest() == summary.SHIPPED_DIGEST == summary.shipped_digest()


@given(projects())
def test_the_summary_without_jinja_is_the_shipped_templates_text(project):
    jinja = render("summary.md.j2", {"sessions": project.sessions, "project": project})
    assert summary.mirrored_body(project, None) == jinja


def test_a_template_this_code_does_not_mirror_is_left_to_jinja(tmp_path, monkeypatch):
    project = SimpleNamespace(
        id="P", sessions=(), session_count=0, token_estimate_total=None, utilization_peak=Fraction(1, 3)
    )
    assert summary.mirrored_body(project, tmp_path) is None  # a templates folder may override it
    monkeypatch.setattr(summary, "SHIPPED_DIGEST", "another")
    assert summary.mirrored_body(project, None) is None  # the shipped file was edited


def test_a_fill_of_a_ledger_with_a_summary_loads_no_jinja2(sample):
    code = (
        "import sys\n"
        "from ledgerkit.cli import cli\n"
        "try:\n"
        f"    cli.main(['fill', {str(sample)!r}], standalone_mode=False)\n"
        "finally:\n"
        "    print(sorted(m for m in ('jinja2', 'tiktoken') if m in sys.modules))\n"
    )
    before = sample.read_text(encoding="utf-8")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stderr
    assert "SESSION_ID" in before and sample.read_text(encoding="utf-8") != before  # it did render the summary
