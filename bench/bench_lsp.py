"""How long `ledgerkit lsp` takes from a keystroke to its diagnostics, measured through a real client over stdio.

Starts `python -m ledgerkit lsp` with pygls's own client, opens a ledger, then sends --edits incremental
changes one at a time (a character typed at the end of the last record's last note; then, in a second
round, a new note line added after it, which changes the line count), each time timing
didChange to the publishDiagnostics for that version. Does so for the reference ledger and for a filled
ledger of --records records (bench/bench_fill.py's, whose records name three sources each). Beside each
figure, its anchor measured in the same run: the library's own parse + verify of the same text in this
process (what one analysis would cost without keeping anything between keystrokes), and the target the issue
set (50 ms for the reference, 500 ms for 5,000 records).

    python bench/bench_lsp.py [--edits 20] [--records 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fill import REFERENCE, build  # noqa: E402

from ledgerkit.reading.parse import parse  # noqa: E402

TIMEOUT = 120.0


class Client(LanguageClient):
    def __init__(self) -> None:
        super().__init__("bench", "1")
        self.arrived: dict[int, float] = {}
        self.event = asyncio.Event()

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _published(params: types.PublishDiagnosticsParams) -> None:
            if params.version is not None:
                self.arrived.setdefault(params.version, time.perf_counter())
                self.event.set()

    async def wait(self, version: int) -> float:
        while version not in self.arrived:
            self.event.clear()
            await asyncio.wait_for(self.event.wait(), TIMEOUT)
        return self.arrived[version]


async def keystrokes(path: Path, edits: int, enter: bool = False) -> list[float]:
    """Seconds from each didChange to its publishDiagnostics: a character typed at the end of the last note,
    or (``enter``) a new note line added after it, which changes the buffer's line count."""
    client = Client()
    await client.start_io(sys.executable, "-m", "ledgerkit", "lsp", cwd=str(path.parent))
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    text = path.read_text(encoding="utf-8")
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="markdown", version=1, text=text))
    )
    await client.wait(1)
    lines = text.split("\n")
    line = parse(text).records[-1].end_line - 1  # the last record's last line (its last note)
    times = []
    for version in range(2, edits + 2):
        column = len(lines[line])
        typed = "\n  - x" if enter else "x"
        change = types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(line, column), types.Position(line, column)), text=typed
        )
        if enter:
            lines.insert(line + 1, "  - x")
            line += 1
        else:
            lines[line] += "x"
        sent = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(types.VersionedTextDocumentIdentifier(version=version, uri=uri), [change])
        )
        times.append(await client.wait(version) - sent)
    await client.shutdown_async(None)
    client.exit(None)
    await asyncio.wait_for(client.stop(), TIMEOUT)
    return times


def in_process(path: Path) -> float:
    """The anchor: the library's parse + verify of the same text, in this process (median of 3)."""
    from ledgerkit.checks.verify import verify
    from ledgerkit.config import config_for
    from ledgerkit.reading.parse import parse

    text, config = path.read_text(encoding="utf-8"), config_for(path)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        verify(parse(text, str(path)), config=config)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--records", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        reference = folder / "reference" / REFERENCE.name
        shutil.copytree(REFERENCE.parent, reference.parent)
        big = build(folder / "big", args.records)
        subprocess.run([sys.executable, "-m", "ledgerkit", "fill", "-q", str(big)], check=False)
        print(f"{'ledger, keystroke':<34} {'median ms':>10} {'max ms':>8} {'target ms':>10} {'parse+verify ms':>16}")
        for name, path, target in (("reference", reference, 50), (f"{args.records:,} records", big, 500)):
            anchor = in_process(path)
            for kind, enter in (("a character", False), ("a new line", True)):
                times = asyncio.run(keystrokes(path, args.edits, enter))
                median, worst = statistics.median(times) * 1000, max(times) * 1000
                label = f"{name}, {kind}"
                print(f"{label:<34} {median:>10.1f} {worst:>8.1f} {target:>10} {anchor * 1000:>16.1f}")


if __name__ == "__main__":
    main()
