"""Files: reading a ledger's bytes faithfully, writing them back atomically, and the folder lock."""
