"""Reading: a ledger's text into its structure (``blocks``, ``parse``)."""
