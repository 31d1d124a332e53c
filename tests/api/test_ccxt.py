"""`marginctl serve` driven by the unchanged ccxt, pointed at it by `urls['api']` alone."""

from __future__ import annotations

from typing import Any

import ccxt
import pytest
import requests

from tests.api.conftest import Server


def exchange(server: Server, key: dict[str, Any]) -> Any:
    """ccxt's binance as binance-api.md points it at a local base URL (no sandbox mode: it blocks sapi)."""
    made = ccxt.binance({"apiKey": key["apiKey"], "secret": key["secretKey"]})
    base = server.url
    made.urls["api"].update(
        {
            "public": base + "/api/v3",
            "private": base + "/api/v3",
            "v1": base + "/api/v1",
            "sapi": base + "/sapi/v1",
            "sapiV2": base + "/sapi/v2",
            "sapiV3": base + "/sapi/v3",
            "sapiV4": base + "/sapi/v4",
        }
    )
    made.options["fetchMarkets"] = {"types": ["spot"]}
    return made


def test_load_markets_reads_each_pairs_rules(server: Server) -> None:
    key = server.wallet.ok("apikey", "create", "--permissions", "read")
    markets = exchange(server, key).load_markets()
    # the built-in pairs of config.example.toml
    assert sorted(markets) == ["BNB/USDT", "BTC/USDT", "BUSD/USDT", "ETH/BTC", "ETH/USDT"]
    btc = markets["BTC/USDT"]
    # BTC/USDT: tick 0.01, step 0.00001, minimum notional 5 (the defaults); BTC and USDT at 8 places
    assert btc["precision"] == {"amount": 0.00001, "price": 0.01, "base": 1e-08, "quote": 1e-08}
    assert (btc["limits"]["amount"]["min"], btc["limits"]["cost"]["min"]) == (0.00001, 5.0)
    assert btc["margin"] is True
    log = [line.split('"')[1] for line in server.log]
    assert "GET /api/v3/exchangeInfo" in log and "GET /sapi/v1/capital/config/getall" in log


def test_the_margin_balance_as_ccxt_reads_it(server: Server) -> None:
    key = server.wallet.ok("apikey", "create", "--permissions", "read")
    balance = exchange(server, key).fetch_balance({"type": "margin"})
    # free 1100 (1000 own + 100 borrowed), nothing locked; debt = borrowed + interest = 100 + 0.001
    assert balance["USDT"] == {"free": 1100.0, "used": 0.0, "total": 1100.0, "debt": 100.001}


def test_a_bad_secret_is_ccxts_authentication_error(server: Server) -> None:
    key = server.wallet.ok("apikey", "create")
    with pytest.raises(ccxt.AuthenticationError):
        exchange(server, {**key, "secret": "x" * 64, "secretKey": "x" * 64}).fetch_balance({"type": "margin"})


def test_exchange_info_of_one_symbol_and_of_an_unknown_one(server: Server) -> None:
    one = requests.get(f"{server.url}/api/v3/exchangeInfo?symbol=ETHBTC", timeout=30).json()
    assert [entry["symbol"] for entry in one["symbols"]] == ["ETHBTC"]
    unknown = requests.get(f"{server.url}/api/v3/exchangeInfo?symbol=DOGEUSDT", timeout=30)
    assert (unknown.status_code, unknown.json()) == (400, {"code": -1121, "msg": "Invalid symbol."})
    listed = requests.get(f'{server.url}/api/v3/exchangeInfo?symbols=["BTCUSDT","ETHUSDT"]', timeout=30).json()
    assert sorted(entry["symbol"] for entry in listed["symbols"]) == ["BTCUSDT", "ETHUSDT"]
