"""Live feedback while a ledger is written."""
