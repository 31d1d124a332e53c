"""What each command shows: prices, status, history, accounts; JSON for scripts and text for people."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.conftest import Wallet, asset_row

CSV_HEADER = ["tranId", "time", "kind", "wallet", "asset", "field", "amount", "memo"]


def by_wallet(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {document["wallet"]: document for document in documents}


# --- price set / show ------------------------------------------------------------------------------------


def test_price_show_lists_the_config_prices_with_no_time(wallet: Wallet) -> None:
    wallet.ok("accrue", now="2026-01-05T09:00:00Z")  # reads never create a wallet (issue 12): a first write does
    prices = {row["pair"]: row for row in wallet.ok("price", "show", now="2026-01-05T10:00:00Z")}
    # config.example.toml: BTC/USDT price = "60000", tick 0.01 → two places
    assert prices["BTC/USDT"]["price"] == "60000.00"
    assert prices["BTC/USDT"]["source"] == "config"
    assert prices["BTC/USDT"]["time"] is None
    assert prices["ETH/USDT"]["price"] == "3000.00"


def test_price_set_records_a_manual_price_with_its_time(wallet: Wallet) -> None:
    result = wallet.ok("price", "set", "BTC/USDT", "61234.5", now="2026-01-05T10:00:00Z")
    assert result["pair"] == "BTC/USDT"
    assert result["price"] == "61234.50"
    assert result["source"] == "manual"
    assert result["time"] == "2026-01-05T10:00:00Z"
    prices = {row["pair"]: row for row in wallet.ok("price", "show", now="2026-01-05T10:01:00Z")}
    assert (prices["BTC/USDT"]["price"], prices["BTC/USDT"]["source"], prices["BTC/USDT"]["time"]) == (
        "61234.50",
        "manual",
        "2026-01-05T10:00:00Z",
    )
    # the other pairs keep their config price
    assert (prices["ETH/USDT"]["price"], prices["ETH/USDT"]["source"]) == ("3000.00", "config")


def test_price_set_at_records_the_given_time(wallet: Wallet) -> None:
    result = wallet.ok("price", "set", "BTCUSDT", "59000", "--at", "2026-01-05T09:30:00Z", now="2026-01-05T10:00:00Z")
    assert result["pair"] == "BTC/USDT"  # the alias BTCUSDT
    assert result["time"] == "2026-01-05T09:30:00Z"
    prices = {row["pair"]: row for row in wallet.ok("price", "show", now="2026-01-05T10:01:00Z")}
    assert prices["BTC/USDT"]["time"] == "2026-01-05T09:30:00Z"


def test_price_set_off_the_tick_is_a_usage_error(wallet: Wallet) -> None:
    # BTC/USDT tick is 0.01; 60000.005 is between ticks
    result = wallet.run("price", "set", "BTC/USDT", "60000.005", now="2026-01-05T10:00:00Z")
    assert result.code == 2
    assert result.err.startswith("error:")


def test_a_later_price_replaces_the_earlier_one(wallet: Wallet) -> None:
    wallet.ok("price", "set", "ETH/USDT", "3100", now="2026-01-05T10:00:00Z")
    wallet.ok("price", "set", "ETH/USDT", "3050.25", now="2026-01-05T11:00:00Z")
    prices = {row["pair"]: row for row in wallet.ok("price", "show", now="2026-01-05T11:01:00Z")}
    assert (prices["ETH/USDT"]["price"], prices["ETH/USDT"]["time"]) == ("3050.25", "2026-01-05T11:00:00Z")


def test_price_show_for_people_has_the_pair_price_and_source(wallet: Wallet) -> None:
    wallet.ok("price", "set", "BTC/USDT", "61234.5", now="2026-01-05T10:00:00Z")
    result = wallet.run("price", "show", now="2026-01-05T10:01:00Z")
    assert result.code == 0
    assert "BTC/USDT" in result.out
    assert "61234.50" in result.out
    assert "manual" in result.out
    assert "config" in result.out
    # the time, to the second (a table may write it "2026-01-05 10:00:00")
    assert "2026-01-05" in result.out and "10:00:00" in result.out


def test_price_set_moves_the_valuation(wallet: Wallet) -> None:
    wallet.ok("deposit", "BTC", "0.5", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "BTC", "0.5", "--yes", now="2026-01-05T10:01:00Z")
    # 0.5 × 60000 = 30000
    assert wallet.ok("status", now="2026-01-05T10:02:00Z")["totalAssetValue"] == "30000.00000000"
    wallet.ok("price", "set", "BTC/USDT", "50000", now="2026-01-05T10:03:00Z")
    # 0.5 × 50000 = 25000
    assert wallet.ok("status", now="2026-01-05T10:04:00Z")["totalAssetValue"] == "25000.00000000"


# --- status ----------------------------------------------------------------------------------------------


def test_status_json_of_cross_with_1000_usdt_has_every_field_worked_out(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "USDT", "1000", "--yes", now="2026-01-05T10:01:00Z")
    status = wallet.ok("status", now="2026-01-05T10:02:00Z")
    assert status["account"] == "main"
    assert status["wallet"] == "cross"
    assert status["mode"] == "cross-3x"
    assert status["marginLevel"] == "999"  # no liability
    assert status["collateralMarginLevel"] == "999"
    assert status["marginLevelStatus"] == "EXCESSIVE"
    assert status["marginCallLevel"] == "1.3"
    assert status["liquidationLevel"] == "1.1"
    assert status["valuationAsset"] == "USDT"
    # 1000 USDT × 1 = 1000; no liability; net 1000 − 0 = 1000
    assert status["totalAssetValue"] == "1000.00000000"
    assert status["totalLiabilityValue"] == "0.00000000"
    assert status["totalNetAssetValue"] == "1000.00000000"
    # BTC at the config's 60000: 1000 / 60000 = 0.0166666… → 0.01666666 rounded down to 8 places
    assert status["totalAssetOfBtc"] == "0.01666666"
    assert status["totalLiabilityOfBtc"] == "0.00000000"
    assert status["totalNetAssetOfBtc"] == "0.01666666"
    # no liability: all of the free 1000 may leave
    assert status["maxTransferable"]["USDT"] == "1000.00000000"
    assert status["agreementAcceptedAt"] == "2026-01-05T10:01:00Z"
    assert status["coolingOffUntil"] is None

    usdt = asset_row(status, "USDT")
    assert set(usdt) >= {"asset", "free", "locked", "borrowed", "interest", "netAsset", "maxBorrowable"}
    assert usdt["free"] == "1000.00000000"
    assert usdt["locked"] == "0.00000000"
    assert usdt["borrowed"] == "0.00000000"
    assert usdt["interest"] == "0.00000000"
    # netAsset = 1000 + 0 − 0 − 0 = 1000
    assert usdt["netAsset"] == "1000.00000000"
    # max borrowable = (L − 1) × net collateral − liability = (3 − 1) × 1000 − 0 = 2000 USDT
    assert usdt["maxBorrowable"] == "2000.00000000"
    # in BTC: 2000 / 60000 = 0.0333333… → 0.03333333 (rounded down)
    btc = asset_row(status, "BTC")
    assert btc["free"] == "0.00000000"
    assert btc["maxBorrowable"] == "0.03333333"
    # in ETH at 3000: 2000 / 3000 = 0.666666… → 0.66666666
    assert asset_row(status, "ETH")["maxBorrowable"] == "0.66666666"


def test_status_json_values_a_mixed_cross_wallet(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now="2026-01-05T10:00:00Z")
    wallet.ok("deposit", "BTC", "0.5", now="2026-01-05T10:00:01Z")
    wallet.ok("transfer", "USDT", "1000", "--yes", now="2026-01-05T10:01:00Z")
    wallet.ok("transfer", "BTC", "0.5", now="2026-01-05T10:01:01Z")
    wallet.ok("price", "set", "BTC/USDT", "50000", now="2026-01-05T10:02:00Z")
    status = wallet.ok("status", now="2026-01-05T10:03:00Z")
    # 1000 + 0.5 × 50000 = 1000 + 25000 = 26000
    assert status["totalAssetValue"] == "26000.00000000"
    assert status["totalNetAssetValue"] == "26000.00000000"
    # 26000 / 50000 = 0.52
    assert status["totalAssetOfBtc"] == "0.52000000"
    # (3 − 1) × 26000 = 52000 USDT; in BTC 52000 / 50000 = 1.04
    assert asset_row(status, "USDT")["maxBorrowable"] == "52000.00000000"
    assert asset_row(status, "BTC")["maxBorrowable"] == "1.04000000"
    assert asset_row(status, "BTC")["netAsset"] == "0.50000000"
    assert status["maxTransferable"] == {"USDT": "1000.00000000", "BTC": "0.50000000"}


def test_status_of_a_fresh_wallet_is_all_zero_and_excessive(wallet: Wallet) -> None:
    wallet.ok("accrue", now="2026-01-05T09:00:00Z")  # reads never create a wallet (issue 12): a first write does
    status = wallet.ok("status", now="2026-01-05T10:00:00Z")
    assert status["account"] == "main"
    assert status["marginLevelStatus"] == "EXCESSIVE"
    assert status["totalAssetValue"] == "0.00000000"
    assert status["agreementAcceptedAt"] is None
    assert asset_row(status, "USDT")["free"] == "0.00000000"
    # nothing to borrow against: (3 − 1) × 0 = 0
    assert asset_row(status, "USDT")["maxBorrowable"] == "0.00000000"


def test_status_isolated_shows_the_pairs_wallet_with_its_own_rules(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "USDT", "100", "--to", "BTC/USDT", "--yes", now="2026-01-05T10:01:00Z")
    status = wallet.ok("status", "--isolated", "BTC/USDT", now="2026-01-05T10:02:00Z")
    assert status["wallet"] == "BTC/USDT"
    # config.example.toml: [isolated."BTC/USDT"] leverage 10, margin call 1.08, liquidation 1.05
    assert status["mode"] == "isolated-10x"
    assert status["marginCallLevel"] == "1.08"
    assert status["liquidationLevel"] == "1.05"
    assert sorted(row["asset"] for row in status["userAssets"]) == ["BTC", "USDT"]
    # (10 − 1) × 100 = 900 USDT; in BTC 900 / 60000 = 0.015
    assert asset_row(status, "USDT")["maxBorrowable"] == "900.00000000"
    assert asset_row(status, "BTC")["maxBorrowable"] == "0.01500000"


def test_status_all_lists_spot_and_cross(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "USDT", "400", "--yes", now="2026-01-05T10:01:00Z")
    documents = wallet.ok("status", "--all", now="2026-01-05T10:02:00Z")
    assert [document["wallet"] for document in documents] == ["spot", "cross"]
    wallets = by_wallet(documents)
    # spot 1000 − 400 = 600; cross 400
    assert asset_row(wallets["spot"], "USDT")["free"] == "600.00000000"
    assert wallets["spot"]["totalAssetValue"] == "600.00000000"
    assert asset_row(wallets["cross"], "USDT")["free"] == "400.00000000"
    # 400 / 60000 = 0.00666666…
    assert wallets["cross"]["totalAssetOfBtc"] == "0.00666666"
    assert wallets["cross"]["mode"] == "cross-3x"


def test_status_all_leaves_out_empty_wallets(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "10", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "USDT", "10", "--yes", now="2026-01-05T10:01:00Z")
    # spot 10 − 10 = 0: only cross holds anything
    assert [d["wallet"] for d in wallet.ok("status", "--all", now="2026-01-05T10:02:00Z")] == ["cross"]
    assert wallet.ok("status", "--all", now="2026-01-05T10:02:00Z")[0]["account"] == "main"


def test_status_for_people_shows_the_key_numbers(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "USDT", "1000", "--yes", now="2026-01-05T10:01:00Z")
    result = wallet.run("status", now="2026-01-05T10:02:00Z")
    assert result.code == 0
    assert "USDT" in result.out
    assert "1000.00000000" in result.out  # free, net asset and total value
    assert "2000.00000000" in result.out  # max borrowable (3 − 1) × 1000
    assert "0.01666666" in result.out  # 1000 / 60000 in BTC
    assert "EXCESSIVE" in result.out
    assert "1.3" in result.out and "1.1" in result.out


def test_status_all_for_people_names_both_wallets(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "USDT", "400", "--yes", now="2026-01-05T10:01:00Z")
    result = wallet.run("status", "--all", now="2026-01-05T10:02:00Z")
    assert result.code == 0
    assert "spot" in result.out and "cross" in result.out
    assert "600.00000000" in result.out and "400.00000000" in result.out


# --- history ---------------------------------------------------------------------------------------------


def four_entries(wallet: Wallet) -> list[int]:
    """deposit 10:00, deposit 11:00, withdraw 12:00, transfer 13:00; returns their tranIds in that order."""
    return [
        wallet.ok("deposit", "USDT", "1000", now="2026-01-05T10:00:00Z")["tranId"],
        wallet.ok("deposit", "BTC", "0.5", now="2026-01-05T11:00:00Z")["tranId"],
        wallet.ok("withdraw", "USDT", "100", now="2026-01-05T12:00:00Z")["tranId"],
        wallet.ok("transfer", "USDT", "300", "--yes", now="2026-01-05T13:00:00Z")["tranId"],
    ]


def test_history_lists_the_journal_newest_first(wallet: Wallet) -> None:
    ids = four_entries(wallet)
    entries = wallet.ok("history", now="2026-01-05T14:00:00Z")
    assert [entry["tranId"] for entry in entries] == ids[::-1]
    assert [entry["kind"] for entry in entries] == ["transfer", "withdraw", "deposit", "deposit"]
    assert [entry["time"] for entry in entries] == [
        "2026-01-05T13:00:00Z",
        "2026-01-05T12:00:00Z",
        "2026-01-05T11:00:00Z",
        "2026-01-05T10:00:00Z",
    ]
    assert entries[2]["changes"] == [{"wallet": "spot", "asset": "BTC", "field": "free", "amount": "0.50000000"}]


def test_history_limit_keeps_the_newest(wallet: Wallet) -> None:
    ids = four_entries(wallet)
    entries = wallet.ok("history", "--limit", "2", now="2026-01-05T14:00:00Z")
    assert [entry["tranId"] for entry in entries] == [ids[3], ids[2]]


def test_history_kind_filters_by_kind(wallet: Wallet) -> None:
    ids = four_entries(wallet)
    entries = wallet.ok("history", "--kind", "deposit", now="2026-01-05T14:00:00Z")
    assert [entry["tranId"] for entry in entries] == [ids[1], ids[0]]
    assert wallet.ok("history", "--kind", "borrow", now="2026-01-05T14:00:00Z") == []


def test_history_since_keeps_entries_at_or_after_the_time(wallet: Wallet) -> None:
    ids = four_entries(wallet)
    entries = wallet.ok("history", "--since", "2026-01-05T12:00:00Z", now="2026-01-05T14:00:00Z")
    # 12:00 (withdraw, inclusive) and 13:00 (transfer)
    assert [entry["tranId"] for entry in entries] == [ids[3], ids[2]]
    combined = wallet.ok("history", "--since", "2026-01-05T10:30:00Z", "--kind", "deposit", now="2026-01-05T14:00:00Z")
    assert [entry["tranId"] for entry in combined] == [ids[1]]


def test_history_csv_has_one_row_per_change(wallet: Wallet) -> None:
    ids = four_entries(wallet)
    result = wallet.run("history", "--csv", now="2026-01-05T14:00:00Z")
    assert result.code == 0
    reader = csv.reader(io.StringIO(result.out))
    header = next(reader)
    assert header == CSV_HEADER
    rows = [dict(zip(header, row, strict=True)) for row in reader]
    # transfer: 2 changes (spot −300, cross +300); withdraw 1; deposits 1 each → 5 rows
    assert len(rows) == 5
    transfer_rows = [row for row in rows if row["tranId"] == str(ids[3])]
    assert sorted((row["wallet"], row["amount"]) for row in transfer_rows) == [
        ("cross", "300.00000000"),
        ("spot", "-300.00000000"),
    ]
    withdraw_row = next(row for row in rows if row["kind"] == "withdraw")
    assert withdraw_row == {
        "tranId": str(ids[2]),
        "time": "2026-01-05T12:00:00Z",
        "kind": "withdraw",
        "wallet": "spot",
        "asset": "USDT",
        "field": "free",
        "amount": "-100.00000000",
        "memo": "",
    }


def test_history_csv_respects_the_filters(wallet: Wallet) -> None:
    four_entries(wallet)
    result = wallet.run("history", "--csv", "--kind", "deposit", now="2026-01-05T14:00:00Z")
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert [(row["asset"], row["amount"]) for row in rows] == [("BTC", "0.50000000"), ("USDT", "1000.00000000")]


def test_history_for_people_shows_kinds_and_amounts(wallet: Wallet) -> None:
    four_entries(wallet)
    result = wallet.run("history", now="2026-01-05T14:00:00Z")
    assert result.code == 0
    for text in ("transfer", "withdraw", "deposit", "300.00000000", "100.00000000", "1000.00000000", "0.50000000"):
        assert text in result.out


def test_history_of_a_fresh_wallet_is_empty(wallet: Wallet) -> None:
    wallet.ok("accrue", now="2026-01-05T09:00:00Z")  # reads never create a wallet (issue 12): a first write does
    assert wallet.ok("history", now="2026-01-05T10:00:00Z") == []


# --- accounts -------------------------------------------------------------------------------------------


def test_accounts_lists_main_on_a_fresh_wallet(wallet: Wallet) -> None:
    wallet.ok("accrue", now="2026-01-05T09:00:00Z")  # reads never create a wallet (issue 12): a first write does
    names = [account["name"] for account in wallet.ok("accounts", now="2026-01-05T10:00:00Z")]
    assert names == ["main"]


def test_accounts_create_adds_an_account(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1", now="2026-01-05T10:00:00Z")
    created = wallet.ok("accounts", "create", "bob", now="2026-01-05T10:01:00Z")
    assert created["name"] == "bob"
    accounts = {account["name"]: account for account in wallet.ok("accounts", now="2026-01-05T10:02:00Z")}
    assert sorted(accounts) == ["bob", "main"]
    assert accounts["bob"]["createdAt"] == "2026-01-05T10:01:00Z"
    # system accounts are never listed
    assert "external" not in accounts and "lending-pool" not in accounts


def test_accounts_create_for_people_and_accounts_table(wallet: Wallet) -> None:
    result = wallet.run("accounts", "create", "carol-2", now="2026-01-05T10:00:00Z")
    assert result.code == 0
    assert "carol-2" in result.out
    listing = wallet.run("accounts", now="2026-01-05T10:01:00Z")
    assert listing.code == 0
    assert "carol-2" in listing.out and "main" in listing.out


def test_accounts_create_with_a_bad_name_is_a_usage_error(wallet: Wallet) -> None:
    for name in ("Bob", "has space", "x" * 33, "a/b"):
        result = wallet.run("accounts", "create", name, "--json", now="2026-01-05T10:00:00Z")
        assert result.code == 2, (name, result)
        assert result.out == ""
    # Bad input changes nothing: not even a wallet is created.
    assert wallet.run("accounts", "--json", now="2026-01-05T10:01:00Z").error()["code"] == "no_wallet"


def test_accounts_create_twice_is_refused_as_account_exists(wallet: Wallet) -> None:
    wallet.ok("accounts", "create", "bob", now="2026-01-05T10:00:00Z")
    result = wallet.run("accounts", "create", "bob", "--json", now="2026-01-05T10:01:00Z")
    assert result.code == 3
    assert result.error()["code"] == "account_exists"


def test_accounts_create_a_system_account_name_is_refused(wallet: Wallet) -> None:
    wallet.ok("accrue", now="2026-01-05T10:00:00Z")  # a first write creates the wallet and seeds the system accounts
    result = wallet.run("accounts", "create", "external", "--json", now="2026-01-05T10:01:00Z")
    assert result.code in (2, 3)
    assert "Traceback" not in result.err


def test_accounts_are_isolated_from_each_other(wallet: Wallet) -> None:
    wallet.ok("accounts", "create", "bob", now="2026-01-05T10:00:00Z")
    wallet.ok("deposit", "USDT", "500", now="2026-01-05T10:01:00Z", account="bob")
    wallet.ok("deposit", "USDT", "7", now="2026-01-05T10:02:00Z")
    main_spot = by_wallet(wallet.ok("status", "--all", now="2026-01-05T10:03:00Z"))["spot"]
    bob_spot = by_wallet(wallet.ok("status", "--all", now="2026-01-05T10:03:00Z", account="bob"))["spot"]
    # main sees only its 7, bob only his 500
    assert asset_row(main_spot, "USDT")["free"] == "7.00000000"
    assert asset_row(bob_spot, "USDT")["free"] == "500.00000000"
    assert bob_spot["account"] == "bob"
    main_history = wallet.ok("history", now="2026-01-05T10:04:00Z")
    assert [entry["changes"][0]["amount"] for entry in main_history] == ["7.00000000"]
    bob_history = wallet.ok("history", now="2026-01-05T10:04:00Z", account="bob")
    assert [entry["changes"][0]["amount"] for entry in bob_history] == ["500.00000000"]


def test_a_write_to_an_unknown_account_is_a_usage_error(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1", now="2026-01-05T10:00:00Z")
    result = wallet.run("deposit", "USDT", "1", "--json", now="2026-01-05T10:01:00Z", account="dave")
    assert result.code == 2
    assert result.error()["code"] == "unknown_account"
    assert [account["name"] for account in wallet.ok("accounts", now="2026-01-05T10:02:00Z")] == ["main"]


def test_a_system_account_cannot_be_used_as_a_profile(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1", now="2026-01-05T10:00:00Z")
    result = wallet.run("withdraw", "USDT", "1", "--json", now="2026-01-05T10:01:00Z", account="lending-pool")
    assert result.code == 2
    assert result.error()["code"] == "unknown_account"


def test_account_from_the_environment(wallet: Wallet, monkeypatch: Any) -> None:
    wallet.ok("accounts", "create", "bob", now="2026-01-05T10:00:00Z")
    monkeypatch.setenv("MARGINCTL_ACCOUNT", "bob")
    result = wallet.ok("deposit", "USDT", "3", now="2026-01-05T10:01:00Z")
    assert result["account"] == "bob"


# --- human outputs of the money commands ----------------------------------------------------------------


def test_deposit_withdraw_transfer_for_people_show_the_amounts(wallet: Wallet) -> None:
    deposit = wallet.run("deposit", "USDT", "1000", now="2026-01-05T10:00:00Z")
    assert deposit.code == 0
    assert "1000.00000000" in deposit.out and "USDT" in deposit.out
    withdraw = wallet.run("withdraw", "USDT", "250", now="2026-01-05T10:01:00Z")
    assert withdraw.code == 0
    # 1000 − 250 = 750 left
    assert "250.00000000" in withdraw.out and "750.00000000" in withdraw.out
    transfer = wallet.run("transfer", "USDT", "50", "--yes", now="2026-01-05T10:02:00Z")
    assert transfer.code == 0
    assert "50.00000000" in transfer.out and "spot" in transfer.out and "cross" in transfer.out
    assert deposit.err == withdraw.err == transfer.err == ""


def test_json_output_is_one_document_on_stdout(wallet: Wallet) -> None:
    import json

    result = wallet.run("deposit", "USDT", "1", "--json", now="2026-01-05T10:00:00Z")
    assert result.code == 0
    assert result.err == ""
    document = json.loads(result.out)
    # amounts are strings, never numbers
    assert isinstance(document["amount"], str)
    assert isinstance(document["free"], str)


def test_borrow_max_with_nothing_borrowable_says_so(wallet: Wallet) -> None:
    """No collateral in cross: max borrowable = (3 − 1) × 0 − 0 = 0, so `max` names that, not '0 exceeds 0'."""
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:00Z")
    result = wallet.run("borrow", "USDT", "max", "--yes", "--json", now="2026-01-05T10:01:00Z")
    assert (result.code, result.error()) == (
        3,
        {
            "code": "exceeds_max_borrowable",
            "message": "nothing to borrow: the max borrowable USDT in cross is 0; transfer collateral in first",
        },
    )
