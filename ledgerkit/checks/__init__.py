"""Checks: a ledger (and its base version) into diagnostics: ``verify`` runs them, ``history`` is the
append-only comparison, ``git`` finds the base."""
