"""A PostgreSQL URL's password never reaches the screen: not in errors, not in JSON, not in debug output."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import run_cli

SECRET = "s3cr3t-Passw0rd"


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def unreachable_url() -> str:
    pytest.importorskip("psycopg")
    return f"postgresql+psycopg://alice:{SECRET}@127.0.0.1:{_closed_port()}/wallet"


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_a_failed_connection_names_the_wallet_without_its_password(unreachable_url: str, extra: list[str]) -> None:
    result = run_cli(["--db", unreachable_url, "status", *extra])
    assert result.code == 2
    assert SECRET not in result.err + result.out
    assert "alice:***@127.0.0.1" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_debug_output_does_not_print_the_password_either(unreachable_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARGINCTL_DEBUG", "1")
    result = run_cli(["--db", unreachable_url, "deposit", "USDT", "1"])
    assert result.code == 2
    assert SECRET not in result.err + result.out


def test_the_wallet_repr_hides_the_url() -> None:
    from marginctl.store.database import locate

    database = locate(f"postgresql+psycopg://bob:{SECRET}@db.example/wallet")
    assert SECRET not in repr(database)
    assert database.shown == "postgresql+psycopg://bob:***@db.example/wallet"
