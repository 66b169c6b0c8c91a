"""Nothing leaked, no hang, no internal error: a user template (from --templates or a pull request's
ledgerkit.yaml) reads nothing outside its folder and the shipped defaults, and cannot make a render hang, run
out of memory or end in a traceback. Every refusal is a TemplateError naming the template (and line)."""

from __future__ import annotations

import os
import re
import string
import threading
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ledgerkit.cli import cli
from ledgerkit.errors import TemplateError
from ledgerkit.writing.render import Limits, render

from ..conftest import ledger, make_files, record

SECRET = "s3cr3t-d0-n0t-sh0w"
FAST = Limits(seconds=1)  # a hang in these tests fails in a second, far inside the suite's 60 s bound
ROUTES = {
    "include": "{{% include {name!r} %}}",
    "include a list": "{{% include ['nothing.j2', {name!r}] %}}",
    "include ignore missing": "{{% include {name!r} ignore missing %}}",
    "include a variable": "{{% set n = {name!r} %}}{{% include n %}}",
    "import": "{{% import {name!r} as m %}}",
    "from-import": "{{% from {name!r} import x %}}",
    "extends": "{{% extends {name!r} %}}",
}
HOSTILE_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A templates folder t/ beside a secret, with symlinks out of t/ to the secret, /etc and /proc/self."""
    make_files(tmp_path, {"secret.txt": SECRET, "t/ok.j2": "ok"})
    t = tmp_path / "t"
    os.symlink(tmp_path / "secret.txt", t / "secret.j2")
    os.symlink("../secret.txt", t / "relative.j2")
    os.symlink("/etc", t / "etc")
    os.symlink("/proc/self", t / "self")
    os.symlink("/proc/self/environ", t / "environ.j2")
    os.symlink(tmp_path, t / "up")
    return t


def _asks(t: Path, route: str, name: str, page: str = "page.md.j2", before: str = "line one\n\n") -> None:
    (t / page).write_text(before + ROUTES[route].format(name=name) + "\n", encoding="utf-8")


def _refused(t: Path, page: str = "page.md.j2", line: int = 3, asker: str | None = None) -> TemplateError:
    os.environ["LEDGERKIT_HOSTILE_PROBE"] = SECRET  # so /proc/self/environ holds the secret too
    try:
        with pytest.raises(TemplateError) as caught:
            render(page, {}, t, limits=FAST)
    finally:
        del os.environ["LEDGERKIT_HOSTILE_PROBE"]
    message = str(caught.value)
    assert SECRET not in message and "root:" not in message
    assert message.startswith(f"{t / (asker or page)}:{line}: "), message
    return caught.value


OUTSIDE = [
    "/etc/passwd",
    "/proc/self/environ",
    str(Path("/") / "tmp" / "x.j2"),
    "../secret.txt",
    "../../../../etc/passwd",
    "ok.j2/../../secret.txt",
    "./ok.j2",
    "a//b.j2",
    "a\\..\\secret.txt",
    "ok.j2\x00",
]
THROUGH_SYMLINKS = ["secret.j2", "relative.j2", "etc/passwd", "self/environ", "environ.j2", "up/secret.txt"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("name", OUTSIDE + THROUGH_SYMLINKS)
def test_no_route_reads_outside_the_folder(world, route, name):
    _asks(world, route, name)
    error = _refused(world)
    if name in OUTSIDE:
        assert "is not a template name" in str(error)
        kind = {"from-import": "import", "include a list": "include", "include a variable": "include"}
        assert re.search(rf"\b{kind.get(route, route.split()[0])}\b", str(error))
    else:
        assert "leads out of the templates folder" in str(error)


def test_a_top_level_template_that_is_a_symlink_out_is_refused(world):
    os.symlink("/etc/passwd", world / "rollup.md.j2")
    with pytest.raises(TemplateError, match="leads out of the templates folder") as caught:
        render("rollup.md.j2", {}, world, limits=FAST)
    assert "root:" not in str(caught.value)


def test_whether_a_file_outside_exists_is_not_told(world):
    _asks(world, "include ignore missing", "etc/passwd")
    there = str(_refused(world))
    _asks(world, "include ignore missing", "etc/no-such-file-anywhere")
    assert str(_refused(world)) == there.replace("etc/passwd", "etc/no-such-file-anywhere")


def test_a_fifo_or_a_device_in_the_folder_is_refused_without_blocking(world):
    os.mkfifo(world / "fifo.j2")
    os.symlink("/dev/zero", world / "zero.j2")  # outside: refused by name before anything is opened
    _asks(world, "include", "fifo.j2")
    assert "is not a regular file" in str(_refused(world))
    _asks(world, "include", "zero.j2")
    assert "leads out of the templates folder" in str(_refused(world))


# --- generated: names, symlinks at any depth, nested includes -------------------------------------------

SEGMENT = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6)
BAD_PART = st.sampled_from(["..", ".", "", "a\\b", "\x00", "..\\.."])


@st.composite
def hostile_names(draw: st.DrawFn) -> str:
    """A name with at least one part that is not allowed, or an absolute one, anywhere in the path."""
    parts = draw(st.lists(SEGMENT, max_size=4))
    parts.insert(draw(st.integers(0, len(parts))), draw(BAD_PART))
    name = "/".join(parts)
    return "/" + name if draw(st.booleans()) else name


@HOSTILE_SETTINGS
@given(name=hostile_names(), route=st.sampled_from(sorted(ROUTES)))
def test_generated_names_that_leave_the_folder_are_refused_by_name(world, name, route):
    _asks(world, route, name)
    assert "is not a template name" in str(_refused(world))


@HOSTILE_SETTINGS
@given(
    depth=st.integers(0, 4),
    below=st.lists(SEGMENT, max_size=2),
    target=st.sampled_from(["secret", "etc", "proc", "up"]),
    route=st.sampled_from(sorted(ROUTES)),
)
def test_a_symlink_out_at_any_depth_is_refused(tmp_path_factory, depth, below, target, route):
    # "up" links to the folder holding t/: a path on through t/ comes back into the templates folder, not out.
    assume(target != "up" or below[:1] != ["t"])
    root = tmp_path_factory.mktemp("w")
    make_files(root, {"secret.txt": SECRET})
    t = root / "t"
    folder = t.joinpath(*[f"d{i}" for i in range(depth)])
    folder.mkdir(parents=True)
    link = folder / "link"
    os.symlink({"secret": root / "secret.txt", "etc": "/etc", "proc": "/proc/self", "up": root}[target], link)
    tail = {"secret": [], "etc": ["passwd"], "proc": ["environ"], "up": ["secret.txt"]}[target]
    name = "/".join([*(f"d{i}" for i in range(depth)), "link", *(below if target != "secret" else []), *tail])
    _asks(t, route, name)
    assert "leads out of the templates folder" in str(_refused(t))


@HOSTILE_SETTINGS
@given(chain=st.integers(1, 6), route=st.sampled_from(["include", "import", "from-import", "extends"]))
def test_the_template_deep_in_a_chain_that_asks_is_the_one_named(tmp_path_factory, chain, route):
    t = tmp_path_factory.mktemp("c")
    for level in range(chain - 1):
        (t / f"level{level}.j2").write_text(f"level {level}\n{{% include 'level{level + 1}.j2' %}}\n", encoding="utf-8")
    _asks(t, route, "/etc/passwd", page=f"level{chain - 1}.j2")
    error = _refused(t, page="level0.j2", asker=f"level{chain - 1}.j2")
    assert "'/etc/passwd' is not a template name" in str(error)


# --- through the command line and a repository's configuration ----------------------------------------


def _ledger(tmp_path: Path) -> Path:
    make_files(tmp_path, {"a.md": "x" * 40, "l.md": ledger(record(1, ("a.md",)))})
    return tmp_path / "l.md"


@pytest.mark.parametrize("command", ["rollup-md", "rollup-html", "fill"])
def test_a_pull_requests_configuration_cannot_read_secrets_through_a_template(tmp_path, command):
    path = _ledger(tmp_path)
    make_files(
        tmp_path,
        {
            "secret.txt": SECRET,
            "ledgerkit.yaml": "templates: tpl\n",
            "tpl/rollup.md.j2": "{% include '../secret.txt' %}",
            "tpl/rollup.html.j2": "<pre>{% include '/proc/self/environ' %}</pre>",
            "tpl/summary.md.j2": "{% include 'leak.j2' %}",
        },
    )
    os.symlink(tmp_path / "secret.txt", tmp_path / "tpl" / "leak.j2")
    args = {
        "rollup-md": ["rollup", str(path), "--session", "S1"],
        "rollup-html": ["rollup", str(path), "--session", "S1", "--format", "html"],
        "fill": ["fill", str(path)],
    }[command]
    before = path.read_bytes()
    result = CliRunner().invoke(cli, args, env={"LEDGERKIT_HOSTILE_PROBE": SECRET})
    assert result.exit_code == 2, result.output
    assert SECRET not in result.output and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "tpl/" in result.stderr
    assert path.read_bytes() == before


# --- no hang, no internal error ---------------------------------------------------------------------------

BOMBS = {
    "a range past Jinja's limit": "{% for i in range(10**9) %}{% endfor %}",
    "nested ranges": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "a huge power": "{{ 10**1000000 }}",
    "a huge fraction power": "{{ (2 / 3) ** 10 }}{{ x ** 100000000 }}",
    "squaring in a loop": "{% set ns = namespace(n=7) %}{% for i in range(64) %}{% set ns.n = ns.n * ns.n %}"
    "{% endfor %}",
    "a huge repeat": "{{ 'x' * 10**10 }}",
    "a huge list repeat": "{{ [0] * 10**10 }}",
    "a repeated big string": "{% set s = 'x' * 1000000 %}{{ [s] * 1000 }}",
    "joining a repeated big string": "{% set s = 'x' * 1000000 %}{{ ([s] * 1000) | join }}",
    "doubling with ~": "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}",
    "doubling with +": "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
    "{% endfor %}",
    "doubling a list in place": "{% set l = [1] %}{% for i in range(64) %}{{ l.extend(l) }}{% endfor %}",
    "a padded filter": "{{ 'x' | center(10**10) }}",
    "a padded method": "{{ 'x'.ljust(10**10) }}",
    "zfill": "{{ 'x'.zfill(10**10) }}",
    "expandtabs": "{% set t = '\t' * 100000 %}{{ t.expandtabs(100000) }}",
    "a printf width": "{{ '%10000000000s' % 'x' }}",
    "a starred printf width": "{{ '%*s' % (10**10, 'x') }}",
    "a format filter width": "{{ '%10000000000d' | format(1) }}",
    "a str.format width": "{{ '{:>10000000000}'.format('x') }}",
    "a nested str.format width": "{{ '{:>{w}}'.format('x', w=10**10) }}",
    "format_map": "{{ '{a:>10000000000}'.format_map({'a': 1}) }}",
    "replace that grows": "{% set s = 'x' * 100000 %}{{ s.replace('x', s) }}",
    "a replace filter that grows": "{% set s = 'x' * 100000 %}{{ s | replace('x', s) }}",
    "translate": "{% set s = 'a' * 100000 %}{{ s.translate({97: s}) }}",
    "indent by a long string": "{% set s = '\n' * 100000 %}{{ s | indent(s, true, true) }}",
    "wordwrap with a long wrapstring": "{% set s = 'a ' * 100000 %}{{ s | wordwrap(1, wrapstring=s) }}",
    "batch filling": "{{ [1] | batch(10**9, 0) | list }}",
    "slice into many": "{{ [1] | slice(10**9) | list }}",
    "tojson indented": "{% set l = [[[[[[[[1]]]]]]]] * 100000 %}{{ l | tojson(100000) }}",
    "round to a huge precision": "{{ f | round(10**9) }}",
    "round up to a huge precision": "{{ 1.5 | round(10**9, 'ceil') }}",
    "lipsum": "{{ lipsum(10**6) }}",
    "a macro that calls itself": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "a macro that calls itself twice": "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}",
    "a template that includes itself": "{% include 'bomb.j2' %}",
    "extends in a cycle": "{% extends 'other.j2' %}",
    "a recursive loop without end": "{% for i in [1] recursive %}{{ loop([1]) }}{% endfor %}",
    "a wide recursive loop": "{% for i in range(1000) recursive %}{{ loop(range(1000)) }}{% endfor %}",
    "literal text in a long loop": "{% for i in range(100000) %}" + "x" * 1000 + "{% endfor %}",
    "literal text in a macro's loop": "{% macro m() %}{% for i in range(100000) %}"
    + "x" * 1000
    + "{% endfor %}{% endmacro %}{{ m() }}",
    "a set block": "{% set b %}{% for i in range(100000) %}" + "x" * 1000 + "{% endfor %}{% endset %}",
    "a filter block": "{% filter upper %}{% for i in range(100000) %}" + "x" * 1000 + "{% endfor %}{% endfilter %}",
    "division by zero": "{{ 1 // 0 }}",
    "an unsafe attribute": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "a missing key": "{{ {}.pop('k') }}",
    "a float overflow": "{{ 10.0 ** 10000 }}",
    "a number past Python's digits": "{{ " + "9" * 5000 + " }}",
    "nesting past Python's block limit": "{% for a in [1] %}" * 25 + "x" + "{% endfor %}" * 25,
    "parentheses past the parser's depth": "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
    "a busy loop past the time limit": "{% for i in range(100000) %}{% for j in range(9) %}"
    "{{ ('x' * 3000) | list | sort | join | length }}{% endfor %}{% endfor %}",
}


@pytest.mark.parametrize("bomb", BOMBS)
def test_a_bomb_stops_with_a_template_error_naming_the_template(tmp_path, bomb):
    make_files(tmp_path, {"t/bomb.j2": BOMBS[bomb], "t/other.j2": "{% extends 'bomb.j2' %}"})
    with pytest.raises(TemplateError) as caught:
        render("bomb.j2", {"x": 7, "f": Fraction(1, 3)}, tmp_path / "t", limits=FAST)
    assert f"{tmp_path / 't'}/" in str(caught.value)  # the file, as the user's folder names it


def test_the_time_limit_stops_a_render_and_gives_the_suites_timer_back(tmp_path):
    import signal

    handler = signal.getsignal(signal.SIGALRM)
    left = signal.getitimer(signal.ITIMER_REAL)[0]
    assert left > 10  # the hostile suite's own bound is running
    make_files(tmp_path, {"t/slow.j2": BOMBS["a busy loop past the time limit"]})
    with pytest.raises(TemplateError, match=r"slow.j2:1: ran longer than 1 s"):
        render("slow.j2", {}, tmp_path / "t", limits=FAST)
    assert signal.getsignal(signal.SIGALRM) is handler
    assert left - 3 < signal.getitimer(signal.ITIMER_REAL)[0] < left


def test_off_the_main_thread_the_other_bounds_still_hold(tmp_path):
    make_files(tmp_path, {"t/bomb.j2": BOMBS["nested ranges"]})
    errors: list[BaseException] = []

    def work() -> None:
        try:
            render("bomb.j2", {}, tmp_path / "t", limits=FAST)
        except BaseException as exc:  # noqa: BLE001 - the thread reports whatever ended it
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], TemplateError) and "steps" in str(errors[0])


OPERATIONS = [
    "{a} ** {b}",
    "{a} * {b}",
    "'x' * {a} * {b}",
    "['x'] * {a} * {b}",
    "'%{a}d' % {b}",
    "'{{:>{a}}}'.format({b})",
    "'x' | center({a} * {b})",
    "('ab' * {a}) | replace('a', 'x' * {b})",
    "(['y' * {a}] * {b}) | join",
    "range({a}) | list | length * {b}",
]


@HOSTILE_SETTINGS
@given(
    op=st.sampled_from(OPERATIONS),
    a=st.integers(0, 10**7) | st.sampled_from([10**9, 10**12, 2**63]),
    b=st.integers(0, 10**7) | st.sampled_from([10**9, 10**12, 2**63]),
    loops=st.integers(0, 1),
)
def test_generated_arithmetic_either_renders_or_is_refused(tmp_path_factory, op, a, b, loops):
    t = tmp_path_factory.mktemp("g")
    body = "{{ (" + op.format(a=a, b=b) + ") | string | length }}"
    text = "{% for i in range(1000) %}" * loops + body + "{% endfor %}" * loops
    (t / "g.j2").write_text(text, encoding="utf-8")
    try:
        out = render("g.j2", {}, t, limits=FAST)
    except TemplateError as exc:
        assert str(exc).startswith(f"{t / 'g.j2'}"), str(exc)
    else:
        assert len(out) <= FAST.output
