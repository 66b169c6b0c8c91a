"""The commands of the ``ledgerkit`` command line, a module for each kind (``common.py``: what they share).

``cli.py``'s group imports a command's module only when that command runs, or help or completion list them:
building a command's options costs time, and the pre-commit hook runs one command (issue 12).
"""
