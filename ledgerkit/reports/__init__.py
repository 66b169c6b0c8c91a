"""Reports on ledgers: a session's ``rollup``, one row per session (``sessions``), two sessions
compared (``compare``), a planned load (``plan``), every record as data (``export``), and ``count``."""
