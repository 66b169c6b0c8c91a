"""ledgerkit.measuring below the ledger: reading an entry, resolving it under the root (paths, globs,
folders), and reading one file whole or streamed, with the same figures either way."""

from __future__ import annotations

import codecs
import os
import subprocess
import tempfile
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from ledgerkit.config import Config
from ledgerkit.measuring import files
from ledgerkit.measuring.files import FileText, SourceError, SourceReader, StreamedText, open_regular, read_source
from ledgerkit.measuring.folders import folder_entries
from ledgerkit.measuring.measure import Measurer
from ledgerkit.measuring.resolve import Resolver
from ledgerkit.measuring.specs import MAX_LINE_DIGITS, Problem, parse_source
from ledgerkit.reading.parse import parse
from ledgerkit.reports.count import count_paths

from .conftest import ledger, make_files, record

# --- reading an entry ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path", "start", "end", "written"),
    [
        ("a.md#L3-L9  # why", "a.md", 3, 9, "a.md#L3-L9"),
        ("`docs/x.md:2`", "docs/x.md", 2, 2, "docs/x.md:2"),
        ("big.md", "big.md", None, None, "big.md"),
        ("/big.md", "/big.md", None, None, "/big.md"),
    ],
)
def test_an_entry_keeps_what_was_written(text, path, start, end, written):
    spec = parse_source(text, 3, 1)
    assert (spec.path, spec.start, spec.end, spec.written, spec.problem) == (path, start, end, written, None)


@pytest.mark.parametrize(
    "text",
    ["a.md:0", "a.md:0-3", "a.md:5-4", "a.md#L9-L2", "a.md:" + "9" * (MAX_LINE_DIGITS + 1), "a.md:1-" + "7" * 5000],
)
def test_a_range_that_cannot_be_is_a_problem_when_read(text):
    spec = parse_source(text)
    assert spec.problem is not None and spec.problem.code == "LK207"
    assert (spec.start, spec.end) == (None, None)
    assert spec.written == text  # shown as written, however long


def test_the_longest_line_number_allowed_is_read():
    n = 10**MAX_LINE_DIGITS - 1
    spec = parse_source(f"a.md:1-{n}")
    assert (spec.start, spec.end, spec.problem) == (1, n, None)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab:-#L`/* \t0123456789\0\u00e9\ud55c"), max_size=40))
def test_reading_any_entry_never_fails(text):
    spec = parse_source(text, 1, 1)
    if spec is None:
        return
    assert spec.written and spec.path
    if spec.problem is not None:
        assert spec.problem.code == "LK207" and spec.start is None and spec.end is None
    elif spec.start is not None:
        assert spec.end is not None and 1 <= spec.start <= spec.end < 10**MAX_LINE_DIGITS


# --- reading one file ------------------------------------------------------------------------------------


def write(folder: Path, name: str, data: bytes) -> str:
    path = folder / name
    path.write_bytes(data)
    return str(path)


def test_utf16_and_utf32_are_named_not_called_binary(tmp_path):
    text = "Token budget ledger: 토큰 예산 원장.\nSecond line.\n" * 20
    cases = {
        "le_bom.md": ("UTF-16", codecs.BOM_UTF16_LE + text.encode("utf-16-le")),
        "be_bom.md": ("UTF-16", codecs.BOM_UTF16_BE + text.encode("utf-16-be")),
        "le.md": ("UTF-16", text.encode("utf-16-le")),
        "be.md": ("UTF-16", text.encode("utf-16-be")),
        "korean_bom.md": ("UTF-16", codecs.BOM_UTF16_LE + "토큰예산원장".encode("utf-16-le") * 50),  # no NUL at all
        "u32.md": ("UTF-32", text.encode("utf-32")),  # with its BOM
        "u32le.md": ("UTF-32", text.encode("utf-32-le")),
    }
    for name, (encoding, data) in cases.items():
        with pytest.raises(SourceError) as exc:
            read_source(write(tmp_path, name, data))
        assert exc.value.code == "LK204", name
        assert exc.value.message == (
            f"is {encoding} text; ledgerkit measures UTF-8 (convert it, e.g. iconv -f {encoding} -t UTF-8)"
        ), name


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0\0\0\x01\0\x08\x06\0\0\0" * 20,  # an image
        b"plain UTF-8 text with one stray NUL here:\0 and more text after it, long enough to judge\n" * 3,
        b"ab\0cd",
        bytes(range(256)) * 4,
    ],
)
def test_binary_stays_binary(tmp_path, data):
    with pytest.raises(SourceError) as exc:
        read_source(write(tmp_path, "x.bin", data))
    assert (exc.value.code, exc.value.message) == ("LK203", "is a binary file")


