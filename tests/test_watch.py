"""`ledgerkit watch`: a real process follows the ledger and its sources; each test waits on the line watch prints
for the event (with a bound), never a fixed pause."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from ledgerkit.cli import cli

from .conftest import SAMPLE, fill_cli

TIMEOUT = 60.0  # seconds: a bound on every wait

RECORD = """
---

### RUN_ID: TB-LEDGER-20250816-003
- LOCAL_TS: 2025-08-16 17:40 KST (UTC+09:00)
- UTC_TS: 2025-08-16T08:40:00Z
- SCOPE: SESSION
- CONTEXT_ID: GG-SESS-20250816-1620
- SOURCE_FILES:
  - /gumgang_meeting/{source}
- CHAR_COUNT: [fill_after_measure]
- TOKEN_ESTIMATE: ceil(CHAR_COUNT / 4) = [fill]
- BUDGET_C: 130000
- UTILIZATION: [fill]%
- DISTRIBUTION:
  - system: 10%
  - rolling_summary: 20%
  - task_brief_and_acceptance: 30%
  - evidence_snippets: 30%
  - margin: 10%
- THRESHOLD_ACTION: [fill]
- NOTES:
  - a source that is not there yet
"""


class Watch:
    """A running `ledgerkit watch` and the lines it prints, read as they come."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ledgerkit", "watch", *args],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str) -> list[str]:
        """The lines printed up to the first one holding ``text`` (waiting at most TIMEOUT for it)."""
        got: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT)
            except queue.Empty:
                raise AssertionError(f"watch printed no line with {text!r}; it printed {self.seen}") from None
            self.seen.append(line)
            got.append(line)
            if text in line:
                return got

    def stop(self) -> int:
        """Ctrl-C, as a person ends it: the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=TIMEOUT)


@contextmanager
def watching(folder: Path, *args: str) -> Iterator[Watch]:
    w = Watch(folder, *args)
    try:
        yield w
    finally:
        if w.process.poll() is None:
            w.process.kill()
            w.process.wait(timeout=TIMEOUT)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    pytest.importorskip("watchfiles", reason="the editor extra (pip install 'ledgerkit[editor]') is not installed")
    shutil.copytree(SAMPLE, tmp_path, dirs_exist_ok=True)
    return tmp_path


def with_record(text: str, source: str) -> str:
    at = text.index("\n## 7)")
    return text[:at].rstrip("\n") + "\n" + RECORD.format(source=source) + "\n" + text[at:].lstrip("\n")


def test_watch_fills_at_start_and_again_when_a_source_a_new_record_names_appears(project: Path) -> None:
    ledger = project / "token_budget_ledger.md"
    original = ledger.read_text(encoding="utf-8")
    with watching(project, "token_budget_ledger.md") as w:
        got = w.wait_for("watching 1 ledger")
        assert any("token_budget_ledger.md: filled 2 records and the summary (start)" in line for line in got)
        assert ledger.read_text(encoding="utf-8") == fill_cli(project, original)

        # A record naming a source that is not there yet (in a folder not there yet): said, and followed.
        edited = with_record(ledger.read_text(encoding="utf-8"), "later/notes.md")
        ledger.write_text(edited, encoding="utf-8")
        got = w.wait_for("token_budget_ledger.md:")
        assert any("LK201" in line and "later/notes.md" in line for line in got), got
        assert "TB-LEDGER-20250816-003" in ledger.read_text(encoding="utf-8")

        (project / "gumgang_meeting" / "later").mkdir()
        (project / "gumgang_meeting" / "later" / "notes.md").write_text("새 근거 🪷\n" * 7, encoding="utf-8")
        got = w.wait_for("filled 1 record")
        assert "notes.md changed" in got[-1]
        assert ledger.read_text(encoding="utf-8") == fill_cli(project, edited)
        assert w.stop() == 0
        assert w.wait_for("stopped")


def test_watch_check_writes_nothing_and_reports(project: Path) -> None:
    ledger = project / "token_budget_ledger.md"
    original = ledger.read_bytes()
    with watching(project, "--check", "token_budget_ledger.md") as w:
        got = w.wait_for("watching 1 ledger")
        assert any("would fill 2 records and the summary (start)" in line for line in got)
        source = project / "gumgang_meeting" / "memory" / "memory.log"
        source.write_text(source.read_text(encoding="utf-8") + "한 줄 더\n", encoding="utf-8")
        got = w.wait_for("memory.log changed")
        assert "would fill 2 records" in got[-1]
        assert ledger.read_bytes() == original
        assert w.stop() == 0


def test_watch_and_lsp_without_the_editor_extra_say_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for command, module in (("watch", "watchfiles"), ("lsp", "pygls")):
        with monkeypatch.context() as m:
            m.setitem(sys.modules, module, None)  # import fails, as without the extra
            args = [command, "ledger.md"] if command == "watch" else [command]
            result = CliRunner().invoke(cli, args)
        assert result.exit_code == 2, (command, result.output)
        assert result.stderr.strip().splitlines() == [
            "ledgerkit: this command needs the editor extra: pip install 'ledgerkit[editor]'"
        ]


def test_the_watchers_followed_files_stay_inside_the_source_root(project: Path) -> None:
    from ledgerkit.api import Settings
    from ledgerkit.editor.watch import Watcher

    ledger = project / "token_budget_ledger.md"
    ledger.write_text(with_record(ledger.read_text(encoding="utf-8"), "../../../../etc/passwd"), encoding="utf-8")
    said: list[str] = []
    watcher = Watcher([ledger], Settings(), check=True, say=said.append)
    watcher.run(watcher.followed[0], "start")
    root = os.path.realpath(project)
    files = watcher.followed[0].files
    assert files and all(p.startswith(root + os.sep) for p in files)
    assert all(t == root or t.startswith(root + os.sep) for t in watcher.targets())
    assert any("LK205" in line for line in said)


def test_a_save_during_a_watch_fill_is_never_written_over(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ledgerkit.writing.fill as fill_module
    from ledgerkit.api import Settings
    from ledgerkit.editor.watch import Watcher

    ledger = project / "token_budget_ledger.md"
    real = fill_module.fill_file
    saved: list[str] = []

    def person_saves(_result: object) -> None:
        if not saved:  # between the fill's compute and its write, once
            text = ledger.read_text(encoding="utf-8") + "\n사람이 저장한 줄\n"
            ledger.write_text(text, encoding="utf-8")
            saved.append(text)

    monkeypatch.setattr(fill_module, "fill_file", lambda *a, **k: real(*a, on_computed=person_saves, **k))
    said: list[str] = []
    watcher = Watcher([ledger], Settings(), check=False, say=said.append)
    watcher.run(watcher.followed[0], "start")
    final = ledger.read_text(encoding="utf-8")
    assert saved and final.endswith("사람이 저장한 줄\n")
    assert final == fill_cli(project, saved[0])  # the fill started over on the person's text


def test_changes_that_arrive_together_are_one_fill_and_none_is_lost_while_watching_starts(project: Path) -> None:
    from ledgerkit.api import Settings
    from ledgerkit.editor.watch import Watcher, _follow

    ledger = project / "token_budget_ledger.md"
    memory = project / "gumgang_meeting" / "memory" / "memory.log"
    checklist = project / "gumgang_meeting" / "task" / "ui_mvp_gate_checklist.md"
    said: list[str] = []
    watcher = Watcher([ledger], Settings(), check=True, say=said.append)
    watcher.run(watcher.followed[0], "start")
    runs = watcher.runs

    def batches(*targets: str, **options: object) -> Iterator[set[tuple[int, str]]]:
        assert options["recursive"] is False and str(memory.parent) in targets
        memory.write_text("changed before the first batch\n", encoding="utf-8")  # while watching starts
        yield set()
        assert watcher.runs == runs + 1  # the change made meanwhile was handled with the first batch
        yield {(2, str(memory)), (2, str(checklist)), (2, str(ledger))}  # one batch of three changes
        assert watcher.runs == runs + 2
        yield {(2, str(project / "unrelated.txt"))}
        assert watcher.runs == runs + 2

    assert _follow(watcher, batches, None) is False
    assert "memory.log changed and 2 more)" in said[-1]


def test_watch_on_a_ledger_that_is_not_there_stops_with_one_line(tmp_path: Path) -> None:
    pytest.importorskip("watchfiles")
    result = CliRunner().invoke(cli, ["watch", str(tmp_path / "missing.md")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"ledgerkit: {tmp_path / 'missing.md'}: no such file"]
