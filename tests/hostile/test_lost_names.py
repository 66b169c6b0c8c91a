"""A file name that is not UTF-8 is neither lost nor a crash. Python holds such a name's bytes as surrogates
(PEP 383); under a UTF-8 locale its stdout refuses them, and every command that named such a ledger or source
ended in an internal error. Now text output (stdout and ``-o`` alike) writes the name as its own bytes, and
JSON writes its escape (``\\udcff``), which reads back to the same name. append, which would write such a name
into the ledger (UTF-8 text), refuses it as a usage error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import given

from ledgerkit.api import Output
from ledgerkit.config import Config
from ledgerkit.errors import LedgerkitError
from ledgerkit.reading.parse import parse
from ledgerkit.reports.formatting import json_data, json_text
from ledgerkit.writing.append import NewRecord, append

from ..conftest import ledger, record

#: A byte that is never UTF-8, a cut sequence (the first two bytes of 한), and Latin-1 text.
NAMES = [b"l\xff.md", b"l\xed\x95.md", b"caf\xe9.md"]

#: Bytes of a name: mostly ASCII, with bytes that UTF-8 refuses alone and pieces of real sequences.
NAME_BYTES = st.lists(
    st.sampled_from([b"a", b".", b"-", b"\xff", b"\x80", b"\xed\x95", b"\xed\x95\x9c", b"\xe9", b"\xf0\x9f"]),
    min_size=1,
    max_size=12,
).map(b"".join)


@given(NAME_BYTES)
def test_a_name_is_written_as_its_bytes_and_read_back_from_json(raw):
    name = os.fsdecode(raw)
    assert Output(f"ledger {name}\n").data == b"ledger " + raw + b"\n"
    for value in ({"ledger": name}, [{"ledger": name, name: 1}], [name, [name]]):
        text = json_text(value)
        text.encode("utf-8")  # UTF-8, whatever the name held
        assert json.loads(text) == value
        assert json_data(value) == text.encode("utf-8")


def _cli(folder: Path, *args: bytes) -> subprocess.CompletedProcess[bytes]:
    # PYTHONIOENCODING=utf-8:strict is the stdout Python has under a UTF-8 locale (en_US.UTF-8, say).
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    argv = [os.fsencode(sys.executable), b"-m", b"ledgerkit", *args]
    return subprocess.run(argv, cwd=folder, env=env, capture_output=True, timeout=60, check=False)


def _folder(tmp_path: Path, raw: bytes) -> Path:
    folder = tmp_path / "work"
    (folder / "docs").mkdir(parents=True)
    (folder / "a.md").write_text("abcd\n", encoding="utf-8")
    try:
        with open(os.path.join(os.fsencode(folder), raw), "wb") as out:
            out.write(ledger(record(1, ("a.md", "docs/")), record(2, ("a.md",))).encode("utf-8"))
        with open(os.path.join(os.fsencode(folder / "docs"), raw), "wb") as out:
            out.write(b"text in a file whose name is not UTF-8\n")
    except OSError as exc:  # a file system that takes only UTF-8 names (APFS) has nothing to test here
        pytest.skip(f"this file system refuses the name: {exc}")
    return folder


def _named(done: subprocess.CompletedProcess[bytes], raw: bytes) -> bool:
    """Output names the file by its bytes; a message on stderr by its escape (Python writes stderr so)."""
    return raw in done.stdout or os.fsdecode(raw).encode("utf-8", "backslashreplace") in done.stderr


TEXT_COMMANDS = [
    (b"fill", b"--check"),
    (b"verify", b"--no-base", b"--require-filled"),
    (b"verify", b"--no-base", b"--require-filled", b"--format", b"github"),
    (b"rollup",),
    (b"report",),
    (b"export", b"--format", b"csv"),
]
JSON_COMMANDS = [
    (b"verify", b"--no-base", b"--require-filled", b"--format", b"json"),
    (b"report", b"--format", b"json"),
    (b"export", b"--format", b"json"),
    (b"export", b"--format", b"jsonl"),
    (b"fill", b"--check", b"--format", b"json"),
]


@pytest.mark.parametrize("raw", NAMES)
def test_every_command_names_a_ledger_that_is_not_utf_8_by_its_bytes(tmp_path, raw):
    folder = _folder(tmp_path, raw)
    for command in TEXT_COMMANDS:
        done = _cli(folder, *command, raw)
        assert done.returncode in (0, 1) and b"internal error" not in done.stderr, (command, done.stderr)
        assert _named(done, raw), (command, done.stdout[:300], done.stderr[:300])
    for command in JSON_COMMANDS:
        done = _cli(folder, *command, raw)
        assert done.returncode in (0, 1) and b"internal error" not in done.stderr, (command, done.stderr)
        text = done.stdout.decode("utf-8")  # UTF-8 JSON, whatever the name held
        found = [json.loads(line) for line in text.splitlines()] if b"jsonl" in command else json.loads(text)
        paths = {item.get("path") or item.get("ledger") for item in found if isinstance(item, dict)}
        if command[0] == b"report":
            paths = {ledger for row in found for ledger in row.get("ledgers", [row.get("ledger")])}
        assert os.fsdecode(raw) in paths or str(folder / os.fsdecode(raw)) in paths, (command, paths)


@pytest.mark.parametrize("raw", NAMES[:1])
def test_a_source_that_is_not_utf_8_is_counted_and_named(tmp_path, raw):
    folder = _folder(tmp_path, raw)
    done = _cli(folder, b"count", b"docs")
    assert done.returncode == 0 and raw in done.stdout, done.stderr
    done = _cli(folder, b"count", b"docs", b"--format", b"json")
    assert done.returncode == 0, done.stderr
    files = json.loads(done.stdout.decode("utf-8"))["files"]
    assert [os.fsencode(f["path"]) for f in files] == [b"docs/" + raw]


def test_stdout_and_o_write_the_same_bytes(tmp_path):
    raw = NAMES[0]
    folder = _folder(tmp_path, raw)
    shown = _cli(folder, b"rollup", raw)
    written = _cli(folder, b"rollup", raw, b"-o", b"out.md")
    assert written.returncode == shown.returncode and b"internal error" not in written.stderr, written.stderr
    assert (folder / "out.md").read_bytes() == shown.stdout
    assert raw in shown.stdout


def _not_utf_8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@given(st.sampled_from(["context_id", "source", "note"]), NAME_BYTES.filter(_not_utf_8))
def test_append_refuses_text_that_is_not_utf_8_wherever_it_would_go(where, raw):
    """append writes its arguments into the ledger, which is UTF-8 text: one that holds bytes that are not UTF-8
    (a file name's, or an argument typed in another encoding) is refused, never written or a crash."""
    value = os.fsdecode(raw)
    new = NewRecord(
        "SESSION",
        value if where == "context_id" else "S",
        (value if where == "source" else "a.md",),
        (value,) if where == "note" else (),
    )
    with pytest.raises(LedgerkitError, match="not UTF-8"):
        append(parse(ledger()), new, moment=datetime(2025, 8, 16, 7, 20, tzinfo=UTC), config=Config())


def test_append_of_a_source_that_is_not_utf_8_is_a_usage_error(tmp_path):
    raw = NAMES[0]
    folder = _folder(tmp_path, raw)
    before = (folder / os.fsdecode(raw)).read_bytes()
    done = _cli(folder, b"append", raw, b"--scope", b"SESSION", b"--context-id", b"S", b"--source", b"docs/" + raw)
    assert done.returncode == 2 and b"internal error" not in done.stderr, done.stderr
    assert done.stderr.count(b"\n") == 1 and b"not UTF-8" in done.stderr
    assert (folder / os.fsdecode(raw)).read_bytes() == before
