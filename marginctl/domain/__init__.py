"""Pure rules: Decimal in, Decimal out. No I/O, no clock, no database."""
