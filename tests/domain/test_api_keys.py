"""The checks Binance makes on a signed request (domain/api_keys.py), on Binance's own published examples."""

from __future__ import annotations

import pytest

from marginctl.domain import api_keys
from marginctl.domain.errors import InvalidApiKey, InvalidInput

# Binance's example key of its "SIGNED endpoint examples" (REST API, request security).
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
ORDER = b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
AMOUNTS = b"quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
QUERY = ORDER + b"&" + AMOUNTS
QUERY_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
# Example 3 there: part in the query string, part in the body; the signed text is the two joined as they are.
MIXED = ORDER + AMOUNTS
MIXED_SIGNATURE = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"


def test_the_hmac_signature_is_binances_published_one_for_the_query_and_for_query_plus_body() -> None:
    assert api_keys.hmac_signature(SECRET, QUERY) == QUERY_SIGNATURE
    assert api_keys.hmac_signature(SECRET, MIXED) == MIXED_SIGNATURE
    assert api_keys.hmac_signature_matches(SECRET, MIXED, MIXED_SIGNATURE)


def test_a_signature_matches_in_either_case_and_fails_for_a_reordered_string_or_another_secret() -> None:
    assert api_keys.hmac_signature_matches(SECRET, QUERY, QUERY_SIGNATURE.upper())
    reordered = b"side=BUY&symbol=LTCBTC&type=LIMIT&timeInForce=GTC&" + AMOUNTS
    assert not api_keys.hmac_signature_matches(SECRET, reordered, QUERY_SIGNATURE)
    assert not api_keys.hmac_signature_matches(SECRET[:-1] + "k", QUERY, QUERY_SIGNATURE)
    assert not api_keys.hmac_signature_matches(SECRET, QUERY, "")


@pytest.mark.parametrize(
    ("timestamp", "window", "accepted"),
    [
        (10_000, 5000, True),  # same moment as the server
        (11_000, 5000, True),  # 1000 ms ahead: the most Binance allows
        (11_001, 5000, False),  # 1001 ms ahead
        (5_000, 5000, True),  # 10000 − 5000 = 5000 behind: exactly the window
        (4_999, 5000, False),  # 5001 behind
        (4_999, 60000, True),  # a wider window takes it
    ],
)
def test_a_timestamp_may_be_1000_ms_ahead_and_recv_window_behind(timestamp: int, window: int, accepted: bool) -> None:
    assert api_keys.in_time(timestamp, 10_000, window) is accepted


def test_read_keys_only_read_and_trade_keys_do_everything() -> None:
    assert api_keys.allows("read", write=False)
    assert not api_keys.allows("read", write=True)
    assert api_keys.allows("trade", write=True)


@pytest.mark.parametrize("text", ["", "a" * 63, "a" * 65, "a" * 63 + "-", "a" * 63 + "é", "a" * 63 + " "])
def test_a_key_is_exactly_64_ascii_letters_and_digits(text: str) -> None:
    with pytest.raises(InvalidApiKey):
        api_keys.parse_api_key(text)


def test_permissions_are_read_or_trade_in_any_ascii_case() -> None:
    assert api_keys.parse_permissions("READ") == "read"
    with pytest.raises(InvalidInput):
        api_keys.parse_permissions("admin")
