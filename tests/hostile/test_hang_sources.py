"""No hang, no internal error, from sources: links that loop under ``**``, FIFOs, devices and sockets as
sources, NUL bytes and numbers of thousands of digits in entries, a git that never answers."""

from __future__ import annotations

import os
import socket
import stat
import tempfile
from collections import Counter
from pathlib import Path

import hypothesis.strategies as st
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from ledgerkit.cli import cli
from ledgerkit.config import Config
from ledgerkit.diagnostics import CODES
from ledgerkit.measuring import folders
from ledgerkit.measuring.files import SourceError, read_source
from ledgerkit.measuring.measure import Measurer
from ledgerkit.measuring.resolve import Resolver
from ledgerkit.measuring.specs import parse_source
from ledgerkit.reading.parse import parse
from ledgerkit.reports.count import count_paths

from ..conftest import ledger, make_files, record

PATTERNS = ["**", "**/*.md", "**/**/*.md", "*/**/*", "d0/**", "."]


# --- links that loop -----------------------------------------------------------------------------------

# A tree: folders named by their path of indexes (d0, d0/d1, ...), a file in each, and links from random
# folders to random folders of the tree (an ancestor, itself, a sibling), by relative or absolute target.
trees = st.lists(st.lists(st.integers(0, 2), min_size=1, max_size=4), min_size=1, max_size=8)
links = st.lists(
    st.tuples(st.integers(0, 20), st.integers(0, 20), st.booleans(), st.sampled_from(["l", "loop", "x.md"])),
    max_size=8,
)


def build(top: Path, shape: list[list[int]], wiring: list[tuple[int, int, bool, str]]) -> list[Path]:
    folders_ = {top}
    for path in shape:
        folder = top
        for i in path:
            folder = folder / f"d{i}"
            folders_.add(folder)
    ordered = sorted(folders_)
    for folder in ordered:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "f.md").write_text(str(folder.relative_to(top)), encoding="utf-8")
    for n, (source, target, absolute, name) in enumerate(wiring):
        where, to = ordered[source % len(ordered)], ordered[target % len(ordered)]
        link = where / f"{name}{n}"
        os.symlink(to if absolute else os.path.relpath(to, where), link)
    return ordered


def scandir_counter(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    calls: Counter[str] = Counter()
    real = os.scandir

    def counting(path: str = ".") -> os._ScandirIterator[str]:  # type: ignore[name-defined]
        calls[os.path.realpath(path)] += 1
        return real(path)

    monkeypatch.setattr(os, "scandir", counting)
    return calls


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=trees, wiring=links, pattern=st.sampled_from(PATTERNS))
def test_links_that_loop_are_walked_once_per_real_folder(shape, wiring, pattern):
    with tempfile.TemporaryDirectory() as base, pytest.MonkeyPatch.context() as patch:
        top = Path(base).resolve()
        ordered = build(top, shape, wiring)
        calls = scandir_counter(patch)
        found = Resolver(top, top).resolve(parse_source(pattern))
        parts = pattern.count("/") + 1
        assert all(n <= parts for n in calls.values()), calls  # each real folder once per part of the pattern
        got = {str(s.path) for s in found.sources}
        assert found.problems == [] or pattern == "d0/**"  # d0 may not exist
        # Independently: the files the pattern means, from the tree alone (every link points inside it).
        every = {str(f / "f.md") for f in ordered}
        if pattern == ".":
            assert got == every  # a folder walk follows no link to a folder: every real folder, once
        elif pattern.startswith("**"):
            assert got == reachable([top])
        elif pattern == "*/**/*":
            assert got == reachable([p for p in top.iterdir() if p.is_dir()])
        elif (top / "d0").is_dir():
            assert got == reachable([top / "d0"])


def reachable(starts: list[Path]) -> set[str]:
    """The f.md of every folder reachable from ``starts`` through folders and links to folders."""
    todo, seen = [Path(os.path.realpath(p)) for p in starts], set()
    while todo:
        folder = todo.pop()
        if folder not in seen:
            seen.add(folder)
            todo.extend(Path(os.path.realpath(p)) for p in folder.iterdir() if p.is_dir())
    return {str(folder / "f.md") for folder in seen}


def test_two_self_referencing_links_under_globstar_finish(tmp_path, monkeypatch):
    make_files(tmp_path, {"a/x.md": "x", "a/b/y.md": "y"})
    os.symlink("..", tmp_path / "a" / "up")
    os.symlink(".", tmp_path / "a" / "b" / "here")
    calls = scandir_counter(monkeypatch)
    found = Resolver(tmp_path, tmp_path).resolve(parse_source("**/*.md"))
    assert [s.shown for s in found.sources] == ["a/b/y.md", "a/x.md"]  # by their own paths, not through a link
    assert max(calls.values()) <= 2


# --- FIFOs, devices, sockets -----------------------------------------------------------------------------


