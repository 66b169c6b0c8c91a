"""A message never hands a terminal a control character. A file name or a ledger's text can hold ESC (an escape
sequence moves the cursor, recolours, retitles the window or writes the clipboard), a bell or a carriage
return; click strips escape sequences only when the output is not a terminal, so on one they acted. A
bidirectional control reorders what a person reads (Trojan Source). Every message ledgerkit prints
(diagnostics in text and GitHub form, errors, notes on stderr) writes them as their Python escapes
(``\\x1b``, ``\\u202e``) instead. Reports, tables, diffs and exports are data: written to a file or a pipe
they keep the text as it is (JSON writes the C0 controls as its own escapes), and shown on a terminal their
control characters are escaped as a message's are, their lines kept."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import given

from ledgerkit.diagnostics import Diagnostic, format_github
from ledgerkit.errors import printable, printable_lines

from ..conftest import ledger, make_files, record

#: The C0 and C1 controls but the tab, DEL, and the bidirectional controls (Trojan Source).
BIDI = ["\u061c", "\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]
CONTROLS = [chr(c) for c in (*range(0x00, 0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0))] + BIDI
TEXT = st.text(st.sampled_from(["a", " ", "\t", "한", "🪷", "\\", "'", "\xa0", "\u200b", *CONTROLS]), max_size=30)


@given(TEXT)
def test_printable_escapes_every_control_character_and_nothing_else(text):
    shown = printable(text)
    assert not any(c in CONTROLS for c in shown)
    assert shown == "".join(repr(c)[1:-1] if c in CONTROLS else c for c in text)


@given(st.text(st.sampled_from(["a", "\n", "\r", "\t", "한", *CONTROLS]), max_size=30))
def test_printable_lines_escapes_every_control_character_but_the_line_breaks(text):
    shown = printable_lines(text)
    kept = "".join(c if c in "\n\t" or text[i : i + 2] == "\r\n" else "" for i, c in enumerate(text))
    assert "".join(c for c in shown if c in CONTROLS or c == "\t") == kept
    expected = [c if c in "\n\t" or text[i : i + 2] == "\r\n" else printable(c) for i, c in enumerate(text)]
    assert shown == "".join(expected)


@given(TEXT, TEXT)
def test_a_diagnostic_in_text_or_github_form_holds_no_control_character(path, message):
    d = Diagnostic(path, 3, 4, "LK201", message)
    assert not any(c in CONTROLS for c in d.format())
    assert not any(c in CONTROLS for c in format_github([d]).removesuffix("\n"))


def _cli(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    argv = [sys.executable, "-m", "ledgerkit", *args]
    return subprocess.run(argv, cwd=folder, capture_output=True, timeout=60, check=False)


def test_no_message_hands_the_terminal_an_escape_sequence(tmp_path):
    name = "l\x1b]0;owned\x07\x1b[2J.md"  # retitle the window, ring, clear the screen
    source = "a\x1b[31m.md"
    make_files(tmp_path, {name: ledger(record(1, (source,)), record(2, ("b.md",))), "b.md": "abcd"})
    runs = [
        ("verify", "--no-base", "--require-filled", name),
        ("verify", "--no-base", "--require-filled", "--format", "github", name),
        ("fill", "--check", name),
        ("fill", name),
        ("rollup", "--session", "S1", name),
        ("rollup", "--session", "nope", name),
        ("verify", "missing\x1b[2J.md"),
        ("count", "missing\x1b[2J.md"),
    ]
    for args in runs:
        done = _cli(tmp_path, *args)
        assert b"internal error" not in done.stderr, (args, done.stderr)
        assert b"\x1b" not in done.stderr and b"\x07" not in done.stderr, (args, done.stderr)
        if args[0] in ("verify", "fill"):  # their stdout is diagnostics too
            assert b"\x1b" not in done.stdout, (args, done.stdout)
        assert b"\\x1b" in done.stdout + done.stderr, (args, done.stdout, done.stderr)  # named, escaped


def _on_terminal(folder: Path, *args: str) -> bytes:
    """What the command shows on a terminal: its stdout is a pseudo-terminal, read until the command closes it."""
    import pty

    master, slave = pty.openpty()
    try:
        argv = [sys.executable, "-m", "ledgerkit", *args]
        proc = subprocess.Popen(argv, cwd=folder, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.DEVNULL)
    finally:
        os.close(slave)
    shown = b""
    deadline = time.monotonic() + 60
    try:
        while True:
            ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
            assert ready, (args, "no end of output within 60 s")
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # EIO: every end of the terminal the command held is closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
        proc.kill()
        proc.wait(timeout=60)
    return shown


#: Every command that writes a report, a table or a diff to stdout, over a ledger whose session, note and source
#: names hold an escape sequence, and a bidirectional control.
SHOWN = {
    "report": ("report", "l.md"),
    "rollup": ("rollup", "--session", "S\x1b[2J1", "l.md"),
    "rollup-html": ("rollup", "--session", "S\x1b[2J1", "--format", "html", "l.md"),
    "compare": ("compare", "l.md", "b/l.md"),
    "export-csv": ("export", "--format", "csv", "l.md"),
    "plan": ("plan", "--source", "a\x1b[31m.md", "--source", "b.md", "--budget", "1000"),
    "count": ("count", "."),
    "fill-diff": ("fill", "--diff", "l.md"),
}


@pytest.mark.parametrize("args", SHOWN.values(), ids=SHOWN.keys())
def test_no_report_hands_the_terminal_an_escape_sequence(tmp_path, args):
    source = "a\x1b[31m.md"
    text = ledger(record(1, (source,), context="S\x1b[2J1", extra="- NOTES: ring\x07 \u202eevil"), record(2, ("b.md",)))
    other = ledger(record(1, ("b.md",), context="S\x1b[2J1"))
    make_files(tmp_path, {"l.md": text, "b/l.md": other, source: "abcd\x1b]0;owned\x07", "b.md": "abcd"})
    shown = _on_terminal(tmp_path, *args)
    assert b"Traceback" not in shown and b"internal error" not in shown, (args, shown)
    lines = shown.decode("utf-8").replace("\r\n", "\n")  # the terminal writes each newline as CR LF
    assert not any(c in CONTROLS and c != "\n" for c in lines), (args, shown)
    assert b"\\x1b" in shown, (args, shown)  # named, escaped
    piped = _cli(tmp_path, *args).stdout
    assert b"\x1b" in piped, (args, piped)  # data: a file or a pipe gets it as it is
