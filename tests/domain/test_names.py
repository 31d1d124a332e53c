"""Names users type: assets, pairs, wallets and accounts."""

from __future__ import annotations

import pytest

from marginctl.domain.errors import InvalidName, UnknownAsset, UnknownPair, UnknownWallet
from marginctl.domain.names import parse_asset, parse_pair, parse_wallet, validate_account_name

ASSETS = {"USDT", "BTC", "ETH"}
PAIRS = {"BTC/USDT", "ETH/USDT", "ETH/BTC"}


@pytest.mark.parametrize("text", ["BTC", "btc", "Btc", " btc "])
def test_parse_asset_is_case_insensitive(text: str) -> None:
    assert parse_asset(text, ASSETS) == "BTC"


def test_parse_asset_refuses_an_unknown_code_and_lists_the_known_ones() -> None:
    with pytest.raises(UnknownAsset) as refused:
        parse_asset("DOGE", ASSETS)
    assert refused.value.code == "unknown_asset"
    assert "DOGE" in refused.value.message
    # Listed sorted, so the message is the same on every run.
    assert "BTC, ETH, USDT" in refused.value.message


@pytest.mark.parametrize("text", ["BTC/USDT", "btc/usdt", "BTCUSDT", "btcusdt"])
def test_parse_pair_accepts_the_slash_form_and_binance_symbol(text: str) -> None:
    assert parse_pair(text, PAIRS) == "BTC/USDT"


def test_parse_pair_resolves_the_symbol_of_a_non_usdt_pair() -> None:
    assert parse_pair("ETHBTC", PAIRS) == "ETH/BTC"


@pytest.mark.parametrize("text", ["XRP/USDT", "USDT/BTC", "BTC", ""])
def test_parse_pair_refuses_an_unknown_pair(text: str) -> None:
    with pytest.raises(UnknownPair) as refused:
        parse_pair(text, PAIRS)
    assert refused.value.code == "unknown_pair"
    assert "BTC/USDT, ETH/BTC, ETH/USDT" in refused.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("spot", "spot"),
        ("SPOT", "spot"),
        ("cross", "cross"),
        ("Cross", "cross"),
        ("BTC/USDT", "BTC/USDT"),
        ("btcusdt", "BTC/USDT"),
    ],
)
def test_parse_wallet_accepts_spot_cross_or_a_pair(text: str, expected: str) -> None:
    assert parse_wallet(text, PAIRS) == expected


@pytest.mark.parametrize("text", ["margin", "isolated", "XRP/USDT", ""])
def test_parse_wallet_refuses_an_unknown_wallet(text: str) -> None:
    with pytest.raises(UnknownWallet) as refused:
        parse_wallet(text, PAIRS)
    assert refused.value.code == "unknown_wallet"
    assert "spot, cross" in refused.value.message
    assert "BTC/USDT" in refused.value.message


@pytest.mark.parametrize("name", ["main", "a", "bot_2", "alice-hedge", "0", "a" * 32])
def test_validate_account_name_accepts_lowercase_digits_underscore_dash(name: str) -> None:
    assert validate_account_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",  # too short
        "a" * 33,  # 33 > 32
        "Main",  # upper case
        "my account",  # space
        "a.b",
        "a/b",
        "ümlaut",
        "main\n",  # a trailing newline is not part of a name
    ],
)
def test_validate_account_name_refuses_anything_else(name: str) -> None:
    with pytest.raises(InvalidName) as refused:
        validate_account_name(name)
    assert refused.value.code == "invalid_name"
