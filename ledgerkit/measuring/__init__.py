"""Measuring: a record's SOURCE_FILES resolved under the source root and their characters counted.

- :mod:`.specs`: one entry as written (:func:`~.specs.parse_source` -> :class:`~.specs.SourceSpec`).
- :mod:`.resolve`: entries to files under the root, safely (:class:`~.resolve.Resolver` ->
  :class:`~.resolve.Resolution` of :class:`~.resolve.Source`, problems and skipped members).
- :mod:`.folders`: the files a folder stands for (git's view, or a walk).
- :mod:`.files`: one file read, checked and counted, whole or streamed (:class:`~.files.SourceReader`).
- :mod:`.measure`: the ledger-facing adapter (:class:`~.measure.Measurer`): problems become Diagnostics.

Nothing below :mod:`.measure` knows of ledgers: it takes written text, folders and paths and returns
plain data and problems (a code and a message).
"""
