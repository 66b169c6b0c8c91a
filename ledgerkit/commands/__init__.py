"""The commands of the ``ledgerkit`` command line, a module for each kind, each imported only when one of its
commands runs or help lists them (``cli._Group``): building a command's options costs time, and the
pre-commit hook runs one command (issue 12)."""
