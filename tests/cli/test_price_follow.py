"""`marginctl price follow` as a real process against a stub ticker on 127.0.0.1 (and a real `serve`).

The stub answers a scripted sequence in Binance's ticker format: a slow answer, a 500, a 429 with
Retry-After, malformed JSON, good prices, a price 50 % away and the answer that confirms or contradicts it.
Times in the log lines are the fixed clock --now; the recorded prices are read back with `price show`.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Wallet, asset_row, new_wallet, run_cli
from tests.readme_examples import marginctl_executable

NOW = "2026-11-24T10:01:00Z"
#: A guard against a follower that never ends, not a speed limit.
GUARD = 120.0


@dataclass
class Step:
    """One scripted answer: status, body, extra headers, and how long to wait before answering."""

    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def ticker(price: str, symbol: str = "BTCUSDT", delay: float = 0.0) -> Step:
    return Step(body=json.dumps({"symbol": symbol, "price": price}), delay=delay)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    at: float


class Stub:
    """A ticker on 127.0.0.1 that plays `script` in order, then repeats its last answer."""

    def __init__(self, script: list[Step]) -> None:
        self.script = script
        self.seen: list[Seen] = []
        self.release = threading.Event()  # ends every scripted delay at teardown
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub.seen.append(Seen(self.path, dict(self.headers.items()), time.monotonic()))
                step = stub.script[min(len(stub.seen), len(stub.script)) - 1]
                if step.delay:
                    stub.release.wait(step.delay)
                body = step.body.encode()
                try:
                    self.send_response(step.status)
                    for name, value in step.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the follower gave up on a slow answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for_requests(self, count: int) -> None:
        deadline = time.monotonic() + GUARD
        while len(self.seen) < count:
            assert time.monotonic() < deadline, f"the follower made {len(self.seen)} requests, not {count}"
            time.sleep(0.05)


@pytest.fixture
def stub() -> Iterator[list[Stub]]:
    started: list[Stub] = []
    yield started
    for each in started:
        each.close()


def serve(stubs: list[Stub], script: list[Step]) -> Stub:
    started = Stub(script)
    stubs.append(started)
    return started


def environment(tmp_path: Path) -> dict[str, str]:
    """No MARGINCTL_* or proxy settings of the caller; API keys in the environment that must never be sent."""
    skipped = ("MARGINCTL_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
    env = {key: value for key, value in os.environ.items() if not key.upper().startswith(skipped)}
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        BINANCE_API_KEY="env-key-must-not-leave",
        BINANCE_API_SECRET="env-secret-must-not-leave",
        X_MBX_APIKEY="env-key-must-not-leave",
    )
    return env


def follower(wallet: Wallet, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [marginctl_executable(), "--db", wallet.target, "--now", NOW, "price", "follow", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(tmp_path),
    )


def follow(wallet: Wallet, tmp_path: Path, *args: str) -> tuple[int, list[str], list[str]]:
    """Run the follower to its end (--max-polls); exit code, stdout lines, stderr lines."""
    process = follower(wallet, tmp_path, *args)
    out, err = process.communicate(timeout=GUARD)
    return process.returncode, out.splitlines(), err.splitlines()


def leveraged_wallet(tmp_path: Path, name: str) -> Wallet:
    """1000 USDT in cross, 1000 USDT borrowed, a limit buy of 0.033 BTC resting at 59000 (BTC/USDT at 60000).

    The buy locks 0.033 × 59000 = 1947 USDT of the 2000 free. The borrow's first hour: 1000 × 0.00024 / 24
    = 0.01 USDT interest, so the debt is 1000.01 USDT.
    """
    wallet = new_wallet(tmp_path / f"{name}.db")
    wallet.ok("deposit", "USDT", "1000", now="2026-11-24T10:00:00Z")
    wallet.ok("transfer", "USDT", "1000", "--yes", now="2026-11-24T10:00:10Z")
    wallet.ok("borrow", "USDT", "1000", "--yes", now="2026-11-24T10:00:20Z")
    wallet.ok("trade", "buy", "BTC/USDT", "0.033", "--price", "59000", now="2026-11-24T10:00:30Z")
    return wallet


def recorded_prices(wallet: Wallet) -> dict[str, str]:
    return {row["pair"]: row["price"] for row in wallet.ok("price", "show")}


def test_failures_back_off_and_a_single_bad_tick_is_held_then_dropped(tmp_path: Path, stub: list[Stub]) -> None:
    wallet = leveraged_wallet(tmp_path, "wallet")
    ticker_stub = serve(
        stub,
        [
            ticker("59500.00000000", delay=3.0),  # slower than --timeout 0.5
            Step(500, "<html>Internal Server Error</html>"),
            Step(429, '{"code":-1003,"msg":"Too many requests."}', {"Retry-After": "1"}),
            Step(body='{"symbol": "BTCUSDT", "price": '),  # cut short: not JSON
            ticker("59000.00000000"),  # fills the resting buy
            ticker("29500.00000000"),  # 50 % below 59000: held
            ticker("59010.00000000"),  # back near 59000: the 29500 was one bad tick
        ],
    )
    code, out, err = follow(
        wallet,
        tmp_path,
        "BTC/USDT",
        "--source",
        ticker_stub.url,
        "--every",
        "0.1",
        "--timeout",
        "0.5",
        "--max-polls",
        "7",
    )
    assert code == 0, err
    assert err == [
        f"following BTC/USDT from {ticker_stub.url} every 0.1 s (timeout 0.5 s, max jump 20 %); "
        "stop with Ctrl-C or SIGTERM",
        # the back-off: 0.1 × 2^1 = 0.2, 0.1 × 2^2 = 0.4; 0.1 × 2^3 = 0.8 < Retry-After 1 → 1; 0.1 × 2^4 = 1.6
        f"{NOW} poll failed: timed out after 0.5 s; next poll in 0.2 s",
        f"{NOW} poll failed: HTTP 500; next poll in 0.4 s",
        f"{NOW} poll failed: HTTP 429 (Retry-After 1 s): Too many requests.; next poll in 1 s",
        f"{NOW} poll failed: malformed answer: the answer is not JSON; next poll in 1.6 s",
        # |29500 − 59000| / 59000 = 0.5 = 50 % > 20 %
        f"{NOW} BTC/USDT 29500.00 held: 50 % from 59000.00 is beyond --max-jump 20 %; "
        "recorded if the next answer confirms it",
        f"{NOW} BTC/USDT 29500.00 dropped: the next answer (59010.00) did not confirm it",
    ]
    assert out == [
        f"{NOW} BTC/USDT 60000.00 -> 59000.00; stops triggered: 0, orders filled: 1",
        f"{NOW} BTC/USDT 59000.00 -> 59010.00",
        "Stopped (max-polls) after 7 poll(s): 2 price(s) recorded, 4 poll(s) failed, 1 held, 0 not recorded.",
    ]
    assert recorded_prices(wallet)["BTC/USDT"] == "59010.00"
    # `price show` says where it came from
    assert {row["pair"]: row["source"] for row in wallet.ok("price", "show")}["BTC/USDT"] == "live"
    # Retry-After honoured: the poll after the 429 came no sooner than 1 s after it
    assert ticker_stub.seen[3].at - ticker_stub.seen[2].at >= 1.0
    for request in ticker_stub.seen:
        assert request.path == "/api/v3/ticker/price?symbol=BTCUSDT"
        names = {name.lower() for name in request.headers}
        assert not names & {"x-mbx-apikey", "authorization", "cookie"}, request.headers
        assert "must-not-leave" not in json.dumps(request.headers)
        assert request.headers["User-Agent"].startswith("marginctl/")
    # the buy filled at its limit 59000 as maker: 0.033 − 0.1 % fee 0.000033 = 0.032967 BTC; 2000 − 1947 = 53 USDT
    status = wallet.ok("status")
    assert asset_row(status, "BTC")["free"] == "0.03296700"
    assert asset_row(status, "USDT")["free"] == "53.00000000"
    # never liquidated: at 29500 the level would have been (0.032967 × 29500 + 53) / 1000.01 = 1.0255 ≤ 1.1;
    # at 59010 it is (0.032967 × 59010 + 53) / 1000.01 = 1998.38267 / 1000.01 = 1.998362686... (8 places, down)
    assert status["marginLevel"] == "1.99836268"
    assert wallet.ok("history", "--kind", "liquidation") == []
    assert wallet.run("audit").code == 0


def test_a_confirmed_jump_is_recorded_and_liquidates_as_price_set_would(tmp_path: Path, stub: list[Stub]) -> None:
    wallet = leveraged_wallet(tmp_path, "followed")
    ticker_stub = serve(
        stub,
        [
            ticker("59000.00400000"),  # 0.4 of a tick above 59000.00: the nearest tick is 59000.00
            ticker("29500.00000000"),  # held: 50 % below
            ticker("29600.00000000"),  # |29600 − 29500| / 29500 = 0.34 % ≤ 20 %: confirms it
        ],
    )
    code, out, err = follow(
        wallet, tmp_path, "BTCUSDT", "--source", ticker_stub.url, "--every", "0.1", "--max-polls", "3"
    )
    assert code == 0, err
    assert out == [
        f"{NOW} BTC/USDT 60000.00 -> 59000.00 (feed 59000.00400000, nearest tick); "
        "stops triggered: 0, orders filled: 1",
        f"{NOW} BTC/USDT 59000.00 -> 29600.00 (confirms the jump held before)",
        "Stopped (max-polls) after 3 poll(s): 2 price(s) recorded, 0 poll(s) failed, 1 held, 0 not recorded.",
    ]
    # At 29600: asset value 0.032967 × 29600 + 53 = 975.8232 + 53 = 1028.8232 USDT; debt 1000.01;
    # level 1028.8232 / 1000.01 = 1.028812911... ≤ 1.1: liquidated. Fee 2 % × 1028.8232 = 20.576464, below the
    # equity 1028.8232 − 1000.01 = 28.8132; left 28.8132 − 20.576464 = 8.236736 USDT; no insurance payout.
    assert err[-1] == (
        "LIQUIDATED: main cross at margin level 1.02881291: fee 20.57646400 USDT, insurance fund paid 0.00000000, "
        "left 8.23673600 USDT"
    )
    assert err[1] == (
        f"{NOW} BTC/USDT 29500.00 held: 50 % from 59000.00 is beyond --max-jump 20 %; "
        "recorded if the next answer confirms it"
    )
    status = wallet.ok("status")
    assert asset_row(status, "USDT")["free"] == "8.23673600"
    assert asset_row(status, "USDT")["borrowed"] == "0.00000000"
    # the same prices by hand, with price set, on a twin wallet: the same wallet afterwards
    twin = leveraged_wallet(tmp_path, "twin")
    twin.ok("price", "set", "BTC/USDT", "59000", now=NOW)
    twin.ok("price", "set", "BTC/USDT", "29600", now=NOW)
    assert twin.ok("status") == status
    assert wallet.run("audit").code == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_follower_cleanly_with_exit_0(tmp_path: Path, stub: list[Stub], sig: int) -> None:
    wallet = new_wallet(tmp_path / "wallet.db")
    wallet.ok("deposit", "USDT", "100", now="2026-11-24T10:00:00Z")
    ticker_stub = serve(stub, [ticker("61000.00000000")])
    process = follower(wallet, tmp_path, "BTC/USDT", "--source", ticker_stub.url, "--every", "0.1")
    ticker_stub.wait_for_requests(3)
    process.send_signal(sig)
    out, err = process.communicate(timeout=GUARD)
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[0] == f"{NOW} BTC/USDT 60000.00 -> 61000.00"
    name = signal.Signals(sig).name
    assert re.fullmatch(
        rf"Stopped \({name}\) after \d+ poll\(s\): 1 price\(s\) recorded, 0 poll\(s\) failed, 0 held, 0 not recorded\.",
        lines[-1],
    ), lines
    assert "Traceback" not in err
    assert recorded_prices(wallet)["BTC/USDT"] == "61000.00"
    assert wallet.run("audit").code == 0


def test_a_signal_abandons_a_request_in_flight(tmp_path: Path, stub: list[Stub]) -> None:
    wallet = new_wallet(tmp_path / "wallet.db")
    wallet.ok("deposit", "USDT", "100", now="2026-11-24T10:00:00Z")
    ticker_stub = serve(stub, [ticker("61000.00000000", delay=GUARD)])  # answers only at teardown
    process = follower(wallet, tmp_path, "BTC/USDT", "--source", ticker_stub.url, "--timeout", "60")
    ticker_stub.wait_for_requests(1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=GUARD / 2)  # well before the request's own 60 s timeout
    assert process.returncode == 0, err
    assert out.splitlines() == [
        "Stopped (SIGINT) after 1 poll(s): 0 price(s) recorded, 0 poll(s) failed, 0 held, 0 not recorded."
    ]
    assert recorded_prices(wallet)["BTC/USDT"] == "60000.00"
    assert wallet.run("audit").code == 0


def test_a_busy_wallet_does_not_stop_the_follower(tmp_path: Path, stub: list[Stub]) -> None:
    """Another writer holds the write lock past the busy timeout: the price waits for the next poll."""
    wallet = new_wallet(tmp_path / "wallet.db")
    wallet.ok("deposit", "USDT", "100", now="2026-11-24T10:00:00Z")
    blocker = sqlite3.connect(wallet.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    ticker_stub = serve(stub, [ticker("61000.00000000")])
    process = follower(wallet, tmp_path, "BTC/USDT", "--source", ticker_stub.url, "--every", "0.1")
    lines: dict[str, list[str]] = {"out": [], "err": []}
    readers = [
        threading.Thread(target=lambda: lines["out"].extend(process.stdout), daemon=True),  # type: ignore[arg-type]
        threading.Thread(target=lambda: lines["err"].extend(process.stderr), daemon=True),  # type: ignore[arg-type]
    ]
    for reader in readers:
        reader.start()
    try:
        deadline = time.monotonic() + GUARD
        while not any("not recorded" in line for line in lines["err"]):
            assert time.monotonic() < deadline and process.poll() is None, lines
            time.sleep(0.1)
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    while not lines["out"]:
        assert time.monotonic() < deadline and process.poll() is None, lines
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=GUARD)
    for reader in readers:
        reader.join(GUARD)
    assert process.returncode == 0
    busy = next(line for line in lines["err"] if "not recorded" in line)
    assert busy.startswith(f"{NOW} BTC/USDT 61000.00 not recorded: the wallet ")
    assert busy.endswith("is busy (another marginctl is writing); try again; the next poll tries again\n")
    assert lines["out"][0] == f"{NOW} BTC/USDT 60000.00 -> 61000.00\n"
    assert lines["out"][-1].startswith("Stopped (SIGTERM) after ")
    assert lines["out"][-1].endswith(": 1 price(s) recorded, 0 poll(s) failed, 0 held, 1 not recorded.\n")
    assert recorded_prices(wallet)["BTC/USDT"] == "61000.00"


def test_following_a_real_marginctl_serve_of_another_wallet(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    from tests.api.conftest import start_server

    source = new_wallet(tmp_path / "source.db")
    source.ok("price", "set", "BTC/USDT", "61000", now="2026-11-24T10:00:00Z")
    source.ok("price", "set", "ETH/USDT", "3100.5", now="2026-11-24T10:00:00Z")
    server = start_server(source, tmp_path, now="2026-11-24T10:00:00Z")
    try:
        wallet = new_wallet(tmp_path / "wallet.db")
        wallet.ok("deposit", "USDT", "100", now="2026-11-24T10:00:00Z")
        options = ["--source", server.url + "/", "--every", "0.1", "--max-polls", "2", "--json"]
        code, out, err = follow(wallet, tmp_path, "BTC/USDT", "ETH/USDT", *options)
    finally:
        server.stop()
    assert code == 0, err
    documents = [json.loads(line) for line in out]
    changes = [(document["pair"], document["previousPrice"], document["price"]) for document in documents[:-1]]
    # the second poll finds the same prices: nothing more is recorded
    assert changes == [("BTC/USDT", "60000.00", "61000.00"), ("ETH/USDT", "3000.00", "3100.50")]
    assert documents[0]["time"] == NOW and documents[0]["marginCalls"] == [] and documents[0]["liquidations"] == []
    assert documents[-1] == {
        "stoppedBy": "max-polls",
        "polls": 2,
        "recorded": 2,
        "failedPolls": 0,
        "held": 0,
        "notRecorded": 0,
    }
    prices = recorded_prices(wallet)
    assert (prices["BTC/USDT"], prices["ETH/USDT"]) == ("61000.00", "3100.50")
    # serve logs each request's path: one request per poll for both pairs
    assert sum("/api/v3/ticker/price" in line for line in server.log) == 2


def test_a_refused_connection_is_logged_and_retried(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port on which nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    wallet = new_wallet(tmp_path / "wallet.db")
    wallet.ok("deposit", "USDT", "100", now="2026-11-24T10:00:00Z")
    code, out, err = follow(
        wallet, tmp_path, "BTC/USDT", "--source", f"http://127.0.0.1:{port}", "--every", "0.1", "--max-polls", "2"
    )
    assert code == 0
    # 0.1 × 2^1 = 0.2 s after the first; the last poll announces no next one
    assert err[1:] == [
        f"{NOW} poll failed: connection refused; next poll in 0.2 s",
        f"{NOW} poll failed: connection refused",
    ]
    assert out == [
        "Stopped (max-polls) after 2 poll(s): 0 price(s) recorded, 2 poll(s) failed, 0 held, 0 not recorded."
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["DOGE/USDT"], "unknown pair 'DOGE/USDT'; known: BNB/USDT, BTC/USDT, BUSD/USDT, ETH/BTC, ETH/USDT"),
        (
            ["BTC/USDT", "--source", "ftp://example.org"],
            "--source must be an http:// or https:// URL, got 'ftp://example.org'",
        ),
        (
            ["BTC/USDT", "--source", "https://me:hunter2@example.org"],
            "--source must not hold a user name or password: the ticker is public and marginctl sends no credentials",
        ),
        (
            ["BTC/USDT", "--source", "http://example.org/?x=1"],
            "--source takes a base URL without ?query or #fragment, got 'http://example.org/?x=1'",
        ),
        (["BTC/USDT", "--every", "0"], "--every must be a number of seconds from 0.1 to 3600, got '0'"),
        (["BTC/USDT", "--every", "1e3"], "--every must be a number of seconds from 0.1 to 3600, got '1e3'"),
        (["BTC/USDT", "--timeout", "61"], "--timeout must be a number of seconds from 0.1 to 60, got '61'"),
        (["BTC/USDT", "--max-jump", "0"], "--max-jump must be a percentage from 0.01 to 1000, got '0'"),
        (["BTC/USDT", "--max-polls", "0"], "--max-polls must be a whole number from 1 to 1000000, got '0'"),
    ],
)
def test_bad_input_is_one_error_line_exit_2_and_creates_no_wallet(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    target = tmp_path / "never.db"
    result = run_cli(["--db", str(target), "price", "follow", *arguments])
    assert (result.code, result.out, result.err) == (2, "", f"error: {message}\n")
    assert not target.exists()
    assert "hunter2" not in result.err


def test_bad_input_with_json_is_one_json_error(tmp_path: Path) -> None:
    result = run_cli(["--db", str(tmp_path / "never.db"), "price", "follow", "BTC/USDT", "--every", "-1", "--json"])
    assert result.code == 2
    assert json.loads(result.err) == {
        "error": {"code": "invalid_input", "message": "--every must be a number of seconds from 0.1 to 3600, got '-1'"}
    }
