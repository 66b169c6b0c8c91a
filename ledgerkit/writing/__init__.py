"""Writing: a ledger's new text (``fill``, ``append``, ``init``) and the Jinja templates (``render``)."""
