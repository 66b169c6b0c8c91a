"""``ledgerkit watch``: fill ledgers again whenever they or a source their records name changes.

watchfiles reports changes in batches (what arrives within :data:`DEBOUNCE_MS` of each other is one batch),
so a burst of saves costs one fill. Each fill goes through ``fill_file``, whose guarded rewrite never writes
over a save made while it works. After each batch the files to follow are worked out again from the records,
so a source added to a record is followed from then on without a restart.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..api import Settings, UsageError, ledger_paths
from ..errors import LedgerkitError
from ..reading.parse import Ledger

#: Changes within this many milliseconds of each other are handled once.
DEBOUNCE_MS = 200
#: How often watchfiles looks at what it has gathered, in milliseconds.
STEP_MS = 50
#: The longest watchfiles waits before it gives a batch, empty when nothing changed (milliseconds).
RUST_TIMEOUT_MS = 500

Say = Callable[[str], None]
#: The identity of a file whose state the last fill saw is not known: no file has it.
_UNKNOWN = (-1, -1, -1)


@dataclass
class _Followed:
    """One ledger and what its records name: the files, and the folders whose members a glob or folder names."""

    path: Path
    files: set[str] = field(default_factory=set)
    folders: set[str] = field(default_factory=set)
    written: tuple[int, int, int] | None = None  # the ledger's identity right after this watch wrote it
    root: str = ""  # the source root, real


def _identity(path: str | Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class Watcher:
    """What ``watch`` follows, and one fill (or check) per ledger a batch of changes concerns."""

    def __init__(self, ledgers: Sequence[Path], settings: Settings, *, check: bool, say: Say) -> None:
        self.settings = settings
        self.check = check
        self.say = say
        self.followed = [_Followed(Path(os.path.realpath(p))) for p in ledgers]
        self.shown = {Path(os.path.realpath(p)): p for p in ledgers}
        self.runs = 0
        self.ancestors: set[str] = set()  # folders not there yet on the way to a named file
        self.seen: dict[str, tuple[int, int, int] | None] = {}  # each followed file as the last fill saw it

    # -- what to follow

    def targets(self) -> list[str]:
        """The folders to watch (not recursively): those of every ledger and every file the records name; for
        a file whose folder is not there yet, the nearest folder above it that is (inside the source root)."""
        found: set[str] = set()
        self.ancestors = set()
        for f in self.followed:
            found.add(str(f.path.parent))
            found.update(f.folders)
            for p in f.files:
                folder = os.path.dirname(p)
                while not os.path.isdir(folder) and _inside(os.path.dirname(folder), f.root):
                    self.ancestors.add(folder)  # its creation is a change: the watch then restarts inside it
                    folder = os.path.dirname(folder)
                found.add(folder)
        return sorted(p for p in found if os.path.isdir(p))

    def wanted(self, _change: object, path: str) -> bool:
        """Whether a changed path concerns a ledger (watchfiles' filter: it sees every name in the folders)."""
        return bool(self.concerned(os.path.realpath(path)))

    def concerned(self, real: str) -> list[_Followed]:
        folder = os.path.dirname(real)
        if real in self.ancestors:
            return list(self.followed)
        return [f for f in self.followed if real == str(f.path) or real in f.files or folder in f.folders]

    def moved(self) -> set[str]:
        """The followed files whose identity is not the one the last fill saw (a change the watch missed)."""
        return {p for p, identity in self.seen.items() if _identity(p) != identity}

    # -- a batch of changes

    def handle(self, changed: set[str]) -> bool:
        """Fill (or check) each ledger the changes concern; True when what to follow changed."""
        before = self.targets()
        for f in self.followed:
            hits = sorted(p for p in changed if f in self.concerned(p))
            if not hits:
                continue
            if hits == [str(f.path)] and f.written is not None and _identity(f.path) == f.written:
                continue  # only this watch's own write
            self.run(f, f"{_short(hits[0])} changed" + (f" and {len(hits) - 1} more" if len(hits) > 1 else ""))
        return self.targets() != before

    def run(self, f: _Followed, reason: str) -> None:
        """One fill of a ledger (with ``check``, only what it would do), its problems and one line."""
        from ..writing.fill import fill_file

        shown = self.shown.get(f.path, f.path)
        self.runs += 1
        try:
            config = self.settings.config(f.path)
            # What the fill is about to see, taken before it reads: a change made while it works is seen again.
            seen = {p: _identity(p) for p in (str(f.path), *f.files, *self._named_now(f, config))}
            result = fill_file(shown, config=config, root=self.settings.root, check=self.check)
        except LedgerkitError as exc:
            where = f"{exc.path}:{exc.line}: " if exc.path and exc.line else (f"{exc.path}: " if exc.path else "")
            self.say(f"ledgerkit: {where}{exc.message}")
            self.say(f"{shown}: not filled ({reason})")
            return
        for d in self.settings.steer(result.diagnostics, config, result.ledger):
            self.say(d.format())
        if result.written:
            f.written = _identity(f.path)
            what = f"filled {_records(len(result.filled))}"
        elif result.changed:
            what = f"would fill {_records(len(result.filled))}"
        else:
            what = "clean"
        self.say(f"{shown}: {what} ({reason})")
        f.root, f.files, f.folders = _named(result.ledger, config, self.settings.root)
        if f.written is not None and result.written:
            seen[str(f.path)] = f.written  # its own write is no change
        for p in f.files - seen.keys():
            # Named by a record written while the fill worked: what the fill read of it is not known, so one
            # that is there is read again once the watch follows it (one not there is followed for its creation).
            seen[p] = None if _identity(p) is None else _UNKNOWN
        self.seen.update(seen)

    def _named_now(self, f: _Followed, config: object) -> set[str]:
        """The files the ledger's records name as it is on disk now (none when it cannot be read: the fill
        says why)."""
        from ..reading.parse import load

        try:
            return _named(load(f.path), config, self.settings.root)[1]
        except LedgerkitError:
            return set()


def _named(ledger: Ledger, config: object, root: Path | None) -> tuple[str, set[str], set[str]]:
    """The source root, every file the records' SOURCE_FILES name (found or not yet there) and the folders globs
    and folders name, each inside the source root (nothing outside it is followed)."""
    from ..config import Config
    from ..measuring.measure import Measurer, source_specs

    assert isinstance(config, Config)
    measurer = Measurer(ledger, config, root)
    top = os.path.realpath(measurer.root)
    files: set[str] = set()
    folders: set[str] = set()
    for record in ledger.records:
        for spec in source_specs(record):
            sources, _ = measurer.resolve(spec)
            files.update(s.real for s in sources if s.named)
            folders.update(os.path.dirname(s.real) for s in sources if not s.named)
            written = _written_path(spec.path, top, measurer.folder)
            if written is not None and not sources:
                files.add(written)  # not there yet: its creation is a change
    return top, files, folders


def _written_path(written: str, top: str, folder: Path) -> str | None:
    """Where a path as written would be, when that is inside the source root and names no pattern."""
    if any(c in written for c in "*?["):
        return None
    base = top if written.startswith("/") else str(folder)
    real = os.path.realpath(os.path.join(base, written.lstrip("/")))
    return real if _inside(real, top) else None


def _inside(path: str, top: str) -> bool:
    return bool(top) and (path == top or path.startswith(top.rstrip(os.sep) + os.sep))


def _short(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def _records(n: int) -> str:
    what = f"{n} record" + ("" if n == 1 else "s")
    return f"{what} and the summary" if n else "the summary"


def watch_ledgers(
    paths: Sequence[Path],
    *,
    settings: Settings | None = None,
    check: bool = False,
    say: Say = print,
    stop: threading.Event | None = None,
) -> int:
    """Fill (or ``check``) the ledgers now and after every change, until Ctrl-C (or ``stop``): exit code 0."""
    import watchfiles

    ledgers = ledger_paths(list(paths))
    if not ledgers:
        raise UsageError("no ledger found in the paths given")
    for path in ledgers:
        if not os.path.isfile(path):  # a name mistyped: say so now rather than wait for it to appear
            raise LedgerkitError("no such file" if not os.path.exists(path) else "not a regular file", path)
    watcher = Watcher(ledgers, settings or Settings(), check=check, say=say)
    try:
        for f in watcher.followed:
            watcher.run(f, "start")
        while _follow(watcher, watchfiles.watch, stop):
            pass  # what to follow changed: watch again on the new folders
    except KeyboardInterrupt:
        pass
    say("stopped")
    return 0


def _follow(watcher: Watcher, watch: Callable[..., Any], stop: threading.Event | None) -> bool:
    """Watch the current folders until what to follow changes (True) or ``stop`` is set (False).

    The first batch watchfiles gives (an empty one after RUST_TIMEOUT_MS at the latest) comes once it watches:
    every followed file that changed since the last fill saw it is handled with it, so a change made while
    the watch restarts is not lost.
    """
    targets = watcher.targets()
    files = sum(len(f.files) for f in watcher.followed)
    watcher.say(f"watching {_count(len(watcher.followed), 'ledger')} and {_count(files, 'source')} (Ctrl-C ends)")
    first = True
    for changes in watch(
        *targets,
        watch_filter=watcher.wanted,
        debounce=DEBOUNCE_MS,
        step=STEP_MS,
        stop_event=stop,
        recursive=False,
        rust_timeout=RUST_TIMEOUT_MS,
        yield_on_timeout=True,
    ):
        changed = {os.path.realpath(p) for _, p in changes}
        if first:
            changed |= watcher.moved()
            first = False
        if changed and watcher.handle(changed):
            return True
    return False


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")
