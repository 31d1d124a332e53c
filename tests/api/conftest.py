"""A real `marginctl serve --port 0` on a temporary wallet, as a separate process on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import Wallet, new_wallet
from tests.readme_examples import marginctl_executable

LISTENING = "listening on http://127.0.0.1:"
#: A guard against a server that never says it is ready, not a speed limit.
START_TIMEOUT = 60.0


@dataclass
class Server:
    """The server process, its URL and what it printed on stderr so far (read by a thread)."""

    process: subprocess.Popen[str]
    url: str
    wallet: Wallet
    first_line: str
    log: list[str] = field(default_factory=list)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=60)


def environment(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MARGINCTL_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "xdg-config"), XDG_DATA_HOME=str(tmp_path / "xdg-data"))
    return env


def start_server(wallet: Wallet, tmp_path: Path, *args: str, now: str | None = None, port: int = 0) -> Server:
    """`serve` on `port` (0: a free one), on the system clock or on the fixed clock `now`."""
    clock = ["--now", now] if now is not None else []
    process = subprocess.Popen(
        [marginctl_executable(), "--db", wallet.target, *clock, "serve", "--port", str(port), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(tmp_path),
    )
    assert process.stdout is not None and process.stderr is not None
    ready: list[str] = []
    reader = threading.Thread(target=lambda: ready.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(START_TIMEOUT)
    line = ready[0] if ready else ""
    if not line.startswith(LISTENING):
        process.kill()
        raise AssertionError(f"serve did not start: {line!r} {process.stderr.read()!r}")
    server = Server(process, line.strip().removeprefix("listening on "), wallet, line)
    threading.Thread(target=lambda: server.log.extend(process.stderr), daemon=True).start()  # type: ignore[arg-type]
    return server


@pytest.fixture
def funded_wallet(tmp_path: Path) -> Wallet:
    """1000 USDT in cross, 100 USDT borrowed at 10:00:30 (ON_BORROW 100 × 0.00024 / 24 = 0.001)."""
    wallet = new_wallet(tmp_path / "wallet.db")
    wallet.ok("deposit", "USDT", "1000", now="2026-11-24T10:00:00Z")
    wallet.ok("transfer", "USDT", "1000", "--yes", now="2026-11-24T10:00:10Z")
    wallet.ok("price", "set", "BTC/USDT", "60000", now="2026-11-24T10:00:20Z")
    wallet.ok("borrow", "USDT", "100", "--yes", now="2026-11-24T10:00:30Z")
    return wallet


@pytest.fixture
def server(funded_wallet: Wallet, tmp_path: Path) -> Iterator[Server]:
    running = start_server(funded_wallet, tmp_path)
    yield running
    running.stop()
