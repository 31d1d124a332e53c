"""marginctl: a command-line margin wallet with an exact double-entry ledger."""

__version__ = "0.1.0"
