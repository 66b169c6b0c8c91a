"""``ledgerkit lsp``: a language server over stdio, on pygls, for Markdown files that hold a ledger.

The protocol side only: every figure, problem and edit comes from :mod:`.analysis`. A buffer is analysed off
the event loop; changes that arrive while one analysis runs are folded into the next, so a burst of typing
costs one analysis after the one under way. Nothing is written to stdout but the protocol: logs go to the
client as window/logMessage.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from .._version import __version__
from ..api import Settings
from ..diagnostics import ERROR, Diagnostic
from ..errors import LedgerkitError
from . import analysis as lk
from .analysis import Analysis, Analyzer, Span

FILL_RECORD = "Fill this record"
FILL_LEDGER = "Fill the ledger"
APPEND = "Append the next record"
_CODES_DOC = Path(__file__).resolve().parents[2] / "docs" / "codes.md"
#: A checkout's docs/codes.md, whose table lists every code; a wheel has none, and a diagnostic then says what
#: its code means in its message.
_CODES_HREF = _CODES_DOC.as_uri() if _CODES_DOC.is_file() else None


@dataclass
class _State:
    """One open document: its latest analysis, and the analysis under way."""

    latest: Analysis | None = None
    version: int | None = None
    running: asyncio.Task[Analysis | None] | None = None
    again: bool = False
    waiters: list[asyncio.Future[Analysis | None]] = field(default_factory=list)


class LedgerServer(LanguageServer):
    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__("ledgerkit", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.analyzer = Analyzer(settings)
        self.states: dict[str, _State] = {}
        self.analyses = 0  # how many analyses ran (the benchmark reads it from the log)

    # -- analysing a document

    def document(self, uri: str) -> TextDocument:
        return self.workspace.get_text_document(uri)

    async def analysis(self, uri: str) -> Analysis | None:
        """The analysis of the document's current version (waiting for the one under way)."""
        state = self.states.setdefault(uri, _State())
        doc = self.document(uri)
        if state.latest is not None and state.version == doc.version and state.running is None:
            return state.latest
        future: asyncio.Future[Analysis | None] = asyncio.get_running_loop().create_future()
        state.waiters.append(future)
        self.schedule(uri)
        return await future

    def schedule(self, uri: str) -> None:
        state = self.states.setdefault(uri, _State())
        if state.running is not None:
            state.again = True
            return
        state.running = asyncio.get_running_loop().create_task(self._run(uri, state))

    async def _run(self, uri: str, state: _State) -> Analysis | None:
        found: Analysis | None = None
        try:
            while True:
                state.again = False
                doc = self.document(uri)
                text, version, path = doc.source, doc.version, _path(uri)
                found = await asyncio.get_running_loop().run_in_executor(None, self._analyze, text, path)
                if not state.again:
                    break
            state.latest, state.version = found, version
            if self.states.get(uri) is state:  # not closed meanwhile
                self._publish(doc, found)
        finally:
            state.running = None
            waiters, state.waiters = state.waiters, []
            for w in waiters:
                if not w.done():
                    w.set_result(found)
        return found

    def _analyze(self, text: str, path: Path | None) -> Analysis | None:
        self.analyses += 1
        # An analysis builds a ledger's worth of objects at once and keeps them: the cycle collector would walk
        # them again and again while it runs (a third of a 5,000-record keystroke) and free nothing. It is paused
        # for the analysis and collects afterwards, between keystrokes, as it would have.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self.analyzer.analyze(text, path)
        except Exception as exc:  # noqa: BLE001 - a buffer never takes the server down: say it, keep serving
            logging.getLogger("ledgerkit").exception("analysis failed")
            self.window_log_message(
                types.LogMessageParams(types.MessageType.Error, f"ledgerkit: internal error: {exc!r}")
            )
            return None
        finally:
            if collecting:
                gc.enable()

    def _publish(self, doc: TextDocument, found: Analysis | None) -> None:
        diagnostics = [] if found is None else [self._diagnostic(doc, found, d) for d in found.diagnostics]
        if found is not None and found.problem is not None:
            line = max(found.problem.line, 1)
            span = Span(line, 0, line, len(_line(found, line)))
            diagnostics.append(
                types.Diagnostic(
                    range=self.range(found, span),
                    message=found.problem.message,
                    severity=types.DiagnosticSeverity.Error,
                    source="ledgerkit",
                )
            )
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=doc.uri, diagnostics=diagnostics, version=doc.version)
        )

    def _diagnostic(self, doc: TextDocument, found: Analysis, d: Diagnostic) -> types.Diagnostic:
        severity = types.DiagnosticSeverity.Error if d.severity == ERROR else types.DiagnosticSeverity.Warning
        message = d.message
        description = None
        if _CODES_HREF is not None:
            description = types.CodeDescription(href=_CODES_HREF)
        else:
            message = f"{d.message} ({d.code}: {lk.code_summary(d.code)})"
        return types.Diagnostic(
            range=self.range(found, found.span(d)),
            message=message,
            severity=severity,
            code=d.code,
            code_description=description,
            source="ledgerkit",
        )

    # -- positions: code points in the ledger, the negotiated units on the wire

    def range(self, found: Analysis, span: Span) -> types.Range:
        return types.Range(self.position(found, span.line, span.start), self.position(found, span.end_line, span.end))

    def position(self, found: Analysis, line: int, column: int) -> types.Position:
        text = _line(found, line)
        return types.Position(line - 1, self.workspace.position_codec.client_num_units(text[:column]))

    def column(self, found: Analysis, position: types.Position) -> int:
        """The code-point column of a client position on its line."""
        text = _line(found, position.line + 1)
        units = 0
        for i, ch in enumerate(text):
            if units >= position.character:
                return i
            units += self.workspace.position_codec.client_num_units(ch)
        return len(text)

    def edit(self, found: Analysis, e: lk.TextEdit) -> types.TextEdit:
        return types.TextEdit(range=self.range(found, e.span), new_text=e.text)


