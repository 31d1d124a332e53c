"""Typed input (issue 12 items 8 and 11): names match in ASCII only, counts are ASCII digits, a negative
number is the amount's own error (not "No such option"), and errors quote what was typed."""

from __future__ import annotations

import pytest

from tests.conftest import Wallet

NOW = "2026-01-05T10:00:00Z"
LATER = "2026-01-05T11:00:00Z"
REFUSED_NAME_CODES = {"unknown_asset", "unknown_pair", "unknown_wallet", "invalid_input", "invalid_amount"}


@pytest.fixture
def funded(wallet: Wallet) -> Wallet:
    """main holds 100 USDT in spot."""
    wallet.ok("deposit", "USDT", "100", now=NOW)
    return wallet


@pytest.mark.parametrize(
    "args",
    [
        ["deposit", "uſdt", "1"],  # U+017F long s: "uſdt".upper() == "USDT"
        ["deposit", "ＵＳＤＴ", "1"],
        ["withdraw", "uſdt", "1"],
        ["transfer", "uſdt", "1", "--yes"],
        ["borrow", "uſdt", "1", "--yes"],
        ["repay", "uſdt", "all"],
        ["price", "set", "BTC/UſDT", "61000"],
        ["trade", "buy", "BTC/UſDT", "0.001"],
        ["status", "--isolated", "BTC/UſDT"],
        ["interest", "--asset", "uſdt"],
        ["transfer", "USDT", "1", "--from", "ſpot", "--yes"],
        ["transfer", "USDT", "1", "--to", "croſs", "--yes"],
        ["trade", "ſell", "BTC/USDT", "0.001"],
        ["trade", "buy", "BTC/USDT", "0.001", "--side-effect", "auto-borrow\u017f"],
        ["transfer", "USDT", "ＭＡＸ", "--yes"],
        ["repay", "USDT", "ａll"],
        ["cooloff", "１d", "--yes"],
    ],
)
def test_a_name_with_non_ascii_look_alikes_is_refused_and_changes_nothing(funded: Wallet, args: list[str]) -> None:
    before = funded.fingerprint()
    result = funded.run(*args, "--json", now=LATER)
    assert result.code == 2, result
    assert result.out == ""
    assert result.error()["code"] in REFUSED_NAME_CODES
    assert funded.fingerprint() == before


def test_deposit_with_a_long_s_names_no_asset(funded: Wallet) -> None:
    result = funded.run("deposit", "uſdt", "1", now=LATER)
    assert (result.code, result.out) == (2, "")
    assert result.err == "error: unknown asset 'uſdt'; known: BNB, BTC, BUSD, ETH, USDT\n"
    # Still the 100 USDT deposited first, not 101.
    assert funded.ok("status", "--all", now=LATER)[0]["userAssets"][0]["free"] == "100.00000000"


def test_ascii_case_still_does_not_matter(funded: Wallet) -> None:
    assert funded.ok("deposit", "usdt", "1", now=LATER)["free"] == "101.00000000"  # 100 + 1


@pytest.mark.parametrize(
    "limit",
    ["١", "１", "²", "1_0", "+3", "-1", "0", " 3", "1000001", "9" * 30, "9" * 5000, "ten", "1.0", ""],
)
def test_history_limit_is_ascii_digits_from_1_to_a_million(funded: Wallet, limit: str) -> None:
    result = funded.run("history", "--limit", limit)
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith("error: --limit must be a whole number from 1 to 1000000, got ")
    assert result.err.count("\n") == 1 and len(result.err) < 120


def test_history_limit_in_ascii_digits_limits_the_entries(funded: Wallet) -> None:
    funded.ok("deposit", "USDT", "1", now=LATER)
    entries = funded.ok("history", "--limit", "1")
    assert [entry["kind"] for entry in entries] == ["deposit"]
    assert len(entries) == 1  # two deposits, limit 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deposit", "USDT", "-5"], "amount must be positive, got '-5'"),
        (["deposit", "USDT", "-0.1"], "amount must be positive, got '-0.1'"),
        (["withdraw", "USDT", "-5"], "amount must be positive, got '-5'"),
        (["transfer", "USDT", "-5", "--yes"], "amount must be positive, got '-5'"),
        (["borrow", "USDT", "-5", "--yes"], "amount must be positive, got '-5'"),
        (["repay", "USDT", "-.5"], "amount must be positive, got '-.5'"),
        (["price", "set", "BTC/USDT", "-1"], "price must be positive, got '-1'"),
        (["trade", "buy", "BTC/USDT", "-1"], "quantity must be positive, got '-1'"),
        (["trade", "buy", "BTC/USDT", "--quote", "-1"], "--quote must be positive, got '-1'"),
        (["trade", "buy", "BTC/USDT", "1", "--price", "-1"], "price must be positive, got '-1'"),
        (["cancel", "-3"], "order ids are whole numbers, got '-3'"),
    ],
)
def test_a_negative_number_gets_the_amount_error_not_no_such_option(
    funded: Wallet, args: list[str], message: str
) -> None:
    before = funded.fingerprint()
    result = funded.run(*args, now=LATER)
    assert (result.code, result.out, result.err) == (2, "", f"error: {message}\n")
    assert funded.fingerprint() == before


def test_a_negative_amount_with_json_after_it_is_still_json(funded: Wallet) -> None:
    result = funded.run("deposit", "USDT", "-5", "--json", now=LATER)
    assert result.code == 2
    assert result.error() == {"code": "invalid_amount", "message": "amount must be positive, got '-5'"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deposit", "USDT", "--jsno"], "No such option: --jsno (Possible options: --json)"),
        (["deposit", "USDT", "1", "--jsno"], "No such option: --jsno (Possible options: --json)"),
        (["trade", "buy", "BTC/USDT", "1", "--prise", "5"], "No such option: --prise (Possible options: --price)"),
        (["deposit", "USDT", "1", "-x"], "No such option: -x"),
    ],
)
def test_a_misspelt_option_is_still_named(funded: Wallet, args: list[str], message: str) -> None:
    result = funded.run(*args, now=LATER)
    assert (result.code, result.out, result.err) == (2, "", f"error: {message}\n")


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        # Decimal("0.0000001") prints as 1E-7 and Decimal("0.00000010") as 1.0E-7: the error quotes the text.
        ("0.0000001", "quantity 0.0000001 is below the pair's step size 0.00001"),
        ("0.00000010", "quantity 0.00000010 is below the pair's step size 0.00001"),
    ],
)
def test_an_error_quotes_the_quantity_as_typed(funded: Wallet, quantity: str, message: str) -> None:
    result = funded.run("trade", "buy", "BTC/USDT", quantity, now=LATER)
    assert (result.code, result.err) == (2, f"error: {message}\n")


def test_an_error_quotes_a_tiny_tick_as_a_plain_number(funded: Wallet) -> None:
    funded.with_config('[pairs."BTC/USDT"]\ntick_size = "0.0000002"\n')
    funded.ok("config", "apply", str(funded.config), "--yes", now=LATER)
    result = funded.run("price", "set", "BTC/USDT", "0.0000003", now=LATER)
    # 0.0000003 / 0.0000002 = 1.5 ticks; Decimal would print the tick as 2E-7.
    assert (result.code, result.err) == (2, "error: price 0.0000003 is not on the tick size 0.0000002\n")


def test_a_very_long_typed_amount_is_shortened_in_the_error(funded: Wallet) -> None:
    result = funded.run("deposit", "USDT", "1" * 5000, now=LATER)
    assert result.code == 2
    # 40 characters, then "…"
    assert result.err == f"error: amount must not exceed 10^15, got '{'1' * 40}…'\n"
