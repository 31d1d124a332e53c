"""A whole margin session through each unchanged client: python-binance, ccxt and Binance's own SDK
(binance-sdk-margin-trading), each pointed at `marginctl serve` by its base URL alone.

The server runs on a fixed clock (10:05:00), so every number below is worked out by hand from the rules:
taker fee 0.1 % in the asset received; hourly interest = daily / 24 (USDT 0.00024 → 0.00001, BTC 0.000048 →
0.000002) on the amount borrowed, charged at once and rounded up to 8 places; BTC/USDT at 60000 throughout.

The session (cross wallet; spot holds 9900 USDT and cross 100 when it starts):
 1. transfer 1900 USDT in → cross 2000 USDT
 2. max borrowable BTC = (3 − 1) × 2000 / 60000 = 0.0666666… → 0.06666666
 3. market buy 0.04 BTC, MARGIN_BUY: it costs 2400 and 2000 is free, so it borrows 400 USDT (ON_BORROW
    400 × 0.00001 = 0.004); it receives 0.04 × 0.999 = 0.03996 BTC → USDT free 0
 4. limit sell 0.05 BTC at 70000, MARGIN_BUY: it rests and holds 0.05, borrowing 0.05 − 0.03996 = 0.01004 BTC
    (ON_BORROW 0.01004 × 0.000002 = 0.00000002008 → 0.00000003); cancelled with autoRepayAtCancel, which
    repays 0.00000003 + 0.01004 = 0.01004003 → BTC free 0.05 − 0.01004003 = 0.03995997, no BTC debt
 5. an OCO selling 0.01 BTC (take profit 70000, stop 50000, stop-limit 49900) rests, and is cancelled
 6. a short: market sell 0.06 BTC, AUTO_BORROW_REPAY: borrows 0.06 − 0.03995997 = 0.02004003 BTC (ON_BORROW
    0.02004003 × 0.000002 = 0.00000004008… → 0.00000005); sells for 0.06 × 60000 = 3600, fee 3.6 → 3596.4
    USDT, which repays the USDT debt 400.004 → USDT free 3196.396
 7. covered: market buy 0.02007 BTC, AUTO_REPAY (the debt 0.02004003 + 0.00000005 = 0.02004008 needs
    0.02004008 / 0.999 = 0.0200601… → 0.02007 on the step); receives 0.02007 × 0.999 = 0.02004993, repays
    0.02004008 → BTC free 0.00000985; costs 0.02007 × 60000 = 1204.2 → USDT free 1992.196
 8. borrow 1000 USDT (ON_BORROW 0.01) → USDT free 2992.196
 9. a refused borrow and a bad signature, as each client raises them
10. the server stops, `accrue` charges 11:00 (PERIODIC 1000 × 0.00001 = 0.01), the server starts again
11. interest history: five charges
12. repay 1000 + 0.01 + 0.01 = 1000.02 → USDT free 1992.176; transfer it all out → spot 8000 + 1992.176
    = 9992.176 (10000 − 2400 + 3600 − 3.6 − 1204.2 − 0.024 interest, the same figure)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Server, start_server
from tests.conftest import Wallet, asset_row, new_wallet

OPENED = "2026-11-24T10:05:00Z"
AN_HOUR_ON = "2026-11-24T11:05:00Z"


class PythonBinance:
    """python-binance 1.0.37's margin methods; a borrow goes through its create_margin_loan (margin/loan)."""

    def __init__(self, url: str, key: str, secret: str) -> None:
        from binance.client import Client

        self.client = Client(key, secret, ping=False)
        self.client.API_URL = url + "/api"
        self.client.MARGIN_API_URL = url + "/sapi"

    def load_markets(self) -> list[str]:
        return [row["symbol"] for row in self.client.get_exchange_info()["symbols"]]

    def transfer(self, amount: str, into_margin: bool) -> None:
        move = self.client.transfer_spot_to_margin if into_margin else self.client.transfer_margin_to_spot
        assert "tranId" in move(asset="USDT", amount=amount)

    def max_borrowable(self, asset: str) -> str:
        return str(self.client.get_max_margin_loan(asset=asset)["amount"])

    def borrow(self, asset: str, amount: str) -> None:
        assert "tranId" in self.client.create_margin_loan(asset=asset, amount=amount)

    def repay(self, asset: str, amount: str) -> None:
        assert "tranId" in self.client.repay_margin_loan(asset=asset, amount=amount)

    def order(self, **binance: Any) -> dict[str, Any]:
        return dict(self.client.create_margin_order(symbol="BTCUSDT", **binance))

    def cancel(self, order_id: int) -> dict[str, Any]:
        return dict(self.client.cancel_margin_order(symbol="BTCUSDT", orderId=order_id))

    def oco(self) -> dict[str, Any]:
        return dict(
            self.client.create_margin_oco_order(
                symbol="BTCUSDT",
                side="SELL",
                quantity="0.01",
                price="70000",
                stopPrice="50000",
                stopLimitPrice="49900",
                stopLimitTimeInForce="GTC",
            )
        )

    def open_orders(self) -> list[dict[str, Any]]:
        return list(self.client.get_open_margin_orders(symbol="BTCUSDT"))

    def interest(self) -> list[dict[str, Any]]:
        return list(self.client.get_margin_interest_history()["rows"])

    def assets(self) -> dict[str, dict[str, Any]]:
        return {row["asset"]: row for row in self.client.get_margin_account()["userAssets"]}

    def refused_borrow(self) -> tuple[type[Exception], int]:
        from binance.exceptions import BinanceAPIException

        with pytest.raises(BinanceAPIException) as refused:
            self.client.create_margin_loan(asset="BTC", amount="1000")
        return type(refused.value), refused.value.code

    def wrongly_signed(self, url: str, key: str) -> tuple[type[Exception], int]:
        from binance.exceptions import BinanceAPIException

        wrong = PythonBinance(url, key, "x" * 64)
        with pytest.raises(BinanceAPIException) as refused:
            wrong.client.get_margin_account()
        return type(refused.value), refused.value.code


