"""A corpus of bad requests to `marginctl serve`, each answered with Binance's error and the wallet unchanged.

Every case is sent as raw HTTP on a socket of its own, so nothing is normalised on the way: the query string
and the body travel byte for byte as written (bad percent-encoding, bytes that are not UTF-8, a parameter
twice, an oversized body), and the HMAC-SHA256 signature is computed here over exactly the bytes sent (the
query string followed by the body with nothing between them, Binance's totalParams) or, to be refused,
over something else. Each answer must be Binance's: its HTTP status, `{"code": -NNNN, "msg": "…"}` and
`Content-Type: application/json`.

One server runs for the whole module, on a wallet with two accounts: `main` (1000 USDT in cross, 100 USDT
borrowed, an open limit buy; a `trade`, a `read` and a revoked key) and `bob` (500 USDT in cross, an open
limit buy of his own, his own key), so that "another account's orderId" is a real order.

The wallet byte-identical: each case takes `Wallet.fingerprint()` (the SQLite file and its -wal, -shm and
-journal sidecars) before and after its request. A read through the server leaves all of those as they
are, but for one thing: the first read after another connection's write (the CLI's, here) moves SQLite's
read mark in the -shm index, which holds no data. So each case first makes one good read (`settle`), and
the revoke test, which writes in the middle, compares the file and its -wal without the -shm. On the
PostgreSQL pass there is no file: both accounts' journal, balances and orders (`history`, `status`,
`orders --all`, as JSON) are compared instead; they are compared once more after the whole corpus.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import Server, start_server
from tests.conftest import Wallet, new_wallet, run_cli

FORM = "application/x-www-form-urlencoded"
#: The default: a form body when there is a body, no Content-Type without one.
DEFAULT = "default"
UNAUTHORIZED = (-2014, -2015)

ACCOUNT = "/sapi/v1/margin/account"
ORDER = "/sapi/v1/margin/order"
OCO = "/sapi/v1/margin/order/oco"
OPEN_ORDERS = "/sapi/v1/margin/openOrders"
ALL_ORDERS = "/sapi/v1/margin/allOrders"
MY_TRADES = "/sapi/v1/margin/myTrades"
BORROW_REPAY = "/sapi/v1/margin/borrow-repay"
LOAN = "/sapi/v1/margin/loan"
REPAY = "/sapi/v1/margin/repay"
ASSET_TRANSFER = "/sapi/v1/asset/transfer"
MARGIN_TRANSFER = "/sapi/v1/margin/transfer"
ISOLATED_TRANSFER = "/sapi/v1/margin/isolated/transfer"
MAX_BORROWABLE = "/sapi/v1/margin/maxBorrowable"
MAX_TRANSFERABLE = "/sapi/v1/margin/maxTransferable"
RATE_HISTORY = "/sapi/v1/margin/interestRateHistory"
PRICE_INDEX = "/sapi/v1/margin/priceIndex"
TICKER = "/api/v3/ticker/price"
EXCHANGE_INFO = "/api/v3/exchangeInfo"

TS = "timestamp=<ts>"
LIMIT_BUY = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000"
MARKET_BUY = "symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001"
BORROW = "asset=USDT&isIsolated=FALSE&amount=1&type=BORROW"
TO_MARGIN = "type=MAIN_MARGIN&asset=USDT&amount=1"


def replaced(text: str, name: str, value: str | None) -> str:
    """`text` (a=1&b=2) with item `name` given `value`, or dropped when `value` is None."""
    items = []
    for item in text.split("&"):
        if item.split("=", 1)[0] == name:
            if value is not None:
                items.append(f"{name}={value}")
        else:
            items.append(item)
    return "&".join(items)


def without(text: str, name: str) -> str:
    return replaced(text, name, None)


# ---------------------------------------------------------------------------------------------------------
# The corpus


@dataclass(frozen=True)
class Bad:
    """One bad request: how it is built and signed, and Binance's answer to it.

    `query` and `body` are the raw text sent (latin-1, so a byte that is not UTF-8 can be written as
    `\\xff`); `<ts>` is the time of sending in ms (`<ts-6000>`, `<ts+5000>` around it), `<main-order>` and
    `<bob-order>` the open orders' ids. `sign` says how the signature is made: `good` (HMAC over the query
    string followed by the body, or over `signed_text` when given, to sign something other than what is
    sent), `none` (no signature item), `empty` (`signature=`), `garbage`, `truncated`, `other-secret`
    (bob's secret), `percent` (bad percent-encoding in it). It travels at the end of the query, or of the
    body with `signature_in="body"`. `key` is the X-MBX-APIKEY sent: one of the wallet's keys (`trade`,
    `read`, `revoked`, `bob`), or a malformed one (see API_KEY_HEADERS); the signer is that key's secret,
    else main's `trade` secret.
    """

    method: str
    path: str
    query: str
    body: str
    code: int
    status: int
    key: str
    sign: str
    signed_text: str | None
    signature_in: str
    content_type: str


def bad(
    case_id: str,
    method: str,
    path: str,
    query: str = "",
    body: str = "",
    *,
    code: int,
    status: int | None = None,
    key: str = "trade",
    sign: str = "good",
    signed_text: str | None = None,
    signature_in: str = "query",
    content_type: str = DEFAULT,
    marks: Any = (),
) -> Any:
    if status is None:
        status = 401 if code in UNAUTHORIZED else 400
    case = Bad(method, path, query, body, code, status, key, sign, signed_text, signature_in, content_type)
    return pytest.param(case, id=case_id, marks=marks)


def _keys_and_signatures() -> list[Any]:
    def account(case_id: str, *, code: int, **options: Any) -> Any:
        return bad(case_id, "GET", ACCOUNT, TS, code=code, **options)

    return [
        # --- the API key (checked first: no signature is looked at before it) ---
        account("key-missing", key="none", code=-2014),
        account("key-empty", key="empty", code=-2014),
        account("key-63-characters", key="short", code=-2014),
        account("key-65-characters", key="long", code=-2014),
        account("key-with-a-dash", key="dash", code=-2014),
        account("key-not-ascii", key="latin1", code=-2014),
        account("key-unknown", key="unknown", code=-2015),
        account("key-revoked", key="revoked", code=-2015),
        account("key-missing-even-unsigned", key="none", sign="none", code=-2014),
        account("key-unknown-even-with-a-bad-signature", key="unknown", sign="garbage", code=-2015),
        # --- the signature ---
        account("signature-missing", sign="none", code=-1102),
        account("signature-empty", sign="empty", code=-1102),
        account("signature-garbage", sign="garbage", code=-1022),
        account("signature-bad-percent-encoding", sign="percent", code=-1022),
        account("signature-truncated", sign="truncated", code=-1022),
        account("signature-with-another-accounts-secret", sign="other-secret", code=-1022),
        bad(
            "signature-over-a-reordered-string",
            "GET",
            ACCOUNT,
            "timestamp=<ts>&recvWindow=5000",
            signed_text="recvWindow=5000&timestamp=<ts>",
            code=-1022,
        ),
        bad(
            "signature-over-the-decoded-text",
            "GET",
            ORDER,
            "symbol=BTCUSDT&origClientOrderId=my%2Dorder&timestamp=<ts>",
            signed_text="symbol=BTCUSDT&origClientOrderId=my-order&timestamp=<ts>",
            code=-1022,
        ),
        bad(
            "signature-over-query-and-body-joined-by-an-ampersand",
            "POST",
            BORROW_REPAY,
            "asset=USDT&type=BORROW",
            "amount=1&timestamp=<ts>",
            signed_text="asset=USDT&type=BORROW&amount=1&timestamp=<ts>",
            code=-1022,
        ),
        bad(
            "signature-over-the-query-only",
            "POST",
            BORROW_REPAY,
            "asset=USDT&type=BORROW&timestamp=<ts>",
            "amount=1",
            signed_text="asset=USDT&type=BORROW&timestamp=<ts>",
            code=-1022,
        ),
        bad(
            "signature-over-a-smaller-amount",
            "POST",
            BORROW_REPAY,
            body=f"{replaced(BORROW, 'amount', '100')}&{TS}",
            signed_text=f"{BORROW}&{TS}",
            signature_in="body",
            code=-1022,
        ),
        bad(
            "signature-over-another-symbol",
            "POST",
            ORDER,
            body=f"{LIMIT_BUY}&{TS}",
            signed_text=f"{replaced(LIMIT_BUY, 'symbol', 'ETHUSDT')}&{TS}",
            signature_in="body",
            code=-1022,
        ),
        bad(
            "signature-over-the-body-without-its-last-item",
            "POST",
            MARGIN_TRANSFER,
            body="asset=USDT&amount=1&type=2&timestamp=<ts>&recvWindow=5000",
            signed_text="asset=USDT&amount=1&type=2&timestamp=<ts>",
            signature_in="body",
            code=-1022,
        ),
        bad(
            "signature-twice-in-the-query",
            "GET",
            ACCOUNT,
            f"{TS}&signature=0000",
            code=-1101,
        ),
        bad(
            "signature-in-query-and-body",
            "POST",
            BORROW_REPAY,
            f"{BORROW}&{TS}",
            "signature=0000",
            code=-1101,
        ),
        # --- the time window ---
        bad("timestamp-missing", "GET", ACCOUNT, "recvWindow=5000", code=-1102),
        bad("timestamp-empty", "GET", ACCOUNT, "timestamp=", code=-1102),
        bad("timestamp-stale-6s-default-window", "GET", ACCOUNT, "timestamp=<ts-6000>", code=-1021),
        bad("timestamp-stale-61s-largest-window", "GET", ACCOUNT, "timestamp=<ts-61000>&recvWindow=60000", code=-1021),
        bad("timestamp-5s-in-the-future", "GET", ACCOUNT, "timestamp=<ts+5000>", code=-1021),
        bad(
            "timestamp-2s-ahead-whatever-the-window",
            "GET",
            ACCOUNT,
            "timestamp=<ts+2000>&recvWindow=60000",
            code=-1021,
        ),
        bad("timestamp-zero", "GET", ACCOUNT, "timestamp=0", code=-1021),
        bad("timestamp-letters", "GET", ACCOUNT, "timestamp=now", code=-1100),
        bad("timestamp-negative", "GET", ACCOUNT, "timestamp=-<ts>", code=-1100),
        bad("timestamp-exponent", "GET", ACCOUNT, "timestamp=1.7e12", code=-1100),
        bad("timestamp-with-a-fraction", "GET", ACCOUNT, "timestamp=<ts>.5", code=-1100),
        bad("timestamp-19-digits", "GET", ACCOUNT, "timestamp=1<ts>00000", code=-1100),
        bad("timestamp-with-a-plus-sign", "GET", ACCOUNT, "timestamp=%2B<ts>", code=-1100),
        bad("timestamp-with-a-space", "GET", ACCOUNT, "timestamp=+<ts>", code=-1100),
        bad("timestamp-bad-percent-encoding", "GET", ACCOUNT, "timestamp=%ZZ<ts>", code=-1100),
        bad("timestamp-twice", "GET", ACCOUNT, "timestamp=<ts>&timestamp=<ts>", code=-1101),
        bad("timestamp-in-query-and-body", "POST", BORROW_REPAY, f"{BORROW}&{TS}", TS, code=-1101),
        bad("recvWindow-60001", "GET", ACCOUNT, f"{TS}&recvWindow=60001", code=-1131),
        bad("recvWindow-huge", "GET", ACCOUNT, f"{TS}&recvWindow=999999999999", code=-1131),
        bad("recvWindow-negative", "GET", ACCOUNT, f"{TS}&recvWindow=-5000", code=-1100),
        bad("recvWindow-exponent", "GET", ACCOUNT, f"{TS}&recvWindow=5e3", code=-1100),
        bad("recvWindow-letters", "GET", ACCOUNT, f"{TS}&recvWindow=long", code=-1100),
        bad("recvWindow-twice", "GET", ACCOUNT, f"{TS}&recvWindow=5000&recvWindow=5000", code=-1101),
    ]


def _read_permission() -> list[Any]:
    """A `read` key answers reads only: each write is refused, however well it is signed."""
    writes = [
        ("new-order", "POST", ORDER, LIMIT_BUY),
        ("new-oco", "POST", OCO, "symbol=BTCUSDT&side=SELL&quantity=0.001&price=70000&stopPrice=55000"),
        ("borrow-repay", "POST", BORROW_REPAY, BORROW),
        ("loan", "POST", LOAN, "asset=USDT&amount=1"),
        ("repay", "POST", REPAY, "asset=USDT&amount=1"),
        ("asset-transfer", "POST", ASSET_TRANSFER, "type=MARGIN_MAIN&asset=USDT&amount=1"),
        ("margin-transfer", "POST", MARGIN_TRANSFER, "asset=USDT&amount=1&type=2"),
        (
            "isolated-transfer",
            "POST",
            ISOLATED_TRANSFER,
            "asset=USDT&symbol=BTCUSDT&transFrom=SPOT&transTo=ISOLATED_MARGIN&amount=1",
        ),
        ("cancel-order", "DELETE", ORDER, "symbol=BTCUSDT&orderId=<main-order>"),
        ("cancel-open-orders", "DELETE", OPEN_ORDERS, "symbol=BTCUSDT"),
    ]
    cases = [
        bad(f"read-key-{name}", method, path, body=f"{params}&{TS}", key="read", signature_in="body", code=-2015)
        for name, method, path, params in writes
    ]
    cases.append(bad("read-key-new-order-in-the-query", "POST", ORDER, f"{LIMIT_BUY}&{TS}", key="read", code=-2015))
    cases.append(
        bad(
            "read-key-borrow-badly-signed",
            "POST",
            BORROW_REPAY,
            body=f"{BORROW}&{TS}",
            key="read",
            sign="garbage",
            code=-2015,
        )
    )
    return cases


def _requests_themselves() -> list[Any]:
    """The request's shape: paths, methods, bodies, bytes."""
    signed_borrow = f"{BORROW}&{TS}"
    return [
        bad("path-unknown", "GET", "/sapi/v1/margin/nothing", TS, code=-1000, status=404),
        bad("path-spot-order-not-served", "POST", "/api/v3/order", body=f"{MARKET_BUY}&{TS}", code=-1000, status=404),
        bad("path-wrong-case", "GET", "/sapi/v1/Margin/account", TS, code=-1000, status=404),
        bad("path-misspelt", "GET", "/sapi/v1/margin/accounts", TS, code=-1000, status=404),
        bad("method-put-order", "PUT", ORDER, body=f"{LIMIT_BUY}&{TS}", code=-1000, status=405),
        bad("method-patch-order", "PATCH", ORDER, body=f"{LIMIT_BUY}&{TS}", code=-1000, status=405),
        bad("method-delete-account", "DELETE", ACCOUNT, TS, code=-1000, status=405),
        bad("method-put-borrow-repay", "PUT", BORROW_REPAY, body=signed_borrow, code=-1000, status=405),
        bad("method-post-ping", "POST", "/api/v3/ping", code=-1000, status=405),
        bad("method-delete-ticker", "DELETE", TICKER, "symbol=BTCUSDT", code=-1000, status=405),
        bad(
            "body-oversized-65-KiB",
            "POST",
            ORDER,
            body=f"{LIMIT_BUY}&{TS}&newClientOrderId=a&padding={'x' * 66_000}",
            signature_in="body",
            code=-1000,
        ),
        bad(
            "body-json",
            "POST",
            BORROW_REPAY,
            body='{"asset":"USDT","amount":"1","type":"BORROW","timestamp":<ts>}',
            content_type="application/json",
            code=-1100,
        ),
        bad(
            "body-form-sent-as-json",
            "POST",
            BORROW_REPAY,
            body=signed_borrow,
            content_type="application/json",
            code=-1100,
        ),
        bad(
            "body-form-sent-as-json-with-a-charset",
            "POST",
            BORROW_REPAY,
            body=signed_borrow,
            content_type="application/json; charset=utf-8",
            code=-1100,
        ),
        bad("body-form-sent-as-text", "POST", BORROW_REPAY, body=signed_borrow, content_type="text/plain", code=-1100),
        bad(
            "body-multipart",
            "POST",
            BORROW_REPAY,
            body='--b\r\nContent-Disposition: form-data; name="asset"\r\n\r\nUSDT\r\n--b--\r\n',
            content_type="multipart/form-data; boundary=b",
            code=-1100,
        ),
        bad(
            "body-byte-not-utf8",
            "POST",
            BORROW_REPAY,
            body="asset=US\xffDT&amount=1&type=BORROW&timestamp=<ts>",
            signature_in="body",
            code=-1100,
        ),
        bad("recvWindow-bad-percent-encoding", "GET", ACCOUNT, f"{TS}&recvWindow=5%ZZ0", code=-1100),
        bad("order-id-bad-percent-encoding", "GET", ORDER, f"symbol=BTCUSDT&orderId=%ZZ1&{TS}", code=-1100),
        bad("order-id-percent-encoded-not-utf8", "GET", ORDER, f"symbol=BTCUSDT&orderId=1%FF&{TS}", code=-1100),
        bad(
            "quantity-bad-percent-encoding",
            "POST",
            ORDER,
            body=f"{replaced(LIMIT_BUY, 'quantity', '0.00%ZZ1')}&{TS}",
            signature_in="body",
            code=-1100,
        ),
        bad(
            "amount-percent-encoded-not-utf8",
            "POST",
            BORROW_REPAY,
            body=f"{replaced(BORROW, 'amount', '1%FF')}&{TS}",
            signature_in="body",
            code=-1100,
        ),
        bad(
            "client-order-id-bad-percent-encoding",
            "POST",
            ORDER,
            body=f"{LIMIT_BUY}&newClientOrderId=a%ZZb&{TS}",
            signature_in="body",
            code=-1100,
        ),
    ]


