"""Storage: the wallet database, its schema and the ledger's posting function."""