class Ccxt:
    """ccxt 4.5's unified margin methods (marginMode cross), and its implicit methods where it has none."""

    def __init__(self, url: str, key: str, secret: str) -> None:
        import ccxt

        self.exchange = ccxt.binance({"apiKey": key, "secret": secret})
        self.exchange.urls["api"].update(
            {name: url + path for name, path in CCXT_PATHS.items()},
        )
        self.exchange.options["fetchMarkets"] = {"types": ["spot"]}

    def load_markets(self) -> list[str]:
        return [market["id"] for market in self.exchange.load_markets().values()]

    def transfer(self, amount: str, into_margin: bool) -> None:
        source, target = ("spot", "margin") if into_margin else ("margin", "spot")
        assert self.exchange.transfer("USDT", float(amount), source, target)["id"]

    def max_borrowable(self, asset: str) -> str:
        return str(self.exchange.sapi_get_margin_maxborrowable({"asset": asset})["amount"])

    def borrow(self, asset: str, amount: str) -> None:
        assert self.exchange.borrow_cross_margin(asset, float(amount))["id"]

    def repay(self, asset: str, amount: str) -> None:
        assert self.exchange.repay_cross_margin(asset, float(amount))["id"]

    def order(self, **binance: Any) -> dict[str, Any]:
        params: dict[str, Any] = {"marginMode": "cross"}
        if binance.get("sideEffectType") == "AUTO_REPAY":
            params["reduceOnly"] = True  # ccxt's way of asking for AUTO_REPAY
        elif "sideEffectType" in binance:
            params["sideEffectType"] = binance["sideEffectType"]
        price = float(binance["price"]) if "price" in binance else None
        placed = self.exchange.create_order(
            "BTC/USDT", binance["type"].lower(), binance["side"].lower(), float(binance["quantity"]), price, params
        )
        return dict(placed["info"])

    def cancel(self, order_id: int) -> dict[str, Any]:
        return dict(self.exchange.cancel_order(str(order_id), "BTC/USDT", {"marginMode": "cross"})["info"])

    def oco(self) -> dict[str, Any]:
        return dict(
            self.exchange.sapi_post_margin_order_oco(
                {
                    "symbol": "BTCUSDT",
                    "side": "SELL",
                    "quantity": "0.01",
                    "price": "70000",
                    "stopPrice": "50000",
                    "stopLimitPrice": "49900",
                    "stopLimitTimeInForce": "GTC",
                }
            )
        )

    def open_orders(self) -> list[dict[str, Any]]:
        return [
            order["info"] for order in self.exchange.fetch_open_orders("BTC/USDT", None, None, {"marginMode": "cross"})
        ]

    def interest(self) -> list[dict[str, Any]]:
        return [row["info"] for row in self.exchange.fetch_borrow_interest()]

    def assets(self) -> dict[str, dict[str, Any]]:
        balance = self.exchange.fetch_balance({"type": "margin"})
        rows = {row["asset"]: row for row in balance["info"]["userAssets"]}
        for asset, row in rows.items():  # ccxt's unified view agrees: debt = borrowed + interest
            assert balance[asset]["free"] == float(row["free"])
            assert balance[asset]["debt"] == pytest.approx(float(row["borrowed"]) + float(row["interest"]))
        return rows

    def refused_borrow(self) -> tuple[type[Exception], int]:
        import ccxt

        with pytest.raises(ccxt.ExchangeError) as refused:
            self.exchange.borrow_cross_margin("BTC", 1000)
        # on a local URL ccxt maps the margin codes generically (binance-api.md): the code is in the message
        return type(refused.value), int(str(refused.value).split('"code":')[1].split(",")[0])

    def wrongly_signed(self, url: str, key: str) -> tuple[type[Exception], int]:
        import ccxt

        wrong = Ccxt(url, key, "x" * 64)
        with pytest.raises(ccxt.AuthenticationError) as refused:
            wrong.exchange.fetch_balance({"type": "margin"})
        return type(refused.value), int(str(refused.value).split('"code":')[1].split(",")[0])


