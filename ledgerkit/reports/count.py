"""``ledgerkit count``: characters, the estimate and exact tokens of files, folders and SOURCE_FILES
entries, or of chat transcripts with the per-message overhead OpenAI documents.

A path is read with the SOURCE_FILES syntax (``path:START-END``, ``path#L7``, ``*`` and ``**`` globs),
relative to the current folder; a leading ``/`` is the file system's root (there is no ledger here to
give a source root). Folders are recursed (see :mod:`ledgerkit.measuring.folders`: inside a git work tree,
what git ignores is left out; outside, hidden folders, virtual environments and node_modules). A file met
in a folder or glob that is not text is skipped and named; one named that cannot be counted is a problem.
Each file is read once; tokens are counted on every core.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..errors import LedgerkitError
from ..figures.exact import source_text
from ..measuring.folders import folder_files as folder_files  # re-exported: count reads folders this way
from ..measuring.measure import NOT_TEXT, SourceError, SourceReader
from ..measuring.resolve import Resolver
from ..measuring.specs import Problem as SourceProblem
from ..measuring.specs import parse_source, range_suffix
from ..schema import token_estimate
from ..tokens.engine import count_many
from ..tokens.names import DEFAULT, Resolved, resolve
from .formatting import json_text, thousands

#: OpenAI's documented chat overhead for its chat models (gpt-3.5-turbo-0125, gpt-4, gpt-4o, gpt-4o-mini):
#: the OpenAI Cookbook, "How to count tokens with tiktoken", num_tokens_from_messages().
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_REPLY_PRIMING = 3  # every reply is primed with <|start|>assistant<|message|>
MESSAGE_KEYS = ("role", "content", "name")

Progress = Callable[[int, int], None]


class CountError(LedgerkitError):
    """A transcript cannot be read as chat messages."""


@dataclass(frozen=True)
class Counted:
    """The figures of one file (or transcript): characters, the estimate, and tokens per encoding asked for."""

    path: str
    chars: int
    token_estimate: int
    tokens: dict[str, int]
    messages: int | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path,
            "chars": self.chars,
            "token_estimate": self.token_estimate,
            "tokens": dict(self.tokens),
        }
        if self.messages is not None:
            data["messages"] = self.messages
        return data


@dataclass(frozen=True)
class CountProblem:
    """A path that was not counted, and why."""

    path: str
    reason: str


@dataclass
class CountResult:
    """What ``count`` found: a row per file, the encodings used, and what could not be counted."""

    files: list[Counted]
    encodings: list[Resolved]
    divisor: int
    skipped: list[CountProblem] = field(default_factory=list)  # found in a folder, not text: left out
    problems: list[CountProblem] = field(default_factory=list)  # named, and cannot be counted
    messages: bool = False

    @property
    def total(self) -> Counted:
        """Sums; the total estimate is ceil(total chars / divisor), as the ledger estimates several sources."""
        chars = sum(f.chars for f in self.files)
        tokens = {r.name: sum(f.tokens[r.name] for f in self.files) for r in self.encodings}
        messages = sum(f.messages or 0 for f in self.files) if self.messages else None
        return Counted(
            f"total ({_files(len(self.files))})", chars, token_estimate(chars, self.divisor), tokens, messages
        )

    def largest(self, n: int) -> list[Counted]:
        """The n files with the most tokens (of the first encoding), largest first; ties in path order."""
        first = self.encodings[0].name
        return sorted(self.files, key=lambda f: (-f.tokens[first], f.path))[:n]

    def to_json(self, top: int | None = None) -> dict[str, Any]:
        files = self.largest(top) if top else self.files
        total = self.total.as_json()
        del total["path"]
        total["files"] = len(self.files)
        return {
            "encodings": {r.name: {"encoding": r.encoding, "exact": r.exact} for r in self.encodings},
            "files": [f.as_json() for f in files],
            "total": total,
            "skipped": [{"path": p.path, "reason": p.reason} for p in self.skipped],
        }

    def format_json(self, top: int | None = None) -> str:
        return json_text(self.to_json(top), end="\n")

    def format_text(self, top: int | None = None) -> str:
        """A table, numbers right-aligned and the path last (like ``wc``), then what each column means."""
        lines = []
        if top and top < len(self.files):
            lines.append(f"the {top} largest of {_files(len(self.files))}, by {self.encodings[0].name} tokens")
        lines.extend(self._table(self.largest(top) if top else self.files))
        lines.extend(self._legend())
        return "\n".join(lines) + "\n"

    def _table(self, files: list[Counted]) -> list[str]:
        """The header, a row per file and the total, numbers right-aligned (with thousands separators, as
        every view for people shows them; JSON has the bare numbers) and the path last."""
        names = [r.name for r in self.encodings]
        header = (["messages"] if self.messages else []) + ["chars", "estimate", *names, "path"]
        rows = [header]
        for f in [*files, self.total]:
            numbers = ([f.messages] if self.messages else []) + [f.chars, f.token_estimate, *f.tokens.values()]
            rows.append([thousands(n) for n in numbers] + [f.path])
        widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
        return ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows]

    def _legend(self) -> list[str]:
        """What each column means: the estimate's rule, which encodings are exact, the chat overhead."""
        lines = [f"estimate: ceil(chars / {self.divisor}), the ledger's rule of thumb"]
        for r in self.encodings:
            if not r.exact:
                lines.append(
                    f"{r.name}: an estimate, counted with {r.encoding} ({r.name}'s tokenizer is not in tiktoken)"
                )
            elif r.name != r.encoding:
                lines.append(f"{r.name}: exact, {r.encoding}")
        if self.messages:
            lines.append(
                f"tokens include OpenAI's chat overhead: {TOKENS_PER_MESSAGE} per message, "
                f"{TOKENS_PER_NAME} per name, {TOKENS_REPLY_PRIMING} to prime the reply"
            )
        return lines


