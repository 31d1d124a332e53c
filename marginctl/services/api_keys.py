"""API keys for `marginctl serve`: made, listed and revoked per account (issue 15).

The secret of an HMAC key is shown once, in the answer of `create`, and never again: `list` shows the
keys without secrets, and `create` takes no --client-id, so no stored result ever holds a secret.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, NamedTuple

from marginctl.domain import api_keys as rules
from marginctl.domain.errors import ApiKeyExists, InvalidInput, UnknownApiKey
from marginctl.domain.names import echoed
from marginctl.domain.times import display_stored, to_display
from marginctl.services.context import Context, WriteScope, lookup_account, run_write
from marginctl.store import api_keys as store

#: Bigger than any PEM public key: a file past it is not one.
_PEM_LIMIT = 16_384


def _new_token() -> str:
    return "".join(secrets.choice(rules.KEY_ALPHABET) for _ in range(rules.KEY_LENGTH))


def read_public_key(argument: str) -> str:
    """--ed25519's value: the PEM itself, or the path of a file holding it."""
    if argument.lstrip().startswith("-----BEGIN"):
        return argument
    path = Path(argument)
    try:
        with path.open("rb") as file:
            data = file.read(_PEM_LIMIT + 1)
    except OSError as error:
        raise InvalidInput(f"cannot read the public key {echoed(argument)!r}: {error.strerror}") from None
    if len(data) > _PEM_LIMIT:
        raise InvalidInput(f"{echoed(argument)!r} is too big for a public key")
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise InvalidInput("--ed25519 must be an Ed25519 public key in PEM form") from None


def create_api_key(context: Context, permissions_text: str, ed25519_key: str | None) -> dict[str, Any]:
    permissions = rules.parse_permissions(permissions_text)
    public_key = rules.ed25519_public_key(read_public_key(ed25519_key)) if ed25519_key is not None else None

    def act(scope: WriteScope) -> dict[str, Any]:
        if public_key is not None and store.public_key_registered(scope.tx, public_key):
            raise ApiKeyExists("this Ed25519 public key belongs to a key already; revoke that one first")
        secret = _new_token() if public_key is None else None
        key = store.NewApiKey(
            api_key=_new_token(),
            account_id=scope.account_id,
            key_type=rules.HMAC_SHA256 if public_key is None else rules.ED25519,
            permissions=permissions,
            secret=secret,
            public_key=public_key,
            created_at=scope.at,
        )
        store.insert_api_key(scope.tx, key)
        return {
            "apiKey": key.api_key,
            "secretKey": secret,
            "type": key.key_type,
            "permissions": permissions,
            "account": context.account_name,
            "createdAt": to_display(scope.at),
        }

    return run_write(context, "apikey create", {}, None, act, catch_up=False)


def list_api_keys(context: Context) -> list[dict[str, Any]]:
    with context.read() as tx:
        account = lookup_account(tx, context)
        rows = store.api_keys_of(tx, int(account["id"])) if account is not None else []
    return [
        {
            "apiKey": row["api_key"],
            "type": row["key_type"],
            "permissions": row["permissions"],
            "createdAt": display_stored(row["created_at"]),
            "revokedAt": display_stored(row["revoked_at"]),
        }
        for row in rows
    ]


def revoke_api_key(context: Context, key_text: str) -> dict[str, Any]:
    api_key = rules.parse_api_key(key_text)

    def act(scope: WriteScope) -> dict[str, Any]:
        before = store.revoke_api_key(scope.tx, scope.account_id, api_key, scope.at)
        if before is None:
            # Another account's key is unknown here too: a key never tells who else holds one.
            raise UnknownApiKey(f"account {context.account_name} has no API key {api_key[:8]}…")
        revoked = before["revoked_at"]
        return {
            "apiKey": api_key,
            "revokedAt": display_stored(revoked) if revoked is not None else to_display(scope.at),
            "alreadyRevoked": revoked is not None,
        }

    return run_write(context, "apikey revoke", {"apiKey": api_key}, None, act, catch_up=False)


class SigningKey(NamedTuple):
    """What the server needs of a key to check a request: whose it is, what it may do, how it signs."""

    api_key: str
    account_name: str
    key_type: str
    permissions: str
    secret: str | None
    public_key: str | None

    def signature_matches(self, payload: bytes, signature: str) -> bool:
        if self.key_type == rules.ED25519:
            assert self.public_key is not None
            return rules.ed25519_signature_matches(self.public_key, payload, signature)
        assert self.secret is not None
        return rules.hmac_signature_matches(self.secret, payload, signature)


def signing_key(context: Context, api_key: str) -> SigningKey | None:
    """The key named by a request's X-MBX-APIKEY, if it exists and is not revoked."""
    with context.read() as tx:
        row = store.signing_key(tx, api_key)
    if row is None:
        return None
    return SigningKey(
        row["api_key"], row["account_name"], row["key_type"], row["permissions"], row["secret"], row["public_key"]
    )