def _orders() -> list[Any]:
    def order(case_id: str, params: str, *, code: int, **options: Any) -> Any:
        return bad(case_id, "POST", ORDER, body=f"{params}&{TS}", signature_in="body", code=code, **options)

    return [
        order("order-symbol-missing", without(LIMIT_BUY, "symbol"), code=-1102),
        order("order-symbol-empty", replaced(LIMIT_BUY, "symbol", ""), code=-1102),
        order("order-symbol-unknown", replaced(LIMIT_BUY, "symbol", "FOOBAR"), code=-1121),
        order("order-symbol-twice", f"{LIMIT_BUY}&symbol=ETHUSDT", code=-1101),
        order("order-side-missing", without(LIMIT_BUY, "side"), code=-1102),
        order("order-side-unknown", replaced(LIMIT_BUY, "side", "HOLD"), code=-1117),
        order("order-type-missing", without(LIMIT_BUY, "type"), code=-1102),
        order("order-type-unknown", replaced(LIMIT_BUY, "type", "ICEBERG"), code=-1116),
        order("order-time-in-force-missing", without(LIMIT_BUY, "timeInForce"), code=-1102),
        order("order-time-in-force-unknown", replaced(LIMIT_BUY, "timeInForce", "FOREVER"), code=-1115),
        order("order-time-in-force-on-a-market-order", f"{MARKET_BUY}&timeInForce=GTC", code=-1106),
        order("order-price-on-a-market-order", f"{MARKET_BUY}&price=50000", code=-1106),
        order("order-stop-price-on-a-limit-order", f"{LIMIT_BUY}&stopPrice=49000", code=-1106),
        order("order-quantity-and-quote-on-a-market-order", f"{MARKET_BUY}&quoteOrderQty=60", code=-1106),
        order("order-market-without-quantity-or-quote", without(MARKET_BUY, "quantity"), code=-1102),
        order("order-limit-quantity-missing", without(LIMIT_BUY, "quantity"), code=-1102),
        order("order-limit-price-missing", without(LIMIT_BUY, "price"), code=-1102),
        order("order-quantity-negative", replaced(LIMIT_BUY, "quantity", "-0.001"), code=-1100),
        order("order-quantity-exponent", replaced(LIMIT_BUY, "quantity", "1e-3"), code=-1100),
        order("order-quantity-huge", replaced(LIMIT_BUY, "quantity", "1" + "0" * 25), code=-1100),
        order("order-quantity-21-decimals", replaced(LIMIT_BUY, "quantity", "0." + "0" * 20 + "1"), code=-1100),
        order("order-quantity-letters", replaced(LIMIT_BUY, "quantity", "abc"), code=-1100),
        order("order-quantity-hex", replaced(LIMIT_BUY, "quantity", "0x10"), code=-1100),
        order("order-quantity-nan", replaced(LIMIT_BUY, "quantity", "NaN"), code=-1100),
        order("order-quantity-infinity", replaced(LIMIT_BUY, "quantity", "Infinity"), code=-1100),
        order("order-quantity-two-points", replaced(LIMIT_BUY, "quantity", "0.0.1"), code=-1100),
        order("order-quantity-comma", replaced(LIMIT_BUY, "quantity", "0%2C001"), code=-1100),
        order("order-quantity-leading-space", replaced(LIMIT_BUY, "quantity", "%200.001"), code=-1100),
        bad(
            "order-quantity-twice-query-and-body",
            "POST",
            ORDER,
            "quantity=0.001",
            f"{LIMIT_BUY}&{TS}",
            signature_in="body",
            code=-1101,
        ),
        order("order-price-negative", replaced(LIMIT_BUY, "price", "-50000"), code=-1100),
        order("order-price-exponent", replaced(LIMIT_BUY, "price", "5e4"), code=-1100),
        order("order-price-huge", replaced(LIMIT_BUY, "price", "9" * 21), code=-1100),
        order("order-quote-negative", f"{without(MARKET_BUY, 'quantity')}&quoteOrderQty=-60", code=-1100),
        order("order-client-id-illegal-characters", f"{LIMIT_BUY}&newClientOrderId=my%20order%21", code=-1100),
        order("order-client-id-37-characters", f"{LIMIT_BUY}&newClientOrderId={'a' * 37}", code=-1100),
        order("order-is-isolated-not-a-boolean", f"{LIMIT_BUY}&isIsolated=MAYBE", code=-1100),
        order("order-below-min-notional", replaced(LIMIT_BUY, "quantity", "0.00001"), code=-1013),
        order("order-buy-beyond-the-balance", replaced(LIMIT_BUY, "quantity", "1"), code=-2010),
        order(
            "order-sell-what-is-not-held",
            replaced(LIMIT_BUY, "side", "SELL").replace("50000", "70000"),
            code=-2010,
        ),
        order(
            "order-quantity-off-the-step",
            replaced(LIMIT_BUY, "quantity", "1.000005"),
            code=-1013,
        ),
        order(
            "order-price-off-the-tick",
            replaced(LIMIT_BUY, "price", "50000.001"),
            code=-1013,
        ),
    ]


