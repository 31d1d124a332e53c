"""Load on `marginctl serve`: concurrent keep-alive clients, each signing as Binance's clients sign.

A figure here is requests per second through the real server (uvicorn, one process, on 127.0.0.1), from
the first request sent to the last answer read, with every answer's latency; `CLIENTS` client processes
(forked, each one keep-alive `http.client` connection and one API key of its own account) send a bounded
number of requests each, after a short warm-up, all starting together. The clients share the machine's
cores with the server, as a bot on the same box would.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import signal
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.common import environment, marginctl_command

#: The issue's load: 8 concurrent keep-alive clients.
CLIENTS = 8
#: The server's fixed clock; the wallet is made just before it.
SERVER_NOW = "2026-11-24T10:05:00Z"
MADE_AT = "2026-11-24T10:00:00Z"
#: Each client's USDT in its cross wallet (an order of ORDER_QUANTITY BTC at 60,000 costs 6 USDT and a fee).
FUNDS = Decimal(2000)
ORDER_QUANTITY = "0.0001"
PRICE = Decimal(60000)
RECV_WINDOW = "60000"
LISTENING = "listening on http://"
#: Guards against a server or a client that hangs, not speed limits.
START_TIMEOUT = 60.0
CLIENT_TIMEOUT = 300.0


@dataclass(frozen=True)
class Key:
    account: str
    api_key: str
    secret: str


@dataclass(frozen=True)
class Load:
    """One kind of request: its method and path, the parameters before the signature, what its answer holds."""

    method: str
    path: str
    params: str
    expect: bytes
    warm_up: int
    requests: int


ACCOUNT = Load("GET", "/sapi/v1/margin/account", "", b'"userAssets"', warm_up=20, requests=250)
ORDERS = Load(
    "POST",
    "/sapi/v1/margin/order",
    f"symbol=BTCUSDT&side=BUY&type=MARKET&quantity={ORDER_QUANTITY}&",
    b'"status":"FILLED"',
    warm_up=10,
    requests=150,
)


def build_wallet(path: Path, clients: int = CLIENTS) -> list[Key]:
    """A SQLite wallet made with the CLI: `clients` accounts, each with FUNDS USDT in cross and an API key."""
    needed = (ORDERS.warm_up + ORDERS.requests) * Decimal(ORDER_QUANTITY) * PRICE * Decimal("1.01")
    if needed > FUNDS:
        raise RuntimeError(f"each account needs {needed} USDT for its orders, it is given {FUNDS}")
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    env = environment(path)

    def cli(*arguments: str) -> Any:
        done = subprocess.run(
            [*marginctl_command(), "--now", MADE_AT, *arguments, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"marginctl {' '.join(arguments)} exited {done.returncode}: {done.stderr[-400:]}")
        return json.loads(done.stdout)

    cli("deposit", "USDT", "1")  # makes the wallet
    keys = []
    for index in range(clients):
        name = f"bot{index}"
        cli("accounts", "create", name)
        cli("--account", name, "deposit", "USDT", str(FUNDS))
        cli("--account", name, "transfer", "USDT", str(FUNDS), "--yes")
        made = cli("--account", name, "apikey", "create")
        keys.append(Key(name, made["apiKey"], made["secretKey"]))
    checkpoint = sqlite3.connect(path, isolation_level=None)
    checkpoint.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    checkpoint.close()
    return keys


# --- the server ---------------------------------------------------------------------------------------------


class Server:
    """`marginctl serve --port 0 --weight-limit 0` on 127.0.0.1, its output in files of the work folder: on the
    fixed clock, or with `replay` (arguments such as `--replay FILE --speed max`) on a replay's."""

    def __init__(self, wallet: Path, workdir: Path, replay: Sequence[str] = ()) -> None:
        name = "serve-replay" if replay else "serve"
        self.stdout_path = workdir / f"{name}-stdout.txt"
        self.stderr_path = workdir / f"{name}-stderr.txt"
        clock = [] if replay else ["--now", SERVER_NOW]
        command = [
            *marginctl_command(),
            "--db",
            str(wallet),
            *clock,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--weight-limit",
            "0",
            *replay,
        ]
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=environment(wallet)
            )
        self.host, self.port = self._wait_listening()

    def _wait_listening(self) -> tuple[str, int]:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            line = self.stdout_path.read_text(encoding="utf-8", errors="replace").partition("\n")
            if line[1] and line[0].startswith(LISTENING):
                address = urlsplit(line[0].removeprefix("listening on ").strip())
                if address.hostname != "127.0.0.1" or address.port is None:
                    self.stop()
                    raise RuntimeError(f"serve listens on {line[0]!r}, not on 127.0.0.1")
                return address.hostname, address.port
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"serve did not start: {self.stderr()[-400:]!r}")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def cpu_seconds(self) -> float:
        """User and system CPU of the server process so far (Linux's /proc; 0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> int:
        """SIGTERM, and its exit code (uvicorn finishes the requests in flight first)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
            raise RuntimeError("serve did not stop within 60 s of SIGTERM") from None


# --- the clients --------------------------------------------------------------------------------------------


