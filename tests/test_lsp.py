"""`ledgerkit lsp` end to end: a real LSP client (pygls's own) talks to the server over stdio.

Every wait is on an event (a publishDiagnostics for the version sent, a response) with a bound; none sleeps.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls", reason="the editor extra (pip install 'ledgerkit[editor]') is not installed")

from lsprotocol import types  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402

from ledgerkit.editor.analysis import TextEdit as LkEdit  # noqa: E402
from ledgerkit.editor.analysis import apply_edits, span_of  # noqa: E402
from ledgerkit.errors import LedgerkitError  # noqa: E402

from .conftest import SAMPLE, fill_cli  # noqa: E402

TIMEOUT = 60  # seconds: a bound on every wait, never a pause


class Client(LanguageClient):
    """A client that keeps every publishDiagnostics and lets a test wait for the one of a version."""

    def __init__(self) -> None:
        super().__init__("ledgerkit-tests", "1")
        self.published: list[types.PublishDiagnosticsParams] = []
        self.logs: list[str] = []
        self.changed = asyncio.Condition()

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        async def _published(params: types.PublishDiagnosticsParams) -> None:
            async with self.changed:
                self.published.append(params)
                self.changed.notify_all()

        @self.feature(types.WINDOW_LOG_MESSAGE)
        def _logged(params: types.LogMessageParams) -> None:
            self.logs.append(params.message)

    async def diagnostics(self, uri: str, version: int) -> list[types.Diagnostic]:
        """The diagnostics published for this version of the document (waiting for them)."""

        def found() -> types.PublishDiagnosticsParams | None:
            return next((p for p in reversed(self.published) if p.uri == uri and p.version == version), None)

        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(lambda: found() is not None), TIMEOUT)
        params = found()
        assert params is not None
        return list(params.diagnostics)


class Doc:
    """The client's copy of a document: it sends incremental changes and keeps its text in step."""

    def __init__(self, client: Client, path: Path) -> None:
        self.client, self.path = client, path
        self.uri = path.as_uri()
        self.text = path.read_text(encoding="utf-8")
        self.version = 1
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri=self.uri, language_id="markdown", version=1, text=self.text)
            )
        )

    def position(self, offset: int) -> types.Position:
        before = self.text[:offset]
        line = before.count("\n")
        column = before[before.rfind("\n") + 1 :]
        return types.Position(line, len(column.encode("utf-16-le")) // 2)

    def replace(self, old: str, new: str, nth: int = 1) -> None:
        """Replace the nth occurrence of ``old`` with one incremental change."""
        at = -1
        for _ in range(nth):
            at = self.text.index(old, at + 1)
        change = types.TextDocumentContentChangePartial(
            range=types.Range(self.position(at), self.position(at + len(old))), text=new
        )
        self.text = self.text[:at] + new + self.text[at + len(old) :]
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version), [change]
            )
        )

    def apply(self, edits: list[types.TextEdit]) -> str:
        """The text with a workspace edit's text edits made, as a client makes them (UTF-16 positions)."""
        lines = self.text.split("\n")

        def column(p: types.Position) -> int:
            line = lines[p.line] if p.line < len(lines) else ""
            units = 0
            for i, ch in enumerate(line):
                if units >= p.character:
                    return i
                units += len(ch.encode("utf-16-le")) // 2
            return len(line)

        ours = [
            LkEdit(span_at(e.range.start, column(e.range.start), e.range.end, column(e.range.end)), e.new_text)
            for e in edits
        ]
        return apply_edits(self.text, ours)

    async def diagnostics(self) -> list[types.Diagnostic]:
        return await self.client.diagnostics(self.uri, self.version)