def _orders_by_id() -> list[Any]:
    return [
        bad("cancel-another-accounts-order", "DELETE", ORDER, f"symbol=BTCUSDT&orderId=<bob-order>&{TS}", code=-2011),
        bad("cancel-an-order-that-never-was", "DELETE", ORDER, f"symbol=BTCUSDT&orderId=999999&{TS}", code=-2011),
        bad(
            "cancel-own-order-under-another-symbol",
            "DELETE",
            ORDER,
            f"symbol=ETHUSDT&orderId=<main-order>&{TS}",
            code=-2011,
        ),
        bad(
            "cancel-unknown-client-order-id", "DELETE", ORDER, f"symbol=BTCUSDT&origClientOrderId=nope&{TS}", code=-2011
        ),
        bad("cancel-without-an-order-id", "DELETE", ORDER, f"symbol=BTCUSDT&{TS}", code=-1102),
        bad("cancel-without-a-symbol", "DELETE", ORDER, f"orderId=<main-order>&{TS}", code=-1102),
        bad("cancel-order-id-letters", "DELETE", ORDER, f"symbol=BTCUSDT&orderId=one&{TS}", code=-1100),
        bad("cancel-order-id-negative", "DELETE", ORDER, f"symbol=BTCUSDT&orderId=-1&{TS}", code=-1100),
        bad("cancel-order-id-exponent", "DELETE", ORDER, f"symbol=BTCUSDT&orderId=1e0&{TS}", code=-1100),
        bad(
            "cancel-order-id-twice",
            "DELETE",
            ORDER,
            f"symbol=BTCUSDT&orderId=<main-order>&orderId=<main-order>&{TS}",
            code=-1101,
        ),
        bad("query-another-accounts-order", "GET", ORDER, f"symbol=BTCUSDT&orderId=<bob-order>&{TS}", code=-2013),
        bad(
            "query-another-accounts-order-with-a-read-key",
            "GET",
            ORDER,
            f"symbol=BTCUSDT&orderId=<bob-order>&{TS}",
            key="read",
            code=-2013,
        ),
        bad("query-an-order-that-never-was", "GET", ORDER, f"symbol=BTCUSDT&orderId=999999&{TS}", code=-2013),
        bad("cancel-open-orders-unknown-symbol", "DELETE", OPEN_ORDERS, f"symbol=FOOBAR&{TS}", code=-1121),
        bad("cancel-open-orders-without-a-symbol", "DELETE", OPEN_ORDERS, TS, code=-1102),
        bad("open-orders-unknown-symbol", "GET", OPEN_ORDERS, f"symbol=FOOBAR&{TS}", code=-1121),
        bad("open-orders-isolated-without-a-symbol", "GET", OPEN_ORDERS, f"isIsolated=TRUE&{TS}", code=-1102),
        bad("all-orders-without-a-symbol", "GET", ALL_ORDERS, TS, code=-1102),
        bad("my-trades-without-a-symbol", "GET", MY_TRADES, TS, code=-1102),
        bad("my-trades-from-id-negative", "GET", MY_TRADES, f"symbol=BTCUSDT&fromId=-1&{TS}", code=-1100),
    ]


