"""ledgerkit.files: lines kept byte for byte, regular files only, atomic writes, the folder lock's bound."""

from __future__ import annotations

import errno
import itertools
import os
import re
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import assume, given, settings

from ledgerkit.errors import LedgerkitError
from ledgerkit.files import lock
from ledgerkit.files.read import sha256_of
from ledgerkit.files.text import check_utf8
from ledgerkit.files.textfile import (
    ATTEMPTS,
    BOM,
    Lines,
    LockTimeout,
    MissingFile,
    NotRegularFile,
    ReadError,
    UnreadableFile,
    WriteError,
    decode,
    encode,
    folder_lock,
    read_bytes,
    read_regular,
    rewrite,
    unified_diff,
    write_atomic,
)

ENDINGS = ("\n", "\r\n", "\r")
# Contents that are not line endings but look close: a form feed, a vertical tab, U+2028 and U+0085 end a
# line for str.splitlines, never for CommonMark.
CONTENT = st.text(st.sampled_from(list("ab #-:\t\x0b\x0c\x1c\u0085\u2028é한🪷")), max_size=12)


#: Bytes near UTF-8 and far from it: every line ending, characters of 2 to 4 bytes, a BOM, a NUL, a sequence cut
#: short, a lone continuation byte, a byte that is never UTF-8, a surrogate.
NEARLY_UTF8 = st.one_of(
    st.binary(max_size=64),
    st.lists(
        st.sampled_from(["a", "\n", "\r", "\r\n", "한", "🪷", "\ufeff", "\xff", "\x00", "\ud800"]), max_size=40
    ).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from([b"a", b"\n", b"\r", b"\xed\x95", b"\x9c", b"\xef\xbb\xbf", b"\xff"]), max_size=40).map(
        b"".join
    ),
)


@settings(max_examples=300, deadline=None)
@given(NEARLY_UTF8, st.integers(1, 9))
def test_a_check_a_piece_at_a_time_refuses_what_decoding_refuses(data, chunk):
    try:
        decode(data, "l.md")
    except LedgerkitError as exc:
        with pytest.raises(LedgerkitError) as raised:
            check_utf8(data, "l.md", chunk)
        assert str(raised.value) == str(exc)  # the same byte at the same offset
    else:
        check_utf8(data, "l.md", chunk)


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def bounded(work: Callable[[], object], seconds: float = 20) -> object:
    """Run ``work`` in a thread and wait for it at most ``seconds``: a read that blocks fails the test."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed back to the test
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the call blocked"
    return outcome[0]


# --- lines ---------------------------------------------------------------------------------------------


@given(st.lists(st.tuples(CONTENT, st.sampled_from(ENDINGS))), CONTENT)
def test_lines_split_at_the_three_commonmark_endings_and_only_there(lines, last):
    # A lone CR then an empty line ended by LF is the bytes of one CRLF: CommonMark reads it so too.
    assume(not any(e == "\r" and nxt == ("", "\n") for (_, e), nxt in itertools.pairwise(lines)))
    text = "".join(c + e for c, e in lines) + last
    split = Lines.split(text)
    expected = lines + ([(last, "")] if last else [])
    assert list(zip(split.contents, split.endings, strict=True)) == expected
    assert split.join() == text


@given(st.text(st.sampled_from(["\r", "\n", "a", "\x0c", "\u2028"]), max_size=40))
def test_lines_join_restores_any_text_byte_for_byte(text):
    split = Lines.split(text)
    assert split.join() == text
    assert all(e in ENDINGS for e in split.endings[:-1])
    assert not any("\r" in c or "\n" in c for c in split.contents)


@given(st.lists(st.tuples(CONTENT, st.sampled_from([*ENDINGS, ""]))))
def test_lines_join_is_each_content_then_its_ending(lines):
    """Also for lines no split gives (fill's new lines: an ending it added, a summary put after the last line)."""
    contents, endings = [c for c, _ in lines], [e for _, e in lines]
    assert Lines(contents, endings).join() == "".join(c + e for c, e in lines)


def test_a_cr_only_file_is_lines_and_round_trips():
    text = "# Ledger\r\r- RUN_ID: x\r- CHAR_COUNT: 3\r"
    split = Lines.split(text)
    assert split.contents == ["# Ledger", "", "- RUN_ID: x", "- CHAR_COUNT: 3"]
    assert split.endings == ["\r"] * 4 and split.newline() == "\r"
    assert split.join() == text


def test_newline_is_the_first_ended_lines_style():
    assert Lines.split("a\r\nb\nc").newline() == "\r\n"
    assert Lines.split("a\rb\r\n").newline() == "\r"
    assert Lines.split("one line").newline() == "\n"
    assert Lines.split("").contents == []


def test_a_crlf_split_across_endings_is_one_ending():
    assert Lines.split("a\r\n\r\n").endings == ["\r\n", "\r\n"]
    assert Lines.split("a\n\rb").contents == ["a", "", "b"]  # LF then a lone CR: two endings


def test_decode_and_encode_keep_the_bom():
    assert decode(encode("x\r", True), "f") == ("x\r", True)
    assert decode(b"x", "f") == ("x", False)
    assert encode("x", True).startswith(BOM.encode())
    with pytest.raises(LedgerkitError, match=r"f: not UTF-8 text \(byte 0xff at offset 1\)"):
        decode(b"a\xff", "f")


def test_the_diff_breaks_lines_where_the_ledger_does():
    diff = unified_diff("l.md", "a\x0cb\rc\r", "a\x0cb\rd\r")
    assert "-c\r" in diff and "+d\r" in diff and " a\x0cb\r" in diff


# --- reading regular files only --------------------------------------------------------------------------


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A folder with a short path: a Unix socket's path is limited to about 100 bytes."""
    with tempfile.TemporaryDirectory(dir="/tmp", prefix="lk") as folder:
        yield Path(folder)


def test_read_regular_reads_a_file_and_through_a_symlink(tmp_path):
    (tmp_path / "f").write_bytes(b"a\0b\xff")
    (tmp_path / "link").symlink_to("f")
    assert read_regular(tmp_path / "f") == b"a\0b\xff"
    assert read_regular(str(tmp_path / "link")) == b"a\0b\xff"
    assert read_bytes(tmp_path / "link") == b"a\0b\xff"


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=64), st.integers(1, 9))
def test_the_guards_digest_is_the_files_read_a_chunk_at_a_time(data, chunk):
    import hashlib

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "f")
        path.write_bytes(data)
        assert sha256_of(path, chunk) == hashlib.sha256(data).digest()


