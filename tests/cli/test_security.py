"""A PostgreSQL URL's password never reaches the screen: not in errors, not in JSON, not in debug output."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL, run_cli

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


# --- issue 12 item 5: every form of password libpq accepts ----------------------------------------------

#: The same secret in every place libpq takes a password: userinfo, the query (any case, percent-encoded
#: key, after another option), and sslpassword.
SECRET_URLS = [
    "postgresql+psycopg://alice:{secret}@127.0.0.1:{port}/wallet",
    "postgresql+psycopg://alice@127.0.0.1:{port}/wallet?password={secret}",
    "postgresql+psycopg://alice@127.0.0.1:{port}/wallet?sslmode=disable&password={secret}",
    "postgresql+psycopg://alice@127.0.0.1:{port}/wallet?PassWord={secret}",
    "postgresql+psycopg://alice@127.0.0.1:{port}/wallet?pass%77ord={secret}",
    "postgresql+psycopg://alice@127.0.0.1:{port}/wallet?sslpassword={secret}",
    "postgresql://alice:{secret}@127.0.0.1:{port}/wallet",
    "PostgreSQL+psycopg://alice:{secret}@127.0.0.1:{port}/wallet",
    "postgresql+psycopg://alice:{secret}@127.0.0.1:not-a-port/wallet",
]
ENCODED_SECRET = "s3cr%3At%40Pw"  # s3cr:t@Pw, percent-encoded as a URL must carry it


def _all_output(result: object) -> str:
    return getattr(result, "out", "") + getattr(result, "err", "")


@pytest.mark.parametrize("template", SECRET_URLS)
@pytest.mark.parametrize("extra", [[], ["--json"]], ids=["people", "json"])
@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_no_form_of_password_is_ever_printed(
    template: str, extra: list[str], debug: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("psycopg")
    if debug:
        monkeypatch.setenv("MARGINCTL_DEBUG", "1")
    for secret in (SECRET, ENCODED_SECRET):
        url = template.format(secret=secret, port=_closed_port())
        for command in (["status"], ["deposit", "USDT", "1"]):
            result = run_cli(["--db", url, "--now", "2026-01-05T10:00:00Z", *command, *extra])
            assert result.code == 2, result.err
            printed = _all_output(result)
            for text in (SECRET, ENCODED_SECRET, "s3cr:t@Pw"):
                assert text not in printed
            assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize("secret", ["a", "p", "ab'cd", 'ab"cd', "ab cd", "ab%20cd"])
@pytest.mark.parametrize("where", ["alice:{secret}@", "alice@"], ids=["userinfo", "query"])
def test_an_odd_or_one_letter_password_is_never_printed(secret: str, where: str) -> None:
    """Quotes, a space, one letter: no part of the password is printed, and the message is not mangled (a
    one-letter password replaced everywhere it occurs would turn 'cannot' into 'c***nnot' and give it away)."""
    pytest.importorskip("psycopg")
    query = "" if "{secret}" in where else "?password={secret}"
    url = f"postgresql+psycopg://{where}127.0.0.1:{_closed_port()}/wallet{query}".format(secret=secret)
    result = run_cli(["--db", url, "status", "--json"])
    assert result.code == 2, result.err
    message = result.error()["message"]
    assert "***" not in message.replace(":***@", "").replace("password=***", "")
    for piece in {secret, *secret.split(), *secret.split("'"), *secret.split('"')} - {"", "a", "p", "ab"}:
        assert piece not in message, piece
    assert "cannot use the wallet" in message or "cannot contain spaces" in message


@pytest.mark.parametrize(
    "conninfo",
    [f"host=127.0.0.1 port=1 dbname=wallet password={SECRET}", f"host=127.0.0.1 password = '{SECRET} x'"],
)
def test_a_conninfo_string_is_refused_without_echoing_it(
    conninfo: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # it was once taken for a relative file name
    for extra in ([], ["--json"]):
        result = run_cli(["--db", conninfo, "status", *extra])
        assert result.code == 2
        assert SECRET not in _all_output(result)
        assert "PGPASSWORD" in result.err
    assert [path.name for path in tmp_path.iterdir() if not path.name.startswith("xdg-")] == []


def test_a_traceback_from_a_bug_masks_the_password_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """MARGINCTL_DEBUG=1 prints a bug's traceback; a message quoting the URL is masked there as well."""
    pytest.importorskip("psycopg")  # without the extra the command stops earlier, at the install hint
    from marginctl.store import database

    def broken(self: object) -> None:
        raise RuntimeError(f"cannot reach postgresql+psycopg://alice:{SECRET}@db.example/wallet?password={SECRET}")

    monkeypatch.setattr(database.Database, "postgresql_connection", broken)  # the door that connects
    monkeypatch.setenv("MARGINCTL_DEBUG", "1")
    for extra in ([], ["--json"]):
        result = run_cli(["--db", f"postgresql+psycopg://alice:{SECRET}@db.example/wallet", "status", *extra])
        assert result.code == 1
        assert "Traceback" in result.err
        assert SECRET not in _all_output(result)


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs the PostgreSQL pass")
@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_a_bad_database_name_on_a_live_server_does_not_print_the_password(
    extra: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert POSTGRES_URL is not None
    base, _, _ = POSTGRES_URL.rpartition("/")
    user_and_host = base.removeprefix("postgresql+psycopg://")
    user, _, host = user_and_host.partition("@")
    for url in (
        f"postgresql+psycopg://{user}:{SECRET}@{host}/no_such_db",
        f"postgresql+psycopg://{user}@{host}/no_such_db?password={SECRET}",
    ):
        for debug in ("0", "1"):
            monkeypatch.setenv("MARGINCTL_DEBUG", debug)
            result = run_cli(["--db", url, "status", *extra])
            assert result.code == 2, result.err
            assert "no_such_db" in result.err
            assert SECRET not in _all_output(result)
