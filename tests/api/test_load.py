"""The server under load and under `kill -9`: 8 client processes × 200 signed requests at once, then 20 kills
of the server while orders are in flight, each followed by a restart and the retries a bot would send.

On a fixed clock (10:05:00) with BTC/USDT at 60000 and the taker fee 0.1 % taken in the asset received, the
money is worked out by hand: a market buy of 0.001 BTC costs 0.001 × 60000 = 60 USDT and brings
0.001 × 0.999 = 0.000999 BTC; a borrow of 10 USDT is charged 10 × 0.00001 = 0.0001 at once, and a repay of
10.0001 pays that interest and the 10 borrowed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from tests.api.conftest import Server, start_server
from tests.conftest import Wallet, asset_row, new_wallet

OPENED = "2026-11-24T10:05:00Z"
CLIENTS = 8
REQUESTS = 200

#: One client process: 200 signed requests over one keep-alive session, every answer written as a JSON line.
#: Request i: i % 4 == 0 a market buy of 0.001 BTC; 1 a limit buy of 0.001 at 50000 (it rests); 2 the cancel
#: of that limit by its client id; 3 a borrow of 10 USDT (i % 8 == 3) or the repay of 10.0001 (i % 8 == 7).
CLIENT = r"""
import hashlib, hmac, json, sys, time
import requests

url, key, secret, name, count = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
session = requests.Session()
session.headers["X-MBX-APIKEY"] = key

