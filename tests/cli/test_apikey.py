"""`marginctl apikey create|list|revoke` (issue 15): keys of one account each, secrets shown once only."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Wallet

KEY = re.compile(r"[A-Za-z0-9]{64}")
NOW = "2026-11-24T10:00:00Z"
LATER = "2026-11-24T11:30:00Z"


def ed25519_pem(seed: int = 1) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_an_hmac_key_and_its_secret_are_shown_once_and_list_never_shows_the_secret(wallet: Wallet) -> None:
    created = wallet.ok("apikey", "create", now=NOW)
    assert KEY.fullmatch(created["apiKey"]) and KEY.fullmatch(created["secretKey"])
    assert created["apiKey"] != created["secretKey"]
    assert (created["type"], created["permissions"], created["account"]) == ("HMAC_SHA256", "trade", "main")
    assert created["createdAt"] == NOW

    listed = wallet.ok("apikey", "list")
    assert listed == [
        {
            "apiKey": created["apiKey"],
            "type": "HMAC_SHA256",
            "permissions": "trade",
            "createdAt": NOW,
            "revokedAt": None,
        }
    ]
    shown = wallet.run("apikey", "list")
    assert shown.code == 0 and created["apiKey"] in shown.out
    assert created["secretKey"] not in shown.out + shown.err + json.dumps(listed)


def test_the_secret_is_in_no_stored_result_and_only_in_the_keys_table(wallet: Wallet) -> None:
    created = wallet.ok("apikey", "create", now=NOW)
    connection = sqlite3.connect(wallet.path)
    tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    holding = []
    for table in tables:
        for row in connection.execute(f'SELECT * FROM "{table}"'):
            if any(created["secretKey"] in str(cell) for cell in row):
                holding.append(table)
    assert holding == ["api_keys"]


def test_each_key_is_new_and_a_read_key_says_so(wallet: Wallet) -> None:
    first = wallet.ok("apikey", "create", "--permissions", "read", now=NOW)
    second = wallet.ok("apikey", "create", "--permissions", "TRADE", now=NOW)
    assert first["permissions"] == "read" and second["permissions"] == "trade"
    assert len({first["apiKey"], first["secretKey"], second["apiKey"], second["secretKey"]}) == 4
    assert [key["permissions"] for key in wallet.ok("apikey", "list")] == ["read", "trade"]


def test_a_key_belongs_to_one_account_and_another_cannot_see_or_revoke_it(wallet: Wallet) -> None:
    wallet.ok("accounts", "create", "alice", now=NOW)
    mine = wallet.ok("apikey", "create", now=NOW)
    assert wallet.ok("apikey", "list", account="alice") == []

    refused = wallet.run("apikey", "revoke", mine["apiKey"], "--json", account="alice", now=LATER)
    assert refused.code == 3 and refused.error()["code"] == "unknown_api_key"
    assert mine["apiKey"] not in refused.err  # an error names at most the key's first 8 characters
    assert wallet.ok("apikey", "list")[0]["revokedAt"] is None


def test_revoke_stamps_the_time_once_and_a_second_revoke_reports_the_first(wallet: Wallet) -> None:
    key = wallet.ok("apikey", "create", now=NOW)["apiKey"]
    revoked = wallet.ok("apikey", "revoke", key, now=LATER)
    assert revoked == {"apiKey": key, "revokedAt": LATER, "alreadyRevoked": False}
    again = wallet.ok("apikey", "revoke", key, now="2026-11-24T12:00:00Z")
    assert again == {"apiKey": key, "revokedAt": LATER, "alreadyRevoked": True}
    assert wallet.ok("apikey", "list")[0]["revokedAt"] == LATER
    said = wallet.run("apikey", "revoke", key, now="2026-11-24T12:00:00Z")
    assert said.out == f"API key {key[:8]}… was already revoked at {LATER}.\n"


def test_create_prints_the_key_and_secret_each_whole_on_its_own_line(wallet: Wallet) -> None:
    result = wallet.run("apikey", "create", "--permissions", "read", now=NOW)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "Created an HMAC_SHA256 API key for account main, with read permission."
    assert lines[1] == "API key:" and KEY.fullmatch(lines[2])
    assert lines[3] == "Secret key:" and KEY.fullmatch(lines[4])
    assert lines[5:] == ["The secret key is shown only this once: store it now."]
    assert wallet.ok("apikey", "list")[0]["apiKey"] == lines[2]


def test_an_ed25519_key_keeps_only_the_public_key_from_a_file_with_an_odd_name(wallet: Wallet, tmp_path: Path) -> None:
    pem = tmp_path / "my key ünïcode $HOME.pem"
    pem.write_text(ed25519_pem(), encoding="ascii")
    created = wallet.ok("apikey", "create", "--ed25519", str(pem), now=NOW)
    assert created["type"] == "ED25519" and created["secretKey"] is None and KEY.fullmatch(created["apiKey"])
    shown = wallet.run("apikey", "create", "--ed25519", ed25519_pem(2), now=NOW)  # the PEM itself
    assert shown.code == 0, shown.err
    assert "Secret key" not in shown.out
    assert [key["type"] for key in wallet.ok("apikey", "list")] == ["ED25519", "ED25519"]


def test_the_same_public_key_twice_is_refused_until_the_first_is_revoked(wallet: Wallet) -> None:
    first = wallet.ok("apikey", "create", "--ed25519", ed25519_pem(), now=NOW)
    again = wallet.run("apikey", "create", "--ed25519", ed25519_pem(), "--json", now=NOW)
    assert again.code == 3 and again.error()["code"] == "api_key_exists"
    wallet.ok("apikey", "revoke", first["apiKey"], now=LATER)
    assert wallet.ok("apikey", "create", "--ed25519", ed25519_pem(), now=LATER)["type"] == "ED25519"


def ec_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.derive_private_key(7, ec.SECP256R1())
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("missing.pem", "cannot read the public key 'missing.pem'"),
        ("not-a-key.pem", "--ed25519 must be an Ed25519 public key in PEM form"),
        ("ec.pem", "this PEM holds another kind"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "must be an Ed25519 public key"),
        ("--permissions=admin", "--permissions must be one of read, trade, got 'admin'"),
    ],
)
def test_bad_keys_and_permissions_are_one_line_exit_2_and_change_nothing(
    wallet: Wallet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argument: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "not-a-key.pem").write_text("hello\n", encoding="ascii")
    (tmp_path / "ec.pem").write_text(ec_pem(), encoding="ascii")
    wallet.ok("deposit", "USDT", "1", now=NOW)
    before = wallet.fingerprint()
    args = [argument] if argument.startswith("--permissions") else ["--ed25519", argument]
    result = wallet.run("apikey", "create", *args, now=NOW)
    assert result.code == 2, result.err
    assert result.out == "" and result.err.count("\n") == 1 and message in result.err, result.err
    assert wallet.fingerprint() == before


def test_a_malformed_key_to_revoke_is_exit_2(wallet: Wallet) -> None:
    result = wallet.run("apikey", "revoke", "abc", "--json", now=NOW)
    assert result.code == 2 and result.error()["code"] == "invalid_api_key"


def test_an_ed25519_key_without_the_server_extra_is_a_one_line_install_hint(tmp_path: Path) -> None:
    pem = tmp_path / "key.pem"
    pem.write_text(ed25519_pem(), encoding="ascii")
    # cryptography made unimportable, as on an install without the extra
    program = (
        "import sys; sys.modules['cryptography'] = None; from marginctl.cli import main; "
        f"sys.argv = ['marginctl', '--db', {str(tmp_path / 'w.db')!r}, 'apikey', 'create', '--ed25519', {str(pem)!r}]; "
        "main()"
    )
    process = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert process.returncode == 2, process.stderr
    assert process.stdout == ""
    assert process.stderr == (
        "error: Ed25519 keys need the server extra; install it with: pip install 'marginctl[server]'\n"
    )


def test_on_the_real_clock_people_see_times_to_the_second(wallet: Wallet) -> None:
    key = wallet.ok("apikey", "create")["apiKey"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", wallet.ok("apikey", "list")[0]["createdAt"])
    lines = wallet.run("apikey", "list").out.splitlines()
    assert lines[0] == key
    assert re.fullmatch(r"  trade, HMAC_SHA256, created \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", lines[1]), lines
    revoked = wallet.run("apikey", "revoke", key).out
    assert re.fullmatch(rf"API key {key[:8]}… revoked at \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.\n", revoked), revoked
