"""A message never hands a terminal a control character. A file name or a ledger's text can hold ESC (an escape
sequence moves the cursor, recolours, retitles the window or writes the clipboard), a bell or a carriage
return; click strips escape sequences only when the output is not a terminal, so on one they acted. A
bidirectional control reorders what a person reads (Trojan Source). Every message ledgerkit prints
(diagnostics in text and GitHub form, errors, notes on stderr) writes them as their Python escapes
(``\\x1b``, ``\\u202e``) instead. Reports and exports are data and keep the text as it is (JSON writes the
C0 controls as its own escapes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import given

from ledgerkit.diagnostics import Diagnostic, format_github
from ledgerkit.errors import printable

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
