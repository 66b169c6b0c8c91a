"""Nothing leaked through sources: whatever lies outside the source root (names, sizes, contents, how many
files), nothing ledgerkit returns or says changes with it, and nothing of it is opened."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from ledgerkit.config import Config
from ledgerkit.measuring.measure import Measurer
from ledgerkit.measuring.resolve import Resolver
from ledgerkit.measuring.specs import parse_source
from ledgerkit.reading.parse import parse

from ..conftest import ledger, make_files, record

ENTRIES = [
    "link/*",
    "link/**",
    "link/**/*.md",
    "link",
    "link/secret.md",
    "**",
    "**/*.md",
    "/**",
    "*",
    "*/*",
    ".",
    "/",
    "in",
    "in/file-link.md",
    "in/chain.md",
    "../*",
    "../outside/*",
    "/../outside/**",
    "*/..",
    "*/../../*",
    "in/../../outside/secret.md",
    "link/../in/a.md",
]

# What lies outside: how many files, their names (marked so a leak is easy to find), their sizes.
outsides = st.lists(
    st.tuples(st.sampled_from(["", "sub/", "deep/er/"]), st.integers(0, 10**6), st.integers(0, 3000)),
    min_size=0,
    max_size=6,
)


def build(base: Path, outside: list[tuple[str, int, int]]) -> Path:
    root = base / "root"
    make_files(root, {"in/a.md": "inside\n", "in/b.md": "also inside\n", "top.md": "top\n"})
    out = base / "outside"
    out.mkdir()
    make_files(out, {"secret.md": "SECRETCONTENT"})
    for i, (folder, tag, size) in enumerate(outside):
        make_files(out, {f"{folder}LEAK{tag}x{i}.md": "LEAKED" * (size // 6 + 1)})
    os.symlink(out, root / "link")  # a folder link out
    os.symlink(out / "secret.md", root / "in" / "file-link.md")  # a file link out
    os.symlink("file-link.md", root / "in" / "chain.md")  # a chain, out at its end
    return root


def observe(root: Path) -> list[object]:
    """Everything resolving and measuring every entry returns or says, outside-path-free by construction."""
    seen: list[object] = []
    resolver = Resolver(root, root)
    for entry in ENTRIES:
        found = resolver.resolve(parse_source(entry))
        seen.append((entry, [(str(s.path), s.shown, s.display) for s in found.sources], found.problems, found.skipped))
    path = root / "ledger.md"
    path.write_text(ledger(*(record(n + 1, (e,)) for n, e in enumerate(ENTRIES))), encoding="utf-8")
    lk = parse(path.read_text(encoding="utf-8"), str(path))
    measurer = Measurer(lk, Config(), root)
    for r in lk.records:
        measurement, problems = measurer.measure(r)
        seen.append((measurement.chars if measurement else None, [d.format() for d in problems]))
    seen.append(measurer.skipped)
    return seen


def recording(opened: list[str], real_open):  # type: ignore[no-untyped-def]
    def open_(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(os.fspath(path))
        return real_open(path, *args, **kwargs)

    return open_


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=outsides, second=outsides)
def test_nothing_returned_or_said_depends_on_what_is_outside(first, second):
    views = []
    for outside in (first, second):
        with tempfile.TemporaryDirectory() as base, pytest.MonkeyPatch.context() as patch:
            opened: list[str] = []
            patch.setattr(os, "open", recording(opened, os.open))
            root = build(Path(base).resolve(), outside)
            view = repr(observe(root)).replace(base, "BASE").replace(os.path.realpath(base), "BASE")
            assert [p for p in opened if "outside" in p] == []  # nothing outside is even opened
            views.append(view)
    assert views[0] == views[1]  # the same, whatever lies outside: no name, size, content nor count
    assert "LEAK" not in views[0] and "SECRET" not in views[0] and "BASE/outside" not in views[0]


def test_a_glob_through_a_link_out_is_one_problem_naming_what_was_written(tmp_path):
    root = build(tmp_path, [("", 1, 10), ("sub/", 2, 20), ("", 3, 30)])
    found = Resolver(root, root).resolve(parse_source("link/*"))
    assert found.sources == [] and found.skipped == []
    assert [(p.code, p.message) for p in found.problems] == [("LK205", f"leaves the source root {root}")]
    path = root / "ledger.md"
    path.write_text(ledger(record(1, ("link/*", "link/**/*.md", "in/chain.md"))), encoding="utf-8")
    lk = parse(path.read_text(encoding="utf-8"), str(path))
    _, problems = Measurer(lk, Config(), root).measure(lk.records[0])
    assert [d.message for d in problems] == [
        f"source link/* leaves the source root {root}",
        f"source link/**/*.md leaves the source root {root}",
        f"source in/chain.md leaves the source root {root}",
    ]


def test_a_globstar_from_the_root_reports_the_link_once_and_keeps_what_is_inside(tmp_path):
    root = build(tmp_path, [("", 1, 10), ("deep/er/", 2, 20)])
    found = Resolver(root, root).resolve(parse_source("**/*.md"))
    assert [s.shown for s in found.sources] == ["in/a.md", "in/b.md", "top.md"]
    assert [p.code for p in found.problems] == ["LK205"]