CCXT_PATHS = {
    "public": "/api/v3",
    "private": "/api/v3",
    "v1": "/api/v1",
    "sapi": "/sapi/v1",
    "sapiV2": "/sapi/v2",
    "sapiV3": "/sapi/v3",
    "sapiV4": "/sapi/v4",
}


class BinanceSdk:
    """binance-sdk-margin-trading 8.9, Binance's official SDK, pointed by `base_path`. It has no transfer
    method (those live in Binance's wallet SDK), so the transfers go through `marginctl transfer`."""

    def __init__(self, url: str, key: str, secret: str, wallet: Wallet | None = None) -> None:
        from binance_common.configuration import ConfigurationRestAPI
        from binance_sdk_margin_trading.margin_trading import MarginTrading

        configuration = ConfigurationRestAPI(api_key=key, api_secret=secret, base_path=url)
        self.api = MarginTrading(config_rest_api=configuration).rest_api
        self.wallet = wallet
        self.wallet_clock = OPENED

    def load_markets(self) -> list[str]:
        return [pair.symbol for pair in self.api.get_all_cross_margin_pairs().data()]

    def transfer(self, amount: str, into_margin: bool) -> None:
        assert self.wallet is not None
        ends = [] if into_margin else ["--from", "cross", "--to", "spot"]
        self.wallet.ok("transfer", "USDT", amount, *ends, now=self.wallet_clock)

    def max_borrowable(self, asset: str) -> str:
        return str(self.api.query_max_borrow(asset=asset).data().amount)

    def _borrow_repay(self, asset: str, amount: str, kind: str) -> None:
        answer = self.api.margin_account_borrow_repay(
            asset=asset, is_isolated="FALSE", symbol="BTCUSDT", amount=amount, type=kind
        )
        assert answer.data().tran_id

    def borrow(self, asset: str, amount: str) -> None:
        self._borrow_repay(asset, amount, "BORROW")

    def repay(self, asset: str, amount: str) -> None:
        self._borrow_repay(asset, amount, "REPAY")

    def order(self, **binance: Any) -> dict[str, Any]:
        names = {"sideEffectType": "side_effect_type", "timeInForce": "time_in_force"}
        arguments = {names.get(name, name): value for name, value in binance.items()}
        for number in ("quantity", "price"):
            if number in arguments:
                arguments[number] = float(arguments[number])  # the SDK's signature takes floats
        placed = self.api.margin_account_new_order(symbol="BTCUSDT", **arguments).data()
        # The SDK's model declares marginBuyBorrowAmount a whole number; marginctl sends the exact amount as
        # a string, as every amount, so for a fractional one the SDK hands back the raw document.
        return placed if isinstance(placed, dict) else placed.to_dict()

    def cancel(self, order_id: int) -> dict[str, Any]:
        return self.api.margin_account_cancel_order(symbol="BTCUSDT", order_id=order_id).data().to_dict()

    def oco(self) -> dict[str, Any]:
        placed = self.api.margin_account_new_oco(
            symbol="BTCUSDT",
            side="SELL",
            quantity=0.01,
            price=70000.0,
            stop_price=50000.0,
            stop_limit_price=49900.0,
            stop_limit_time_in_force="GTC",
        )
        return placed.data().to_dict()

    def open_orders(self) -> list[dict[str, Any]]:
        return [order.to_dict() for order in self.api.query_margin_accounts_open_orders(symbol="BTCUSDT").data()]

    def interest(self) -> list[dict[str, Any]]:
        return [row.to_dict() for row in self.api.get_interest_history().data().rows]

    def assets(self) -> dict[str, dict[str, Any]]:
        account = self.api.query_cross_margin_account_details().data().to_dict()
        return {row["asset"]: row for row in account["userAssets"]}

    def refused_borrow(self) -> tuple[type[Exception], int]:
        from binance_common.errors import BadRequestError

        with pytest.raises(BadRequestError) as refused:
            self._borrow_repay("BTC", "1000", "BORROW")
        return type(refused.value), int(refused.value.status_code)

    def wrongly_signed(self, url: str, key: str) -> tuple[type[Exception], int]:
        from binance_common.errors import BadRequestError

        wrong = BinanceSdk(url, key, "x" * 64)
        with pytest.raises(BadRequestError) as refused:
            wrong.api.query_cross_margin_account_details()
        return type(refused.value), int(refused.value.status_code)


