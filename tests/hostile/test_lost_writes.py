"""Nothing lost: a save at the worst moment, a disk that refuses, a signal, a held lock, another owner, a hard link.

Each test is a class of hostile event with its mechanism forced deterministically: a seam in the writer
says when "the worst moment" is, a child process blocks on a pipe until the test acts, and every wait has
the bound of this folder's conftest.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from ledgerkit.files.textfile import ATTEMPTS, LockTimeout, WriteError, folder_lock, rewrite, write_atomic

ROOT = Path(__file__).resolve().parents[2]
EDIT = "<!-- filled -->"


def temporaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".tmp"))


def fill(text: str, bom: bool = False) -> str:
    """A stand-in for fill: a function of the text, so a retry applies the edit to what is there now."""
    return text.replace("[fill]", EDIT)


def rewrite_filling(path: Path, before_replace: Callable[[], None] | None = None) -> bool:
    def new_bytes(texts: tuple[str, str]) -> bytes | None:
        return texts[1].encode() if texts[1] != texts[0] else None

    return rewrite(path, lambda text, bom: (text, fill(text)), new_bytes, "filling", before_replace=before_replace)[1]


# --- a save landing right before the replace ----------------------------------------------------------


def append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(text)


def overwrite_same_size(path: Path, text: str) -> None:
    data = path.read_bytes()
    with path.open("r+b") as f:  # in place, same length: only the bytes and the times tell
        f.write(data[: -len(text)] + text.encode())


def editor_rename(path: Path, text: str) -> None:
    new = path.with_name(path.name + ".editor-swap")
    new.write_bytes(path.read_bytes() + text.encode())
    os.replace(new, path)  # how vim and VS Code save: a new inode under the name


def same_bytes_new_inode(path: Path, text: str) -> None:
    new = path.with_name(path.name + ".editor-swap")
    new.write_bytes(path.read_bytes())
    os.replace(new, path)


SAVES = {
    "appended": append,
    "overwritten in place, same size": overwrite_same_size,
    "renamed over by an editor": editor_rename,
    "same bytes, new inode": same_bytes_new_inode,
}


@pytest.mark.parametrize("size", [1, 3 * 2**20], ids=["small", "3 MB"])
@pytest.mark.parametrize("save", SAVES)
def test_a_save_right_before_the_replace_is_never_lost(tmp_path, save, size):
    path = tmp_path / "ledger.md"
    body = ("- CHAR_COUNT: 12\n" * (size // 17 + 1))[:size]
    path.write_text(f"# Ledger\n- X: [fill]\n{body}\n<!-- end -->\n", encoding="utf-8")
    saved = "<!-- saved -->\n"
    calls = []

    def person_saves() -> None:
        calls.append(len(temporaries(tmp_path)))
        if len(calls) == 1:
            SAVES[save](path, saved)

    before = path.read_text(encoding="utf-8")
    assert rewrite_filling(path, person_saves)
    after = path.read_text(encoding="utf-8")
    assert calls == [1, 1]  # the save landed while our temporary was written and synced; then a retry
    assert EDIT in after and "[fill]" not in after
    if save == "same bytes, new inode":
        assert after == fill(before)
    elif save == "overwritten in place, same size":
        assert after.endswith(saved) and after == fill(before[: -len(saved)] + saved)
    else:
        assert after == fill(before + saved)
    assert temporaries(tmp_path) == []


TOUCHES = {
    "times": lambda p: os.utime(p, ns=(10**9, 10**9)),
    "mode": lambda p: p.chmod(0o600),
    "owner": lambda p: os.chown(p, 65534, 65534) if os.geteuid() == 0 else pytest.skip("chown needs root"),
}


@pytest.mark.parametrize("touch", TOUCHES)
def test_a_change_of_metadata_alone_is_a_change_and_is_kept(tmp_path, touch):
    # Bytes equal, yet someone changed the file: the writer starts over rather than judge it harmless,
    # and the new mode, owner or times' file is what it replaces, so the change is kept.
    path = tmp_path / "ledger.md"
    path.write_text("- X: [fill]\n")
    calls = []

    def someone_touches() -> None:
        calls.append(1)
        if len(calls) == 1:
            TOUCHES[touch](path)

    assert rewrite_filling(path, someone_touches)
    assert len(calls) == 2 and path.read_text() == f"- X: {EDIT}\n"
    status = path.stat()
    if touch == "mode":
        assert status.st_mode & 0o777 == 0o600
    if touch == "owner":
        assert (status.st_uid, status.st_gid) == (65534, 65534)


def test_a_hard_link_made_meanwhile_stops_the_write(tmp_path):
    path = tmp_path / "ledger.md"
    path.write_text("- X: [fill]\n")
    with pytest.raises(WriteError, match="has 2 hard links"):
        rewrite_filling(path, lambda: None if (tmp_path / "other").exists() else os.link(path, tmp_path / "other"))
    assert path.read_text() == (tmp_path / "other").read_text() == "- X: [fill]\n"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(saves=st.lists(st.text(st.sampled_from("ab \n\r"), min_size=1, max_size=20), max_size=ATTEMPTS))
def test_every_save_is_kept_whatever_attempt_it_lands_on(tmp_path, saves):
    path = tmp_path / "ledger.md"
    path.write_bytes(b"- X: [fill]\n")
    pending = list(saves)

    def person_saves() -> None:
        if pending:
            with path.open("ab") as f:
                f.write(pending.pop(0).encode())

    expected = "- X: [fill]\n" + "".join(saves)
    if len(saves) < ATTEMPTS:
        assert rewrite_filling(path, person_saves)
        assert path.read_bytes() == fill(expected).encode()
    else:
        with pytest.raises(WriteError, match="kept changing on disk"):
            rewrite_filling(path, person_saves)
        assert path.read_bytes() == expected.encode()  # every save, and nothing of ours
    assert temporaries(tmp_path) == []


# --- a disk that refuses ---------------------------------------------------------------------------------


def as_nobody(work: Callable[[], object], groups: tuple[int, ...] = ()) -> tuple[int, str]:
    """Run ``work`` in a forked child that has become uid/gid 65534 (member of ``groups``); returns its
    exit code and the exception it raised, if any. Forked, not a new interpreter: ours may lie where
    nobody cannot read."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            os.close(read_end)
            os.setgroups(list(groups))
            os.setgid(65534)
            os.setuid(65534)
            work()
        except BaseException as exc:
            os.write(write_end, f"{type(exc).__name__}: {exc}".encode())
            code = 3
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        message = f.read().decode()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), message


