"""A request's parameters and its signature, read as Binance reads them.

Parameters travel in the query string, in a form body, or both (python-binance and ccxt put a POST's in
the body, Binance's SDKs everything in the query). The signed text is the query string followed by the
body, exactly as received, without the `signature` item: clients order parameters differently, so the
signature is checked on the raw bytes, never on a re-encoding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote

from marginctl.api.errors import (
    BAD_PARAMETER,
    BAD_RECV_WINDOW,
    INVALID_API_KEY_FORMAT,
    INVALID_SIGNATURE,
    MANDATORY_PARAM_MISSING,
    REJECTED_API_KEY,
    TIMESTAMP_OUTSIDE_RECV_WINDOW,
    TOO_MANY_PARAMETERS,
    BinanceError,
)
from marginctl.domain import api_keys as rules

if TYPE_CHECKING:
    from marginctl.services.api_keys import SigningKey

SIGNATURE = b"signature="


class SignedRequest:
    """The parameters of one request and the text its signature covers."""

    def __init__(self, query: bytes, body: bytes) -> None:
        self.params: dict[str, str] = {}
        for part in (query, body):
            try:
                pairs = parse_qsl(part.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                raise BinanceError(BAD_PARAMETER, "Illegal characters found in a parameter.") from None
            for name, value in pairs:
                # a second `signature` too, wherever each one travels
                if name in self.params:
                    raise BinanceError(TOO_MANY_PARAMETERS, "Duplicate values for a parameter detected.")
                self.params[name] = value
        self.params.pop("signature", None)
        query_items, query_signature = _without_signature(query)
        body_items, body_signature = _without_signature(body)
        self.signature = query_signature if query_signature is not None else body_signature
        self.payload = b"&".join(query_items) + b"&".join(body_items)

    def required(self, name: str) -> str:
        value = self.params.get(name, "")
        if value == "":
            raise BinanceError(
                MANDATORY_PARAM_MISSING, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
            )
        return value


def _without_signature(raw: bytes) -> tuple[list[bytes], str | None]:
    """The items of `raw` but its `signature` (at most one: duplicates are refused already), and its value
    percent-decoded only (a base64 Ed25519 signature may hold a raw `+`)."""
    items = raw.split(b"&") if raw else []
    kept = [item for item in items if not item.startswith(SIGNATURE)]
    signature = next((item[len(SIGNATURE) :] for item in items if item.startswith(SIGNATURE)), None)
    return kept, unquote(signature.decode("latin-1")) if signature is not None else None


def _whole_number(request: SignedRequest, name: str) -> int:
    text = request.required(name)
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise BinanceError(
            BAD_PARAMETER, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,18}}$'."
        )
    return int(text)


def check_signed(
    request: SignedRequest,
    api_key: str | None,
    find_key: Callable[[str], SigningKey | None],
    server_ms: int,
    write: bool,
) -> SigningKey:
    """Binance's checks, in Binance's order: the key, its permission, the time window, the signature."""
    if not api_key or len(api_key) != rules.KEY_LENGTH or not api_key.isalnum() or not api_key.isascii():
        raise BinanceError(INVALID_API_KEY_FORMAT, "API-key format invalid.")
    key = find_key(api_key)
    if key is None or not rules.allows(key.permissions, write):
        raise BinanceError(REJECTED_API_KEY, "Invalid API-key, IP, or permissions for action.")
    timestamp = _whole_number(request, "timestamp")
    window = rules.DEFAULT_RECV_WINDOW_MS
    if "recvWindow" in request.params:
        window = _whole_number(request, "recvWindow")
        if window > rules.MAX_RECV_WINDOW_MS:
            raise BinanceError(BAD_RECV_WINDOW, f"recvWindow must be less than {rules.MAX_RECV_WINDOW_MS}")
    if not rules.in_time(timestamp, server_ms, window):
        raise BinanceError(TIMESTAMP_OUTSIDE_RECV_WINDOW, "Timestamp for this request is outside of the recvWindow.")
    if request.signature is None or request.signature == "":
        raise BinanceError(
            MANDATORY_PARAM_MISSING, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
        )
    if not key.signature_matches(request.payload, request.signature):
        raise BinanceError(INVALID_SIGNATURE, "Signature for this request is not valid.")
    return key