CLIENTS = {"python-binance": PythonBinance, "ccxt": Ccxt, "binance-sdk": BinanceSdk}


@pytest.fixture
def session_wallet(tmp_path: Path) -> Wallet:
    """10000 USDT deposited; 100 moved into cross at 10:00:10, which accepts the risk agreement once."""
    wallet = new_wallet(tmp_path / "wallet.db")
    wallet.ok("deposit", "USDT", "10000", now="2026-11-24T10:00:00Z")
    wallet.ok("transfer", "USDT", "100", "--yes", now="2026-11-24T10:00:10Z")
    return wallet


@pytest.fixture
def running(session_wallet: Wallet, tmp_path: Path) -> Iterator[list[Server]]:
    servers = [start_server(session_wallet, tmp_path, now=OPENED)]
    yield servers
    servers[-1].stop()


def _client(name: str, server: Server, key: dict[str, Any]) -> Any:
    if name == "binance-sdk":
        return BinanceSdk(server.url, key["apiKey"], key["secretKey"], server.wallet)
    return CLIENTS[name](server.url, key["apiKey"], key["secretKey"])


@pytest.mark.parametrize("name", list(CLIENTS))
def test_a_whole_margin_session(name: str, running: list[Server], session_wallet: Wallet, tmp_path: Path) -> None:
    server = running[0]
    key = session_wallet.ok("apikey", "create", now=OPENED)
    client = _client(name, server, key)
    assert "BTCUSDT" in client.load_markets()

    client.transfer("1900", into_margin=True)  # 1
    assert client.assets()["USDT"]["free"] == "2000.00000000"
    assert client.max_borrowable("BTC") == "0.06666666"  # 2

    bought = client.order(side="BUY", type="MARKET", quantity="0.04", sideEffectType="MARGIN_BUY")  # 3
    assert (bought["status"], bought["executedQty"], bought["cummulativeQuoteQty"]) == (
        "FILLED",
        "0.04000000",
        "2400.00000000",
    )
    # the SDK's model reads the amount as a whole number, the others keep the string as sent
    borrowed_for_it = 400 if name == "binance-sdk" else "400.00000000"
    assert (bought["marginBuyBorrowAmount"], bought["marginBuyBorrowAsset"]) == (borrowed_for_it, "USDT")
    assert bought["fills"][0]["commission"] == "0.00004000"  # 0.04 × 0.001, in BTC
    assets = client.assets()
    assert (assets["USDT"]["free"], assets["USDT"]["borrowed"], assets["USDT"]["interest"]) == (
        "0.00000000",
        "400.00000000",
        "0.00400000",
    )
    assert assets["BTC"]["free"] == "0.03996000"

    resting = client.order(  # 4
        side="SELL", type="LIMIT", quantity="0.05", price="70000", timeInForce="GTC", sideEffectType="MARGIN_BUY"
    )
    assert resting["status"] == "NEW"
    assets = client.assets()
    assert (assets["BTC"]["locked"], assets["BTC"]["borrowed"], assets["BTC"]["interest"]) == (
        "0.05000000",
        "0.01004000",
        "0.00000003",
    )
    cancelled = client.cancel(int(resting["orderId"]))
    assert cancelled["status"] == "CANCELED"
    assets = client.assets()
    assert (assets["BTC"]["free"], assets["BTC"]["borrowed"], assets["BTC"]["interest"]) == (
        "0.03995997",
        "0.00000000",
        "0.00000000",
    )

    listed = client.oco()  # 5
    assert listed["listOrderStatus"] == "EXECUTING" and len(listed["orders"]) == 2
    assert sorted(order["type"] for order in client.open_orders()) == ["LIMIT_MAKER", "STOP_LOSS_LIMIT"]
    client.cancel(int(listed["orders"][0]["orderId"]))  # one leg takes the other with it
    assert client.open_orders() == []
    assert client.assets()["BTC"]["free"] == "0.03995997"

    short = client.order(side="SELL", type="MARKET", quantity="0.06", sideEffectType="AUTO_BORROW_REPAY")  # 6
    assert (short["status"], short["cummulativeQuoteQty"]) == ("FILLED", "3600.00000000")
    assets = client.assets()
    assert (assets["USDT"]["free"], assets["USDT"]["borrowed"], assets["USDT"]["interest"]) == (
        "3196.39600000",
        "0.00000000",
        "0.00000000",
    )
    assert (assets["BTC"]["free"], assets["BTC"]["borrowed"], assets["BTC"]["interest"]) == (
        "0.00000000",
        "0.02004003",
        "0.00000005",
    )

    cover = client.order(side="BUY", type="MARKET", quantity="0.02007", sideEffectType="AUTO_REPAY")  # 7
    assert (cover["status"], cover["cummulativeQuoteQty"]) == ("FILLED", "1204.20000000")
    assets = client.assets()
    assert (assets["BTC"]["free"], assets["BTC"]["borrowed"], assets["BTC"]["interest"]) == (
        "0.00000985",
        "0.00000000",
        "0.00000000",
    )
    assert assets["USDT"]["free"] == "1992.19600000"

    client.borrow("USDT", "1000")  # 8
    assets = client.assets()
    assert (assets["USDT"]["free"], assets["USDT"]["borrowed"], assets["USDT"]["interest"]) == (
        "2992.19600000",
        "1000.00000000",
        "0.01000000",
    )

    # 9: 1000 BTC is far past the max borrowable (-3006); a wrong secret fails the signature (-1022)
    refused_type, refused_code = client.refused_borrow()
    assert refused_code == -3006
    wrong_type, wrong_code = client.wrongly_signed(server.url, key["apiKey"])
    assert wrong_code == -1022
    expected_types = {
        "python-binance": ("BinanceAPIException", "BinanceAPIException"),
        "ccxt": ("ExchangeError", "AuthenticationError"),
        "binance-sdk": ("BadRequestError", "BadRequestError"),
    }
    assert (refused_type.__name__, wrong_type.__name__) == expected_types[name]

    # 10: an hour passes, as cron runs it
    assert server.stop() == 0
    session_wallet.ok("accrue", now="2026-11-24T11:00:00Z")
    server = start_server(session_wallet, tmp_path, now=AN_HOUR_ON, port=int(server.url.rsplit(":", 1)[1]))
    running.append(server)
    client.wallet_clock = AN_HOUR_ON  # the SDK's transfers go through the CLI, on the server's clock

    charges = [(row["type"], row["asset"], row["principal"], row["interest"]) for row in client.interest()]  # 11
    assert sorted(charges) == sorted(
        [
            ("PERIODIC", "USDT", "1000.00000000", "0.01000000"),
            ("ON_BORROW", "USDT", "1000.00000000", "0.01000000"),
            ("ON_BORROW", "BTC", "0.02004003", "0.00000005"),
            ("ON_BORROW", "BTC", "0.01004000", "0.00000003"),
            ("ON_BORROW", "USDT", "400.00000000", "0.00400000"),
        ]
    )
    assert charges[0][0] == "PERIODIC"  # newest first

    client.repay("USDT", "1000.02")  # 12
    assets = client.assets()
    assert (assets["USDT"]["free"], assets["USDT"]["borrowed"], assets["USDT"]["interest"]) == (
        "1992.17600000",
        "0.00000000",
        "0.00000000",
    )
    client.transfer("1992.176", into_margin=False)
    assert client.assets()["USDT"]["free"] == "0.00000000"
    assert session_wallet.ok("audit", "--json", now=AN_HOUR_ON)["ok"] is True
    statuses = session_wallet.ok("status", "--all", "--json", now=AN_HOUR_ON)
    spot_wallet = next(document for document in statuses if document["wallet"] == "spot")
    assert asset_row(spot_wallet, "USDT")["free"] == "9992.17600000"