def test_a_fifo_without_writer_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    for reader in (read_regular, read_bytes, sha256_of):
        exc = bounded(lambda reader=reader: reader(fifo))
        assert isinstance(exc, NotRegularFile) and exc.file_type == "FIFO"
        assert str(exc) == f"{fifo}: is not a regular file (a FIFO)"


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/tty"])
def test_a_character_device_is_refused_before_a_byte_is_read(device):
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    for reader in (read_regular, sha256_of):
        exc = bounded(lambda reader=reader: reader(device))
        assert isinstance(exc, NotRegularFile) and exc.file_type == "character device"
        assert str(exc) == f"{device}: is not a regular file (a character device)"


def test_a_symlink_to_a_device_is_refused(tmp_path):
    (tmp_path / "ledger.md").symlink_to("/dev/zero")
    exc = bounded(lambda: read_regular(tmp_path / "ledger.md"))
    assert isinstance(exc, NotRegularFile) and exc.file_type == "character device"


def test_a_directory_and_a_socket_are_refused(tmp_path, short_tmp):
    with pytest.raises(NotRegularFile, match="is a directory, not a regular file") as exc:
        read_regular(tmp_path)
    assert exc.value.file_type == "directory"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(short_tmp / "s"))
        server.listen()
        with pytest.raises(NotRegularFile, match=r"is not a regular file \(a socket\)"):
            read_regular(short_tmp / "s")
    finally:
        server.close()


def test_the_descriptor_decides_not_the_name(tmp_path, monkeypatch):
    # A FIFO put where a regular file was, between the look by name and the open: the fstat refuses it.
    fifo = tmp_path / "swapped"
    os.mkfifo(fifo)
    regular = os.stat(__file__)
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: regular if os.fspath(p) == str(fifo) else real_stat(p, *a, **k))
    exc = bounded(lambda: read_regular(fifo))
    assert isinstance(exc, NotRegularFile) and exc.file_type == "FIFO"


