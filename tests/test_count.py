"""`ledgerkit count`: files, folders and SOURCE_FILES entries, transcripts, text and JSON, checked against
tiktoken's own counts computed here."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgerkit.cli import cli
from ledgerkit.errors import LedgerkitError
from ledgerkit.measuring.measure import SourceReader
from ledgerkit.reports import count as count_module
from ledgerkit.reports.count import ProgressBar, count_messages, count_paths, folder_files, read_transcript

from .conftest import DATA, make_files

ENGLISH = "The ledger keeps one record per context load.\nEach record names its sources.\n"
KOREAN = "토큰 예산 원장은 컨텍스트 한도 안에서 기억과 맥락을 유지한다.\n두 번째 줄.\n세 번째 줄.\n"
CODE = "def total(xs):\n    return sum(x for x in xs if x)\n"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def n(reference, text: str, name: str = "o200k_base") -> int:
    return len(reference[name].encode_ordinary(text))


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    make_files(tmp_path, {"docs/en.md": ENGLISH, "docs/ko.md": KOREAN, "src/code.py": CODE})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_text_output_gives_chars_estimate_and_exact_tokens_per_encoding(tree, reference):
    result = run("count", "docs", "src/code.py", "-e", "o200k_base", "-e", "cl100k_base")
    assert (result.exit_code, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["chars", "estimate", "o200k_base", "cl100k_base", "path"]
    rows = {line.split()[-1]: line.split()[:-1] for line in lines[1:4]}
    assert list(rows) == ["docs/en.md", "docs/ko.md", "src/code.py"]
    for path, text in [("docs/en.md", ENGLISH), ("docs/ko.md", KOREAN), ("src/code.py", CODE)]:
        chars = len(text)
        assert rows[path] == [
            f"{chars:,}",
            f"{-(-chars // 4):,}",
            f"{n(reference, text):,}",
            f"{n(reference, text, 'cl100k_base'):,}",
        ]
    total = lines[4].split()
    texts = [ENGLISH, KOREAN, CODE]
    chars = sum(map(len, texts))
    assert total == [
        f"{chars:,}",  # with thousands separators, as every view for people (issue 15)
        f"{-(-chars // 4):,}",
        f"{sum(n(reference, t) for t in texts):,}",
        f"{sum(n(reference, t, 'cl100k_base') for t in texts):,}",
        "total",
        "(3",
        "files)",
    ]
    assert lines[5] == "estimate: ceil(chars / 4), the ledger's rule of thumb"


def test_json_output_has_the_documented_shape(tree, reference):
    result = run("count", "--json", "docs/ko.md", "src/code.py", "--encoding", "cl100k_base")
    assert (result.exit_code, result.stderr) == (0, "")
    data = json.loads(result.stdout)
    assert data["files"] == [
        {
            "path": "docs/ko.md",
            "chars": len(KOREAN),
            "token_estimate": -(-len(KOREAN) // 4),
            "tokens": {"cl100k_base": n(reference, KOREAN, "cl100k_base")},
        },
        {
            "path": "src/code.py",
            "chars": len(CODE),
            "token_estimate": -(-len(CODE) // 4),
            "tokens": {"cl100k_base": n(reference, CODE, "cl100k_base")},
        },
    ]
    chars = len(KOREAN) + len(CODE)
    assert data["total"] == {
        "files": 2,
        "chars": chars,
        "token_estimate": -(-chars // 4),
        "tokens": {"cl100k_base": n(reference, KOREAN, "cl100k_base") + n(reference, CODE, "cl100k_base")},
    }
    assert data["encodings"] == {"cl100k_base": {"encoding": "cl100k_base", "exact": True}}


def test_the_default_encoding_is_o200k_base_or_the_configured_one(tree, reference):
    data = json.loads(run("count", "--json", "docs/en.md").stdout)
    assert data["files"][0]["tokens"] == {"o200k_base": n(reference, ENGLISH)}
    (tree / "ledgerkit.yaml").write_text("encoding: cl100k_base\ndivisor: 3\n", encoding="utf-8")
    data = json.loads(run("count", "--json", "docs/en.md").stdout)
    assert data["files"][0]["tokens"] == {"cl100k_base": n(reference, ENGLISH, "cl100k_base")}
    assert data["files"][0]["token_estimate"] == -(-len(ENGLISH) // 3)


def test_an_estimate_says_so_in_text_and_json(tree, reference):
    result = run("count", "docs/ko.md", "-e", "claude", "-e", "gpt-4o")
    assert result.exit_code == 0
    assert "claude: an estimate, counted with o200k_base (claude's tokenizer is not in tiktoken)" in result.stdout
    assert "gpt-4o: exact, o200k_base" in result.stdout
    data = json.loads(run("count", "--json", "docs/ko.md", "-e", "claude").stdout)
    assert data["encodings"] == {"claude": {"encoding": "o200k_base", "exact": False}}
    assert data["files"][0]["tokens"] == {"claude": n(reference, KOREAN)}


def test_source_files_syntax_ranges_and_globs(tree, reference):
    make_files(tree, {"docs/sub/deep.md": "deep\n"})
    data = json.loads(run("count", "--json", "docs/ko.md:2-3", "docs/ko.md#L1", "docs/**/*.md").stdout)
    lines = KOREAN.splitlines(keepends=True)
    assert [(f["path"], f["chars"], f["tokens"]["o200k_base"]) for f in data["files"]] == [
        ("docs/ko.md:2-3", len(lines[1] + lines[2]), n(reference, lines[1] + lines[2])),
        ("docs/ko.md:1", len(lines[0]), n(reference, lines[0])),
        ("docs/en.md", len(ENGLISH), n(reference, ENGLISH)),
        ("docs/ko.md", len(KOREAN), n(reference, KOREAN)),
        ("docs/sub/deep.md", 5, n(reference, "deep\n")),
    ]


def test_crlf_counts_as_fill_counts_it(tmp_path, monkeypatch, reference):
    make_files(tmp_path, {"w.md": "\ufeffone\r\ntwo\r\n", "u.md": "one\ntwo\n"})
    monkeypatch.chdir(tmp_path)
    data = json.loads(run("count", "--json", "w.md", "u.md").stdout)
    assert [f["chars"] for f in data["files"]] == [8, 8]
    assert [f["tokens"]["o200k_base"] for f in data["files"]] == [n(reference, "one\ntwo\n")] * 2


def test_each_file_is_read_once(tree, monkeypatch):
    readers: list[SourceReader] = []

    class Counting(SourceReader):
        def __init__(self) -> None:
            super().__init__()
            readers.append(self)

    monkeypatch.setattr(count_module, "SourceReader", Counting)
    result = count_paths(["docs/ko.md:1", "docs/ko.md:2-3", "docs", "docs/ko.md"], ["o200k_base", "cl100k_base"])
    assert [f.path for f in result.files] == ["docs/ko.md:1", "docs/ko.md:2-3", "docs/en.md", "docs/ko.md"]
    assert readers[0].reads == 2


def test_top_lists_the_largest_and_totals_everything(tree, reference):
    make_files(tree, {"docs/big.md": ENGLISH * 5})
    counts = {
        "docs/big.md": n(reference, ENGLISH * 5),
        "docs/en.md": n(reference, ENGLISH),
        "docs/ko.md": n(reference, KOREAN),
    }
    largest = sorted(counts, key=lambda p: -counts[p])[:2]
    data = json.loads(run("count", "--json", "--top", "2", "docs").stdout)
    assert [f["path"] for f in data["files"]] == largest
    assert data["total"]["files"] == 3 and data["total"]["tokens"]["o200k_base"] == sum(counts.values())
    text = run("count", "--top", "2", "docs").stdout.splitlines()
    assert text[0] == "the 2 largest of 3 files, by o200k_base tokens"
    assert [line.split()[-1] for line in text[2:4]] == largest
    assert text[4].endswith("total (3 files)")


# --- folders ------------------------------------------------------------------------------------------


def test_a_folder_in_a_git_work_tree_leaves_out_what_git_ignores(tmp_path):
    make_files(
        tmp_path,
        {
            ".gitignore": "*.log\nbuild/\n",
            "a.md": "a",
            "notes.log": "log",
            "build/out.md": "built",
            "sub/b.md": "b",
            "sub/.gitignore": "secret.md\n",
            "sub/secret.md": "s",
            "tracked.log": "kept: tracked",
        },
    )
    git = ["git", "-C", str(tmp_path), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-f", "tracked.log", "a.md"], check=True)
    assert folder_files(tmp_path) == [".gitignore", "a.md", "sub/.gitignore", "sub/b.md", "tracked.log"]
    assert folder_files(tmp_path / "sub") == [".gitignore", "b.md"]
    # A folder git ignores is counted whole when it is the one asked for.
    make_files(tmp_path, {"build/deep/more.md": "m"})
    assert folder_files(tmp_path / "build") == ["deep/more.md", "out.md"]


def test_a_folder_outside_git_skips_only_dot_git(tmp_path):
    make_files(
        tmp_path,
        {".gitignore": "*.log\n", "a.md": "a", "x.log": "x", ".git/config": "c", "d/.git/HEAD": "h", "d/e.md": "e"},
    )
    assert folder_files(tmp_path) == [".gitignore", "a.md", "d/e.md", "x.log"]


def test_binary_files_in_a_folder_are_skipped_but_named_ones_are_problems(tree):
    make_files(tree, {"docs/img.png": b"\x89PNG\0\0", "docs/latin1.txt": b"caf\xe9\n"})
    result = run("count", "docs")
    assert result.exit_code == 0
    assert [line.split()[-1] for line in result.stdout.splitlines()[1:3]] == ["docs/en.md", "docs/ko.md"]
    assert result.stderr == "ledgerkit: skipped 2 files that are not text: docs/img.png, docs/latin1.txt\n"
    data = json.loads(run("count", "--json", "docs").stdout)
    assert data["skipped"] == [
        {"path": "docs/img.png", "reason": "is a binary file"},
        {"path": "docs/latin1.txt", "reason": "is not UTF-8 text (byte 0xe9 at offset 3)"},
    ]
    named = run("count", "docs/img.png", "docs/en.md", "nope.md", "docs/en.md:9", "x*.md")
    assert named.exit_code == 2
    assert [line.split()[-1] for line in named.stdout.splitlines()[1:2]] == ["docs/en.md"]
    assert named.stderr.splitlines() == [
        "ledgerkit: x*.md: glob matches no file",
        "ledgerkit: docs/img.png: is a binary file",
        f"ledgerkit: nope.md: not found (looked for {tree / 'nope.md'})",
        "ledgerkit: docs/en.md:9: goes beyond the end of the file (2 lines)",
    ]


def test_an_unknown_encoding_is_one_line_and_exit_2(tree):
    result = run("count", "docs", "-e", "nope")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.startswith("ledgerkit: unknown encoding 'nope': available offline: cl100k_base, o200k_base;")
    assert result.stderr.count("\n") == 1


# --- transcripts ---------------------------------------------------------------------------------------

COOKBOOK = DATA / "count" / "cookbook_messages.json"


def test_messages_match_openais_documented_counts(reference):
    # The OpenAI Cookbook ("How to count tokens with tiktoken") checks its example against the API:
    # 124 prompt tokens for gpt-4o (o200k_base), 129 for gpt-4 (cl100k_base).
    result = count_messages([str(COOKBOOK)], ["o200k_base", "cl100k_base"])
    assert result.files[0].tokens == {"o200k_base": 124, "cl100k_base": 129}
    assert result.files[0].messages == 6
    messages = json.loads(COOKBOOK.read_text(encoding="utf-8"))
    for name in ("o200k_base", "cl100k_base"):
        expected = 3 + sum(3 + sum(n(reference, v, name) for v in m.values()) + ("name" in m) for m in messages)
        assert result.files[0].tokens[name] == expected


def test_messages_from_jsonl_and_a_request_body(tmp_path, reference):
    messages = json.loads(COOKBOOK.read_text(encoding="utf-8"))
    make_files(
        tmp_path,
        {
            "chat.jsonl": "\n".join(json.dumps(m, ensure_ascii=False) for m in messages) + "\n\n",
            "request.json": json.dumps({"model": "gpt-4o", "messages": messages}),
        },
    )
    result = CliRunner().invoke(
        cli, ["count", "--messages", "--json", str(tmp_path / "chat.jsonl"), str(tmp_path / "request.json")]
    )
    assert (result.exit_code, result.stderr) == (0, "")
    data = json.loads(result.stdout)
    assert [(f["messages"], f["tokens"]["o200k_base"]) for f in data["files"]] == [(6, 124), (6, 124)]
    assert data["total"]["messages"] == 12 and data["total"]["tokens"]["o200k_base"] == 248
    chars = sum(len(v) for m in messages for v in m.values())
    assert data["files"][0]["chars"] == chars


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"role": "user", "content": "a"}\nnot json\n', "line 2: neither JSON nor JSONL"),
        ('[{"role": "user", "content": "a", "tool_calls": []}]', "message 1: tool_calls cannot be counted"),
        ('[{"role": "user", "content": [{"type": "text", "text": "a"}]}]', "message 1: content must be a string"),
        ('"just a string"', "expected a JSON list of messages"),
        ('[{"content": "a"}]', "message 1: role must be a string"),
        ('[{"role": "user", "content": "a"}, {"role": "assistant", "content": ""}]', "message 2: the message has no"),
        ('[{"role": "user", "content": "a"}, {"role": "assistant", "content": null}]', "message 2: the message has no"),
        ('{"role": "user", "content": "a"}\n\n{"role": "user"}\n', "line 3: the message has no content"),
        ("[]", "holds no message"),
        ('{"messages": []}', "holds no message"),
    ],
)
def test_a_transcript_that_is_not_messages_is_a_clear_error(tmp_path, text, reason):
    (tmp_path / "t.json").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["count", "--messages", str(tmp_path / "t.json")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"ledgerkit: {tmp_path / 't.json'}: {reason}")


def test_read_transcript_keeps_role_content_and_name():
    assert read_transcript(COOKBOOK)[1] == {
        "role": "system",
        "content": "New synergies will help drive top-line growth.",
        "name": "example_user",
    }
    with pytest.raises(LedgerkitError):
        read_transcript(COOKBOOK.parent / "missing.json")


# --- progress ------------------------------------------------------------------------------------------


def test_the_progress_bar_shows_only_when_the_run_is_long():
    now = [0.0]
    stream = io.StringIO()
    bar = ProgressBar(stream, delay=1.0, interval=0.1, width=10, clock=lambda: now[0])
    bar(10, 100)
    now[0] = 0.5
    bar(50, 100)
    bar.close()
    assert stream.getvalue() == ""  # a short run draws nothing
    bar = ProgressBar(stream, delay=1.0, interval=0.1, width=10, clock=lambda: now[0])
    now[0] = 1.6
    bar(50, 100)
    now[0] = 1.65
    bar(60, 100)  # too soon after the last draw
    bar(100, 100)  # but the end is always drawn
    bar.close()
    assert stream.getvalue() == ("\rcounting tokens [#####.....]  50%\rcounting tokens [##########] 100%\r\033[K")


def test_no_progress_bar_when_stderr_is_not_a_terminal(tree, monkeypatch):
    monkeypatch.setattr(count_module.ProgressBar, "__call__", lambda *a: pytest.fail("drawn"))
    result = run("count", "docs")
    assert (result.exit_code, result.stderr) == (0, "")


def test_the_sample_sources_count_as_fill_measures_them(sample, monkeypatch, reference):
    monkeypatch.chdir(sample.parent)
    result = count_paths(["gumgang_meeting"])
    files = sorted(p for p in (sample.parent / "gumgang_meeting").rglob("*") if p.is_file())
    assert [f.path for f in result.files] == [p.relative_to(sample.parent).as_posix() for p in files]
    for f, p in zip(result.files, files, strict=False):
        text = p.read_text(encoding="utf-8").replace("\r\n", "\n").lstrip("\ufeff")
        assert (f.chars, f.tokens["o200k_base"]) == (len(text), n(reference, text))


def test_the_progress_bar_is_drawn_on_a_terminal(tree):
    pty = pytest.importorskip("pty")
    import os
    import sys

    code = (
        "import sys, ledgerkit.reports.count as c\n"
        "c.ProgressBar.__init__.__kwdefaults__['delay'] = 0  # every run is 'long' here\n"
        "sys.argv = ['ledgerkit', 'count', 'docs', 'src']\n"
        "from ledgerkit.cli import main\nmain()\n"
    )
    master, slave = pty.openpty()
    done = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=slave, cwd=tree, timeout=60)
    os.close(slave)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    assert done.returncode == 0 and b"total (3 files)" in done.stdout
    assert drawn.startswith(b"\rcounting tokens [") and drawn.endswith(b"100%\r\x1b[K")
