"""Sources' texts kept between analyses until the file changes: the editor re-measures only what changed."""

from __future__ import annotations

import os
import threading

from ..measuring.files import SourceError, SourceReader, SourceText, read_source

#: What says a file is unchanged: its path, and its modification time, size and inode.
Key = tuple[str, int, int, int]


class StatCachedReader(SourceReader):
    """A :class:`SourceReader` whose texts outlive one run: each is kept under ``(path, mtime_ns, size,
    inode)`` and read again only when one of those changes. ``reads`` counts the files actually read."""

    def __init__(self, limit: int = 4096) -> None:
        super().__init__()
        self._kept: dict[str, tuple[Key, SourceText | SourceError]] = {}
        self._lock = threading.Lock()
        self.limit = limit

    def read(self, path: str | os.PathLike[str], *, checked: bool = False) -> SourceText:
        name = os.fspath(path)
        try:
            st = os.stat(name, follow_symlinks=False)
        except (OSError, ValueError):
            return read_source(name, checked=False)  # the read says why, as fill would (never kept)
        key: Key = (name, st.st_mtime_ns, st.st_size, st.st_ino)
        with self._lock:
            kept = self._kept.get(name)
        if kept is not None and kept[0] == key:
            found = kept[1]
        else:
            self.reads += 1
            try:
                found = read_source(name, checked=checked)
            except SourceError as exc:
                found = exc
            with self._lock:
                if len(self._kept) >= self.limit:
                    self._kept.pop(next(iter(self._kept)))
                self._kept[name] = (key, found)
        if isinstance(found, SourceError):
            raise found
        return found

    def forget(self, path: str | os.PathLike[str]) -> None:
        """Drop what is kept of a file (a watcher saw it change)."""
        with self._lock:
            self._kept.pop(os.path.realpath(os.fspath(path)), None)