def test_each_os_failure_is_one_clear_line_of_its_kind(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    cases = {
        tmp_path / "missing": (MissingFile, "no such file"),
        tmp_path / "file" / "below": (MissingFile, "no such file"),
        tmp_path / ("x" * 300): (UnreadableFile, "cannot read: File name too long"),
        tmp_path / "a": (UnreadableFile, "cannot read: Too many levels of symbolic links"),
    }
    for path, (kind, message) in cases.items():
        with pytest.raises(kind) as exc:
            read_regular(path)
        assert str(exc.value) == f"{path}: {message}"
        assert isinstance(exc.value, ReadError) and isinstance(exc.value, LedgerkitError)


def test_a_nul_byte_in_the_path_is_named_never_printed(tmp_path):
    with pytest.raises(UnreadableFile) as exc:
        read_regular(f"{tmp_path}/le\0dger.md")
    assert str(exc.value) == f"{tmp_path}/le\\x00dger.md: cannot read: the path holds a NUL byte"


def test_permission_denied_is_unreadable(tmp_path, monkeypatch):
    (tmp_path / "f").write_text("x")

    def deny(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "open", deny)
    with pytest.raises(UnreadableFile, match=r"f: cannot read: Permission denied$"):
        read_regular(tmp_path / "f")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)))
        | st.sampled_from(["\0", "/", "..", "\x1b", "x" * 300])
    )
)
def test_no_path_gives_anything_but_a_read_error(parts):
    try:
        read_regular("/nonexistent-ledgerkit/" + "".join(parts).lstrip("/"))
    except ReadError as exc:
        assert "\0" not in str(exc) and "\x1b" not in str(exc) and "\n" not in str(exc)


# --- writing -------------------------------------------------------------------------------------------


def test_write_atomic_keeps_mode_and_writes_through_a_symlink(tmp_path):
    target = tmp_path / "l.md"
    target.write_bytes(b"old")
    target.chmod(0o640)
    (tmp_path / "link.md").symlink_to("l.md")
    write_atomic(tmp_path / "link.md", b"new")
    assert target.read_bytes() == b"new" and (tmp_path / "link.md").is_symlink()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert temporaries(tmp_path) == []


def test_a_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "new.md", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.md").stat().st_mode) == 0o640


def test_the_temporary_is_named_for_its_file_and_process(tmp_path):
    seen = []
    write_atomic(tmp_path / "l.md", b"x", before_replace=lambda: seen.extend(temporaries(tmp_path)))
    assert len(seen) == 1
    assert re.fullmatch(rf"\.l\.md\.ledgerkit-{os.getpid()}-[0-9a-f]+\.tmp", seen[0])
    assert temporaries(tmp_path) == []


# Every step that touches the disk, failing the ways a disk fails.
STEPS = {
    "create": ("open", lambda args: len(args) > 1 and args[1] & os.O_CREAT),
    "write": ("write", lambda args: True),
    "fsync": ("fsync", lambda args: True),
    "chmod": ("fchmod", lambda args: True),
    "rename": ("replace", lambda args: True),
}
FAILURES = [
    (errno.EROFS, "Read-only file system"),
    (errno.ENOSPC, "No space left on device"),
    (errno.EACCES, "Permission denied"),
    (errno.EIO, "Input/output error"),
]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize(("code", "reason"), FAILURES)
def test_a_failing_step_is_one_line_and_leaves_the_old_file(tmp_path, monkeypatch, step, code, reason):
    path = tmp_path / "ledger.md"
    path.write_bytes(b"old")
    name, applies = STEPS[step]
    real = getattr(os, name)

    def failing(*args, **kwargs):
        if applies(args):
            raise OSError(code, reason)
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, failing)
    with pytest.raises(WriteError) as exc:
        write_atomic(path, b"new" * 1000)
    monkeypatch.undo()
    assert str(exc.value) == f"{path}: cannot write: {reason}; nothing written"
    assert path.read_bytes() == b"old" and temporaries(tmp_path) == []


def test_a_missing_folder_is_one_line(tmp_path):
    with pytest.raises(WriteError, match=r"no/l\.md: cannot write: No such file or directory; nothing written"):
        write_atomic(tmp_path / "no" / "l.md", b"x")


@pytest.mark.parametrize("make", [os.mkfifo, os.mkdir])
def test_only_a_regular_file_is_replaced(tmp_path, make):
    path = tmp_path / "out.md"
    make(path)
    with pytest.raises(WriteError, match=r"is not a regular file \(a (FIFO|directory)\); nothing written"):
        write_atomic(path, b"x")
    assert not path.is_file() and temporaries(tmp_path) == []


