"""Live feedback while a ledger is written: ``ledgerkit watch`` and the language server (``ledgerkit lsp``).

The analysis (``analysis.py``) works on a buffer's text and knows nothing of the protocol; ``server.py``
speaks LSP through pygls and ``watch.py`` follows files with watchfiles. Both libraries come with the
optional ``editor`` extra and are imported only by the commands that need them.
"""

from __future__ import annotations

import importlib.util

#: The one line the commands print when the extra is missing.
MISSING_EXTRA = "this command needs the editor extra: pip install 'ledgerkit[editor]'"


def missing(*modules: str) -> bool:
    """True when one of ``modules`` cannot be imported here (the extra is not installed)."""
    for name in modules:
        try:
            if importlib.util.find_spec(name) is None:
                return True
        except (ImportError, ValueError):  # a module set to None in sys.modules, or a broken one
            return True
    return False