def signed(method, path, text):
    text += f"&recvWindow=60000&timestamp={int(time.time() * 1000)}"
    signature = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    if method == "POST":
        return session.post(url + path, data=f"{text}&signature={signature}", timeout=60,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    return session.request(method, f"{url}{path}?{text}&signature={signature}", timeout=60)

for i in range(count):
    step = i % 4
    if step == 0:
        kind, answer = "market", signed("POST", "/sapi/v1/margin/order",
            f"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001&newClientOrderId={name}-{i}")
    elif step == 1:
        kind, answer = "limit", signed("POST", "/sapi/v1/margin/order",
            f"symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.001&price=50000"
            f"&newClientOrderId={name}-{i}")
    elif step == 2:
        kind, answer = "cancel", signed("DELETE", "/sapi/v1/margin/order",
            f"symbol=BTCUSDT&origClientOrderId={name}-{i - 1}")
    elif i % 8 == 3:
        kind, answer = "borrow", signed("POST", "/sapi/v1/margin/borrow-repay",
            "asset=USDT&isIsolated=FALSE&amount=10&type=BORROW")
    else:
        kind, answer = "repay", signed("POST", "/sapi/v1/margin/borrow-repay",
            "asset=USDT&isIsolated=FALSE&amount=10.0001&type=REPAY")
    print(json.dumps({"i": i, "kind": kind, "status": answer.status_code, "body": answer.json()}), flush=True)
"""


def _funded_accounts(wallet: Wallet, names: list[str], usdt: str = "10000") -> dict[str, dict[str, Any]]:
    """Each account: `usdt` deposited and moved into cross (the agreement accepted), and a trade key."""
    keys = {}
    for name in names:
        wallet.ok("accounts", "create", name, now=OPENED)
        wallet.ok("deposit", "USDT", usdt, account=name, now=OPENED)
        wallet.ok("transfer", "USDT", usdt, "--yes", account=name, now=OPENED)
        keys[name] = wallet.ok("apikey", "create", account=name, now=OPENED)
    return keys


def _orders_by_client_id(wallet: Wallet, name: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for order in wallet.ok("orders", "--all", "--json", account=name, now=OPENED):
        found.setdefault(order["clientOrderId"], []).append(order)
    return found


def test_eight_clients_two_hundred_requests_each_lose_and_double_nothing(tmp_path: Path) -> None:
    wallet = new_wallet(tmp_path / "wallet.db")
    names = [f"bot{number}" for number in range(CLIENTS)]
    keys = _funded_accounts(wallet, names)
    server = start_server(wallet, tmp_path, "--weight-limit", "0", now=OPENED)
    try:
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    CLIENT,
                    server.url,
                    keys[name]["apiKey"],
                    keys[name]["secretKey"],
                    name,
                    str(REQUESTS),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in names
        ]
        outputs = [process.communicate(timeout=600) for process in processes]
    finally:
        assert server.stop() == 0
    assert [process.returncode for process in processes] == [0] * CLIENTS, [err for _, err in outputs]
    for name, (out, _) in zip(names, outputs, strict=True):
        answers = [json.loads(line) for line in out.splitlines()]
        assert len(answers) == REQUESTS
        assert [answer for answer in answers if answer["status"] != 200] == []
        orders = _orders_by_client_id(wallet, name)
        placed = [f"{name}-{answer['i']}" for answer in answers if answer["kind"] in ("market", "limit")]
        # every acknowledged order is there exactly once, and no other: 50 market buys and 50 limits
        assert sorted(orders) == sorted(placed) and len(placed) == 100
        assert all(len(found) == 1 for found in orders.values())
        assert {orders[f"{name}-{i}"][0]["status"] for i in range(0, REQUESTS, 4)} == {"FILLED"}
        assert {orders[f"{name}-{i}"][0]["status"] for i in range(1, REQUESTS, 4)} == {"CANCELED"}
        status = wallet.ok("status", "--json", account=name, now=OPENED)
        # USDT: 10000 − 50 × 60 − 25 × 0.0001 = 6999.9975; BTC: 50 × 0.000999 = 0.04995; nothing owed
        usdt, btc = asset_row(status, "USDT"), asset_row(status, "BTC")
        assert (usdt["free"], usdt["locked"], usdt["borrowed"], usdt["interest"]) == (
            "6999.99750000",
            "0.00000000",
            "0.00000000",
            "0.00000000",
        )
        assert btc["free"] == "0.04995000"
    assert wallet.ok("audit", "--json", now=OPENED)["ok"] is True


class Bot:
    """A bot placing market buys with its own client ids, and retrying each one it got no answer for."""

    def __init__(self, key: dict[str, Any]) -> None:
        self.key = key
        self.acknowledged: dict[str, int] = {}
        self.unanswered: list[str] = []
        self.lock = threading.Lock()

    def place(self, url: str, client_id: str, session: requests.Session) -> int | None:
        text = (
            f"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001&newClientOrderId={client_id}"
            f"&recvWindow=60000&timestamp={int(time.time() * 1000)}"
        )
        signature = hmac.new(self.key["secretKey"].encode(), text.encode(), hashlib.sha256).hexdigest()
        try:
            answer = session.post(
                url + "/sapi/v1/margin/order",
                data=f"{text}&signature={signature}",
                headers={"X-MBX-APIKEY": self.key["apiKey"], "Content-Type": "application/x-www-form-urlencoded"},
                timeout=30,
            )
        except requests.RequestException:
            with self.lock:
                self.unanswered.append(client_id)
            return None
        assert answer.status_code == 200, answer.text
        order_id = int(answer.json()["orderId"])
        with self.lock:
            self.acknowledged[client_id] = order_id
        return order_id

    def send_until_stopped(self, url: str, prefix: str, stop: threading.Event, most: int) -> None:
        session = requests.Session()
        for number in range(most):
            if stop.is_set():
                return
            if self.place(url, f"{prefix}-{number}", session) is None:
                return  # the server is gone


def test_kill_9_under_load_twenty_times_then_retries_apply_each_order_once(tmp_path: Path) -> None:
    wallet = new_wallet(tmp_path / "wallet.db")
    keys = _funded_accounts(wallet, ["bot"], usdt="1000000")
    bot = Bot(keys["bot"])
    rounds = 20
    server: Server | None = None
    port = 0
    randomness = random.Random(15)
    unanswered_in_all = 0
    for round_number in range(rounds):
        server = start_server(wallet, tmp_path, "--weight-limit", "0", now=OPENED, port=port)
        port = int(server.url.rsplit(":", 1)[1])
        # the retries of what the last kill left unanswered, with the same client ids: each is answered
        # (with the first answer when the first attempt was applied), and applied once
        session = requests.Session()
        retried, bot.unanswered = bot.unanswered, []
        unanswered_in_all += len(retried)
        for client_id in retried:
            assert bot.place(server.url, client_id, session) is not None
        # a retry of an acknowledged order answers the same order
        if bot.acknowledged:
            client_id, order_id = next(iter(bot.acknowledged.items()))
            assert bot.place(server.url, client_id, session) == order_id
        stop = threading.Event()
        senders = [
            threading.Thread(
                target=bot.send_until_stopped, args=(server.url, f"r{round_number}t{thread}", stop, 40), daemon=True
            )
            for thread in range(4)
        ]
        for sender in senders:
            sender.start()
        time.sleep(randomness.uniform(0.1, 0.5))
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=60)
        stop.set()
        for sender in senders:
            sender.join(timeout=60)
    server = start_server(wallet, tmp_path, "--weight-limit", "0", now=OPENED, port=port)
    try:
        session = requests.Session()
        retried, bot.unanswered = bot.unanswered, []
        for client_id in retried:
            assert bot.place(server.url, client_id, session) is not None
    finally:
        assert server.stop() == 0
    orders = _orders_by_client_id(wallet, "bot")
    # every order the server acknowledged (at first or on a retry) is there exactly once, under its order id
    assert sorted(orders) == sorted(bot.acknowledged)
    assert all(len(found) == 1 and found[0]["orderId"] == bot.acknowledged[cid] for cid, found in orders.items())
    assert wallet.ok("audit", "--json", now=OPENED)["ok"] is True
    filled = len(orders)
    assert unanswered_in_all > 0  # kills came while orders were in flight, and were retried
    # each fill: −60 USDT, +0.000999 BTC
    status = wallet.ok("status", "--json", account="bot", now=OPENED)
    assert Decimal(asset_row(status, "USDT")["free"]) == Decimal(1000000) - 60 * filled
    assert Decimal(asset_row(status, "BTC")["free"]) == Decimal("0.000999") * filled


def test_on_the_real_clock_the_server_a_person_and_cron_write_at_once(tmp_path: Path) -> None:
    """No --now anywhere: the server's orders, a person's deposits and cron's accrue, as separate processes,
    all take the system clock under the write lock, so none refuses another's time."""
    wallet = new_wallet(tmp_path / "wallet.db")
    wallet.ok("deposit", "USDT", "10000")
    wallet.ok("transfer", "USDT", "10000", "--yes")
    key = wallet.ok("apikey", "create")
    server = start_server(wallet, tmp_path, "--weight-limit", "0")
    started_hour = time.gmtime().tm_hour
    try:
        bot = subprocess.Popen(
            [sys.executable, "-c", CLIENT, server.url, key["apiKey"], key["secretKey"], "clock", "40"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        person = [wallet.run("deposit", "USDT", "1") for _ in range(5)]
        cron = [wallet.run("accrue") for _ in range(3)]
        out, err = bot.communicate(timeout=600)
    finally:
        assert server.stop() == 0
    assert bot.returncode == 0, err
    answers = [json.loads(line) for line in out.splitlines()]
    assert [answer for answer in answers if answer["status"] != 200] == []
    assert [result.code for result in person + cron] == [0] * 8
    status = wallet.ok("status", "--all", "--json")
    spot = next(document for document in status if document["wallet"] == "spot")
    cross = next(document for document in status if document["wallet"] == "cross")
    # 40 requests: 10 market buys of 60 USDT (+0.000999 BTC each), 10 limits cancelled, 5 borrows of 10 USDT
    # (0.0001 charged at once) each repaid with 10.0001; 10000 moved in, then 5 × 1 deposited into spot
    assert asset_row(spot, "USDT")["free"] == "5.00000000"
    assert asset_row(cross, "BTC")["free"] == "0.00999000"
    usdt = asset_row(cross, "USDT")
    if started_hour == time.gmtime().tm_hour:  # no hour began between a borrow and its repay
        # 10000 − 10 × 60 − 5 × 0.0001 = 9399.9995, nothing owed
        assert (usdt["free"], usdt["borrowed"], usdt["interest"]) == ("9399.99950000", "0.00000000", "0.00000000")
    assert wallet.ok("audit", "--json")["ok"] is True