def _loans_and_transfers() -> list[Any]:
    def post(case_id: str, path: str, params: str, *, code: int, **options: Any) -> Any:
        return bad(case_id, "POST", path, body=f"{params}&{TS}", signature_in="body", code=code, **options)

    return [
        post("borrow-repay-type-missing", BORROW_REPAY, without(BORROW, "type"), code=-1102),
        post("borrow-repay-type-unknown", BORROW_REPAY, replaced(BORROW, "type", "LEND"), code=-1100),
        post("borrow-repay-asset-missing", BORROW_REPAY, without(BORROW, "asset"), code=-1102),
        post("borrow-repay-amount-missing", BORROW_REPAY, without(BORROW, "amount"), code=-1102),
        post("borrow-repay-amount-empty", BORROW_REPAY, replaced(BORROW, "amount", ""), code=-1102),
        post("borrow-repay-amount-negative", BORROW_REPAY, replaced(BORROW, "amount", "-1"), code=-1100),
        post("borrow-repay-amount-exponent", BORROW_REPAY, replaced(BORROW, "amount", "1e2"), code=-1100),
        post("borrow-repay-amount-huge", BORROW_REPAY, replaced(BORROW, "amount", "1" * 21), code=-1100),
        post("borrow-repay-amount-a-boolean", BORROW_REPAY, replaced(BORROW, "amount", "true"), code=-1100),
        post("borrow-repay-amount-twice", BORROW_REPAY, f"{BORROW}&amount=2", code=-1101),
        post(
            "borrow-repay-isolated-without-a-symbol", BORROW_REPAY, replaced(BORROW, "isIsolated", "TRUE"), code=-1102
        ),
        post(
            "borrow-repay-isolated-unknown-symbol",
            BORROW_REPAY,
            f"{replaced(BORROW, 'isIsolated', 'TRUE')}&symbol=FOOBAR",
            code=-1121,
        ),
        post("borrow-beyond-max-borrowable", BORROW_REPAY, replaced(BORROW, "amount", "100000"), code=-3006),
        post("loan-beyond-max-borrowable", LOAN, "asset=BTC&amount=100", code=-3006),
        post("loan-asset-missing", LOAN, "amount=1", code=-1102),
        post("loan-asset-unknown", LOAN, "asset=FOO&amount=1", code=-3027),
        post("loan-amount-negative", LOAN, "asset=USDT&amount=-1", code=-1100),
        post("repay-more-than-owed", REPAY, "asset=USDT&amount=500", code=-3015),
        post("repay-amount-exponent", REPAY, "asset=USDT&amount=1E1", code=-1100),
        post("repay-amount-missing", REPAY, "asset=USDT", code=-1102),
        post("asset-transfer-type-missing", ASSET_TRANSFER, without(TO_MARGIN, "type"), code=-1102),
        post("asset-transfer-type-unknown", ASSET_TRANSFER, replaced(TO_MARGIN, "type", "MAIN_MOON"), code=-1100),
        post("asset-transfer-asset-missing", ASSET_TRANSFER, without(TO_MARGIN, "asset"), code=-1102),
        post("asset-transfer-amount-negative", ASSET_TRANSFER, replaced(TO_MARGIN, "amount", "-1"), code=-1100),
        post("asset-transfer-amount-exponent", ASSET_TRANSFER, replaced(TO_MARGIN, "amount", "1e0"), code=-1100),
        post("asset-transfer-from-an-empty-spot", ASSET_TRANSFER, TO_MARGIN, code=-3041),
        post(
            "asset-transfer-isolated-without-a-to-symbol",
            ASSET_TRANSFER,
            replaced(TO_MARGIN, "type", "MAIN_ISOLATED_MARGIN"),
            code=-1102,
        ),
        post(
            "asset-transfer-isolated-unknown-to-symbol",
            ASSET_TRANSFER,
            f"{replaced(TO_MARGIN, 'type', 'MAIN_ISOLATED_MARGIN')}&toSymbol=FOOBAR",
            code=-1121,
        ),
        post("margin-transfer-type-3", MARGIN_TRANSFER, "asset=USDT&amount=1&type=3", code=-1100),
        post("margin-transfer-amount-missing", MARGIN_TRANSFER, "asset=USDT&type=1", code=-1102),
        post("margin-transfer-amount-exponent", MARGIN_TRANSFER, "asset=USDT&amount=1e3&type=2", code=-1100),
        post("margin-transfer-from-an-empty-spot", MARGIN_TRANSFER, "asset=USDT&amount=1&type=1", code=-3041),
        post("margin-transfer-more-than-margin-holds", MARGIN_TRANSFER, "asset=USDT&amount=5000&type=2", code=-3041),
        post(
            "isolated-transfer-symbol-missing",
            ISOLATED_TRANSFER,
            "asset=USDT&transFrom=SPOT&transTo=ISOLATED_MARGIN&amount=1",
            code=-1102,
        ),
        post(
            "isolated-transfer-from-unknown",
            ISOLATED_TRANSFER,
            "asset=USDT&symbol=BTCUSDT&transFrom=FUTURES&transTo=ISOLATED_MARGIN&amount=1",
            code=-1100,
        ),
        post(
            "isolated-transfer-from-an-empty-isolated-wallet",
            ISOLATED_TRANSFER,
            "asset=USDT&symbol=BTCUSDT&transFrom=ISOLATED_MARGIN&transTo=SPOT&amount=1",
            code=-3041,
        ),
    ]