def span_at(start: types.Position, column: int, end: types.Position, end_column: int) -> Any:
    from ledgerkit.editor.analysis import Span

    return Span(start.line + 1, column, end.line + 1, end_column)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The sample ledger and its sources, committed in a git repository (its HEAD is the base)."""
    shutil.copytree(SAMPLE, tmp_path, dirs_exist_ok=True)
    for args in (["init", "-q"], ["add", "-A"], ["-c", "user.name=T", "-c", "user.email=t@x", "commit", "-qm", "s"]):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True, timeout=TIMEOUT)
    return tmp_path


@asynccontextmanager
async def server(cwd: Path) -> AsyncIterator[Client]:
    client = Client()
    await client.start_io(sys.executable, "-m", "ledgerkit", "lsp", cwd=str(cwd))
    try:
        capabilities = types.ClientCapabilities(
            general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16])
        )
        result = await asyncio.wait_for(
            client.initialize_async(types.InitializeParams(capabilities=capabilities, root_uri=cwd.as_uri())), TIMEOUT
        )
        sync = result.capabilities.text_document_sync
        assert isinstance(sync, types.TextDocumentSyncOptions)
        assert sync.change == types.TextDocumentSyncKind.Incremental
        client.initialized(types.InitializedParams())
        yield client
        await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
        client.exit(None)
        assert client._server is not None
        assert await asyncio.wait_for(client._server.wait(), TIMEOUT) == 0  # a clean exit
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()
        await asyncio.wait_for(client.stop(), TIMEOUT)


def run(test: Callable[[], Any]) -> None:
    asyncio.run(asyncio.wait_for(test(), 4 * TIMEOUT))


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


def by_code(diagnostics: list[types.Diagnostic], code: str) -> types.Diagnostic:
    return next(d for d in diagnostics if d.code == code)


# --- diagnostics ------------------------------------------------------------------------------------------


def test_diagnostics_as_typed_with_codes_ranges_and_the_append_only_base(project: Path) -> None:
    async def test() -> None:
        async with server(project) as client:
            doc = Doc(client, project / "token_budget_ledger.md")
            assert await doc.diagnostics() == []  # the committed sample is clean

            doc.replace("- SCOPE: SESSION", "- SCOPE: 🪷SESION")  # an astral character: two UTF-16 units
            found = await doc.diagnostics()
            assert codes(found) == ["LK508", "LK605"]  # the edit, and the history against HEAD
            scope = by_code(found, "LK508")
            line = doc.text.split("\n").index("- SCOPE: 🪷SESION")
            assert scope.range == types.Range(types.Position(line, 9), types.Position(line, 9 + 2 + 6))
            assert scope.severity == types.DiagnosticSeverity.Error and scope.source == "ledgerkit"
            assert scope.code_description is not None and scope.code_description.href.endswith("/docs/codes.md")

            doc.replace("- SCOPE: 🪷SESION", "- SCOPE: SESSION")
            doc.replace("/gumgang_meeting/memory/memory.log  #", "/../../outside.log  #", nth=2)
            found = await doc.diagnostics()  # the latest version only: the one in between may be folded in
            assert codes(found) == ["LK205", "LK601"]
            outside = by_code(found, "LK205")
            line = next(i for i, t in enumerate(doc.text.split("\n")) if "/../../outside.log" in t)
            assert outside.range.start == types.Position(line, 4)
            assert "outside.log" not in "".join(client.logs)

    run(test)


def test_a_warning_keeps_its_severity_and_a_suppression_silences_it(project: Path) -> None:
    async def test() -> None:
        async with server(project) as client:
            ledger = project / "token_budget_ledger.md"
            text = ledger.read_text(encoding="utf-8")
            at = text.rindex("- NOTES:")
            ledger.write_text(text[:at] + "- COLOUR: blue\n" + text[at:], encoding="utf-8")
            doc = Doc(client, ledger)
            found = await doc.diagnostics()
            unknown = by_code(found, "LK512")
            assert unknown.severity == types.DiagnosticSeverity.Warning
            line = doc.text.split("\n").index("- COLOUR: blue")
            assert unknown.range == types.Range(types.Position(line, 2), types.Position(line, 8))  # the key

    run(test)


def test_a_broken_buffer_gets_diagnostics_and_the_server_keeps_serving(project: Path) -> None:
    async def test() -> None:
        async with server(project) as client:
            doc = Doc(client, project / "token_budget_ledger.md")
            await doc.diagnostics()
            doc.replace("## 7)", "### RUN_ID: TB-LEDGER-2025\n- CHAR_COUNT: [fill\n- SCOPE:\n```\n## 7)")
            found = await doc.diagnostics()
            assert "LK501" in codes(found)  # the half-typed RUN_ID
            symbols = await asyncio.wait_for(
                client.text_document_document_symbol_async(
                    types.DocumentSymbolParams(types.TextDocumentIdentifier(doc.uri))
                ),
                TIMEOUT,
            )
            assert symbols
            notes = project / "notes.md"
            notes.write_bytes(b"# Notes\n\nno ledger here \xff\n".decode("latin-1").encode("utf-8"))
            other = Doc(client, notes)
            assert await other.diagnostics() == []  # a Markdown file that holds no ledger gets nothing

            untitled = "untitled:Untitled-1"  # an unsaved buffer the editor calls Markdown
            text = (
                (project / "token_budget_ledger.md").read_text(encoding="utf-8").replace("SCOPE: SESSION", "SCOPE: S")
            )
            client.text_document_did_open(
                types.DidOpenTextDocumentParams(types.TextDocumentItem(untitled, "markdown", 1, text))
            )
            assert "LK508" in codes(await client.diagnostics(untitled, 1))

    run(test)


# --- hover ----------------------------------------------------------------------------------------------


def _hover(client: Client, doc: Doc, line: int, character: int) -> Any:
    return asyncio.wait_for(
        client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(doc.uri), types.Position(line, character))
        ),
        TIMEOUT,
    )


def test_hover_shows_a_records_figures_and_a_sources_size(project: Path) -> None:
    from ledgerkit.config import config_for
    from ledgerkit.figures.compute import compute
    from ledgerkit.reading.parse import load

    ledger_path = project / "token_budget_ledger.md"
    figures = compute(load(ledger_path), config_for(ledger_path), measure_all=True).records[0]
    assert figures.chars is not None and figures.tokens is not None and figures.sources

    async def test() -> None:
        async with server(project) as client:
            doc = Doc(client, ledger_path)
            await doc.diagnostics()
            lines = doc.text.split("\n")
            heading = lines.index("### RUN_ID: TB-LEDGER-20250816-001")
            shown = await _hover(client, doc, heading, 14)
            text = shown.contents.value
            assert "TB-LEDGER-20250816-001" in text
            assert f"| characters | {figures.chars:,} |" in text
            assert f"| estimate | {figures.tokens:,} tokens" in text
            assert "| budget | 130,000 |" in text and "| level reached | NONE |" in text
            for ms in figures.sources:
                assert f"`{ms.source.display}` {ms.chars:,} characters" in text
            on_figure = await _hover(client, doc, heading + 14, 5)  # - TOKEN_ESTIMATE: ...
            assert on_figure.contents.value == text

            source = heading + 6  # the first SOURCE_FILES entry
            first = figures.sources[0]
            shown = await _hover(client, doc, source, 6)
            assert f"{first.chars:,} characters" in shown.contents.value
            assert f"{-(-first.chars // 4):,} tokens estimated" in shown.contents.value

            doc.replace("/gumgang_meeting/memory/memory.log  #", "/gumgang_meeting/memory/missing.log  #")
            await doc.diagnostics()
            shown = await _hover(client, doc, source, 6)
            assert "cannot be measured: LK201" in shown.contents.value
            assert await _hover(client, doc, 0, 3) is None  # the title: nothing to show

    run(test)


# --- code actions ---------------------------------------------------------------------------------------


async def _actions(client: Client, doc: Doc, line: int) -> list[types.CodeAction]:
    found = await asyncio.wait_for(
        client.text_document_code_action_async(
            types.CodeActionParams(
                types.TextDocumentIdentifier(doc.uri),
                types.Range(types.Position(line, 0), types.Position(line, 0)),
                types.CodeActionContext(diagnostics=[]),
            )
        ),
        TIMEOUT,
    )
    return [a for a in found or [] if isinstance(a, types.CodeAction)]


def _edits(action: types.CodeAction) -> list[types.TextEdit]:
    assert action.edit is not None and action.edit.document_changes
    change = action.edit.document_changes[0]
    assert isinstance(change, types.TextDocumentEdit)
    return [e for e in change.edits if isinstance(e, types.TextEdit)]


def test_fill_actions_write_what_fill_writes_and_append_inserts_a_record(project: Path) -> None:
    async def test() -> None:
        async with server(project) as client:
            doc = Doc(client, project / "token_budget_ledger.md")
            doc.replace("## 8) 체크리스트(간이)\n", "## 8) 체크리스트(간이)\n\n아직 저장하지 않은 줄.\n")  # unsaved
            await doc.diagnostics()
            expected = fill_cli(project, doc.text)
            assert expected != doc.text

            heading = doc.text.split("\n").index("### RUN_ID: TB-LEDGER-20250816-002")
            actions = {a.title.split(" (")[0]: a for a in await _actions(client, doc, heading + 2)}
            assert set(actions) == {"Fill this record", "Fill the ledger", "Append the next record"}

            for action in actions.values():  # versioned edits, and the same plain ones for other clients
                assert action.edit is not None and action.edit.changes is not None
                assert list(action.edit.changes[doc.uri]) == _edits(action)
            whole = doc.apply(_edits(actions["Fill the ledger"]))
            assert whole == expected
            for e in _edits(actions["Fill the ledger"]):  # only placeholders and the summary block
                old = doc.text.split("\n")[e.range.start.line]
                assert "[fill" in old or e.range.start.line > doc.text.split("\n").index(
                    "## 7) 누계/요약(Cumulative Summary)"
                )

            one = doc.apply(_edits(actions["Fill this record"]))
            new, old, filled = one.split("\n"), doc.text.split("\n"), expected.split("\n")
            changed = [i for i in range(len(old)) if new[i] != old[i]]
            assert changed and all(new[i] == filled[i] for i in changed)
            assert min(changed) > heading  # within the record under the cursor, nothing else

            appended = doc.apply(_edits(actions["Append the next record"]))
            from ledgerkit.reading.parse import parse

            before, after = parse(doc.text), parse(appended)
            assert [r.run_id for r in after.records[:-1]] == [r.run_id for r in before.records]
            new_record = after.records[-1]
            assert new_record.get("SCOPE") == "SESSION" and new_record.get("CHAR_COUNT") == "[fill_after_measure]"
            (insertion,) = _edits(actions["Append the next record"])
            assert insertion.range.start == insertion.range.end  # only inserted: nothing else changes
            assert new_record.line > before.records[-1].end_line

            doc.replace(doc.text, whole)  # the client applies the fill: the server follows
            assert await doc.diagnostics() == []
            titles = [a.title for a in await _actions(client, doc, heading + 2)]
            assert titles == ["Append the next record"]  # nothing left to fill

    run(test)


# --- completion and symbols -----------------------------------------------------------------------------


async def _complete(client: Client, doc: Doc, line: int, character: int) -> list[types.CompletionItem]:
    found = await asyncio.wait_for(
        client.text_document_completion_async(
            types.CompletionParams(types.TextDocumentIdentifier(doc.uri), types.Position(line, character))
        ),
        TIMEOUT,
    )
    assert isinstance(found, types.CompletionList)
    return list(found.items)


def test_completion_of_fields_values_and_source_paths_under_the_root(project: Path) -> None:
    async def test() -> None:
        async with server(project) as client:
            doc = Doc(client, project / "token_budget_ledger.md")
            await doc.diagnostics()
            lines = doc.text.split("\n")
            notes = lines.index("- THRESHOLD_ACTION: NONE")

            doc.replace("- THRESHOLD_ACTION: NONE\n", "- THRESHOLD_ACTION: NONE\n- MO\n")
            await doc.diagnostics()
            labels = [i.label for i in await _complete(client, doc, notes + 1, 4)]
            assert "MODEL" in labels and "COST_ESTIMATE" in labels and "SCOPE" not in labels  # SCOPE is written

            doc.replace("- SCOPE: SESSION", "- SCOPE: T")
            await doc.diagnostics()
            scope = doc.text.split("\n").index("- SCOPE: T")
            items = await _complete(client, doc, scope, 10)
            assert [i.label for i in items] == ["CONV", "UNIT", "TASK", "SESSION", "PROJECT"]
            assert items[0].text_edit is not None and items[0].text_edit.range.start == types.Position(scope, 9)

            lines = doc.text.split("\n")
            action = next(i for i, t in enumerate(lines) if i > notes - 20 and t.startswith("- THRESHOLD_ACTION:"))
            labels = [i.label for i in await _complete(client, doc, action, len("- THRESHOLD_ACTION: "))]
            assert labels == ["NONE", "ALERT70", "ALERT85", "ALERT95", "MINIMAL"]

            doc.replace("  - /gumgang_meeting/memory/memory.log  # 의식·서명·선언·결정", "  - /gumgang_meeting/dr")
            await doc.diagnostics()
            source = next(i for i, t in enumerate(doc.text.split("\n")) if t == "  - /gumgang_meeting/dr")
            items = await _complete(client, doc, source, len("  - /gumgang_meeting/dr"))
            labels = [i.label for i in items]
            assert labels == sorted(
                p.name + "/" if p.is_dir() else p.name for p in (project / "gumgang_meeting").iterdir()
            )
            assert items[0].text_edit is not None and items[0].text_edit.range.start.character == len(
                "  - /gumgang_meeting/"
            )

            doc.replace("  - /gumgang_meeting/dr", "  - /../")
            await doc.diagnostics()
            source = next(i for i, t in enumerate(doc.text.split("\n")) if t == "  - /../")
            assert await _complete(client, doc, source, len("  - /../")) == []  # nothing outside the root

    run(test)


def test_symbols_are_the_sections_and_records_with_their_utilization(project: Path) -> None:
    async def test() -> None:
        async with server(project) as client:
            doc = Doc(client, project / "token_budget_ledger.md")
            await doc.diagnostics()
            found = await asyncio.wait_for(
                client.text_document_document_symbol_async(
                    types.DocumentSymbolParams(types.TextDocumentIdentifier(doc.uri))
                ),
                TIMEOUT,
            )
            assert found is not None
            sections = [s for s in found if isinstance(s, types.DocumentSymbol)]
            headings = [t.lstrip("#").strip() for t in doc.text.split("\n") if t.startswith(("# ", "## "))]
            assert [s.name for s in sections] == headings
            ledger = next(s for s in sections if s.name == "6) 원장(append-only)")
            filled = fill_cli(project, doc.text)
            from ledgerkit.reading.parse import parse

            written = {r.run_id: r.get("UTILIZATION") for r in parse(filled).records}
            assert [(c.name, c.detail) for c in ledger.children or []] == [
                (run_id, value) for run_id, value in written.items()
            ]
            assert all(not s.children for s in sections if s is not ledger)

    run(test)


def test_span_of_points_at_the_text_a_problem_is_about() -> None:
    from ledgerkit.reading.parse import parse

    ledger = parse("## 6) Ledger (append-only)\n\n### RUN_ID: X-1\n- SCOPE: NOPE\n- ODD: 1\n")
    record = ledger.records[0]
    assert span_of(ledger, 3, 12, record) == (3, 12, 3, 15)  # the RUN_ID
    assert span_of(ledger, 4, 9, record) == (4, 9, 4, 13)  # a value
    assert span_of(ledger, 5, 2, record) == (5, 2, 5, 5)  # a key
    assert span_of(ledger, 9, 0, record) == (5, 0, 5, 8)  # past the end: the last line


def test_a_broken_configuration_is_one_problem_and_the_server_stays_up(project: Path) -> None:
    async def test() -> None:
        async with server(project) as client:
            (project / "ledgerkit.yaml").write_text("root: .\ndivisor: many\n", encoding="utf-8")
            doc = Doc(client, project / "token_budget_ledger.md")
            (problem,) = await doc.diagnostics()
            assert problem.range.start.line == 0 and "ledgerkit.yaml:2" in problem.message
            assert problem.severity == types.DiagnosticSeverity.Error
            (project / "ledgerkit.yaml").write_text("root: .\n", encoding="utf-8")
            client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(doc.uri)))
            doc.replace("- SCOPE: SESSION", "- SCOPE: SESSION")  # a new version, after the save
            assert await doc.diagnostics() == []

    run(test)


@pytest.mark.parametrize("filled", [False, True])
def test_the_analysis_figures_are_fills_own(project: Path, filled: bool) -> None:
    """The analysis reuses the checks' figures for records with nothing waiting: fill's figures all the same."""
    from ledgerkit.config import config_for
    from ledgerkit.editor.analysis import Analyzer
    from ledgerkit.figures.compute import compute
    from ledgerkit.reading.parse import parse
    from ledgerkit.writing.fill import fill_from

    path = project / "token_budget_ledger.md"
    text = path.read_text(encoding="utf-8")
    if filled:  # records with nothing waiting, one with a contradiction and a model no one knows
        text = fill_cli(project, text)
        text = text.replace("- THRESHOLD_ACTION: NONE", "- THRESHOLD_ACTION: ALERT95\n- MODEL: no-such-model", 1)
    text = text.replace("## 7)", RECORD_WAITING + "\n## 7)")  # one more record waiting, whose source is missing
    warm = Analyzer()
    warm.analyze(text.replace("- SCOPE: SESSION", "- SCOPE: TASK"), path)  # its records' figures are kept
    text = text.replace("- BUDGET_C: 130000", "- BUDGET_C: 120000", 1)  # and one record changes
    ledger = parse(text, str(path))
    expected = compute(ledger, config_for(path))
    analysis = warm.analyze(text, path)
    found = analysis.figures
    assert found is not None
    assert analysis.diagnostics == Analyzer().analyze(text, path).diagnostics  # as a fresh analysis finds
    from ledgerkit.api import Settings, base_of
    from ledgerkit.checks.verify import verify

    config = config_for(path)
    both = set(verify(ledger, base=base_of(path, "HEAD"), config=config)) | set(expected.diagnostics)
    ordered = sorted(both, key=lambda d: (d.line, d.column, d.code, d.message))
    assert analysis.diagnostics == Settings().steer(ordered, config, ledger, unused=True)  # verify's and fill's

    def shown(f: Any) -> tuple[Any, ...]:
        return (f.run_id, f.chars, f.tokens, f.budget, f.utilization, f.action, f.exact, f.problems, f.blocked)

    assert [shown(f) for f in found.records] == [shown(f) for f in expected.records]
    assert sorted(found.diagnostics) == sorted(expected.diagnostics)
    assert fill_from(found).text == fill_from(expected).text
    assert not filled or {"LK303", "LK306"} <= {d.code for d in analysis.diagnostics}


RECORD_WAITING = """
### RUN_ID: TB-LEDGER-20250816-003
- LOCAL_TS: 2025-08-16 17:40 KST (UTC+09:00)
- UTC_TS: 2025-08-16T08:40:00Z
- SCOPE: SESSION
- CONTEXT_ID: GG-SESS-20250816-1620
- SOURCE_FILES:
  - /gumgang_meeting/memory/memory.log
  - /gumgang_meeting/not_there.md
