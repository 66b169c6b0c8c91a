"""Rendering: templates found by name in the user's folder over the shipped defaults; the folder must exist; the
bounded sandbox leaves ordinary templates exactly as they were. Hostile templates: tests/hostile/."""

from __future__ import annotations

import os
import shutil
import signal
import string
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.sandbox import SandboxedEnvironment

from ledgerkit.errors import TemplateError
from ledgerkit.writing.render import Limits, default_template, environment, render, template_name_problem
from ledgerkit.writing.sandbox import wall_clock

from .conftest import REPO, make_files

DEFAULTS = sorted(p.name for p in (REPO / "templates").glob("*.j2"))
SEGMENT = st.text(string.ascii_letters + string.digits + "_-.", min_size=1, max_size=12).filter(
    lambda s: s not in (".", "..")
)


# --- names -----------------------------------------------------------------------------------------------


@given(st.lists(SEGMENT, min_size=1, max_size=5))
def test_relative_names_of_plain_segments_are_template_names(parts):
    assert template_name_problem("/".join(parts)) is None


@pytest.mark.parametrize(
    "name",
    ["", "/etc/passwd", "../x.j2", "a/../b.j2", "./a.j2", "a//b.j2", "a/", "a\\b.j2", "a\x00.j2", "x" * 1025, 3, None],
)
def test_anything_else_is_not_a_template_name(name):
    assert template_name_problem(name) is not None


def test_every_shipped_template_is_found_by_its_name():
    for name in DEFAULTS:
        assert default_template(name) == (REPO / "templates" / name).read_text(encoding="utf-8")


def test_only_the_shipped_j2_files_are_defaults():
    with pytest.raises(TemplateError, match="not among the default templates"):
        default_template("__init__.py")
    with pytest.raises(TemplateError, match="not a template name"):
        default_template("../writing/render.py")


# --- the user's folder over the defaults -----------------------------------------------------------------


def test_an_override_folder_with_one_template_keeps_the_defaults_for_the_rest(tmp_path):
    make_files(tmp_path, {"t/rollup.md.j2": "mine: {{ x }}\n"})
    assert render("rollup.md.j2", {"x": 1}, tmp_path / "t") == "mine: 1\n"
    context = {"sessions": (), "project": {"id": None, "session_count": 0}}
    context["project"].update(token_estimate_total=None, utilization_peak=None)
    assert render("summary.md.j2", context, tmp_path / "t") == render("summary.md.j2", context)


def test_user_templates_include_each_other_by_name_and_may_include_a_default(tmp_path):
    make_files(
        tmp_path,
        {
            "t/page.md.j2": "{% include 'parts/head.j2' %}|{% from 'parts/m.j2' import twice %}{{ twice(2) }}",
            "t/parts/head.j2": "head",
            "t/parts/m.j2": "{% macro twice(n) %}{{ n * 2 }}{% endmacro %}",
            "t/with_default.j2": "{% include 'summary.md.j2' %}",
        },
    )
    assert render("page.md.j2", {}, tmp_path / "t") == "head|4"
    context = {"sessions": (), "project": {"id": "P", "session_count": 0, "token_estimate_total": 0}}
    context["project"]["utilization_peak"] = None
    assert render("with_default.j2", context, tmp_path / "t") == render("summary.md.j2", context)


def test_a_symlink_that_stays_inside_the_folder_is_followed(tmp_path):
    make_files(tmp_path, {"t/real/one.j2": "one", "t/page.j2": "{% include 'alias/one.j2' %}"})
    os.symlink("real", tmp_path / "t" / "alias")
    os.symlink("page.j2", tmp_path / "t" / "page-link.j2")
    assert render("page-link.j2", {}, tmp_path / "t") == "one"


def test_a_symlinked_templates_folder_is_its_target(tmp_path):
    make_files(tmp_path, {"real/rollup.md.j2": "{% include 'part.j2' %}", "real/part.j2": "part"})
    os.symlink(tmp_path / "real", tmp_path / "link")
    assert render("rollup.md.j2", {}, tmp_path / "link") == "part"