def _reads() -> list[Any]:
    return [
        bad("max-borrowable-asset-missing", "GET", MAX_BORROWABLE, TS, code=-1102),
        bad(
            "max-borrowable-isolated-unknown-symbol",
            "GET",
            MAX_BORROWABLE,
            f"asset=USDT&isolatedSymbol=FOOBAR&{TS}",
            code=-1121,
        ),
        bad("max-transferable-asset-missing", "GET", MAX_TRANSFERABLE, TS, code=-1102),
        bad("interest-rate-history-asset-missing", "GET", RATE_HISTORY, TS, code=-1102),
        bad("borrow-repay-records-type-missing", "GET", BORROW_REPAY, TS, code=-1102),
        bad(
            "borrow-repay-records-start-time-exponent",
            "GET",
            BORROW_REPAY,
            f"type=BORROW&startTime=1e12&{TS}",
            code=-1100,
        ),
        bad("price-index-symbol-missing", "GET", PRICE_INDEX, code=-1102, key="none", sign="none"),
        bad("price-index-symbol-unknown", "GET", PRICE_INDEX, "symbol=FOOBAR", code=-1121, key="none", sign="none"),
        bad("ticker-symbol-unknown", "GET", TICKER, "symbol=FOOBAR", code=-1121, key="none", sign="none"),
        bad("ticker-symbols-not-json", "GET", TICKER, "symbols=BTCUSDT", code=-1100, key="none", sign="none"),
        bad("exchange-info-symbol-unknown", "GET", EXCHANGE_INFO, "symbol=FOOBAR", code=-1121, key="none", sign="none"),
        bad(
            "max-borrowable-asset-unknown",
            "GET",
            MAX_BORROWABLE,
            f"asset=FOO&{TS}",
            code=-3027,
        ),
        *[
            bad(
                f"ticker-symbol-{name}",
                "GET",
                TICKER,
                f"symbol={symbol}",
                code=-1100,
                key="none",
                sign="none",
            )
            for name, symbol in (
                ("lowercase", "btcusdt"),
                ("with-a-slash", "BTC%2FUSDT"),
                ("bad-percent-encoding", "BTC%ZZUSDT"),
                ("percent-encoded-not-utf8", "BTCUSDT%FF"),
                ("lone-percent", "BTCUSDT%"),
            )
        ],
        bad(
            "exchange-info-symbols-not-json",
            "GET",
            EXCHANGE_INFO,
            "symbols=BTCUSDT",
            code=-1100,
            key="none",
            sign="none",
        ),
    ]