def test_only_regular_files_are_opened(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    for path, code in [(tmp_path / "fifo", "LK209"), ("/dev/null", "LK209"), (tmp_path, "LK202")]:
        with pytest.raises(SourceError) as exc:
            open_regular(str(path))
        assert exc.value.code == code
    with pytest.raises(SourceError, match="NUL"):
        open_regular(str(tmp_path / "a\0b"))


def test_a_file_that_grew_since_fstat_is_read_to_its_end(tmp_path, monkeypatch):
    path = tmp_path / "a.md"
    path.write_bytes("가나다\r\n".encode() * 1000)
    real = os.fstat

    def smaller(fd):  # as if the file had been 10 bytes when fstat looked, and grew before the read
        st = real(fd)
        return os.stat_result((*st[:6], 10, *st[7:10]))

    monkeypatch.setattr(os, "fstat", smaller)
    text = read_source(str(path))
    monkeypatch.setattr(os, "fstat", real)
    assert text.chars == 4 * 1000 and text.line_count == 1000


# Bytes that exercise every rule at once: CRLF and lone CR, multibyte characters split across chunks,
# a BOM, bytes that are not UTF-8 and NULs.
PIECES = [b"a", b"bc", b"\n", b"\r\n", b"\r", "가".encode(), "🪷".encode(), b"\xe9", b"\0", b" "]


def stream(path: str) -> StreamedText:
    fd, st_ = open_regular(path)
    os.close(fd)
    return StreamedText(path, st_)


def outcome(call):
    try:
        return call()
    except SourceError as exc:
        return (exc.code, exc.message)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(st.sampled_from(PIECES), max_size=60),
    bom=st.booleans(),
    chunk=st.integers(min_value=1, max_value=9),
    piece=st.integers(min_value=1, max_value=9),
    ranges=st.lists(st.tuples(st.integers(1, 25), st.integers(0, 6)), max_size=4),
)
def test_a_streamed_file_measures_exactly_as_one_read_whole(body, bom, chunk, piece, ranges):
    data = (codecs.BOM_UTF8 if bom else b"") + b"".join(body)
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        patch.setattr(files, "CHUNK", chunk)
        patch.setattr(files, "_PIECE", piece)  # a chunk is decoded in pieces: their ends fall anywhere too
        patch.setattr(files, "_SAMPLE", 4)  # so that the first read is a chunk too, and boundaries fall anywhere
        path = write(Path(folder), "s.md", data)
        streamed = stream(path)
        whole = outcome(lambda: FileText.from_bytes(data))
        if isinstance(whole, tuple):  # not text: the same problem, whatever is asked first
            asked = ranges[0] if ranges else (None, None)
            start, end = (asked[0], asked[0] + asked[1]) if ranges else asked
            assert outcome(lambda: streamed.count(start, end)) == whole
            assert outcome(lambda: streamed.chars) == whole
            return
        assert streamed.chars == whole.chars
        for start, extra in ranges:
            end = start + extra
            asked = (start, end)
            assert outcome(lambda a=asked: streamed.count(*a)) == outcome(lambda a=asked: whole.count(*a))
            if start <= end <= whole.line_count:
                assert streamed.slice(start, end) == whole.slice(start, end)
                assert "".join(streamed.chunks(start, end)) == "".join(whole.chunks(start, end))
        assert streamed.line_count == whole.line_count
        assert "".join(streamed.chunks(None, None)) == "".join(whole.chunks(None, None))