def test_a_missing_templates_folder_is_an_error_when_the_environment_is_built(tmp_path):
    with pytest.raises(TemplateError, match=r"^templates folder .*my_templates/ does not exist$"):
        environment(tmp_path / "my_templates")
    make_files(tmp_path, {"file": "x"})
    with pytest.raises(TemplateError, match=r"templates folder .*file is not a folder"):
        render("summary.md.j2", {}, tmp_path / "file")


def test_an_unreadable_templates_folder_is_an_error():
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="ledgerkit-unreadable-"))
    try:
        base.chmod(0o755)
        (base / "t").mkdir(mode=0)
        environment(base)  # everything environment() needs is imported before the fork
        if os.geteuid() != 0:
            with pytest.raises(TemplateError, match="cannot be read"):
                environment(base / "t")
            return
        # Root reads any folder whatever its mode: look as an ordinary user does, in a forked child.
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)
                environment(base / "t")
            except TemplateError as exc:
                code = 0 if "cannot be read" in str(exc) else 1
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        (base / "t").chmod(0o700)
        shutil.rmtree(base)


def test_the_cli_names_a_missing_templates_folder(tmp_path):
    from click.testing import CliRunner

    from ledgerkit.cli import cli

    from .conftest import ledger, record

    make_files(tmp_path, {"a.md": "x" * 40, "l.md": ledger(record(1, ("a.md",)))})
    result = CliRunner().invoke(cli, ["fill", str(tmp_path / "l.md"), "--templates", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("nope/ does not exist") and "Traceback" not in result.output


def test_a_template_that_is_not_utf8_is_named_with_its_byte_offset(tmp_path):
    make_files(tmp_path, {"t/rollup.md.j2": b"ok\n\xffno"})
    with pytest.raises(TemplateError, match=r"rollup.md.j2 is not UTF-8 text \(byte 0xff at offset 3, line 2\)"):
        render("rollup.md.j2", {}, tmp_path / "t")


def test_a_syntax_error_names_the_file_and_line(tmp_path):
    make_files(tmp_path, {"t/rollup.md.j2": "fine\n{% for %}\n"})
    with pytest.raises(TemplateError, match=r"t/rollup.md.j2:2: template syntax error"):
        render("rollup.md.j2", {}, tmp_path / "t")


def test_a_runtime_error_names_the_template_and_line_that_failed(tmp_path):
    make_files(tmp_path, {"t/page.j2": "a\n{% include 'part.j2' %}", "t/part.j2": "b\n\n{{ 1 // 0 }}"})
    with pytest.raises(TemplateError, match=r"t/part.j2:3: template part.j2 failed: ZeroDivisionError"):
        render("page.j2", {}, tmp_path / "t")


# --- the sandbox leaves ordinary templates as they were --------------------------------------------------


def test_ordinary_jinja_works_inside_the_bounds(tmp_path):
    text = (
        "{% set ns = namespace(total=0) %}{% for i in range(1, 11) %}{% set ns.total = ns.total + i %}{% endfor %}"
        "{{ ns.total }} {{ 2 ** 64 }} {{ '-' * 3 }} {{ '%05.1f' % 3.14159 }} {{ '{:>4}'.format('ab') }} "
        "{{ [1, 2] + [3] }} {{ 'a,b' | replace(',', ';') }} {{ ['x', 'y'] | join('+') }} {{ 'ab' | center(6) }}|"
        "{% for x in 'abc' %}{{ loop.index }}{{ loop.revindex }}{% if loop.last %}!{% endif %}{% endfor %} "
        "{% for n in [[1, [2]], [3]] recursive %}{{ n if n is number else loop(n) }}{% endfor %} {{ 7 / 2 }}"
    )
    make_files(tmp_path, {"t/x.j2": text})
    expected = "55 18446744073709551616 --- 003.1   ab [1, 2, 3] a;b x+y   ab  |132231! 123 3.5"
    assert SandboxedEnvironment().from_string(text).render() == expected  # what stock Jinja makes of it
    assert render("x.j2", {}, tmp_path / "t") == expected


def test_html_templates_still_autoescape_and_md_templates_do_not(tmp_path):
    make_files(tmp_path, {"t/a.html.j2": "{{ v }}", "t/a.md.j2": "{{ v }}"})
    assert render("a.html.j2", {"v": "<b>"}, tmp_path / "t") == "&lt;b&gt;"
    assert render("a.md.j2", {"v": "<b>"}, tmp_path / "t") == "<b>"


def test_strict_undefined_and_trailing_newline_are_kept(tmp_path):
    make_files(tmp_path, {"t/a.j2": "{{ v }}\n", "t/b.j2": "{{ nothing }}"})
    assert render("a.j2", {"v": 1}, tmp_path / "t") == "1\n"
    with pytest.raises(TemplateError, match="'nothing' is undefined"):
        render("b.j2", {}, tmp_path / "t")


def test_every_bound_can_be_tightened(tmp_path):
    make_files(
        tmp_path,
        {"t/steps.j2": "{% for i in range(50) %}{% endfor %}", "t/out.j2": "{{ 'x' * 50 }}", "t/big.j2": "x" * 200},
    )
    with pytest.raises(TemplateError, match="more than 10 steps"):
        render("steps.j2", {}, tmp_path / "t", limits=Limits(steps=10))
    with pytest.raises(TemplateError, match="past the limit 20"):
        render("out.j2", {}, tmp_path / "t", limits=Limits(output=20))
    with pytest.raises(TemplateError, match="larger than 100 bytes"):
        render("big.j2", {}, tmp_path / "t", limits=Limits(template_bytes=100))


# --- the timer -----------------------------------------------------------------------------------------


def test_the_timer_restores_the_handler_and_what_was_left_of_an_earlier_timer():
    calls: list[int] = []
    before = signal.signal(signal.SIGALRM, lambda signum, frame: calls.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        with wall_clock(5):
            assert 4 < signal.getitimer(signal.ITIMER_REAL)[0] <= 5
        left = signal.getitimer(signal.ITIMER_REAL)[0]
        assert 25 < left <= 30 and not calls
        assert signal.getsignal(signal.SIGALRM) is not before
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


def test_an_earlier_timer_that_falls_due_first_still_fires():
    calls: list[int] = []
    before = signal.signal(signal.SIGALRM, lambda signum, frame: calls.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with wall_clock(5):
            deadline = time.monotonic() + 5
            while not calls and time.monotonic() < deadline:
                time.sleep(0.01)  # waits on the event (the earlier timer's handler), bounded
        assert calls == [signal.SIGALRM]
        assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


FRAGMENTS = [
    "x", " ", "\n", "{{ 1 + 2 * 3 }}", "{{ 'a' ~ 'b' ~ 3 }}", "{{ [1, 2] | join(',') }}", "{% for i in range(3) %}",
    "{% for c in 'ab' %}", "{% endfor %}", "{% if true %}", "{% endif %}", "{{ loop.index }}",
    "{{ '%s-%d' % ('a', 1) }}",
    "{% set y = 'q' * 2 %}", "{{ y }}", "{{ 'x' | center(5) }}", "{{ '{}!'.format(2) }}", "{%- raw %}{{{% endraw -%}",
    "{% macro m(a) %}<{{ a }}>{% endmacro %}", "{{ m(1) }}", "{{ 2 ** 10 // 3 }}", "{# c #}",
]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join))
def test_a_template_renders_the_same_under_the_bounds_as_plain_jinja(text):
    import jinja2

    env = environment()
    try:
        plain = SandboxedEnvironment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
        expected = plain.from_string(text).render()
    except Exception:
        return  # text that is not a template, or fails in plain Jinja too: not what this property is about
    assert env.collect(env.from_string(text).generate()) == expected