CORPUS = [
    *_keys_and_signatures(),
    *_read_permission(),
    *_requests_themselves(),
    *_orders(),
    *_orders_by_id(),
    *_loans_and_transfers(),
    *_reads(),
]


# ---------------------------------------------------------------------------------------------------------
# The server, the wallet and the raw requests


@dataclass
class World:
    server: Server
    wallet: Wallet
    keys: dict[str, dict[str, Any]]
    orders: dict[str, int]
    journal: Any


def settle(world: World) -> None:
    """One read through the server. The first read after another connection's write moves SQLite's read
    mark in the -shm index (no data: the file and its -wal stay as they are); the reads after it do not."""
    made = Bad("GET", ACCOUNT, TS, "", 0, 200, "read", "good", None, "query", DEFAULT)
    assert send(world.server, "GET", *build(made, world)).status == 200


def state(wallet: Wallet, shm: bool = True) -> Any:
    """What must not change: the wallet's bytes (with the -shm index unless `shm` is False); on PostgreSQL,
    both accounts' journal, balances and orders."""
    if wallet.url is None:
        return wallet.fingerprint(("", "-wal", "-shm", "-journal") if shm else ("", "-wal", "-journal"))
    return journal(wallet)


def journal(wallet: Wallet) -> Any:
    return {
        account: (
            wallet.ok("history", "--limit", "1000", account=account),
            wallet.ok("status", account=account),
            wallet.ok("orders", "--all", account=account),
        )
        for account in ("main", "bob")
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("bad-requests")
    with pytest.MonkeyPatch.context() as patch:  # the autouse isolation fixture is per test, this runs before
        for name in ("MARGINCTL_DB", "MARGINCTL_CONFIG", "MARGINCTL_ACCOUNT", "MARGINCTL_NOW", "MARGINCTL_DEBUG"):
            patch.delenv(name, raising=False)
        for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            patch.setenv(name, str(folder / name.lower()))
        # on the system clock, as the server runs: a write it refuses is refused for its own reason
        wallet = new_wallet(folder / "wallet.db")
        wallet.ok("deposit", "USDT", "1000")
        wallet.ok("transfer", "USDT", "1000", "--yes")
        wallet.ok("price", "set", "BTC/USDT", "60000")
        wallet.ok("borrow", "USDT", "100", "--yes")
        orders = {"main": wallet.ok("trade", "buy", "BTC/USDT", "0.001", "--price", "50000")["orderId"]}
        wallet.ok("accounts", "create", "bob")
        wallet.ok("deposit", "USDT", "500", account="bob")
        wallet.ok("transfer", "USDT", "500", "--yes", account="bob")
        orders["bob"] = wallet.ok("trade", "buy", "BTC/USDT", "0.001", "--price", "50000", account="bob")["orderId"]
        keys = {
            "trade": wallet.ok("apikey", "create"),
            "read": wallet.ok("apikey", "create", "--permissions", "read"),
            "revoked": wallet.ok("apikey", "create"),
            "bob": wallet.ok("apikey", "create", account="bob"),
        }
        wallet.ok("apikey", "revoke", keys["revoked"]["apiKey"])
        before = journal(wallet)
    # no weight limit: the corpus's loans and transfers weigh 600-3000 each, well past 180,000 a minute
    server = start_server(wallet, folder, "--weight-limit", "0")
    try:
        yield World(server, wallet, keys, orders, before)
    finally:
        server.stop()


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send(server: Server, method: str, target: bytes, headers: list[tuple[str, str]], body: bytes) -> Answer:
    """One request on a socket of its own, its bytes exactly as given (no client re-encodes anything)."""
    address = urlsplit(server.url)
    assert address.hostname is not None and address.port is not None
    lines = [f"{method} ".encode() + target + b" HTTP/1.1", f"Host: {address.netloc}".encode(), b"Connection: close"]
    if body or method in ("POST", "PUT", "PATCH", "DELETE"):
        lines.append(f"Content-Length: {len(body)}".encode())
    lines += [f"{name}: {value}".encode("latin-1") for name, value in headers]
    with socket.create_connection((address.hostname, address.port), timeout=60) as connection:
        connection.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        response = http.client.HTTPResponse(connection, method=method)
        response.begin()
        data = response.read()
        return Answer(response.status, {name.lower(): value for name, value in response.getheaders()}, data)


PLACEHOLDER = re.compile(r"<(ts|main-order|bob-order)([+-][0-9]+)?>")


def filled(text: str, world: World, now_ms: int) -> str:
    def value(match: re.Match[str]) -> str:
        name, shift = match.group(1), int(match.group(2) or 0)
        if name == "ts":
            return str(now_ms + shift)
        return str(world.orders[name.removesuffix("-order")])

    return PLACEHOLDER.sub(value, text)


def hmac_hex(secret: str, text: bytes) -> str:
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


API_KEY_HEADERS = {
    "none": None,
    "empty": "",
    "short": "A" * 63,
    "long": "A" * 65,
    "dash": "A" * 63 + "-",
    "latin1": "A" * 63 + "\xe9",
    "unknown": "A" * 64,
}


def build(case: Bad, world: World) -> tuple[bytes, list[tuple[str, str]], bytes]:
    """The request target, headers and body of `case`, signed as it says, at this moment."""
    now_ms = int(time.time() * 1000)
    query = filled(case.query, world, now_ms).encode("latin-1")
    body = filled(case.body, world, now_ms).encode("latin-1")
    signer = "bob" if case.sign == "other-secret" else case.key if case.key in world.keys else "trade"
    secret = world.keys[signer]["secretKey"]
    signed = filled(case.signed_text, world, now_ms).encode("latin-1") if case.signed_text is not None else query + body
    right = hmac_hex(secret, signed)
    signature = {
        "good": right,
        "other-secret": right,
        "none": None,
        "empty": "",
        "garbage": "not-a-signature",
        "percent": "%ZZ" + right[3:],
        "truncated": right[:-1],
    }[case.sign]
    if signature is not None:
        item = f"signature={signature}".encode()
        if case.signature_in == "body":
            body = body + b"&" + item if body else item
        else:
            query = query + b"&" + item if query else item
    headers = []
    if case.key in world.keys:
        headers.append(("X-MBX-APIKEY", world.keys[case.key]["apiKey"]))
    elif API_KEY_HEADERS[case.key] is not None:
        headers.append(("X-MBX-APIKEY", API_KEY_HEADERS[case.key]))
    content_type = (FORM if body else None) if case.content_type == DEFAULT else case.content_type
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    target = case.path.encode() + (b"?" + query if query else b"")
    return target, headers, body


def assert_binance_error(answer: Answer, status: int, code: int) -> None:
    assert answer.headers.get("content-type", "").split(";")[0] == "application/json", answer
    document = answer.json()
    assert (answer.status, document.get("code")) == (status, code), document
    assert set(document) == {"code", "msg"} and isinstance(document["msg"], str) and document["msg"], document


# ---------------------------------------------------------------------------------------------------------
# The tests


def test_the_corpus_has_at_least_100_cases() -> None:
    ids = [case.id for case in CORPUS]
    assert len(ids) >= 100 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CORPUS)
