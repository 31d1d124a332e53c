"""The installed `marginctl` executable, run as a real process with no terminal on stdin."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.readme_examples import marginctl_executable as installed_marginctl


def marginctl_executable() -> str:
    """The installed console script (found as the README's examples find it), or skip."""
    try:
        return installed_marginctl()
    except RuntimeError:
        pytest.skip("the marginctl console script is not installed")


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without MARGINCTL_* settings, with private XDG folders."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MARGINCTL_")}
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
    )
    env.update(extra)
    return env


def run(tmp_path: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [marginctl_executable(), "--db", str(tmp_path / "wallet.db"), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment(tmp_path, **extra_env),
        timeout=60,
    )


def test_deposit_json_from_the_installed_command(tmp_path: Path) -> None:
    process = run(tmp_path, "--now", "2026-01-05T10:00:00Z", "deposit", "USDT", "1000.25", "--json")
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    document = json.loads(process.stdout)
    # 0 + 1000.25 = 1000.25 at 8 places
    assert document["amount"] == "1000.25000000"
    assert document["free"] == "1000.25000000"
    assert document["kind"] == "deposit"
    assert isinstance(document["tranId"], int)


def test_transfer_with_no_terminal_and_no_yes_exits_3(tmp_path: Path) -> None:
    assert run(tmp_path, "--now", "2026-01-05T10:00:00Z", "deposit", "USDT", "100").returncode == 0
    process = run(tmp_path, "--now", "2026-01-05T10:01:00Z", "transfer", "USDT", "10", "--json")
    assert process.returncode == 3
    assert process.stdout == ""
    assert json.loads(process.stderr)["error"]["code"] == "confirmation_required"
    human = run(tmp_path, "--now", "2026-01-05T10:01:00Z", "transfer", "USDT", "10")
    assert human.returncode == 3
    assert human.stderr.startswith("error:")
    assert len(human.stderr.splitlines()) == 1
    # nothing moved: spot still 100
    status = run(tmp_path, "--now", "2026-01-05T10:02:00Z", "status", "--all", "--json")
    documents = json.loads(status.stdout)
    assert [document["wallet"] for document in documents] == ["spot"]


def test_transfer_with_yes_from_a_script_is_accepted(tmp_path: Path) -> None:
    assert run(tmp_path, "--now", "2026-01-05T10:00:00Z", "deposit", "USDT", "100").returncode == 0
    process = run(tmp_path, "--now", "2026-01-05T10:01:00Z", "transfer", "USDT", "10", "--yes", "--json")
    assert process.returncode == 0, process.stderr
    status = json.loads(run(tmp_path, "--now", "2026-01-05T10:02:00Z", "status", "--json").stdout)
    assert status["agreementAcceptedAt"] == "2026-01-05T10:01:00Z"


def test_environment_variables_set_the_clock_and_the_wallet(tmp_path: Path) -> None:
    wallet = tmp_path / "env.db"
    process = subprocess.run(
        [marginctl_executable(), "deposit", "BTC", "0.5", "--json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment(tmp_path, MARGINCTL_DB=str(wallet), MARGINCTL_NOW="2026-01-05T10:00:00Z"),
        timeout=60,
    )
    assert process.returncode == 0, process.stderr
    assert json.loads(process.stdout)["time"] == "2026-01-05T10:00:00Z"
    assert wallet.exists()


def test_insufficient_balance_exit_code_from_the_installed_command(tmp_path: Path) -> None:
    process = run(tmp_path, "--now", "2026-01-05T10:00:00Z", "withdraw", "USDT", "1", "--json")
    assert process.returncode == 3
    assert json.loads(process.stderr)["error"]["code"] == "insufficient_balance"


def test_bad_amount_exit_code_from_the_installed_command(tmp_path: Path) -> None:
    process = run(tmp_path, "--now", "2026-01-05T10:00:00Z", "deposit", "USDT", "1e3")
    assert process.returncode == 2
    assert process.stderr.startswith("error:")
    assert "Traceback" not in process.stderr


def test_python_dash_m_marginctl_help_exits_0(tmp_path: Path) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "marginctl", "--help"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment(tmp_path),
        timeout=60,
    )
    assert process.returncode == 0, process.stderr
    for command in ("deposit", "withdraw", "transfer", "status", "history", "audit"):
        assert command in process.stdout


def test_no_arguments_shows_help(tmp_path: Path) -> None:
    process = subprocess.run(
        [marginctl_executable()],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment(tmp_path),
        timeout=60,
    )
    assert process.returncode in (0, 2)
    assert "deposit" in process.stdout + process.stderr
    assert "Traceback" not in process.stderr


def corrupt_a_balance_row(tmp_path: Path) -> None:
    """A row that is not a number: reading it is a failure the program does not anticipate (exit 1)."""
    assert run(tmp_path, "--now", "2026-01-05T10:00:00Z", "deposit", "USDT", "10").returncode == 0
    connection = sqlite3.connect(tmp_path / "wallet.db")
    connection.execute(
        "UPDATE balances SET amount = 'not-a-number' WHERE wallet = 'spot' AND asset = 'USDT' "
        "AND account_id = (SELECT id FROM accounts WHERE name = 'main')"
    )
    connection.commit()
    connection.close()


def test_an_internal_error_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    corrupt_a_balance_row(tmp_path)
    process = run(tmp_path, "--now", "2026-01-05T10:01:00Z", "status", "--all")
    assert process.returncode == 1
    assert "Traceback" not in process.stderr
    assert len(process.stderr.splitlines()) == 1
    assert process.stderr.startswith("error:")
    assert "MARGINCTL_DEBUG=1" in process.stderr
    as_json = run(tmp_path, "--now", "2026-01-05T10:01:00Z", "status", "--all", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stderr)["error"]["code"] == "internal_error"


def test_an_internal_error_shows_the_traceback_with_marginctl_debug(tmp_path: Path) -> None:
    corrupt_a_balance_row(tmp_path)
    process = run(tmp_path, "--now", "2026-01-05T10:01:00Z", "status", "--all", MARGINCTL_DEBUG="1")
    assert process.returncode == 1
    assert "Traceback" in process.stderr