def test_a_hard_linked_file_is_refused_and_no_link_changes(tmp_path):
    path, other = tmp_path / "ledger.md", tmp_path / "copy.md"
    path.write_bytes(b"old")
    os.link(path, other)
    with pytest.raises(WriteError, match=r"has 2 hard links.*nothing written \(give it a file of its own: cp ledger"):
        write_atomic(path, b"new")
    assert path.read_bytes() == other.read_bytes() == b"old" and path.stat().st_ino == other.stat().st_ino
    assert temporaries(tmp_path) == []


def test_ownership_that_cannot_be_given_away_is_not_an_error(tmp_path, monkeypatch):
    path = tmp_path / "l.md"
    path.write_bytes(b"old")
    real_stat, calls = os.stat, []

    def other_owner(p, *args, **kwargs):
        s = real_stat(p, *args, **kwargs)
        if os.fspath(p) == str(path):
            return os.stat_result((s.st_mode, s.st_ino, s.st_dev, s.st_nlink, 4242, 4343, *tuple(s)[6:]))
        return s

    def refuse(fd, uid, gid):
        calls.append((uid, gid))
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "stat", other_owner)
    monkeypatch.setattr(os, "fchown", refuse)
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert calls == [(4242, 4343), (-1, 4343)]  # the owner and group, then at least the group


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_root_keeps_another_users_owner_group_and_mode(tmp_path):
    path = tmp_path / "l.md"
    path.write_bytes(b"old")
    os.chown(path, 65534, 65534)
    path.chmod(0o604)
    write_atomic(path, b"new")
    status = path.stat()
    assert (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) == (65534, 65534, 0o604)


# --- stale temporaries -----------------------------------------------------------------------------------


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()  # reaped: its pid names no process (a zombie would still count as alive)
    return child.pid


def test_only_stale_temporaries_of_the_file_written_are_removed(tmp_path):
    live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        dead = dead_pid()
        names = {
            "dead": f".l.md.ledgerkit-{dead}-ab12.tmp",
            "same pid, earlier process": f".l.md.ledgerkit-{os.getpid()}-cd34.tmp",
            "unknown pid, old": ".l.md.ledgerkit-0-ef56.tmp",
            "live": f".l.md.ledgerkit-{live.pid}-ab12.tmp",
            "unknown pid, fresh": ".l.md.ledgerkit-0-0a0b.tmp",
            "another file's": f".m.md.ledgerkit-{dead}-ab12.tmp",
            "not the pattern": f".l.md.ledgerkit-{dead}-xyz.tmp",
            "an editor's": ".l.md.swp.tmp",
            "old naming": ".l.md.k2j4h5g6.tmp",
        }
        for name in names.values():
            (tmp_path / name).write_text("partial")
        (tmp_path / f".l.md.ledgerkit-{dead}-dddd.tmp").mkdir()  # a folder is never removed
        hour_ago = time.time_ns() - 3600 * 10**9
        os.utime(tmp_path / names["unknown pid, old"], ns=(hour_ago, hour_ago))
        write_atomic(tmp_path / "l.md", b"x")
    finally:
        live.communicate(b"")
    left = {p.name for p in tmp_path.iterdir()}
    removed = {"dead", "same pid, earlier process", "unknown pid, old"}
    assert {k for k, v in names.items() if v not in left} == removed
    assert f".l.md.ledgerkit-{dead}-dddd.tmp" in left and "l.md" in left


def test_a_temporary_this_process_is_writing_is_not_stale(tmp_path):
    during = []

    def another_write_meanwhile():
        during.extend(temporaries(tmp_path))
        write_atomic(tmp_path / "l.md", b"inner")  # a second writer in this process cleans up first
        during.extend(temporaries(tmp_path))

    write_atomic(tmp_path / "l.md", b"outer", before_replace=another_write_meanwhile)
    assert len(during) == 2 and during[0] == during[1]
    assert (tmp_path / "l.md").read_bytes() == b"outer"


# --- the guarded rewrite ---------------------------------------------------------------------------------