def test_a_bad_request_gets_binances_error_and_changes_nothing(world: World, case: Bad) -> None:
    settle(world)
    before = state(world.wallet)
    target, headers, body = build(case, world)
    answer = send(world.server, case.method, target, headers, body)
    assert_binance_error(answer, case.status, case.code)
    assert state(world.wallet) == before


def good(
    method: str, path: str, query: str = "", body: str = "", key: str = "trade", signature_in: str = "query"
) -> Bad:
    """A well-made request (`code` and `status` unused)."""
    return Bad(method, path, query, body, 0, 200, key, "good", None, signature_in, DEFAULT)


def test_the_same_requests_well_made_are_answered(world: World) -> None:
    """The corpus's keys, orders and signing are sound: each refusal is for its own fault alone."""
    settle(world)
    before = state(world.wallet)
    for key in ("trade", "read", "bob"):
        answer = send(world.server, "GET", *build(good("GET", ACCOUNT, f"{TS}&recvWindow=5000", key=key), world))
        assert (answer.status, answer.json()["created"]) == (200, True), answer
    for owner, key in (("main", "trade"), ("main", "read"), ("bob", "bob")):
        made = good("GET", ORDER, f"symbol=BTCUSDT&orderId=<{owner}-order>&{TS}", key=key)
        answer = send(world.server, "GET", *build(made, world))
        assert (answer.status, answer.json()["orderId"]) == (200, world.orders[owner]), answer
    # signed over the bytes sent, percent-encoding and all: past the signature, to the order's lookup
    made = good("GET", ORDER, f"symbol=BTCUSDT&origClientOrderId=my%2Dorder&{TS}")
    assert_binance_error(send(world.server, "GET", *build(made, world)), 400, -2013)
    # query and body concatenated with nothing between them, as Binance's totalParams
    made = good("GET", MAX_BORROWABLE, "asset=USDT", f"{TS}&recvWindow=5000", signature_in="body")
    answer = send(world.server, "GET", *build(made, world))
    assert answer.status == 200 and "amount" in answer.json(), answer
    for window in (
        "timestamp=<ts-6000>&recvWindow=10000",
        "timestamp=<ts+500>",
        "timestamp=<ts-55000>&recvWindow=60000",
    ):
        answer = send(world.server, "GET", *build(good("GET", ACCOUNT, window), world))
        assert answer.status == 200, (window, answer)
    for path, query in (
        (TICKER, "symbol=BTCUSDT"),
        (PRICE_INDEX, "symbol=BTCUSDT"),
        (EXCHANGE_INFO, 'symbols=["BTCUSDT"]'),
    ):
        assert send(world.server, "GET", f"{path}?{query}".encode(), [], b"").status == 200, path
    assert state(world.wallet) == before