def test_a_range_of_a_large_file_reads_it_once_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "STREAM_ABOVE", 1000)
    monkeypatch.setattr(files, "CHUNK", 4096)
    lines = [f"{n:06d} 한국어 and English\r\n" for n in range(1, 20001)]
    path = write(tmp_path, "big.md", "".join(lines).encode())
    size = os.path.getsize(path)
    reads: list[int] = []
    real_read, real_pread = os.read, os.pread

    def counting_read(fd, n):
        data = real_read(fd, n)
        reads.append(len(data))
        return data

    def counting_pread(fd, n, offset):
        data = real_pread(fd, n, offset)
        reads.append(len(data))
        return data

    monkeypatch.setattr(os, "read", counting_read)
    monkeypatch.setattr(os, "pread", counting_pread)
    text = SourceReader().read(path)
    assert isinstance(text, StreamedText)
    want = "".join(lines[9999:10009]).replace("\r\n", "\n")
    assert text.count(10000, 10009) == len(want)
    assert max(reads) <= 4096  # never more than a chunk at a time
    assert size <= sum(reads) <= size + 2 * 4096  # one pass, then the range itself
    reads.clear()
    assert "".join(text.chunks(5000, 5001)) == "".join(lines[4999:5001]).replace("\r\n", "\n")
    assert sum(reads) <= 3 * 4096  # a later range starts from a mark, not from the top
    reads.clear()
    assert text.count(12000, 12001) == len("".join(lines[11999:12001]).replace("\r\n", "\n"))
    past = len("".join(lines[10009:12001]).encode())
    assert sum(reads) <= past + 3 * 4096  # lines were counted only as far as asked: on from there
    with pytest.raises(SourceError, match=r"goes beyond the end of the file \(20000 lines\)"):
        text.count(19999, 20001)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=20000).map(lambda b: b.replace(b"\n", b"") or b"x"), st.data())
def test_nth_newline_finds_the_nth(filler, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(filler)), min_size=1, max_size=50)))
    buf = b"".join(filler[a:b] + b"\n" for a, b in zip([0, *cuts], cuts, strict=False))
    n = data.draw(st.integers(1, buf.count(b"\n")))
    expected = [i for i, byte in enumerate(buf) if byte == 10][n - 1]
    assert files._nth_newline(buf, n) == expected


# --- resolving ---------------------------------------------------------------------------------------------


def resolve_all(root: Path, written: str, folder: Path | None = None):
    return Resolver(root, folder or root).resolve(parse_source(written))


def test_sources_are_shown_as_written(tmp_path):
    make_files(tmp_path, {"big.md": "x", "docs/a.md": "a", "docs/sub/b.md": "b", "ledgers/l.md": ""})
    r = Resolver(tmp_path, tmp_path / "ledgers")
    shown = {w: [s.shown for s in r.resolve(parse_source(w)).sources] for w in ["../big.md", "/big.md", "../docs"]}
    assert shown == {
        "../big.md": ["../big.md"],
        "/big.md": ["/big.md"],
        "../docs": ["../docs/a.md", "../docs/sub/b.md"],
    }
    top = Resolver(tmp_path, tmp_path)
    assert [s.shown for s in top.resolve(parse_source("big.md")).sources] == ["big.md"]  # not /big.md
    assert [s.shown for s in top.resolve(parse_source("docs/**/*.md")).sources] == ["docs/a.md", "docs/sub/b.md"]
    assert [s.shown for s in top.resolve(parse_source("/docs/*")).sources] == ["/docs/a.md"]
    assert [s.shown for s in top.resolve(parse_source("docs/")).sources] == ["docs/a.md", "docs/sub/b.md"]
    assert [s.display for s in top.resolve(parse_source("./docs/../big.md")).sources] == ["/big.md"]


def test_only_star_is_a_wildcard_and_hidden_names_need_a_dot(tmp_path):
    make_files(tmp_path, {"[a].md": "x", "b?.md": "x", "bz.md": "x", ".hidden.md": "x", ".h/x.md": "x", "d/e.md": "x"})
    names = lambda w: [s.shown for s in resolve_all(tmp_path, w).sources]  # noqa: E731
    assert names("[a]*") == ["[a].md"]
    assert names("b?*") == ["b?.md"]
    assert names("*.md") == ["[a].md", "b?.md", "bz.md"]
    assert names(".*.md") == [".hidden.md"]
    assert names("**/*.md") == ["[a].md", "b?.md", "bz.md", "d/e.md"]
    assert names(".h/*") == [".h/x.md"]