def test_rewrite_writes_nothing_when_there_is_nothing_to_write(tmp_path):
    path = tmp_path / "l.md"
    path.write_bytes(b"\xef\xbb\xbfabc")
    before = path.stat()
    result, written = rewrite(path, lambda text, bom: (text, bom), lambda r: None, "testing")
    assert result == ("abc", True) and not written
    assert path.stat().st_ino == before.st_ino and temporaries(tmp_path) == []


def test_the_check_runs_after_the_temporary_is_synced(tmp_path):
    path = tmp_path / "l.md"
    path.write_text("a")
    seen = []
    rewrite(
        path, lambda t, b: t.upper(), str.encode, "testing", before_replace=lambda: seen.extend(temporaries(tmp_path))
    )
    assert len(seen) == 1 and path.read_text() == "A"


def test_a_file_that_vanished_is_never_recreated(tmp_path):
    path = tmp_path / "l.md"
    path.write_text("a")
    with pytest.raises(MissingFile, match="no such file"):
        rewrite(path, lambda t, b: t, lambda r: b"x", "testing", before_replace=path.unlink)
    assert not path.exists() and temporaries(tmp_path) == []


def test_attempts_are_bounded(tmp_path):
    path = tmp_path / "l.md"
    path.write_text("a")
    computed = []

    def save():
        with path.open("a") as f:
            f.write("s")

    with pytest.raises(
        WriteError, match=rf"kept changing on disk while testing \({ATTEMPTS} attempts\); nothing written"
    ):
        rewrite(path, lambda t, b: computed.append(t), lambda r: b"edit", "testing", before_replace=save)
    assert len(computed) == ATTEMPTS and path.read_text() == "a" + "s" * ATTEMPTS


# --- the folder lock -------------------------------------------------------------------------------------


def test_a_free_lock_is_taken_at_once(tmp_path, monkeypatch):
    pauses = []
    monkeypatch.setattr(time, "sleep", pauses.append)
    with folder_lock(tmp_path), folder_lock(tmp_path / "missing"):
        pass
    assert pauses == []


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf", "1e9", "86401"])
def test_a_bad_timeout_is_one_line(tmp_path, monkeypatch, value):
    monkeypatch.setenv("LEDGERKIT_LOCK_TIMEOUT", value)
    with pytest.raises(LedgerkitError, match=r"LEDGERKIT_LOCK_TIMEOUT=.*: the lock timeout must be a number"):
        with folder_lock(tmp_path):
            pass


def test_the_lock_is_a_no_op_without_flock(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "fcntl", None)  # import fcntl raises ImportError, as on Windows
    with folder_lock(tmp_path):
        pass


def test_the_timeout_is_kept_in_integer_nanoseconds():
    assert lock._timeout_ns(Decimal("0.3")) == 300_000_000
    assert lock._seconds(30 * 10**9) == "30" and lock._seconds(300_000_000) == "0.3"


def test_lock_wait_polls_with_a_growing_pause_and_tells_once(monkeypatch):
    clock = iter(range(0, 10**12, 250 * 10**6))  # every look at the clock, a quarter second later
    monkeypatch.setattr(time, "monotonic_ns", lambda: next(clock))
    pauses, told = [], []
    monkeypatch.setattr(time, "sleep", pauses.append)

    def busy(fd, operation):
        raise BlockingIOError(errno.EWOULDBLOCK, "busy")

    with pytest.raises(
        LockTimeout, match=r"^another ledgerkit run holds the lock on folder /x \(waited 2 s\); nothing written$"
    ):
        lock._acquire(-1, "/x", 2 * 10**9, told.append, busy, 0)
    assert told == ["waiting for another ledgerkit run to release the lock on folder /x (at most 2 s)"]
    assert pauses == sorted(pauses) and pauses[-1] <= 0.1


def test_a_file_system_without_locks_goes_on_unlocked():
    def unsupported(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    lock._acquire(-1, "/x", 0, None, unsupported, 0)  # returns: the lock is advisory


def test_a_nul_byte_in_a_path_to_write_is_one_line(tmp_path):
    with pytest.raises(WriteError) as exc:
        write_atomic(f"{tmp_path}/l\0.md", b"x")
    assert str(exc.value) == f"{tmp_path}/l\\x00.md: cannot write: the path holds a NUL byte; nothing written"
    with pytest.raises(UnreadableFile, match="the path holds a NUL byte"):
        rewrite(Path(f"{tmp_path}/l\0.md"), lambda t, b: t, lambda r: b"x", "testing")
    assert list(tmp_path.iterdir()) == []