def test_a_revoked_key_is_refused_on_the_very_next_request(world: World) -> None:
    key = world.wallet.ok("apikey", "create")
    world.keys["fresh"] = key
    try:
        account = good("GET", ACCOUNT, TS, key="fresh")
        assert send(world.server, "GET", *build(account, world)).status == 200
        world.wallet.ok("apikey", "revoke", key["apiKey"])
        # the next read after the revoke moves the -shm read mark: the file and its -wal are compared
        before = state(world.wallet, shm=False)
        for refused in (
            account,
            good("POST", BORROW_REPAY, body=f"{BORROW}&{TS}", key="fresh", signature_in="body"),
            good("DELETE", ORDER, f"symbol=BTCUSDT&orderId=<main-order>&{TS}", key="fresh"),
        ):
            assert_binance_error(send(world.server, refused.method, *build(refused, world)), 401, -2015)
        assert state(world.wallet, shm=False) == before
    finally:
        del world.keys["fresh"]


def test_the_whole_corpus_left_the_journal_and_the_balances_as_they_were(world: World) -> None:
    """Besides the bytes, case by case: the journal, balances and orders of both accounts, after all."""
    assert journal(world.wallet) == world.journal
    assert run_cli(["--db", world.wallet.target, "audit", "--json"]).code == 0


@pytest.mark.parametrize("path", [ACCOUNT, TICKER])
def test_head_is_answered_as_get_without_a_body(world: World, path: str) -> None:
    """HEAD of a GET path (Starlette routes it to the GET handler): GET's status and headers, no body."""
    get = send(world.server, "GET", path.encode(), [], b"")
    head = send(world.server, "HEAD", path.encode(), [], b"")
    assert (head.status, head.headers.get("content-type"), head.body) == (get.status, get.headers["content-type"], b"")