def _line(found: Analysis, line: int) -> str:
    contents = found.ledger.lines.contents
    return contents[line - 1] if 1 <= line <= len(contents) else ""


def _path(uri: str) -> Path | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(path) if path else None


def _markdown(ls: LedgerServer, uri: str) -> bool:
    """A Markdown document: by its name, or by the language the editor gave it (an unsaved buffer)."""
    if uri.lower().endswith((".md", ".markdown")):
        return True
    doc = ls.workspace.text_documents.get(uri)
    return doc is not None and doc.language_id == "markdown"


# --- the features -------------------------------------------------------------------------------------------


def make_server(settings: Settings | None = None) -> LedgerServer:
    server = LedgerServer(settings)
    _sync(server)
    _requests(server)
    return server


def _sync(server: LedgerServer) -> None:
    """Documents opened, changed, saved and closed: each change schedules an analysis."""

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LedgerServer, params: types.DidOpenTextDocumentParams) -> None:
        if _markdown(ls, params.text_document.uri):
            ls.analyzer.refresh(_path(params.text_document.uri))
            ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LedgerServer, params: types.DidChangeTextDocumentParams) -> None:
        if _markdown(ls, params.text_document.uri):
            ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LedgerServer, params: types.DidSaveTextDocumentParams) -> None:
        if _markdown(ls, params.text_document.uri):
            ls.analyzer.refresh(_path(params.text_document.uri))  # a commit may have moved HEAD since
            ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LedgerServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.states.pop(params.text_document.uri, None)
        ls.analyzer.forget(_path(params.text_document.uri))
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )


