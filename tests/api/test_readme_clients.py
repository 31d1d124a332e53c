"""README's ```python examples (For bot developers) run as written against a real `marginctl serve`; only
the port differs. The server runs on a fixed clock so the interest in the answers is worked out by hand."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import Server, start_server
from tests.conftest import Wallet
from tests.readme_examples import README

README_PORT = "8787"


def python_examples() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL)


@pytest.fixture
def fixed_clock_server(funded_wallet: Wallet, tmp_path: Path) -> Iterator[Server]:
    running = start_server(funded_wallet, tmp_path, now="2026-11-24T10:05:00Z")
    yield running
    running.stop()


def run_example(server: Server, example: str) -> str:
    assert f"127.0.0.1:{README_PORT}" in example
    port = server.url.rsplit(":", 1)[1]
    key = server.wallet.ok("apikey", "create", now="2026-11-24T10:05:00Z")
    env = {**os.environ, "API_KEY": key["apiKey"], "SECRET_KEY": key["secretKey"]}
    process = subprocess.run(
        [sys.executable, "-c", example.replace(f"127.0.0.1:{README_PORT}", f"127.0.0.1:{port}")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert process.returncode == 0, process.stderr
    return process.stdout


def test_there_is_one_python_binance_example_and_one_ccxt_example() -> None:
    examples = python_examples()
    assert len(examples) == 2
    assert "from binance.client import Client" in examples[0] and "import ccxt" in examples[1]


def test_the_python_binance_example_buys_and_reads_the_margin_level(fixed_clock_server: Server) -> None:
    # the funded wallet: 1100 USDT free, 100 borrowed + 0.001 interest. 0.01 BTC × 60000 = 600 USDT (free
    # covers it: nothing borrowed); 0.01 × 0.999 = 0.00999 BTC received. Assets 500 + 0.00999 × 60000 =
    # 1099.4; 1099.4 / 100.001 = 10.993890061…, 8 places rounded down
    assert run_example(fixed_clock_server, python_examples()[0]) == "FILLED 600.00000000\n10.99389006\n"


def test_the_ccxt_example_borrows_and_reads_the_balance(fixed_clock_server: Server) -> None:
    # 1100 + 50 = 1150 free; debt 150 borrowed + 0.001 + 50 × 0.00001 = 0.0005 interest → 150.0015
    assert run_example(fixed_clock_server, python_examples()[1]) == "1150.0 150.0015\n"
