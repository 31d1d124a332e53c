"""`marginctl serve`'s refusals: each one line, a stable exit code, and no port left open."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from tests.api.conftest import environment
from tests.conftest import Wallet, new_wallet
from tests.readme_examples import marginctl_executable


def serve(wallet_target: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [marginctl_executable(), "--db", wallet_target, "serve", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment(tmp_path),
        timeout=60,
    )


def test_serve_without_a_wallet_is_refused_and_creates_none(tmp_path: Path) -> None:
    process = serve(str(tmp_path / "none.db"), tmp_path, "--port", "0")
    assert process.returncode == 2 and process.stdout == ""
    assert process.stderr.startswith("error: ") and process.stderr.count("\n") == 1, process.stderr
    assert not (tmp_path / "none.db").exists()


def test_a_port_in_use_or_out_of_range_is_one_line_exit_2(funded_wallet: Wallet, tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        process = serve(funded_wallet.target, tmp_path, "--port", str(port))
    assert process.returncode == 2 and process.stdout == ""
    assert process.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: "), process.stderr
    assert process.stderr.count("\n") == 1
    out_of_range = serve(funded_wallet.target, tmp_path, "--port", "70000")
    assert (out_of_range.returncode, out_of_range.stderr) == (2, "error: --port must be 0-65535, got 70000\n")


def test_serve_without_the_server_extra_is_a_one_line_install_hint(tmp_path: Path) -> None:
    wallet = new_wallet(tmp_path / "wallet.db")
    wallet.ok("deposit", "USDT", "1", now="2026-11-24T10:00:00Z")
    program = (
        "import sys; sys.modules['uvicorn'] = None; from marginctl.cli import main; "
        f"sys.argv = ['marginctl', '--db', {wallet.target!r}, 'serve', '--port', '0']; main()"
    )
    process = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert process.returncode == 2 and process.stdout == ""
    assert (
        process.stderr
        == "error: marginctl serve needs the server extra; install it with: pip install 'marginctl[server]'\n"
    )