def _signed(key: Key, load: Load) -> str:
    """The path with its query: the parameters, timestamp and recvWindow, then the hex HMAC-SHA256 of
    exactly that text as `signature`, last (Binance's signing)."""
    query = f"{load.params}timestamp={int(time.time() * 1000)}&recvWindow={RECV_WINDOW}"
    signature = hmac.new(key.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{load.path}?{query}&signature={signature}"


def _client(host: str, port: int, key: Key, load: Load, start: Any, results: Connection) -> None:
    """One client process: warm up, wait for the others, send `load.requests` requests one after another on
    one keep-alive connection, and send back each latency, its first send and last answer, and any failures."""
    failures: list[str] = []
    latencies: list[float] = []
    first = last = 0.0
    try:
        connection = http.client.HTTPConnection(host, port, timeout=30)
        headers = {"X-MBX-APIKEY": key.api_key}

        def one() -> tuple[float, float]:
            sent = time.monotonic()
            connection.request(load.method, _signed(key, load), headers=headers)
            answer = connection.getresponse()
            body = answer.read()
            answered = time.monotonic()
            if answer.status != 200 or load.expect not in body:
                failures.append(f"{answer.status} {body[:200]!r}")
            return sent, answered

        for _ in range(load.warm_up):
            one()
        start.wait(CLIENT_TIMEOUT)
        cpu_before = sum(os.times()[:2])
        for index in range(load.requests):
            sent, answered = one()
            if index == 0:
                first = sent
            last = answered
            latencies.append(answered - sent)
        cpu = sum(os.times()[:2]) - cpu_before
        connection.close()
    except Exception as error:  # reported to the runner, which fails the figure
        failures.append(f"{type(error).__name__}: {error}")
        cpu = 0.0
    results.send({"latencies": latencies, "first": first, "last": last, "failures": failures, "cpu": cpu})
    results.close()


@dataclass
class Run:
    requests: int
    seconds: float
    latencies: list[float]
    server_cpu: float
    clients_cpu: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile_ms(self, percent: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[percent - 1] * 1000


def run_load(server: Server, keys: list[Key], load: Load) -> Run:
    """One run of `load` by one client process per key; any failed answer fails the run."""
    context = multiprocessing.get_context("fork")  # the clients need nothing but this module, already loaded
    start = context.Barrier(len(keys) + 1)
    pipes = [context.Pipe(duplex=False) for _ in keys]
    clients = [
        context.Process(target=_client, args=(server.host, server.port, key, load, start, sender), daemon=True)
        for key, (_, sender) in zip(keys, pipes, strict=True)
    ]
    for client in clients:
        client.start()
    reports: list[dict[str, Any]] = []
    try:
        for _, sender in pipes:
            sender.close()
        start.wait(CLIENT_TIMEOUT)
        cpu_before = server.cpu_seconds()
        for receiver, _ in pipes:
            if not receiver.poll(CLIENT_TIMEOUT):
                raise RuntimeError(f"a client sent nothing within {CLIENT_TIMEOUT:g} s")
            reports.append(receiver.recv())
        server_cpu = server.cpu_seconds() - cpu_before
    finally:
        for client in clients:
            client.join(timeout=30)
            if client.is_alive():
                client.kill()
                client.join(timeout=30)
    failures = [failure for report in reports for failure in report["failures"]]
    if failures:
        raise RuntimeError(f"{len(failures)} answers of {load.path} failed; the first: {failures[0]}")
    latencies = [latency for report in reports for latency in report["latencies"]]
    if len(latencies) != len(keys) * load.requests:
        raise RuntimeError(f"{len(latencies)} answers, {len(keys) * load.requests} requests sent")
    seconds = max(report["last"] for report in reports) - min(report["first"] for report in reports)
    return Run(len(latencies), seconds, latencies, server_cpu, sum(report["cpu"] for report in reports))


def served(wallet: Path, workdir: Path, keys: list[Key], load: Load, check: Callable[[], None] | None = None) -> Run:
    """One run on a server started for it and stopped with SIGTERM; the server must log no error and exit 0,
    and `check` (run after it stopped) must pass."""
    server = Server(wallet, workdir)
    try:
        run = run_load(server, keys, load)
    finally:
        code = server.stop()
    errors = [line for line in server.stderr().splitlines() if line.startswith("error:")]
    if errors:
        raise RuntimeError(f"serve logged {len(errors)} errors; the first: {errors[0]}")
    if code != 0:
        raise RuntimeError(f"serve exited {code} on SIGTERM")
    if check is not None:
        check()
    return run


def check_orders(wallet: Path, keys: list[Key], load: Load) -> None:
    """Every account holds exactly the orders its client sent, and the ledger audits clean."""
    env = environment(wallet)
    for key in keys:
        done = subprocess.run(
            [*marginctl_command(), "--account", key.account, "orders", "--all", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"orders --all of {key.account} exited {done.returncode}: {done.stderr[-400:]}")
        orders = json.loads(done.stdout)
        filled = sum(1 for order in orders if str(order.get("status", "")).upper() == "FILLED")
        expected = load.warm_up + load.requests
        if len(orders) != expected or filled != expected:
            raise RuntimeError(f"{key.account} holds {len(orders)} orders ({filled} filled), it sent {expected}")
    audit = subprocess.run([*marginctl_command(), "audit"], env=env, capture_output=True, text=True, timeout=300)
    if audit.returncode != 0:
        raise RuntimeError(f"audit exited {audit.returncode} after the orders: {audit.stdout[-400:]}")
