"""Words users type: assets, pairs, wallets, accounts, keywords and counts."""

from __future__ import annotations

import pytest

from marginctl.domain.errors import InvalidInput, InvalidName, UnknownAsset, UnknownPair, UnknownWallet
from marginctl.domain.names import (
    is_keyword,
    name_key,
    parse_asset,
    parse_count,
    parse_pair,
    parse_wallet,
    validate_account_name,
)

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


# Names match in ASCII only: str.upper() turns "ſ" (U+017F, long s) into "S" and "ı" into "I", and
# str.lower() turns "K" (U+212A, Kelvin) into "k"; none of them may name an ASCII asset, pair or keyword.


@pytest.mark.parametrize("text", ["uſdt", "ＵＳＤＴ", "USDT\u00a0", "\u3000USDT", "U\u200bSDT"])
def test_parse_asset_matches_in_ascii_only(text: str) -> None:
    with pytest.raises(UnknownAsset):
        parse_asset(text, ASSETS)


@pytest.mark.parametrize("text", ["btc/uſdt", "BTCUſDT", "ｂｔｃ/usdt", "BTC／USDT", "eth/btc\u00a0"])
def test_parse_pair_matches_in_ascii_only(text: str) -> None:
    with pytest.raises(UnknownPair):
        parse_pair(text, PAIRS)


@pytest.mark.parametrize("text", ["ſpot", "croſs", "ＳＰＯＴ"])
def test_parse_wallet_matches_in_ascii_only(text: str) -> None:
    with pytest.raises(UnknownWallet):
        parse_wallet(text, PAIRS)


def test_a_kelvin_sign_is_not_a_k() -> None:
    assert parse_asset("kcs", {"KCS"}) == "KCS"
    with pytest.raises(UnknownAsset):
        parse_asset("\u212acs", {"KCS"})


@pytest.mark.parametrize(("text", "expected"), [("max", True), ("MAX", True), (" Max ", True), ("maх", False)])
def test_keywords_match_in_ascii_case_only(text: str, expected: bool) -> None:
    # "maх" ends in U+0445, Cyrillic ha.
    assert is_keyword(text, "max") is expected


def test_name_key_folds_only_ascii_letters() -> None:
    assert name_key(" BTC/Usdt\t") == "btc/usdt"
    assert name_key("uſdt") == "uſdt"
    assert name_key("İ") == "İ"  # str.lower() would make it two characters, "i̇"


@pytest.mark.parametrize(("text", "expected"), [("1", 1), ("20", 20), ("007", 7), ("1000", 1000)])
def test_parse_count_accepts_ascii_digits_in_range(text: str, expected: int) -> None:
    assert parse_count(text, "--limit", 1000) == expected


@pytest.mark.parametrize(
    "text",
    [
        "١",  # Arabic-Indic one: int() takes it
        "１",  # full-width one: int() takes it
        "²",
        "1_0",  # int() takes the underscore
        "+3",
        " 3",
        "3\n",
        "-1",
        "0",
        "1001",  # above the maximum of 1000
        "9" * 5000,  # int() of 5000 digits raises ValueError (Python's 4300-digit limit)
        "",
        "ten",
        "1.0",
    ],
)
def test_parse_count_refuses_anything_else_in_one_message(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_count(text, "--limit", 1000)
    assert refused.value.code == "invalid_input"
    assert refused.value.message.startswith("--limit must be a whole number from 1 to 1000, got ")
    assert len(refused.value.message) < 100
