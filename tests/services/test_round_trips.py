"""A write command in few round trips (issue 14): load once, write once.

On PostgreSQL a round trip is counted on the wire: a loopback proxy between marginctl and the server counts
each time the client sends after the server has answered. The connection's own handshake (TLS probe and
startup, measured on a bare connection) and its closing message are not counted; everything after them is:
the opening reads, the write's load under the lock, and its writes with the COMMIT.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import POSTGRES_URL, Wallet, new_wallet, run_cli

NOW = "2026-03-02T10:00:00Z"
LATER = "2026-03-02T10:00:05Z"
TERMINATE = b"X\x00\x00\x00\x04"


class RoundTripCounter:
    """A TCP proxy to the server that counts the client's turns: a send after the server has answered."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.turns = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, server)
        selector.register(server, selectors.EVENT_READ, client)
        last = "server"
        with client, server:
            while True:
                for key, _ in selector.select():
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = source.recv(1 << 16)
                    if not data:
                        return
                    side = "client" if source is client else "server"
                    if side == "client" and last == "server" and data != TERMINATE:
                        with self.lock:
                            self.turns += 1
                    last = side
                    key.data.sendall(data)

    def settled(self) -> int:
        """The count once the traffic of the last command has passed."""
        time.sleep(0.2)
        with self.lock:
            return self.turns


@pytest.fixture
def counted() -> Iterator[tuple[Wallet, RoundTripCounter, int]]:
    """A PostgreSQL wallet reached through the counting proxy, and the handshake's own turns."""
    if POSTGRES_URL is None:
        pytest.skip("round trips are PostgreSQL's (SQLite runs in the process)")
    import psycopg

    url = new_wallet(Path("unused")).target
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    counter = RoundTripCounter(parts.hostname, parts.port)
    proxied = url.replace(f"@{parts.hostname}:{parts.port}/", f"@127.0.0.1:{counter.port}/")
    before = counter.settled()
    psycopg.connect(proxied.replace("postgresql+psycopg://", "postgresql://")).close()
    handshake = counter.settled() - before
    yield Wallet(Path("unused"), url=proxied), counter, handshake
    counter.listener.close()


def round_trips(counter: RoundTripCounter, handshake: int, wallet: Wallet, *args: str, now: str) -> tuple[int, dict]:
    before = counter.settled()
    document = wallet.ok(*args, now=now)
    return counter.settled() - before - handshake, document


def test_a_deposit_is_three_round_trips(counted: tuple[Wallet, RoundTripCounter, int]) -> None:
    wallet, counter, handshake = counted
    wallet.ok("deposit", "USDT", "100", now=NOW)  # creates the wallet (Alembic, seeding): not counted
    trips, document = round_trips(counter, handshake, wallet, "deposit", "USDT", "1", now=LATER)
    assert trips <= 3
    assert (document["amount"], document["free"]) == ("1.00000000", "101.00000000")  # 100 + 1


def test_a_deposit_with_a_client_id_and_its_repeat_are_three_round_trips_each(
    counted: tuple[Wallet, RoundTripCounter, int],
) -> None:
    wallet, counter, handshake = counted
    wallet.ok("deposit", "USDT", "100", now=NOW)
    trips, first = round_trips(counter, handshake, wallet, "deposit", "USDT", "2", "--client-id", "d-1", now=LATER)
    assert trips <= 3
    assert first["free"] == "102.00000000"  # 100 + 2
    trips, repeat = round_trips(counter, handshake, wallet, "deposit", "USDT", "2", "--client-id", "d-1", now=LATER)
    assert trips <= 3
    assert repeat == {**first, "replayed": True}
    assert (
        wallet.ok("deposit", "USDT", "1", now=LATER)["free"] == "103.00000000"
    )  # 100 + 2 + 1: the repeat added nothing


def test_a_withdraw_and_its_refusal_are_three_round_trips(counted: tuple[Wallet, RoundTripCounter, int]) -> None:
    wallet, counter, handshake = counted
    wallet.ok("deposit", "USDT", "100", now=NOW)
    trips, document = round_trips(counter, handshake, wallet, "withdraw", "USDT", "30", now=LATER)
    assert trips <= 3
    assert document["free"] == "70.00000000"  # 100 − 30
    before = counter.settled()
    refused = wallet.run("withdraw", "USDT", "71", "--json", now=LATER)
    assert counter.settled() - before - handshake <= 3
    assert refused.code != 0
    assert "have 70, need 71" in refused.error()["message"]


def test_a_first_deposit_into_a_new_account_is_three_round_trips(
    counted: tuple[Wallet, RoundTripCounter, int],
) -> None:
    wallet, counter, handshake = counted
    wallet.ok("accounts", "create", "bob", now=NOW)  # creates the wallet; `main` exists from its first write
    trips, document = round_trips(counter, handshake, wallet, "deposit", "USDT", "5", now=LATER)
    assert trips <= 3
    assert document["free"] == "5.00000000"


def test_ids_taken_by_a_write_leave_the_next_account_and_entry_ids_free(wallet: Wallet) -> None:
    """A write names its new rows' ids itself; an account created afterwards the usual way does not collide,
    and the journal numbers each entry once (both engines)."""
    wallet.ok("accounts", "create", "bob", now=NOW)
    first = wallet.ok("deposit", "USDT", "5", now=NOW)  # creates `main` with an id the write chose
    wallet.ok("accounts", "create", "carol", now=LATER)
    second = wallet.ok("deposit", "USDT", "7", now=LATER, account="carol")
    assert second["tranId"] == first["tranId"] + 1
    assert second["free"] == "7.00000000"
    assert wallet.ok("deposit", "USDT", "1", now=LATER)["free"] == "6.00000000"  # main: 5 + 1, carol's 7 apart
    names = [row["name"] for row in wallet.ok("accounts", now=LATER)]
    assert sorted(names) == ["bob", "carol", "main"]
    assert run_cli(["--db", wallet.target, "--now", LATER, "audit", "--json"]).code == 0