def test_a_folder_outside_git_leaves_out_hidden_folders_venvs_and_node_modules(tmp_path):
    make_files(
        tmp_path,
        {
            "a.md": "a",
            ".env.md": "hidden file: kept",
            ".git/config": "c",
            ".cache/x.md": "x",
            ".venv/lib/site.py": "v",
            "venv/lib/site.py": "v",
            "env/pyvenv.cfg": "home = /usr",
            "env/lib/site.py": "v",
            "node_modules/pkg/index.js": "n",
            "src/node_modules/x.js": "n",
            "src/b.py": "b",
        },
    )
    names = [s.shown for s in resolve_all(tmp_path, ".").sources]
    assert names == [".env.md", "a.md", "src/b.py"]
    # The folder named is walked even when it is one the walk would leave out.
    assert [s.shown for s in resolve_all(tmp_path, "node_modules").sources] == ["node_modules/pkg/index.js"]


def git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(folder), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
    )


def test_a_folder_in_git_is_what_git_lists(tmp_path):
    make_files(
        tmp_path,
        {
            ".gitignore": "*.log\nbuild/\nnode_modules/\n",
            "a.md": "a",
            "x.log": "ignored",
            "kept.log": "tracked, though ignored",
            "build/out.md": "ignored folder",
            "node_modules/p.js": "ignored",
            ".github/workflow.yml": "hidden but not ignored: git lists it",
            "sub/b.md": "b",
        },
    )
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-f", "kept.log", "a.md")
    names = [s.shown for s in resolve_all(tmp_path, "/").sources]
    assert names == ["/.github/workflow.yml", "/.gitignore", "/a.md", "/kept.log", "/sub/b.md"]
    assert [s.shown for s in resolve_all(tmp_path, "build").sources] == ["build/out.md"]  # asked for by name


def test_a_folder_with_a_range_and_a_folder_met_by_a_glob(tmp_path):
    make_files(tmp_path, {"d/a.md": "a", "d/e/f.md": "f"})
    found = resolve_all(tmp_path, "d:1-2")
    assert [p.code for p in found.problems] == ["LK202"] and found.sources == []
    assert [s.shown for s in resolve_all(tmp_path, "d/*").sources] == ["d/a.md"]  # a glob does not recurse


def test_one_realpath_per_folder_not_per_file(tmp_path, monkeypatch):
    def realpaths(n: int) -> int:
        folder = tmp_path / f"n{n}"
        make_files(folder, {f"docs/f{i}.md": "x" for i in range(n)})
        calls = []
        real = os.path.realpath
        monkeypatch.setattr(os.path, "realpath", lambda p, **kw: calls.append(p) or real(p, **kw))
        r = Resolver(folder, folder)
        for i in range(n):
            assert len(r.resolve(parse_source(f"docs/f{i}.md")).sources) == 1
        monkeypatch.setattr(os.path, "realpath", real)
        return len(calls)

    assert realpaths(20) == realpaths(200)  # constant: one per folder, none per file


def test_a_path_ending_in_dots_is_checked_against_the_root(tmp_path):
    root = tmp_path / "root"
    make_files(root, {"sub/a.md": "x", **{f"d/f{i}.md": "x" for i in range(12)}})
    r = Resolver(root, root)
    for i in range(12):  # enough lookups for d to be listed
        assert len(r.resolve(parse_source(f"d/f{i}.md")).sources) == 1
    for written in ("..", "sub/../..", "/..", "d/../.."):
        assert r.resolve(parse_source(written)).problems == [Problem("LK205", f"leaves the source root {root}")]
    assert r.resolve(parse_source("d/..")).problems == []  # the root itself


# --- measuring through the adapter ---------------------------------------------------------------------


def measure(root: Path, sources: tuple[str, ...]):
    path = root / "ledger.md"
    path.write_text(ledger(record(1, sources)), encoding="utf-8")
    lk = parse(path.read_text(encoding="utf-8"), str(path))
    m = Measurer(lk, Config(), root)
    return m, m.measure(lk.records[0])


def test_a_binary_met_through_a_glob_or_folder_is_skipped_and_named(tmp_path):
    make_files(tmp_path, {"d/a.md": "abc", "d/img.png": b"\x89PNG\0\0", "d/latin.txt": b"caf\xe9"})
    os.mkfifo(tmp_path / "d" / "pipe")
    for written in ("d", "d/*"):
        m, (measurement, problems) = measure(tmp_path, (written,))
        assert problems == [] and measurement.chars == 3
        assert [(s.shown, s.problem.code) for s in measurement.skipped] == [
            ("d/pipe", "LK209"),
            ("d/img.png", "LK203"),
            ("d/latin.txt", "LK204"),
        ]
        assert [s.shown for s in m.skipped] == ["d/pipe", "d/img.png", "d/latin.txt"]
    _, (measurement, problems) = measure(tmp_path, ("d/img.png",))
    assert measurement is None and [(d.code, d.message) for d in problems] == [
        ("LK203", "source d/img.png is a binary file")
    ]