def test_an_isolated_wallet_through_ccxt(running: list[Server], session_wallet: Wallet) -> None:
    """ccxt's isolated methods: a transfer into BTC/USDT's isolated wallet, a borrow there, the isolated
    balance, a repay and the transfer back. BTC/USDT isolated is 10x: max borrowable USDT = (10 − 1) × 500
    = 4500; the borrow of 100 USDT is charged 100 × 0.00001 = 0.001 at once."""
    key = session_wallet.ok("apikey", "create", now=OPENED)
    exchange = Ccxt(running[0].url, key["apiKey"], key["secretKey"]).exchange
    exchange.load_markets()
    exchange.transfer("USDT", 500, "spot", "BTC/USDT")
    assert exchange.sapi_get_margin_maxborrowable({"asset": "USDT", "isolatedSymbol": "BTCUSDT"})["amount"] == (
        "4500.00000000"
    )
    exchange.borrow_isolated_margin("BTC/USDT", "USDT", 100)
    balance = exchange.fetch_balance({"type": "margin", "marginMode": "isolated"})
    pair = balance["info"]["assets"][0]
    assert pair["symbol"] == "BTCUSDT"
    assert (pair["quoteAsset"]["free"], pair["quoteAsset"]["borrowed"], pair["quoteAsset"]["interest"]) == (
        "600.00000000",
        "100.00000000",
        "0.00100000",
    )
    # 600 / 100.001 = 5.99994000…, 8 places rounded down
    assert pair["marginLevel"] == "5.99994000"
    # net 600 − 100.001 = 499.999 USDT; in BTC 499.999 / 60000 = 0.00833331666… → 0.00833331
    assert pair["quoteAsset"]["netAssetOfBtc"] == "0.00833331"
    exchange.repay_isolated_margin("BTC/USDT", "USDT", 100.001)
    exchange.transfer("USDT", 499.999, "BTC/USDT", "spot")
    cross = session_wallet.ok("status", "--isolated", "BTC/USDT", "--json", now=OPENED)
    assert asset_row(cross, "USDT")["free"] == "0.00000000"
    assert session_wallet.ok("audit", "--json", now=OPENED)["ok"] is True