@pytest.fixture
def specials() -> Path:
    # A short path: a Unix socket's name is limited to about 100 bytes.
    folder = Path(tempfile.mkdtemp(prefix="lk", dir="/tmp"))
    make_files(folder, {"d/a.md": "abc"})
    os.mkfifo(folder / "d" / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "d" / "sock"))
    yield folder
    sock.close()
    for path in sorted(folder.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() and not path.is_symlink() else path.unlink()
    folder.rmdir()


def measure(root: Path, *sources: str):
    path = root / "ledger.md"
    path.write_text(ledger(record(1, sources)), encoding="utf-8")
    lk = parse(path.read_text(encoding="utf-8"), str(path))
    return Measurer(lk, Config(), root).measure(lk.records[0])


@pytest.mark.parametrize("name", ["fifo", "sock"])
def test_a_fifo_or_socket_named_is_lk209_and_never_blocks(specials, name):
    measurement, problems = measure(specials, f"d/{name}")
    assert measurement is None
    assert [(d.code, d.message) for d in problems] == [("LK209", f"source d/{name} is not a regular file")]


def test_fifos_and_sockets_met_in_a_folder_or_glob_are_skipped(specials):
    for written in ("d", "d/*", "d/**"):
        measurement, problems = measure(specials, written)
        assert problems == [] and measurement.chars == 3, written
        assert sorted((s.shown, s.problem.code) for s in measurement.skipped) == [
            ("d/fifo", "LK209"),
            ("d/sock", "LK209"),
        ]


def test_devices_are_refused_before_a_byte_is_read(specials, monkeypatch):
    opened: list[str] = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda p, *a, **k: opened.append(os.fspath(p)) or real_open(p, *a, **k))
    result = count_paths(["/dev/zero", "/dev/null", str(specials / "d" / "fifo")], cwd=specials)
    assert [(p.path, p.reason) for p in result.problems] == [
        ("/dev/zero", "is not a regular file"),
        ("/dev/null", "is not a regular file"),
        (str(specials / "d" / "fifo"), "is not a regular file"),
    ]
    assert [p for p in opened if p.startswith(("/dev/", str(specials)))] == []  # refused on lstat: never opened
    os.symlink("/dev/zero", specials / "d" / "zero")  # a link to a device: it leaves a source root
    measurement, problems = measure(specials, "d/zero")
    assert [d.code for d in problems] == ["LK205"]
    with pytest.raises(SourceError) as exc:
        read_source("/dev/zero")
    assert exc.value.code == "LK209"


def test_fill_and_count_with_a_fifo_return_at_once(specials, monkeypatch):
    ledger_path = specials / "ledger.md"
    ledger_path.write_text(ledger(record(1, ("d/fifo", "d/a.md"))), encoding="utf-8")
    monkeypatch.chdir(specials)
    result = CliRunner().invoke(cli, ["fill", str(ledger_path)])
    assert result.exit_code == 1 and "LK209 source d/fifo is not a regular file" in result.output
    counted = CliRunner().invoke(cli, ["count", "d/fifo", "d"])
    assert counted.exit_code == 2
    assert "ledgerkit: d/fifo: is not a regular file" in counted.stderr


# --- entries no file system could hold -------------------------------------------------------------------

hostile_entries = st.one_of(
    st.text(alphabet=st.sampled_from("a/.*:#L-0123456789\0\t `"), min_size=1, max_size=30),
    st.builds(lambda d, sep: f"a.md{sep}" + "9" * d, st.integers(4000, 20000), st.sampled_from([":", "#L", ":1-"])),
    st.builds(lambda n: "x/" * n + "a.md", st.integers(100, 3000)),  # a path longer than PATH_MAX
    st.builds(lambda n: ("a" * n) + ".md", st.integers(256, 1000)),  # a name longer than NAME_MAX
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(hostile_entries, min_size=1, max_size=4))
def test_any_entry_is_a_figure_or_a_diagnostic(entries):
    with tempfile.TemporaryDirectory() as base:
        root = Path(base)
        make_files(root, {"a.md": "one\ntwo\n"})
        # Written as ledger entries: one per line, as a person could type them.
        # An entry that reads as nothing (blank, a comment, an empty code span: ``) is no source at all.
        safe = [e for e in (e.replace("\n", " ") for e in entries) if parse_source(e) is not None]
        if not safe:
            return
        measurement, problems = measure(root, *safe)
        assert all(d.code in CODES and d.code.startswith("LK2") for d in problems)
        assert (measurement is None) == bool(problems)
        result = count_paths(safe, cwd=root)
        assert all(isinstance(p.reason, str) for p in result.problems)


def test_a_nul_and_a_huge_number_are_diagnostics(tmp_path):
    make_files(tmp_path, {"a.md": "x\n"})
    _, problems = measure(tmp_path, "a\0.md", "a.md:" + "1" * 5000)
    assert [d.code for d in problems] == ["LK208", "LK207"]
    assert "NUL" in problems[0].message and "more than 18 digits" in problems[1].message


# --- a git that never answers ----------------------------------------------------------------------------


def test_a_git_that_hangs_is_cut_short(tmp_path, monkeypatch):
    make_files(tmp_path, {"repo/.git/HEAD": "ref: refs/heads/main\n", "repo/docs/a.md": "a", "bin/git": ""})
    fake = tmp_path / "bin" / "git"
    fake.write_text("#!/bin/sh\nexec sleep 30\n", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    found = Resolver(tmp_path / "repo", tmp_path / "repo", git_timeout=0.5).resolve(parse_source("docs"))
    assert found.sources == []
    assert [(p.code, p.message) for p in found.problems] == [
        ("LK208", "cannot be listed (git did not answer within 0.5 s)")
    ]
    assert folders.GIT_TIMEOUT > 0  # the default bound, used when none is given