def _requests(server: LedgerServer) -> None:
    """Hover, completion, the outline and code actions, each on the current version's analysis."""

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: LedgerServer, params: types.HoverParams) -> types.Hover | None:
        found = await _analysed(ls, params.text_document.uri)
        if found is None:
            return None
        line = params.position.line + 1
        text = await _off_loop(lk.hover, found, line, ls.column(found, params.position))
        if text is None:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text))

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=["/", " ", "-"]),
    )
    async def completion(ls: LedgerServer, params: types.CompletionParams) -> types.CompletionList | None:
        found = await _analysed(ls, params.text_document.uri)
        if found is None:
            return None
        line = params.position.line + 1
        items = await _off_loop(lk.complete, found, line, ls.column(found, params.position))
        return types.CompletionList(is_incomplete=False, items=[_item(ls, found, line, c, params) for c in items])

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbol(ls: LedgerServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        found = await _analysed(ls, params.text_document.uri)
        return [] if found is None else [_symbol(ls, found, s) for s in lk.symbols(found)]

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Source]),
    )
    async def code_action(ls: LedgerServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        found = await _analysed(ls, params.text_document.uri)
        if found is None or found.figures is None:
            return []
        actions: list[types.CodeAction] = await _off_loop(_actions, ls, found, params)
        return actions


async def _analysed(ls: LedgerServer, uri: str) -> Analysis | None:
    if not _markdown(ls, uri):
        return None
    found = await ls.analysis(uri)
    return found if found is not None and found.holds_ledger else None


async def _off_loop(f: Any, *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, f, *args)


def _item(
    ls: LedgerServer, found: Analysis, line: int, c: lk.Completion, params: types.CompletionParams
) -> types.CompletionItem:
    kinds = {
        "field": types.CompletionItemKind.Field,
        "value": types.CompletionItemKind.EnumMember,
        "file": types.CompletionItemKind.File,
        "folder": types.CompletionItemKind.Folder,
    }
    start = ls.position(found, line, c.start)
    edit = types.TextEdit(
        range=types.Range(start, params.position), new_text=c.label + (": " if c.kind == "field" else "")
    )
    return types.CompletionItem(label=c.label, kind=kinds[c.kind], detail=c.detail, text_edit=edit)


def _symbol(ls: LedgerServer, found: Analysis, s: lk.Symbol) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=s.name,
        detail=s.detail or None,
        kind=types.SymbolKind.Namespace if s.kind == "section" else types.SymbolKind.Event,
        range=ls.range(found, s.span),
        selection_range=ls.range(found, s.selection),
        children=[_symbol(ls, found, c) for c in s.children],
    )


def _actions(ls: LedgerServer, found: Analysis, params: types.CodeActionParams) -> list[types.CodeAction]:
    """Fill this record (the record under the cursor), fill the ledger, and append the next record."""
    uri, version = params.text_document.uri, ls.document(params.text_document.uri).version
    actions: list[types.CodeAction] = []
    record = found.record_at(params.range.start.line + 1)
    try:
        if record is not None:
            edits = lk.fill_record_edits(found, record)
            if edits:
                actions.append(_action(ls, found, f"{FILL_RECORD} ({record.run_id})", edits, uri, version, True))
        edits = lk.fill_ledger_edits(found)
        if edits:
            actions.append(_action(ls, found, FILL_LEDGER, edits, uri, version, False))
    except LedgerkitError as exc:  # a template that fill refuses: no action, and the reason in the log
        ls.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"ledgerkit: {exc.message}"))
    appended = lk.append_edit(found)
    if appended is not None:
        actions.append(_action(ls, found, APPEND, [appended], uri, version, False))
    return actions


def _action(
    ls: LedgerServer,
    found: Analysis,
    title: str,
    edits: list[lk.TextEdit],
    uri: str,
    version: int | None,
    quick: bool,
) -> types.CodeAction:
    document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    text_edits = [ls.edit(found, e) for e in edits]
    change = types.TextDocumentEdit(text_document=document, edits=list(text_edits))
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.QuickFix if quick else types.CodeActionKind.Source,
        # Versioned for the clients that can check it; plain for those that cannot (the spec allows both).
        edit=types.WorkspaceEdit(changes={uri: text_edits}, document_changes=[change]),
    )


class _ClientLog(logging.Handler):
    """Log records go to the client (window/logMessage), never to stdout, which carries the protocol."""

    def __init__(self, server: LedgerServer) -> None:
        super().__init__(logging.INFO)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        kind = types.MessageType.Error if record.levelno >= logging.ERROR else types.MessageType.Log
        try:
            self.server.window_log_message(types.LogMessageParams(kind, self.format(record)))
        except Exception:  # noqa: BLE001 - before the connection is up, or after it is gone: drop it
            pass


def serve(settings: Settings | None = None) -> None:
    """Serve one client over stdin and stdout until it says exit."""
    server = make_server(settings)
    handler = _ClientLog(server)
    for name in ("ledgerkit", "pygls"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(logging.WARNING if name == "pygls" else logging.INFO)
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    server.start_io()