@pytest.fixture
def public_tmp() -> Iterator[Path]:
    """A folder another user can reach (pytest's tmp_path lies under a folder only root may enter)."""
    folder = Path(tempfile.mkdtemp(prefix="ledgerkit-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(
    os.geteuid() != 0,
    reason="becoming another user needs root; the monkeypatched cases in tests/test_files.py still run",
)
def test_a_folder_the_user_cannot_write_is_one_line_and_nothing_written(public_tmp):
    folder = public_tmp / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    path = folder / "ledger.md"
    path.write_text("- X: [fill]\n")
    path.chmod(0o666)  # the file itself is writable: only the folder refuses, as on a read-only mount
    code, message = as_nobody(lambda: rewrite_filling(path))
    assert code == 3
    assert message == f"WriteError: {path}: cannot write: Permission denied; nothing written"
    assert path.read_text() == "- X: [fill]\n" and temporaries(folder) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming another user needs root")
@pytest.mark.parametrize(("member", "group_after"), [((100,), 100), ((), 65534)], ids=["member", "not member"])
def test_an_ordinary_user_keeps_what_it_may_of_owner_and_group(public_tmp, member, group_after):
    # A root-owned ledger of group 100 in nobody's folder: nobody may not give the file to root (EPERM,
    # expected, not an error), and keeps group 100 when it belongs to it.
    folder = public_tmp / "mine"
    folder.mkdir()
    os.chown(folder, 65534, 65534)
    path = folder / "ledger.md"
    path.write_text("- X: [fill]\n")
    os.chown(path, 0, 100)
    code, message = as_nobody(lambda: rewrite_filling(path), groups=member)
    assert (code, message) == (0, "")
    assert path.read_text() == f"- X: {EDIT}\n"
    assert (path.stat().st_uid, path.stat().st_gid) == (65534, group_after)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_root_filling_another_users_ledger_keeps_its_owner_group_and_mode(tmp_path):
    path = tmp_path / "ledger.md"
    path.write_text("- X: [fill]\n")
    os.chown(path, 65534, 65534)
    path.chmod(0o640)
    assert rewrite_filling(path)
    status = path.stat()
    assert path.read_text() == f"- X: {EDIT}\n"
    assert (status.st_uid, status.st_gid, status.st_mode & 0o7777) == (65534, 65534, 0o640)


# --- signals ---------------------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """\
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from ledgerkit.files.textfile import write_atomic

    signal.signal(signal.SIGHUP, signal.SIG_DFL)  # as a terminal's process has it, even under nohup (SIG_IGN)
    if {exit_on_term}:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(7))

    def block():
        print("ready", flush=True)
        sys.stdin.buffer.read()  # until the test acts

    write_atomic({path!r}, b"new " * (4 * 2**20 // 4), before_replace=block)
    print("written", flush=True)
    """
)


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start a child that writes tmp_path/ledger.md and stops, temporary written and synced, before the
    rename; it has printed "ready" when this returns."""
    children: list[subprocess.Popen[str]] = []

    def start(exit_on_term: bool = False) -> subprocess.Popen[str]:
        code = WRITER.format(root=str(ROOT), path=str(tmp_path / "ledger.md"), exit_on_term=exit_on_term)
        child = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        children.append(child)
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        return child

    (tmp_path / "ledger.md").write_text("old\n")
    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.communicate()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_termination_signal_removes_the_temporary_and_still_ends_the_process(tmp_path, writer, signum):
    child = writer()
    assert len(temporaries(tmp_path)) == 1  # the signal lands while the temporary exists
    child.send_signal(signum)
    out, err = child.communicate()
    assert child.returncode == -signum  # ended by the signal, as without ledgerkit
    assert out == "" and temporaries(tmp_path) == [] and (tmp_path / "ledger.md").read_text() == "old\n"
    assert err == "" or signum == signal.SIGINT and err.rstrip().endswith("KeyboardInterrupt")


def test_the_programs_own_handler_still_decides_how_it_ends(tmp_path, writer):
    child = writer(exit_on_term=True)
    child.send_signal(signal.SIGTERM)
    child.communicate()
    assert child.returncode == 7 and temporaries(tmp_path) == []


def test_a_write_allowed_to_finish_is_unharmed(tmp_path, writer):
    child = writer()
    out, err = child.communicate("")  # the seam returns: the write completes
    assert (child.returncode, out, err) == (0, "written\n", "") and temporaries(tmp_path) == []
    assert (tmp_path / "ledger.md").read_bytes() == b"new " * 2**20


def test_sigkill_leaves_a_temporary_that_the_next_write_removes(tmp_path, writer):
    killed = writer()
    stale = temporaries(tmp_path)
    killed.kill()
    killed.communicate()  # reaped: its pid is gone
    assert len(stale) == 1 and temporaries(tmp_path) == stale  # SIGKILL cannot be caught
    live = writer()  # the next run removed the stale one, and waits with its own temporary written
    running = temporaries(tmp_path)
    assert len(running) == 1 and running != stale
    write_atomic(tmp_path / "ledger.md", b"next\n")  # yet another run: a live run's temporary stays
    assert temporaries(tmp_path) == running and (tmp_path / "ledger.md").read_bytes() == b"next\n"
    live.send_signal(signal.SIGTERM)
    live.communicate()
    assert temporaries(tmp_path) == []


# --- a lock another process holds --------------------------------------------------------------------------

HOLDER = textwrap.dedent(
    """\
    import fcntl, os, sys
    fd = os.open({folder!r}, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("locked", flush=True)
    sys.stdin.read()  # held until the test closes our stdin
    """
)


@pytest.fixture
def lock_holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER.format(folder=str(tmp_path))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "locked\n"
    yield child
    if child.poll() is None:
        child.communicate("")


def test_a_held_lock_is_waited_for_with_a_bound_naming_it(tmp_path, lock_holder, monkeypatch):
    monkeypatch.setenv("LEDGERKIT_LOCK_TIMEOUT", "0.3")
    path = tmp_path / "ledger.md"
    path.write_text("- X: [fill]\n")
    with pytest.raises(LockTimeout) as exc:
        rewrite_filling(path)
    folder = os.path.realpath(tmp_path)
    assert str(exc.value) == f"another ledgerkit run holds the lock on folder {folder} (waited 0.3 s); nothing written"
    assert path.read_text() == "- X: [fill]\n" and temporaries(tmp_path) == []
    lock_holder.communicate("")  # released: the next run proceeds
    assert rewrite_filling(path) and path.read_text() == f"- X: {EDIT}\n"


def test_a_caller_is_told_once_when_the_wait_is_long(tmp_path, lock_holder):
    told: list[str] = []
    with pytest.raises(LockTimeout, match=r"waited 1\.5 s"):
        with folder_lock(tmp_path, timeout=Decimal("1.5"), on_wait=told.append):
            pass
    assert told == [f"waiting for another ledgerkit run to release the lock on folder {tmp_path} (at most 1.5 s)"]


# --- a hard-linked ledger --------------------------------------------------------------------------------


def test_a_hard_linked_ledger_is_refused_and_neither_name_changes(tmp_path):
    path, other = tmp_path / "ledger.md", tmp_path / "archive" / "ledger.md"
    other.parent.mkdir()
    path.write_text("- X: [fill]\n")
    os.link(path, other)
    with pytest.raises(WriteError, match=r"has 2 hard links, and replacing it would leave the other names"):
        rewrite_filling(path)
    assert path.read_text() == other.read_text() == "- X: [fill]\n"
    assert path.stat().st_ino == other.stat().st_ino and temporaries(tmp_path) == []
    result, written = rewrite(path, fill, lambda r: None, "checking")  # reading it is fine
    assert not written and result == f"- X: {EDIT}\n"