- CHAR_COUNT: [fill_after_measure]
- TOKEN_ESTIMATE: [fill]
- BUDGET_C: [fill]
- UTILIZATION: [fill]%
- DISTRIBUTION:
  - system: 100%
- THRESHOLD_ACTION: [fill]
- NOTES:
  - waits
"""


# --- a broken buffer, as a class ---------------------------------------------------------------------------

_PIECES = [
    "### RUN_ID: TB-LEDGER-20250816-00",
    "- CHAR_COUNT: [fill",
    "- SOURCE_FILES:\n  - /../../etc/passwd\n  - /gumgang_meeting/",
    "```\n",
    "\r",
    "\u2028",
    "🪷",
    "<!-- ledgerkit: ignore LK5 -->\n",
    "## 7) 누계/요약(Cumulative Summary)\n- SESSION_ID: X\n",
    "- UTILIZATION: 12.5%\n",
    "- THRESHOLD_ACTION: ",
    "\n\n---\n",
    "    ",
    "SESSION_BUDGET_C: 0\n",
]


def test_any_edit_of_a_buffer_gives_problems_and_answers_never_an_error(project: Path) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from ledgerkit.diagnostics import CODES
    from ledgerkit.editor import analysis as lk

    path = project / "token_budget_ledger.md"
    original = path.read_text(encoding="utf-8")
    analyzer = lk.Analyzer()
    edit = st.tuples(
        st.integers(0, len(original)),
        st.integers(0, 200),
        st.lists(st.sampled_from(_PIECES) | st.text(max_size=8), max_size=4).map("".join),
    )

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(edit, min_size=1, max_size=3), st.integers(1, 200), st.integers(0, 60))
    def check(edits: list[tuple[int, int, str]], line: int, column: int) -> None:
        text = original
        for at, cut, new in edits:
            at = min(at, len(text))
            text = text[:at] + new + text[at + cut :]
        found = analyzer.analyze(text, path)
        assert all(d.code in CODES for d in found.diagnostics)
        count = max(len(found.ledger.lines.contents), 1)
        for d in found.diagnostics:
            span = found.span(d)
            assert 1 <= span.line <= span.end_line <= count and span.start <= span.end
        lk.hover(found, line, column)
        lk.complete(found, line, column)
        lk.symbols(found)
        for record in found.ledger.records[-2:]:
            lk.fill_record_edits(found, record)
        try:
            lk.fill_ledger_edits(found)
        except LedgerkitError:
            pass  # fill refuses (a summary it would not own): the server offers no action and says why
        lk.append_edit(found)

    check()


def test_a_base_in_git_that_is_not_utf8_is_lk608_and_the_buffer_is_still_checked(project: Path) -> None:
    ledger = project / "token_budget_ledger.md"
    good = ledger.read_bytes()
    ledger.write_bytes(good.replace("의식".encode(), b"\xff\xfe", 1))
    for args in (["add", "-A"], ["-c", "user.name=T", "-c", "user.email=t@x", "commit", "-qm", "latin"]):
        subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True, timeout=TIMEOUT)
    ledger.write_bytes(good)

    async def test() -> None:
        async with server(project) as client:
            doc = Doc(client, ledger)
            doc.replace("- SCOPE: SESSION", "- SCOPE: NOPE")
            found = await doc.diagnostics()
            assert codes(found) == ["LK508", "LK608"]
            assert "not UTF-8" in by_code(found, "LK608").message

    run(test)


# --- reading only the record a keystroke changed -------------------------------------------------------------

_TYPED = ["a", "7", " ", "-", "* ", "1. ", "`", "~~~", "<", "#", "|", "\t", "\\", "[fill]", "---", "🪷", "=", ">"]


def test_reading_only_the_changed_record_gives_what_a_whole_parse_gives() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from ledgerkit.editor.incremental import reparse
    from ledgerkit.reading.parse import parse

    text = (SAMPLE / "token_budget_ledger.md").read_text(encoding="utf-8")
    before = parse(text, "l.md")
    lines = text.split("\n")
    inside = [i for r in before.records for i in range(r.line - 1, r.end_line)]
    used = {"whole": 0, "record": 0}

    @settings(max_examples=300, deadline=None)
    @given(
        st.sampled_from(inside), st.integers(0, 80), st.integers(0, 3), st.lists(st.sampled_from(_TYPED), max_size=3)
    )
    def check(index: int, at: int, cut: int, typed: list[str]) -> None:
        line = lines[index]
        at = min(at, len(line))
        edited = lines[:index] + [line[:at] + "".join(typed) + line[at + cut :]] + lines[index + 1 :]
        after = "\n".join(edited)
        found = reparse(before, after)
        used["whole" if found is None else "record"] += 1
        if found is not None:
            assert found == parse(after, "l.md")

    check()
    assert used["record"] > 50 and used["whole"] > 20  # both ways were taken


def test_an_analysis_runs_without_the_cycle_collector_and_gives_it_back(project: Path) -> None:
    # Issue 16: a 5,000-record keystroke spent a third of its time in the cycle collector walking the objects
    # the analysis was building. It is paused for the analysis only: afterwards it runs as before, and an
    # analysis that fails gives it back too.
    import gc

    from ledgerkit.editor.server import LedgerServer

    server = LedgerServer()
    seen: list[bool] = []
    real = server.analyzer.analyze

    def analyze(text: str, path: Path | None) -> Any:
        seen.append(gc.isenabled())
        if text == "boom":
            raise RuntimeError("boom")
        return real(text, path)

    server.analyzer.analyze = analyze  # type: ignore[method-assign]
    server.window_log_message = lambda params: None  # type: ignore[method-assign]
    assert gc.isenabled()
    ledger = project / "token_budget_ledger.md"
    assert server._analyze(ledger.read_text(encoding="utf-8"), ledger) is not None
    assert server._analyze("boom", ledger) is None
    assert seen == [False, False] and gc.isenabled()