def _files(n: int) -> str:
    return f"{n} file" + ("" if n == 1 else "s")


# --- finding the files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A file to count, maybe a line range of it. ``named``: given on the command line, not found in a folder
    or glob. ``problem``: a file named that cannot be had, reported in its turn."""

    display: str
    path: Path
    start: int | None
    end: int | None
    named: bool
    problem: SourceProblem | None = None


def gather(paths: Sequence[str], cwd: Path | None = None) -> tuple[list[Target], list[CountProblem]]:
    """Every file the arguments name, in order, each file and line range once (resolved as SOURCE_FILES
    entries are, with the file system's root as the source root: see ledgerkit.measuring.resolve)."""
    cwd = cwd or Path.cwd()
    resolver = Resolver(Path(os.sep), cwd)
    targets: list[Target] = []
    problems: list[CountProblem] = []
    seen: set[tuple[str, int | None, int | None]] = set()
    for arg in paths:
        spec = parse_source(arg)
        if spec is None:
            problems.append(CountProblem(arg, "names no file"))
            continue
        found = resolver.resolve(spec)
        for p in found.problems:
            if p.code == "LK206":
                problems.append(CountProblem(spec.path, "glob matches no file"))
            elif spec.is_glob or p.code == "LK202":
                problems.append(CountProblem(spec.path + range_suffix(spec.start, spec.end), _reason(p.message)))
            else:  # a file named that cannot be had: reported in its turn, with those that cannot be read
                where = spec.path + range_suffix(spec.start, spec.end)
                targets.append(Target(where, cwd / spec.path, spec.start, spec.end, True, p))
        for s in found.skipped:  # not a regular file, met in a folder or glob
            targets.append(Target(s.shown, cwd / s.shown, None, None, False, s.problem))
        for source in found.sources:
            if source.key not in seen:
                seen.add(source.key)
                targets.append(Target(source.shown_label, source.path, source.start, source.end, source.named))
    return targets, problems


def _reason(message: str) -> str:
    return "a line range needs a file, not a folder" if message.startswith("is a directory") else message


# --- counting ------------------------------------------------------------------------------------------


def resolve_all(encodings: Sequence[str]) -> list[Resolved]:
    """The encodings asked for, each once, in order (an unknown name raises EncodingUnavailable)."""
    unique = list(dict.fromkeys(name.strip() for name in encodings)) or [DEFAULT]
    return [resolve(name) for name in unique]


def _of(progress: Progress | None, total: int) -> Callable[[int], None] | None:
    return None if progress is None else (lambda done: progress(done, total))


def count_paths(
    paths: Sequence[str],
    encodings: Sequence[str] = (DEFAULT,),
    *,
    divisor: int = 4,
    cwd: Path | None = None,
    progress: Progress | None = None,
) -> CountResult:
    """Characters (as fill counts them), the estimate and exact tokens of every file the paths name."""
    resolved = resolve_all(encodings)
    targets, problems = gather(paths, cwd)
    reader = SourceReader()
    skipped: list[CountProblem] = []
    kept: list[tuple[Target, int]] = []

    def texts() -> Iterator[str]:
        # Read lazily: each file is counted on a free core while the next one is read.
        for t in targets:
            failed = t.problem
            if failed is None:
                try:
                    text = reader.read(t.path, checked=True)  # the resolver saw a regular file
                    chars = text.count(t.start, t.end)
                except SourceError as exc:
                    failed = exc.problem
            if failed is not None:
                not_text = failed.code in NOT_TEXT
                (skipped if not_text and not t.named else problems).append(CountProblem(t.display, failed.message))
                continue
            kept.append((t, chars))
            yield source_text(text, t.start, t.end)

    counts = count_many(texts(), [r.name for r in resolved], progress=_of(progress, len(targets)))
    files = [
        Counted(t.display, chars, token_estimate(chars, divisor), {name: counts[name][i] for name in counts})
        for i, (t, chars) in enumerate(kept)
    ]
    return CountResult(files, resolved, divisor, skipped, problems)


# --- chat transcripts ----------------------------------------------------------------------------------


def _json(text: str, path: str | Path, line: int | None) -> Any:
    """json.loads, with what Python's decoder cannot take (nesting past its recursion limit, a number past
    its 4,300-digit limit) as one clear error; a syntax error stays a JSONDecodeError for the JSONL try."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise CountError("the transcript nests too deeply to be read", path, line) from None
    except ValueError as exc:
        raise CountError(f"the transcript cannot be read: {exc}", path, line) from None


def read_transcript(path: str | Path) -> list[dict[str, str]]:
    """Chat messages from a JSON list (or ``{"messages": [...]}``) or JSONL of ``{"role", "content"[, "name"]}``."""
    from ..files.textfile import decode, read_bytes

    text, _ = decode(read_bytes(path), path)
    try:
        doc: Any = _json(text, path, None)
        lines: list[int] | None = None
    except json.JSONDecodeError:
        doc, lines = [], []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    doc.append(_json(line, path, n))
                except json.JSONDecodeError as exc:
                    raise CountError(f"neither JSON nor JSONL: {exc.msg} (column {exc.colno})", path, n) from None
                lines.append(n)
    if isinstance(doc, dict):
        doc = doc["messages"] if "messages" in doc else [doc]
    if not isinstance(doc, list):
        raise CountError("expected a JSON list of messages, or one message per line (JSONL)", path)
    if not doc:
        raise CountError("holds no message", path)
    messages = []
    for i, message in enumerate(doc):
        where = f"message {i + 1}" if lines is None else f"line {lines[i]}"
        messages.append(_message(message, path, where))
    return messages


def _message(message: Any, path: str | Path, where: str) -> dict[str, str]:
    if not isinstance(message, dict):
        raise CountError(f"{where}: a message is an object with role and content", path)
    unknown = sorted(set(message) - set(MESSAGE_KEYS))
    if unknown:
        raise CountError(
            f"{where}: {', '.join(unknown)} cannot be counted: OpenAI documents the count of "
            "role, content and name only",
            path,
        )
    if not isinstance(message.get("role"), str):
        raise CountError(f"{where}: role must be a string", path)
    content = message.get("content")
    if content is None or content == "":
        # A message that says nothing is a mistake in the transcript (a tool call, whose content may be
        # null, is refused above): counting only its overhead would hide it.
        raise CountError(f"{where}: the message has no content", path)
    if not isinstance(content, str):
        raise CountError(f"{where}: content must be a string (content parts are not counted)", path)
    if "name" in message and not isinstance(message["name"], str):
        raise CountError(f"{where}: name must be a string", path)
    return {"role": message["role"], "content": content, **({"name": message["name"]} if "name" in message else {})}


def message_tokens(messages: Sequence[dict[str, str]], counts: Sequence[int]) -> int:
    """A transcript's tokens from the counts of its values (role, content, name in order), with the overhead."""
    names = sum(1 for m in messages if "name" in m)
    return TOKENS_PER_MESSAGE * len(messages) + sum(counts) + TOKENS_PER_NAME * names + TOKENS_REPLY_PRIMING


def count_messages(
    paths: Sequence[str],
    encodings: Sequence[str] = (DEFAULT,),
    *,
    divisor: int = 4,
    cwd: Path | None = None,
    progress: Progress | None = None,
) -> CountResult:
    """The tokens a chat model is sent for each transcript, per OpenAI's documented overhead."""
    resolved = resolve_all(encodings)
    cwd = cwd or Path.cwd()
    transcripts: list[tuple[str, list[dict[str, str]]]] = []
    problems: list[CountProblem] = []
    for arg in paths:
        try:
            transcripts.append((arg, read_transcript(cwd / arg)))
        except LedgerkitError as exc:
            problems.append(CountProblem(arg, exc.message if exc.line is None else f"line {exc.line}: {exc.message}"))
    texts = [value for _, messages in transcripts for m in messages for value in m.values()]
    counts = count_many(texts, [r.name for r in resolved], progress=_of(progress, len(texts)))
    files, offset = [], 0
    for arg, messages in transcripts:
        size = sum(len(m) for m in messages)
        chars = sum(len(value) for m in messages for value in m.values())
        tokens = {name: message_tokens(messages, values[offset : offset + size]) for name, values in counts.items()}
        files.append(Counted(arg, chars, token_estimate(chars, divisor), tokens, len(messages)))
        offset += size
    return CountResult(files, resolved, divisor, [], problems, messages=True)


# --- a progress bar ------------------------------------------------------------------------------------


class ProgressBar:
    """One line on a terminal's stderr, shown only once a run has lasted ``delay`` seconds."""

    def __init__(
        self,
        stream: IO[str],
        *,
        delay: float = 1.0,
        interval: float = 0.1,
        width: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream, self.delay, self.interval, self.width, self.clock = stream, delay, interval, width, clock
        self.started = clock()
        self.drawn: float | None = None

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if now - self.started < self.delay:
            return
        if self.drawn is not None and now - self.drawn < self.interval and done < total:
            return
        self.drawn = now
        percent = done * 100 // total if total else 100
        filled = self.width * percent // 100
        self.stream.write(f"\rcounting tokens [{'#' * filled}{'.' * (self.width - filled)}] {percent:3d}%")
        self.stream.flush()

    def close(self) -> None:
        """Erase the bar, if it was drawn."""
        if self.drawn is not None:
            self.stream.write("\r\033[K")
            self.stream.flush()


# --- standard input ------------------------------------------------------------------------------------


def count_text(text: str, name: str = "-", encodings: Sequence[str] = (DEFAULT,), *, divisor: int = 4) -> CountResult:
    """The figures of one text (standard input, for ``ledgerkit count -``), read as a source is: BOM dropped,
    CRLF counted as one character and as LF for tokens."""
    resolved = resolve_all(encodings)
    if text.startswith("\ufeff"):
        text = text[1:]
    chars = len(text) - text.count("\r\n")
    counts = count_many([text.replace("\r\n", "\n")], [r.name for r in resolved])
    tokens = {n: values[0] for n, values in counts.items()}
    return CountResult([Counted(name, chars, token_estimate(chars, divisor), tokens)], resolved, divisor)
