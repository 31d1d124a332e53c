"""API keys as Binance issues them, and the checks Binance makes on every signed request.

A key is 64 letters and digits; an HMAC key has a secret of the same shape. The signature is the
lowercase hex HMAC-SHA256 of the query string followed by the body exactly as received (clients order
parameters differently, so nothing is re-encoded); an Ed25519 signature is the base64 of the key's
signature over the same string. A request is in time when its timestamp is at most 1000 ms ahead of the
server and at most recvWindow ms behind it (default 5000, at most 60000).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import Any

from marginctl.domain.errors import ExtraMissing, InvalidApiKey, InvalidInput
from marginctl.domain.names import echoed, name_key

HMAC_SHA256 = "HMAC_SHA256"
ED25519 = "ED25519"
#: What a key may do: `read` answers reads only; `trade` also trades, borrows, repays and transfers.
READ = "read"
TRADE = "trade"
PERMISSIONS = (READ, TRADE)
KEY_LENGTH = 64
KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_KEY = re.compile(rf"[A-Za-z0-9]{{{KEY_LENGTH}}}")
DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60000
#: How far ahead of the server's clock a timestamp may be (Binance: 1 second).
MAX_AHEAD_MS = 1000
SERVER_EXTRA_HINT = "pip install 'marginctl[server]'"


def parse_permissions(text: str) -> str:
    permission = name_key(text)
    if permission not in PERMISSIONS:
        raise InvalidInput(f"--permissions must be one of {', '.join(PERMISSIONS)}, got {echoed(text, 20)!r}")
    return permission


def parse_api_key(text: str) -> str:
    """An API key as typed: exactly 64 ASCII letters and digits (case matters)."""
    if not _KEY.fullmatch(text):
        raise InvalidApiKey(f"an API key is {KEY_LENGTH} letters and digits, got {echoed(text, 20)!r}")
    return text


def allows(permissions: str, write: bool) -> bool:
    """Whether a key with `permissions` may make a request that reads (write False) or changes the wallet."""
    return permissions == TRADE or not write


def hmac_signature(secret: str, payload: bytes) -> str:
    """Binance's HMAC-SHA256 signature: lowercase hex of HMAC(secret, query string + body)."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def hmac_signature_matches(secret: str, payload: bytes, signature: str) -> bool:
    """Compared in constant time; hex digits in either case, as Binance accepts them."""
    return hmac.compare_digest(hmac_signature(secret, payload), signature.lower())


def in_time(timestamp_ms: int, server_ms: int, recv_window_ms: int) -> bool:
    """Binance's rule: not more than 1 s ahead of the server, not older than recvWindow."""
    return timestamp_ms <= server_ms + MAX_AHEAD_MS and server_ms - timestamp_ms <= recv_window_ms


def ed25519_public_key(pem: str) -> str:
    """The PEM of an Ed25519 public key, checked and in its canonical form (needs the `server` extra)."""
    serialization, ed25519 = _ed25519_modules()
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        raise InvalidInput("--ed25519 must be an Ed25519 public key in PEM form") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise InvalidInput("--ed25519 must be an Ed25519 public key in PEM form (this PEM holds another kind)")
    canonical: bytes = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return canonical.decode()


def ed25519_signature_matches(public_key_pem: str, payload: bytes, signature: str) -> bool:
    """Binance's Ed25519 signature: base64 of the signature over query string + body."""
    serialization, _ = _ed25519_modules()
    from cryptography.exceptions import InvalidSignature

    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    key = serialization.load_pem_public_key(public_key_pem.encode())
    try:
        key.verify(raw, payload)
    except InvalidSignature:
        return False
    return True


def _ed25519_modules() -> tuple[Any, Any]:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise ExtraMissing(f"Ed25519 keys need the server extra; install it with: {SERVER_EXTRA_HINT}") from None
    return serialization, ed25519
