"""Bad input: a clear one-line error, exit 2 (usage) or 3 (refused), no traceback, and the wallet unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import Result, Wallet, run_cli

BAD_AMOUNTS = [
    "-1",  # negative: an argument, not an option, so the amount's own error
    "0",  # zero where a positive is needed
    "abc",
    "1e3",  # exponent notation
    "NaN",
    "Infinity",
    "1,000",  # thousands separator
    "0.123456789",  # 9 places, USDT has 8
    "10000000000000000",  # 10^16 > 10^15
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_one_error_line(result: Result) -> None:
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error:"), result.err
    assert "Traceback" not in result.err


def assert_one_json_error(result: Result, code: str | None = None) -> dict[str, str]:
    assert result.out == ""
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    document = json.loads(lines[0])
    assert list(document) == ["error"]
    assert set(document["error"]) == {"code", "message"}
    assert document["error"]["message"]
    if code is not None:
        assert document["error"]["code"] == code
    return dict(document["error"])


@pytest.fixture
def funded(wallet: Wallet) -> Wallet:
    """A wallet that exists on disk: main holds 100 USDT in spot."""
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:00Z")
    return wallet


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_bad_deposit_amount_is_a_one_line_usage_error_and_changes_nothing(funded: Wallet, amount: str) -> None:
    before = sha256(funded.path)
    result = funded.run("deposit", "USDT", amount, now="2026-01-05T11:00:00Z")
    assert result.code == 2
    assert_one_error_line(result)
    assert sha256(funded.path) == before


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_bad_deposit_amount_with_json_is_one_json_error(funded: Wallet, amount: str) -> None:
    before = sha256(funded.path)
    result = funded.run("deposit", "USDT", amount, "--json", now="2026-01-05T11:00:00Z")
    assert result.code == 2
    assert_one_json_error(result)
    assert sha256(funded.path) == before


@pytest.mark.parametrize("amount", ["0", "abc", "1e3", "NaN", "1,000", "0.123456789"])
def test_bad_amount_is_refused_by_withdraw_and_transfer_too(funded: Wallet, amount: str) -> None:
    before = sha256(funded.path)
    for command in (["withdraw", "USDT", amount], ["transfer", "USDT", amount, "--yes"]):
        result = funded.run(*command, now="2026-01-05T11:00:00Z")
        assert result.code == 2, (command, result)
        assert_one_error_line(result)
    assert sha256(funded.path) == before


def test_btc_amount_with_nine_places_is_refused(funded: Wallet) -> None:
    before = sha256(funded.path)
    # BTC has 8 places; 0.000000001 has 9
    result = funded.run("deposit", "BTC", "0.000000001", now="2026-01-05T11:00:00Z")
    assert result.code == 2
    assert_one_error_line(result)
    assert sha256(funded.path) == before


def test_the_largest_amount_allowed_is_10_to_the_15(funded: Wallet) -> None:
    # 10^15 itself is not "more than 10^15"
    result = funded.ok("deposit", "BTC", "1000000000000000", now="2026-01-05T11:00:00Z")
    assert result["free"] == "1000000000000000.00000000"


def test_unknown_asset_is_a_usage_error_listing_the_known_ones(funded: Wallet) -> None:
    before = sha256(funded.path)
    result = funded.run("deposit", "XRP", "1", now="2026-01-05T11:00:00Z")
    assert result.code == 2
    assert_one_error_line(result)
    assert "XRP" in result.err
    for known in ("BTC", "USDT"):
        assert known in result.err
    assert sha256(funded.path) == before


def test_unknown_asset_with_json_has_a_stable_code(funded: Wallet) -> None:
    result = funded.run("withdraw", "XRP", "1", "--json", now="2026-01-05T11:00:00Z")
    assert result.code == 2
    assert assert_one_json_error(result)["code"] == "unknown_asset"


def test_unknown_pair_for_price_set_is_a_usage_error(funded: Wallet) -> None:
    before = sha256(funded.path)
    result = funded.run("price", "set", "XRP/USDT", "1", now="2026-01-05T11:00:00Z")
    assert result.code == 2
    assert_one_error_line(result)
    assert "BTC/USDT" in result.err  # the known pairs are listed
    assert sha256(funded.path) == before
    json_result = funded.run("price", "set", "XRP/USDT", "1", "--json", now="2026-01-05T11:00:00Z")
    assert json_result.code == 2
    assert assert_one_json_error(json_result)["code"] == "unknown_pair"


def test_unknown_wallet_name_for_transfer_is_a_usage_error(funded: Wallet) -> None:
    before = sha256(funded.path)
    for option in ("--to", "--from"):
        result = funded.run("transfer", "USDT", "1", option, "savings", "--yes", now="2026-01-05T11:00:00Z")
        assert result.code == 2, (option, result)
        assert_one_error_line(result)
        assert "savings" in result.err
    json_result = funded.run("transfer", "USDT", "1", "--to", "savings", "--yes", "--json", now="2026-01-05T11:00:00Z")
    assert assert_one_json_error(json_result)["code"] == "unknown_wallet"
    assert sha256(funded.path) == before


def test_from_equal_to_is_a_usage_error(funded: Wallet) -> None:
    before = sha256(funded.path)
    result = funded.run("transfer", "USDT", "1", "--from", "spot", "--to", "spot", "--json", now="2026-01-05T11:00:00Z")
    assert result.code == 2
    assert_one_json_error(result)
    assert sha256(funded.path) == before


def test_insufficient_balance_is_exit_3_with_its_code(funded: Wallet) -> None:
    before = sha256(funded.path)
    # 100.00000001 > 100 free
    result = funded.run("withdraw", "USDT", "100.00000001", "--json", now="2026-01-05T11:00:00Z")
    assert result.code == 3
    assert_one_json_error(result, "insufficient_balance")
    human = funded.run("withdraw", "USDT", "100.00000001", now="2026-01-05T11:00:00Z")
    assert human.code == 3
    assert_one_error_line(human)
    assert sha256(funded.path) == before


def test_config_with_an_unknown_key_is_a_usage_error_naming_the_key(funded: Wallet) -> None:
    funded.with_config('valuation_asset = "USDT"\n[margin]\nleverag = 3\n')
    before = sha256(funded.path)
    result = funded.run("status", now="2026-01-05T11:00:00Z")
    assert result.code == 2
    assert_one_error_line(result)
    assert "leverag" in result.err
    json_result = funded.run("status", "--json", now="2026-01-05T11:00:00Z")
    assert json_result.code == 2
    assert "leverag" in assert_one_json_error(json_result)["message"]
    assert sha256(funded.path) == before


def test_config_with_an_unknown_top_level_key_names_it(funded: Wallet) -> None:
    funded.with_config("colour_scheme = 'dark'\n")
    result = funded.run("deposit", "USDT", "1", now="2026-01-05T11:00:00Z")
    assert result.code == 2
    assert_one_error_line(result)
    assert "colour_scheme" in result.err


def test_config_with_a_malformed_number_is_a_usage_error_naming_the_key(funded: Wallet) -> None:
    funded.with_config('[margin]\nmargin_call_level = "one point three"\n')
    result = funded.run("status", now="2026-01-05T11:00:00Z")
    assert result.code == 2
    assert_one_error_line(result)
    assert "margin_call_level" in result.err


def test_config_with_liquidation_at_or_above_margin_call_is_a_usage_error(funded: Wallet) -> None:
    # liquidation 1.3 ≥ margin call 1.3 is impossible
    funded.with_config('[margin]\nmargin_call_level = "1.3"\nliquidation_level = "1.3"\n')
    result = funded.run("status", now="2026-01-05T11:00:00Z")
    assert result.code == 2
    assert_one_error_line(result)
    assert "liquidation_level" in result.err


def test_missing_config_file_is_a_usage_error(funded: Wallet) -> None:
    result = run_cli(["--db", str(funded.path), "--config", str(funded.path.parent / "nope.toml"), "status"])
    assert result.code == 2
    assert_one_error_line(result)


def test_now_earlier_than_the_last_event_is_refused_as_clock_backwards(funded: Wallet) -> None:
    before = sha256(funded.path)
    # the last event is the deposit at 10:00; 09:59 is earlier
    result = funded.run("deposit", "USDT", "1", "--json", now="2026-01-05T09:59:00Z")
    assert result.code == 2
    assert_one_json_error(result, "clock_backwards")
    human = funded.run("withdraw", "USDT", "1", now="2026-01-05T09:59:00Z")
    assert human.code == 2
    assert_one_error_line(human)
    assert sha256(funded.path) == before


def test_now_equal_to_the_last_event_is_allowed(funded: Wallet) -> None:
    # time that does not run backwards: the same instant is fine. 100 + 1 = 101
    assert funded.ok("deposit", "USDT", "1", now="2026-01-05T10:00:00Z")["free"] == "101.00000000"


def test_price_set_at_a_time_before_the_last_event_is_clock_backwards(funded: Wallet) -> None:
    result = funded.run(
        "price", "set", "BTC/USDT", "50000", "--at", "2026-01-05T09:00:00Z", "--json", now="2026-01-05T11:00:00Z"
    )
    assert result.code == 2
    assert_one_json_error(result, "clock_backwards")


def test_malformed_now_is_a_usage_error(funded: Wallet) -> None:
    before = sha256(funded.path)
    result = funded.run("deposit", "USDT", "1", now="yesterday")
    assert result.code == 2
    assert_one_error_line(result)
    assert sha256(funded.path) == before


def test_unknown_command_and_unknown_option_are_one_line_usage_errors(funded: Wallet) -> None:
    result = funded.run("depositt", "USDT", "1")
    assert result.code == 2
    assert_one_error_line(result)
    option = funded.run("deposit", "USDT", "1", "--frobnicate")
    assert option.code == 2
    assert_one_error_line(option)
    json_option = funded.run("deposit", "USDT", "1", "--frobnicate", "--json")
    assert json_option.code == 2
    assert_one_json_error(json_option)


def test_missing_argument_is_a_one_line_usage_error(funded: Wallet) -> None:
    result = funded.run("deposit", "USDT")
    assert result.code == 2
    assert_one_error_line(result)


def test_unknown_history_kind_is_a_usage_error(funded: Wallet) -> None:
    result = funded.run("history", "--kind", "gift", "--json", now="2026-01-05T11:00:00Z")
    assert result.code == 2
    assert_one_json_error(result)


def test_bad_client_id_is_a_usage_error(funded: Wallet) -> None:
    before = sha256(funded.path)
    result = funded.run("deposit", "USDT", "1", "--client-id", "has space", now="2026-01-05T11:00:00Z")
    assert result.code == 2
    assert_one_error_line(result)
    assert sha256(funded.path) == before
