from __future__ import annotations

import os
from pathlib import Path

import pytest

from ledgerkit.config import Config, load_config
from ledgerkit.measuring.measure import FileText, Measurer, SourceError, source_root, spec_of
from ledgerkit.reading.parse import Entry, parse

from .conftest import ledger, make_files, record


def spec(text: str):
    return spec_of(Entry(5, 5, text))


@pytest.mark.parametrize(
    ("text", "path", "start", "end"),
    [
        ("/a/b.md", "/a/b.md", None, None),
        ("/a/b.md  # a comment # with hashes", "/a/b.md", None, None),
        ("a.md:10-20", "a.md", 10, 20),
        ("a.md:7", "a.md", 7, 7),
        ("a.md#L7", "a.md", 7, 7),
        ("a.md#L3-L9", "a.md", 3, 9),
        ("a.md#L3-9  # comment", "a.md", 3, 9),
        ("`docs/my notes.md`", "docs/my notes.md", None, None),
        ("문서/회의 기록.md:2-3", "문서/회의 기록.md", 2, 3),
        ("docs/**/*.md", "docs/**/*.md", None, None),
        ("c#sharp.md", "c#sharp.md", None, None),
    ],
)
def test_parse_source(text, path, start, end):
    s = spec(text)
    assert (s.path, s.start, s.end) == (path, start, end)


def test_parse_source_columns_and_empty():
    assert spec("   a.md").column == 8
    assert spec("`a.md`").column == 6
    assert spec("# only a comment") is None
    assert spec("") is None


def text_of(data: bytes) -> FileText:
    return FileText.from_bytes(data)


def test_counting_rules():
    assert text_of(b"abc\n").chars == 4
    assert text_of(b"abc\r\n").chars == 4  # CRLF counts as one
    assert text_of("\ufeffabc\n".encode()).chars == 4  # the BOM is not counted
    assert text_of("한국어🪷\n".encode()).chars == 5  # code points, not bytes
    assert text_of("e\u0301".encode()).chars == 2  # a combining mark is its own code point
    assert text_of(b"a\rb").chars == 3  # a lone CR is a character
    assert text_of(b"").chars == 0


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_line_ranges(newline):
    body = newline.join(["one", "two", "three", "4"]) + newline
    t = text_of(body.encode())
    assert t.line_count == 4
    assert t.count(1, 1) == 4
    assert t.count(2, 3) == 4 + 6
    assert t.count(1, 4) == t.chars
    assert t.slice(2, 3) == "two" + newline + "three" + newline
    no_final_newline = text_of(b"a\nbc")
    assert no_final_newline.line_count == 2 and no_final_newline.count(2, 2) == 2
    with pytest.raises(SourceError, match=r"goes beyond the end of the file \(4 lines\)") as exc:
        t.count(3, 5)
    assert exc.value.code == "LK207"
    with pytest.raises(SourceError):
        t.count(0, 2)
    with pytest.raises(SourceError):
        t.count(3, 2)


FIRST_SOURCE = ledger(record(1)).split("\n").index("  - a.md") + 1  # the ledger line of the first source


def measure(tmp_path: Path, sources: tuple[str, ...], files: dict[str, str | bytes], root: Path | None = None):
    make_files(tmp_path, files)
    path = tmp_path / "ledger.md"
    path.write_text(ledger(record(1, sources)), encoding="utf-8")
    lk = parse(path.read_text(encoding="utf-8"), str(path))
    m = Measurer(lk, Config(), root or tmp_path)
    return m, m.measure(lk.records[0])


def test_measures_sources_with_ranges_globs_spaces_and_korean(tmp_path):
    files = {
        "a.md": "12345\n",
        "docs/my notes.md": "a\nbb\nccc\n",
        "문서/회의 기록.md": "가나다\n",
        "docs/x/deep.md": "xy\n",
        "docs/x/skip.txt": "nope\n",
    }
    sources = ("/a.md  # root-relative", "docs/my notes.md:2-3", "문서/회의 기록.md", "docs/**/*.md", "a.md")
    m, (measurement, problems) = measure(tmp_path, sources, files)
    assert problems == []
    labels = [s.source.label for s in measurement.sources]
    # a.md is named twice (once from the root, once relative) and counted once; the glob adds deep.md and,
    # whole, my notes.md (a different range from the one named above, so counted too).
    assert labels == ["/a.md", "/docs/my notes.md:2-3", "/문서/회의 기록.md", "/docs/my notes.md", "/docs/x/deep.md"]
    assert measurement.chars == 6 + 7 + 4 + 9 + 3


def test_each_file_is_read_once_per_run(tmp_path):
    make_files(tmp_path, {"a.md": "x" * 10})
    path = tmp_path / "l.md"
    path.write_text(ledger(*(record(n, ("a.md", "a.md:1")) for n in range(1, 6))), encoding="utf-8")
    lk = parse(path.read_text(encoding="utf-8"), str(path))
    m = Measurer(lk, Config(), tmp_path)
    assert all(m.measure(r)[0].chars == 20 for r in lk.records)
    assert m.reader.reads == 1


