"""Binance's REST API in front of the wallet (`marginctl serve`, issue 15): the same services as the CLI.

Like cli/, this room parses (query string and body, as Binance reads them), checks the key and the
signature, calls one service and renders Binance's JSON; it holds no rule of its own.
"""