def test_a_glob_or_folder_of_nothing_but_binaries_is_a_problem(tmp_path):
    make_files(tmp_path, {"img/a.png": b"\0", "empty/.keep/x": "hidden"})
    _, (measurement, problems) = measure(tmp_path, ("img/*", "empty"))
    assert measurement is None
    assert [(d.code, d.message) for d in problems] == [
        ("LK206", "source img/* holds no text file (img/a.png)"),
        ("LK206", "source empty holds no file"),
    ]


def test_problems_name_the_entry_as_written(tmp_path):
    make_files(tmp_path, {"a.md": "one\n"})
    _, (_, problems) = measure(tmp_path, ("a.md#L3-L4", "a.md:0", "a\0b.md", "missing.md"))
    assert [(d.code, d.message) for d in problems] == [
        ("LK207", "source a.md#L3-L4 goes beyond the end of the file (1 line)"),
        ("LK207", "source a.md:0 is not a range of lines (1-based, start <= end)"),
        ("LK208", "source a\0b.md cannot be read (its path holds a NUL character)"),
        ("LK201", "source missing.md not found"),
    ]


def test_count_skips_a_binary_met_through_a_glob(tmp_path):
    make_files(tmp_path, {"d/a.md": "abc", "d/img.png": b"\x89PNG\0\0"})
    result = count_paths(["d/*"], cwd=tmp_path)
    assert [f.path for f in result.files] == ["d/a.md"]
    assert [(p.path, p.reason) for p in result.skipped] == [("d/img.png", "is a binary file")]
    assert result.problems == []


def test_folder_entries_name_what_each_is(tmp_path):
    make_files(tmp_path, {"a.md": "a"})
    os.symlink("a.md", tmp_path / "link.md")
    os.mkfifo(tmp_path / "pipe")
    assert folder_entries(str(tmp_path)) == [("a.md", "file"), ("link.md", "link"), ("pipe", "other")]


def test_many_files_of_one_folder_cost_one_listing_not_one_lstat_each(tmp_path, monkeypatch):
    def lstats(n: int) -> int:
        folder = tmp_path / f"n{n}"
        make_files(folder, {f"docs/f{i}.md": "x" for i in range(n)})
        calls = []
        real = os.lstat
        monkeypatch.setattr(os, "lstat", lambda p, **kw: calls.append(p) or real(p, **kw))
        r = Resolver(folder, folder)
        for i in range(n):
            assert len(r.resolve(parse_source(f"docs/f{i}.md")).sources) == 1
        monkeypatch.setattr(os, "lstat", real)
        return len(calls)

    assert lstats(30) == lstats(300)


def test_a_listed_folder_resolves_as_lstat_does(tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    make_files(outside, {"s.md": "secret"})
    root = tmp_path / "root"
    make_files(root, {**{f"d/f{i}.md": "x" for i in range(12)}, "d/sub/x.md": "x"})
    os.symlink("f0.md", root / "d" / "in-link.md")
    os.symlink(outside / "s.md", root / "d" / "out-link.md")
    os.mkfifo(root / "d" / "pipe")
    names = ["in-link.md", "out-link.md", "pipe", "sub", "missing.md", "f3.md"]

    def outcomes(list_after: int) -> list[object]:
        monkeypatch.setattr("ledgerkit.measuring.resolve.LIST_AFTER", list_after)
        r = Resolver(root, root)
        for i in range(12):  # enough lookups for the folder to be listed
            r.resolve(parse_source(f"d/f{i}.md"))
        found = [r.resolve(parse_source(f"d/{name}")) for name in names]
        return [([(s.real, s.shown) for s in f.sources], f.problems, f.skipped) for f in found]

    listed, looked_up = outcomes(1), outcomes(10**9)
    assert listed == looked_up
    assert [problems for _, problems, _ in listed][:3] == [
        [],
        [Problem("LK205", f"leaves the source root {root}")],
        [Problem("LK209", "is not a regular file")],
    ]
