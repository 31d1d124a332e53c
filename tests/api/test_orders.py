"""Binance's order rules as served: LIMIT_MAKER, the stop-limit types, autoRepayAtCancel, quoteOrderQty,
newOrderRespType, newClientOrderId as the idempotency key, and the request weights. python-binance sends
every request unchanged; the server runs on a fixed clock (10:05:00) on the funded wallet: 1100 USDT free in
cross, 100 borrowed (+0.001 interest), BTC/USDT at 60000."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from binance.client import Client
from binance.exceptions import BinanceAPIException

from tests.api.conftest import Server, start_server
from tests.conftest import Wallet, asset_row

OPENED = "2026-11-24T10:05:00Z"


@pytest.fixture
def fixed_clock_server(funded_wallet: Wallet, tmp_path: Path) -> Iterator[Server]:
    running = start_server(funded_wallet, tmp_path, now=OPENED)
    yield running
    running.stop()


def client_of(server: Server, permissions: str = "trade") -> Client:
    key = server.wallet.ok("apikey", "create", "--permissions", permissions, now=OPENED)
    made = Client(key["apiKey"], key["secretKey"], ping=False)
    made.API_URL, made.MARGIN_API_URL = server.url + "/api", server.url + "/sapi"
    return made


def refused(call: Any, **params: Any) -> tuple[int, str]:
    with pytest.raises(BinanceAPIException) as error:
        call(**params)
    return error.value.code, error.value.message


def test_limit_maker_never_takes(fixed_clock_server: Server) -> None:
    client = client_of(fixed_clock_server)
    # a buy at 60001 is above the last price 60000: it would fill at once, as a taker
    code, message = refused(
        client.create_margin_order, symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", quantity="0.001", price="60001"
    )
    assert code == -2010 and "would immediately match" in message
    resting = client.create_margin_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT_MAKER", quantity="0.001", price="59000"
    )
    # LIMIT_MAKER answers ACK by default (only MARKET and LIMIT answer FULL)
    assert set(resting) == {"symbol", "orderId", "clientOrderId", "isIsolated", "transactTime"}
    shown = client.get_margin_order(symbol="BTCUSDT", orderId=resting["orderId"])
    assert (shown["type"], shown["status"], shown["price"]) == ("LIMIT_MAKER", "NEW", "59000.00")


def test_a_stop_limit_whose_type_does_not_match_the_last_price_is_refused(fixed_clock_server: Server) -> None:
    client = client_of(fixed_clock_server)
    # a SELL stop at 61000 is above the last price: that is a take profit, so STOP_LOSS_LIMIT would trigger now
    code, _ = refused(
        client.create_margin_order,
        symbol="BTCUSDT",
        side="SELL",
        type="STOP_LOSS_LIMIT",
        quantity="0.001",
        price="60900",
        stopPrice="61000",
        timeInForce="GTC",
        sideEffectType="MARGIN_BUY",
    )
    assert code == -2010
    placed = client.create_margin_order(
        symbol="BTCUSDT",
        side="SELL",
        type="TAKE_PROFIT_LIMIT",
        quantity="0.001",
        price="60900",
        stopPrice="61000",
        timeInForce="GTC",
        sideEffectType="MARGIN_BUY",
        newOrderRespType="RESULT",
    )
    assert (placed["type"], placed["status"]) == ("TAKE_PROFIT_LIMIT", "NEW")


def test_auto_repay_at_cancel_false_keeps_the_orders_loan(fixed_clock_server: Server) -> None:
    client = client_of(fixed_clock_server)
    # a buy of 0.03 BTC at 50000 holds 1500 USDT; 1100 is free, so MARGIN_BUY borrows 400
    # (ON_BORROW 400 × 0.00001 = 0.004)
    placed = client.create_margin_order(
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        quantity="0.03",
        price="50000",
        timeInForce="GTC",
        sideEffectType="MARGIN_BUY",
        autoRepayAtCancel="FALSE",
    )
    assert (placed["marginBuyBorrowAmount"], placed["marginBuyBorrowAsset"]) == ("400.00000000", "USDT")
    client.cancel_margin_order(symbol="BTCUSDT", orderId=placed["orderId"])
    usdt = next(row for row in client.get_margin_account()["userAssets"] if row["asset"] == "USDT")
    # 1500 back to free; the loans stay: 100 + 400, interest 0.001 + 0.004
    assert (usdt["free"], usdt["borrowed"], usdt["interest"]) == ("1500.00000000", "500.00000000", "0.00500000")
    # with autoRepayAtCancel left to its default (true) the same order's loan goes with the cancel:
    # it borrows 1500 − 1500 = 0 this time, so a larger one: 0.04 × 50000 = 2000, borrowing 500 (+0.005)
    second = client.create_margin_order(
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        quantity="0.04",
        price="50000",
        timeInForce="GTC",
        sideEffectType="MARGIN_BUY",
    )
    assert second["marginBuyBorrowAmount"] == "500.00000000"
    client.cancel_margin_order(symbol="BTCUSDT", orderId=second["orderId"])
    usdt = next(row for row in client.get_margin_account()["userAssets"] if row["asset"] == "USDT")
    # 2000 back, then 500.005 repaid: free 1499.995, borrowed 500, interest 0.005
    assert (usdt["free"], usdt["borrowed"], usdt["interest"]) == ("1499.99500000", "500.00000000", "0.00500000")


def test_quote_order_qty_buys_what_the_amount_buys_on_the_step(fixed_clock_server: Server) -> None:
    client = client_of(fixed_clock_server)
    # 100 / 60000 = 0.0016666… → 0.00166 on the step 0.00001; it costs 0.00166 × 60000 = 99.6
    order = client.create_margin_order(symbol="BTCUSDT", side="BUY", type="MARKET", quoteOrderQty="100")
    assert (order["executedQty"], order["cummulativeQuoteQty"]) == ("0.00166000", "99.60000000")
    assert order["fills"] == [
        # fee 0.00166 × 0.001 = 0.00000166 BTC
        {"price": "60000.00", "qty": "0.00166000", "commission": "0.00000166", "commissionAsset": "BTC", "tradeId": 1}
    ]


def test_a_retried_client_order_id_is_answered_not_placed_again(fixed_clock_server: Server) -> None:
    client = client_of(fixed_clock_server)
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001", "newClientOrderId": "bot-1"}
    first = client.create_margin_order(**params)
    again = client.create_margin_order(**params)
    assert again == first
    assert [order["clientOrderId"] for order in client.get_all_margin_orders(symbol="BTCUSDT")] == ["bot-1"]
    code, message = refused(client.create_margin_order, **{**params, "quantity": "0.002"})
    assert (code, message) == (-2010, "Duplicate order sent.")
    # one buy of 0.001 × 60000 = 60 USDT: 1100 − 60 = 1040 free
    status = fixed_clock_server.wallet.ok("status", "--json", now=OPENED)
    assert asset_row(status, "USDT")["free"] == "1040.00000000"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"type": "LIMIT", "price": "59000", "timeInForce": "IOC"}, -1115),
        ({"type": "LIMIT", "price": "59000"}, -1102),  # no timeInForce
        ({"type": "STOP_LOSS", "stopPrice": "59000"}, -1014),
        ({"type": "TRAILING", "price": "59000"}, -1116),
        ({"type": "MARKET", "price": "59000"}, -1106),
        ({"type": "MARKET", "sideEffectType": "BORROW_ALL"}, -1100),
        ({"type": "MARKET", "newOrderRespType": "ALL"}, -1100),
        ({"type": "MARKET", "isIsolated": "maybe"}, -1100),
    ],
)
def test_what_binance_refuses_in_an_order_is_refused_with_its_code(
    fixed_clock_server: Server, params: dict[str, str], code: int
) -> None:
    client = client_of(fixed_clock_server)
    before = fixed_clock_server.wallet.ok("history", "--json", "--limit", "5", now=OPENED)
    found, _ = refused(client.create_margin_order, symbol="BTCUSDT", side="BUY", quantity="0.001", **params)
    assert found == code
    assert fixed_clock_server.wallet.ok("history", "--json", "--limit", "5", now=OPENED) == before


def test_every_answer_counts_its_weight_and_past_the_limit_429(funded_wallet: Wallet, tmp_path: Path) -> None:
    server = start_server(funded_wallet, tmp_path, "--weight-limit", "25", now=OPENED)
    while time.time() % 60 > 50:  # the count is per calendar minute: start well inside one
        time.sleep(0.5)
    try:
        reader, other = client_of(server, "read"), client_of(server, "read")
        reader.get_margin_account()
        # margin/account weighs 10: 10, then 20; a third would make 30 > 25
        assert reader.response.headers["X-MBX-USED-WEIGHT-1M"] == "10"
        reader.get_margin_account()
        assert reader.response.headers["X-MBX-USED-WEIGHT-1M"] == "20"
        with pytest.raises(BinanceAPIException) as limited:
            reader.get_margin_account()
        assert (limited.value.status_code, limited.value.code) == (429, -1003)
        assert 1 <= int(reader.response.headers["Retry-After"]) <= 60
        # another key has its own count, and so has a client without a key (by its address)
        other.get_margin_account()
        assert other.response.headers["X-MBX-USED-WEIGHT-1M"] == "10"
        ping = requests.get(server.url + "/api/v3/ping", timeout=30)
        assert ping.headers["X-MBX-USED-WEIGHT-1M"] == "1"
    finally:
        server.stop()


def test_an_order_that_may_borrow_weighs_1500(fixed_clock_server: Server) -> None:
    while time.time() % 60 > 50:  # the count is per calendar minute: start well inside one
        time.sleep(0.5)
    client = client_of(fixed_clock_server)
    client.create_margin_order(symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001")
    assert client.response.headers["X-MBX-USED-WEIGHT-1M"] == "6"
    client.create_margin_order(
        symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.001", sideEffectType="MARGIN_BUY"
    )
    assert client.response.headers["X-MBX-USED-WEIGHT-1M"] == "1506"  # 6, then 1500 (Binance's weights)
