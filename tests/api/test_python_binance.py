"""`marginctl serve` driven by the unchanged python-binance client, pointed at it by its base URLs alone."""

from __future__ import annotations

import hashlib
import hmac
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from binance.client import Client
from binance.exceptions import BinanceAPIException

from tests.api.conftest import LISTENING, Server, start_server
from tests.conftest import Wallet


def client(server: Server, key: dict[str, Any], **options: Any) -> Client:
    """python-binance as its README sets it up, with `ping=False` and marginctl's URLs."""
    made = Client(key["apiKey"], key.get("secretKey"), ping=False, **options)
    made.API_URL = server.url + "/api"
    made.MARGIN_API_URL = server.url + "/sapi"
    return made


def test_serve_says_where_it_listens_in_one_line_and_answers_ping_and_time(server: Server) -> None:
    assert server.first_line.startswith(LISTENING) and server.first_line.endswith("\n")
    anonymous = client(server, {"apiKey": None})
    assert anonymous.ping() == {}
    before = int(time.time() * 1000)
    served = anonymous.get_server_time()["serverTime"]
    assert before - 1000 <= served <= int(time.time() * 1000) + 1000


def test_the_margin_account_as_python_binance_reads_it(server: Server) -> None:
    key = server.wallet.ok("apikey", "create", "--permissions", "read")
    account = client(server, key).get_margin_account()
    usdt = next(row for row in account["userAssets"] if row["asset"] == "USDT")
    # 1000 own + 100 borrowed; ON_BORROW 100 × 0.00024 / 24 = 0.001; net 1100 − 100 − 0.001 = 999.999
    assert usdt == {
        "asset": "USDT",
        "borrowed": "100.00000000",
        "free": "1100.00000000",
        "interest": "0.00100000",
        "locked": "0.00000000",
        "netAsset": "999.99900000",
    }
    # 1100 / (100 + 0.001) = 10.99989000109…, 8 places rounded down
    assert account["marginLevel"] == "10.99989000"
    assert account["TotalCollateralValueInUSDT"] == "1100.00000000"
    assert (account["created"], account["accountType"]) == (True, "MARGIN_1")


def test_a_wrong_secret_a_wrong_key_and_a_revoked_key_are_refused_as_binance_refuses_them(server: Server) -> None:
    key = server.wallet.ok("apikey", "create")
    with pytest.raises(BinanceAPIException) as wrong_secret:
        client(server, {"apiKey": key["apiKey"], "secretKey": "x" * 64}).get_margin_account()
    assert (wrong_secret.value.code, wrong_secret.value.status_code) == (-1022, 400)
    with pytest.raises(BinanceAPIException) as unknown:
        client(server, {"apiKey": "A" * 64, "secretKey": key["secretKey"]}).get_margin_account()
    assert (unknown.value.code, unknown.value.status_code) == (-2015, 401)
    working = client(server, key)
    assert working.get_margin_account()["created"] is True
    server.wallet.ok("apikey", "revoke", key["apiKey"])
    with pytest.raises(BinanceAPIException) as revoked:
        working.get_margin_account()
    assert revoked.value.code == -2015


def test_an_ed25519_key_signs_as_python_binance_signs_with_a_private_key(server: Server, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    private = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "bot.pub").write_bytes(public_pem)
    key = server.wallet.ok("apikey", "create", "--ed25519", str(tmp_path / "bot.pub"))
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = client(server, {"apiKey": key["apiKey"]}, private_key=private_pem).get_margin_account()
    assert account["marginLevel"] == "10.99989000"


def signed_get(server: Server, key: dict[str, Any], query: str, signed_text: str | None = None) -> requests.Response:
    """A GET of margin/account with `query` signed (or `signed_text` signed in its place) by hand."""
    signature = hmac.new(key["secretKey"].encode(), (signed_text or query).encode(), hashlib.sha256).hexdigest()
    return requests.get(
        f"{server.url}/sapi/v1/margin/account?{query}&signature={signature}",
        headers={"X-MBX-APIKEY": key["apiKey"]},
        timeout=30,
    )


def now_ms() -> int:
    return int(time.time() * 1000)


def test_the_time_window_and_the_raw_signed_text_are_checked_as_binance_checks_them(server: Server) -> None:
    key = server.wallet.ok("apikey", "create")
    fresh = f"timestamp={now_ms()}&recvWindow=5000"
    assert signed_get(server, key, fresh).status_code == 200
    # the same parameters signed in another order: the signature covers the raw text, not the set
    reordered = signed_get(server, key, fresh, signed_text="&".join(reversed(fresh.split("&"))))
    assert reordered.json() == {"code": -1022, "msg": "Signature for this request is not valid."}
    assert reordered.headers["content-type"] == "application/json"
    stale = signed_get(server, key, f"timestamp={now_ms() - 6000}")  # 6 s old, default window 5 s
    assert stale.json()["code"] == -1021
    assert signed_get(server, key, f"timestamp={now_ms() - 6000}&recvWindow=10000").status_code == 200
    ahead = signed_get(server, key, f"timestamp={now_ms() + 5000}")  # more than 1 s ahead
    assert ahead.json()["code"] == -1021
    assert signed_get(server, key, f"timestamp={now_ms()}&recvWindow=60001").json()["code"] == -1131
    assert signed_get(server, key, "recvWindow=5000").json()["code"] == -1102  # no timestamp
    twice = signed_get(server, key, f"timestamp={now_ms()}&timestamp={now_ms()}")
    assert twice.json()["code"] == -1101
    no_key = requests.get(f"{server.url}/sapi/v1/margin/account?timestamp={now_ms()}", timeout=30)
    assert (no_key.status_code, no_key.json()["code"]) == (401, -2014)


def test_the_log_has_one_line_per_request_and_never_a_signature_or_secret(server: Server) -> None:
    key = server.wallet.ok("apikey", "create")
    client(server, key).get_margin_account()
    requests.get(f"{server.url}/api/v3/ping", timeout=30)
    assert server.stop() == 0
    lines = [line for line in server.log if line.strip()]
    assert [line.split('"')[1] for line in lines] == ["GET /sapi/v1/margin/account", "GET /api/v3/ping"]
    assert all(line.startswith('127.0.0.1 "') and " 200 " in line for line in lines), lines
    assert not any("signature" in line or key["secretKey"] in line for line in lines)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sigint_and_sigterm_stop_the_server_cleanly(funded_wallet: Wallet, tmp_path: Path, sig: int) -> None:
    running = start_server(funded_wallet, tmp_path)
    assert requests.get(f"{running.url}/api/v3/ping", timeout=30).json() == {}
    assert running.stop(sig) == 0