@pytest.mark.parametrize(
    ("source", "files", "code", "message"),
    [
        ("missing.md", {}, "LK201", "source missing.md not found"),
        ("folder:1-2", {"folder/x.md": "x"}, "LK202", "source folder:1-2 is a directory: a line range needs a file"),
        ("bin.md", {"bin.md": b"ab\0cd"}, "LK203", "source bin.md is a binary file"),
        (
            "latin1.md",
            {"latin1.md": "café".encode("latin-1")},
            "LK204",
            "source latin1.md is not UTF-8 text (byte 0xe9 at offset 3)",
        ),
        ("nothing/*.md", {}, "LK206", "source glob 'nothing/*.md' matches no file"),
        ("a.md:3-4", {"a.md": "one\n"}, "LK207", "source a.md:3-4 goes beyond the end of the file (1 line)"),
    ],
)
def test_source_problems_name_the_ledger_line_and_path(tmp_path, source, files, code, message):
    _, (measurement, problems) = measure(tmp_path, (source,), files)
    assert measurement is None
    (d,) = problems
    assert (d.code, d.line, d.column, d.message) == (code, FIRST_SOURCE, 5, message)


def test_unreadable_source(tmp_path, monkeypatch):
    real_open = os.open

    def deny(path, flags, *args, **kwargs):
        if os.fspath(path).endswith("a.md"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)  # the tests run as root, where chmod 000 denies nothing
    _, (_, problems) = measure(tmp_path, ("a.md",), {"a.md": "x"})
    assert [(d.code, d.message) for d in problems] == [("LK208", "source a.md cannot be read (Permission denied)")]


def test_every_problem_of_a_record_is_reported(tmp_path):
    _, (_, problems) = measure(tmp_path, ("a.md", "b.md", "c/*.md", "ok.md"), {"ok.md": "x"})
    assert [d.code for d in problems] == ["LK201", "LK201", "LK206"]
    assert [d.line for d in problems] == [FIRST_SOURCE, FIRST_SOURCE + 1, FIRST_SOURCE + 2]


def test_sources_may_not_leave_the_root_and_are_not_read(tmp_path):
    outside = tmp_path / "outside"
    make_files(outside, {"secret.md": "SECRET CONTENT"})
    root = tmp_path / "root"
    make_files(root, {"in.md": "x"})
    os.symlink(outside / "secret.md", root / "link.md")
    os.symlink(outside, root / "linkdir")
    m, (measurement, problems) = measure(
        root, ("../outside/secret.md", "link.md", "/../outside/secret.md", "linkdir/*.md", "in.md"), {}
    )
    assert measurement is None
    assert [d.code for d in problems] == ["LK205"] * 4
    assert all("SECRET" not in d.message and str(outside) not in d.message for d in problems)
    assert m.reader.reads == 1  # only in.md


def test_dotdot_inside_the_root_is_fine(tmp_path):
    make_files(tmp_path, {"a/x.md": "xyz", "b/ledger.md": ""})
    path = tmp_path / "b" / "ledger.md"
    path.write_text(ledger(record(1, ("../a/x.md",))), encoding="utf-8")
    lk = parse(path.read_text(encoding="utf-8"), str(path))
    measurement, problems = Measurer(lk, Config(), tmp_path).measure(lk.records[0])
    assert problems == [] and measurement.chars == 3


def test_record_without_sources(tmp_path):
    _, (measurement, problems) = measure(tmp_path, (), {})
    assert measurement is None and [d.code for d in problems] == ["LK104"]


def test_source_root_precedence(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    folder = repo / "ledgers"
    folder.mkdir()
    ledger_path = folder / "l.md"
    assert source_root(ledger_path, Config()) == repo  # the git top level
    assert source_root(tmp_path / "elsewhere" / "l.md", Config()) == (tmp_path / "elsewhere").resolve()
    (folder / "ledgerkit.yaml").write_text("root: ../src\n", encoding="utf-8")
    config = load_config(folder / "ledgerkit.yaml")
    assert source_root(ledger_path, config) == repo / "src"  # the configuration
    assert source_root(ledger_path, config, tmp_path / "cli") == tmp_path / "cli"  # --root


def _missing(tmp_path: Path, folder: str, sources: tuple[str, ...]) -> list[str]:
    """The LK201 messages of a ledger in ``folder`` (under the source root ``tmp_path``) naming ``sources``."""
    path = tmp_path / folder / "ledger.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ledger(record(1, sources)), encoding="utf-8")
    lk = parse(path.read_text(encoding="utf-8"), str(path))
    return [d.message for d in Measurer(lk, Config(), tmp_path).measure(lk.records[0])[1]]


def test_lk201_names_the_path_it_looked_for_inside_the_source_root(tmp_path):
    # Issue 15: "source docs/brief.md not found" did not say it was looked for beside the ledger.
    assert _missing(tmp_path, "sub", ("docs/brief.md", "../top.md", "/docs/x.md")) == [
        "source docs/brief.md not found (looked for /sub/docs/brief.md in the source root)",
        "source ../top.md not found (looked for /top.md in the source root)",
        "source /docs/x.md not found",  # root-relative as written: nothing to add
    ]
    # A ledger at the root: a relative path is its root-relative path, said once.
    assert _missing(tmp_path, ".", ("docs/brief.md", "./x.md")) == [
        "source docs/brief.md not found",
        "source ./x.md not found (looked for /x.md in the source root)",
    ]


def test_lk201_never_shows_a_path_outside_the_source_root(tmp_path):
    root = tmp_path / "root"
    gone = "../../../" + tmp_path.name + "/gone.md"
    assert _missing(root, "sub", ("../../outside.md", gone)) == [
        f"source ../../outside.md leaves the source root {root}",  # the root is shown, nothing beyond it
        f"source {gone} leaves the source root {root}",
    ]
