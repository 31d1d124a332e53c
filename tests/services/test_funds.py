"""deposit, withdraw and transfer: their effect on balances, on `history`, and the rules that refuse them."""

from __future__ import annotations

from typing import Any

from tests.conftest import Result, Wallet, run_cli


def free_balances(wallet: Wallet, now: str, account: str | None = None) -> dict[tuple[str, str], str]:
    """(wallet, asset) → free, for every wallet `status --all` lists."""
    documents = wallet.ok("status", "--all", now=now, account=account)
    return {
        (document["wallet"], row["asset"]): row["free"]
        for document in documents
        for row in document["userAssets"]
        if row["free"] != "0.00000000"
    }


def assert_audit_clean(wallet: Wallet, now: str) -> None:
    report = wallet.ok("audit", now=now)
    assert report["ok"] is True, report["violations"]
    assert report["violations"] == []


def run_on_terminal(wallet: Wallet, *args: str, typed: str, now: str) -> Result:
    """Like `wallet.run`, but stdin is a terminal on which the user types `typed`."""
    return run_cli(["--db", str(wallet.path), "--now", now, *args], stdin=typed, terminal=True)


def latest_entry(wallet: Wallet, now: str, account: str | None = None) -> dict[str, Any]:
    entries = wallet.ok("history", "--limit", "1", now=now, account=account)
    assert len(entries) == 1
    return dict(entries[0])


# --- deposit and withdraw -------------------------------------------------------------------------


def test_deposit_credits_spot_and_is_a_deposit_entry_in_history(wallet: Wallet) -> None:
    result = wallet.ok("deposit", "USDT", "1000", now="2026-01-05T10:00:00Z")
    # 0 + 1000 = 1000, shown at USDT's 8 places
    assert result["kind"] == "deposit"
    assert result["asset"] == "USDT"
    assert result["amount"] == "1000.00000000"
    assert result["free"] == "1000.00000000"
    assert result["wallet"] == "spot"
    assert result["time"] == "2026-01-05T10:00:00Z"
    assert free_balances(wallet, "2026-01-05T10:00:01Z") == {("spot", "USDT"): "1000.00000000"}

    entry = latest_entry(wallet, "2026-01-05T10:00:02Z")
    assert entry["tranId"] == result["tranId"]
    assert entry["kind"] == "deposit"
    assert entry["time"] == "2026-01-05T10:00:00Z"
    assert entry["changes"] == [{"wallet": "spot", "asset": "USDT", "field": "free", "amount": "1000.00000000"}]
    assert_audit_clean(wallet, "2026-01-05T10:00:03Z")


def test_two_deposits_add_up_exactly(wallet: Wallet) -> None:
    wallet.ok("deposit", "BTC", "0.12345678", now="2026-01-05T10:00:00Z")
    second = wallet.ok("deposit", "BTC", "0.00000001", now="2026-01-05T10:01:00Z")
    # 0.12345678 + 0.00000001 = 0.12345679
    assert second["free"] == "0.12345679"
    assert free_balances(wallet, "2026-01-05T10:02:00Z") == {("spot", "BTC"): "0.12345679"}
    assert_audit_clean(wallet, "2026-01-05T10:03:00Z")


def test_withdraw_debits_spot_and_is_a_withdraw_entry_in_history(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now="2026-01-05T10:00:00Z")
    result = wallet.ok("withdraw", "USDT", "250.5", now="2026-01-05T11:00:00Z")
    # 1000 − 250.5 = 749.5
    assert result["kind"] == "withdraw"
    assert result["amount"] == "250.50000000"
    assert result["free"] == "749.50000000"
    assert free_balances(wallet, "2026-01-05T11:00:01Z") == {("spot", "USDT"): "749.50000000"}

    entry = latest_entry(wallet, "2026-01-05T11:00:02Z")
    assert entry["tranId"] == result["tranId"]
    assert entry["kind"] == "withdraw"
    assert entry["changes"] == [{"wallet": "spot", "asset": "USDT", "field": "free", "amount": "-250.50000000"}]
    assert_audit_clean(wallet, "2026-01-05T11:00:03Z")


def test_withdraw_of_everything_leaves_spot_empty(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "10", now="2026-01-05T10:00:00Z")
    result = wallet.ok("withdraw", "USDT", "10", now="2026-01-05T10:01:00Z")
    # 10 − 10 = 0
    assert result["free"] == "0.00000000"
    assert free_balances(wallet, "2026-01-05T10:02:00Z") == {}
    assert_audit_clean(wallet, "2026-01-05T10:03:00Z")


def test_withdraw_more_than_free_is_refused_with_insufficient_balance(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:00Z")
    # 100.00000001 > 100 free
    result = wallet.run("withdraw", "USDT", "100.00000001", "--json", now="2026-01-05T10:01:00Z")
    assert result.code == 3
    assert result.error()["code"] == "insufficient_balance"
    assert result.out == ""
    assert free_balances(wallet, "2026-01-05T10:02:00Z") == {("spot", "USDT"): "100.00000000"}
    assert [entry["kind"] for entry in wallet.ok("history", now="2026-01-05T10:03:00Z")] == ["deposit"]
    assert_audit_clean(wallet, "2026-01-05T10:04:00Z")


def test_withdraw_from_an_empty_wallet_is_refused(wallet: Wallet) -> None:
    result = wallet.run("withdraw", "BTC", "1", "--json", now="2026-01-05T10:00:00Z")
    assert result.code == 3
    assert result.error()["code"] == "insufficient_balance"
    assert_audit_clean(wallet, "2026-01-05T10:01:00Z")


# --- transfer ------------------------------------------------------------------------------------


def test_transfer_moves_free_funds_from_spot_to_cross_and_history_shows_both_sides(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now="2026-01-05T10:00:00Z")
    result = wallet.ok("transfer", "USDT", "400", "--yes", now="2026-01-05T10:05:00Z")
    assert result["kind"] == "transfer"
    assert result["amount"] == "400.00000000"
    assert (result["from"], result["to"]) == ("spot", "cross")  # the defaults
    # spot 1000 − 400 = 600, cross 0 + 400 = 400
    assert free_balances(wallet, "2026-01-05T10:06:00Z") == {
        ("spot", "USDT"): "600.00000000",
        ("cross", "USDT"): "400.00000000",
    }
    entry = latest_entry(wallet, "2026-01-05T10:07:00Z")
    assert entry["tranId"] == result["tranId"]
    assert entry["kind"] == "transfer"
    assert sorted((change["wallet"], change["amount"]) for change in entry["changes"]) == [
        ("cross", "400.00000000"),
        ("spot", "-400.00000000"),
    ]
    assert {(change["asset"], change["field"]) for change in entry["changes"]} == {("USDT", "free")}
    assert_audit_clean(wallet, "2026-01-05T10:08:00Z")


def test_transfer_max_from_spot_moves_the_whole_free_balance(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "123.45678901", now="2026-01-05T10:00:00Z")
    result = wallet.ok("transfer", "USDT", "max", "--yes", now="2026-01-05T10:01:00Z")
    # max out of spot = all of spot's free = 123.45678901
    assert result["amount"] == "123.45678901"
    assert free_balances(wallet, "2026-01-05T10:02:00Z") == {("cross", "USDT"): "123.45678901"}
    assert_audit_clean(wallet, "2026-01-05T10:03:00Z")


def test_transfer_max_from_an_empty_spot_is_refused(wallet: Wallet) -> None:
    wallet.ok("deposit", "BTC", "1", now="2026-01-05T10:00:00Z")
    result = wallet.run("transfer", "USDT", "max", "--yes", "--json", now="2026-01-05T10:01:00Z")
    # spot holds 0 USDT: there is nothing to move
    assert result.code == 3
    assert result.error()["code"] == "insufficient_balance"
    assert_audit_clean(wallet, "2026-01-05T10:02:00Z")


def test_transfer_more_than_free_is_refused_with_insufficient_balance(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "50", now="2026-01-05T10:00:00Z")
    # 50.5 > 50 free in spot
    result = wallet.run("transfer", "USDT", "50.5", "--yes", "--json", now="2026-01-05T10:01:00Z")
    assert result.code == 3
    assert result.error()["code"] == "insufficient_balance"
    assert free_balances(wallet, "2026-01-05T10:02:00Z") == {("spot", "USDT"): "50.00000000"}
    assert_audit_clean(wallet, "2026-01-05T10:03:00Z")


def test_transfer_from_a_wallet_to_itself_is_a_usage_error(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "50", now="2026-01-05T10:00:00Z")
    for source in ("spot", "cross", "BTC/USDT"):
        result = wallet.run(
            "transfer", "USDT", "1", "--from", source, "--to", source, "--yes", now="2026-01-05T10:01:00Z"
        )
        assert result.code == 2, (source, result)
        assert result.err.startswith("error:")
    assert free_balances(wallet, "2026-01-05T10:02:00Z") == {("spot", "USDT"): "50.00000000"}
    assert_audit_clean(wallet, "2026-01-05T10:03:00Z")


def test_isolated_btc_usdt_wallet_accepts_btc_and_usdt(wallet: Wallet) -> None:
    wallet.ok("deposit", "BTC", "1", now="2026-01-05T10:00:00Z")
    wallet.ok("deposit", "USDT", "1000", now="2026-01-05T10:00:01Z")
    btc = wallet.ok("transfer", "BTC", "0.25", "--to", "BTC/USDT", "--yes", now="2026-01-05T10:01:00Z")
    usdt = wallet.ok("transfer", "USDT", "100", "--to", "BTCUSDT", now="2026-01-05T10:02:00Z")
    assert (btc["from"], btc["to"]) == ("spot", "BTC/USDT")
    assert usdt["to"] == "BTC/USDT"  # the alias BTCUSDT names the same wallet
    # spot BTC 1 − 0.25 = 0.75, spot USDT 1000 − 100 = 900
    assert free_balances(wallet, "2026-01-05T10:03:00Z") == {
        ("spot", "BTC"): "0.75000000",
        ("spot", "USDT"): "900.00000000",
        ("BTC/USDT", "BTC"): "0.25000000",
        ("BTC/USDT", "USDT"): "100.00000000",
    }
    isolated = wallet.ok("status", "--isolated", "BTC/USDT", now="2026-01-05T10:04:00Z")
    assert isolated["wallet"] == "BTC/USDT"
    assert sorted(row["asset"] for row in isolated["userAssets"]) == ["BTC", "USDT"]
    assert_audit_clean(wallet, "2026-01-05T10:05:00Z")


def test_isolated_btc_usdt_wallet_refuses_eth_as_a_usage_error(wallet: Wallet) -> None:
    wallet.ok("deposit", "ETH", "2", now="2026-01-05T10:00:00Z")
    result = wallet.run("transfer", "ETH", "1", "--to", "BTC/USDT", "--yes", "--json", now="2026-01-05T10:01:00Z")
    assert result.code == 2
    assert "BTC" in result.error()["message"] and "USDT" in result.error()["message"]
    assert free_balances(wallet, "2026-01-05T10:02:00Z") == {("spot", "ETH"): "2.00000000"}
    assert_audit_clean(wallet, "2026-01-05T10:03:00Z")


def test_transfer_back_out_of_the_isolated_wallet_to_spot(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "300", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "USDT", "300", "--to", "BTC/USDT", "--yes", now="2026-01-05T10:01:00Z")
    wallet.ok("transfer", "USDT", "120", "--from", "BTC/USDT", "--to", "spot", now="2026-01-05T10:02:00Z")
    # isolated 300 − 120 = 180, spot 0 + 120 = 120
    assert free_balances(wallet, "2026-01-05T10:03:00Z") == {
        ("spot", "USDT"): "120.00000000",
        ("BTC/USDT", "USDT"): "180.00000000",
    }
    assert_audit_clean(wallet, "2026-01-05T10:04:00Z")


def test_transfer_between_cross_and_isolated_wallets(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "500", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "USDT", "500", "--yes", now="2026-01-05T10:01:00Z")
    wallet.ok("transfer", "USDT", "200", "--from", "cross", "--to", "BTC/USDT", now="2026-01-05T10:02:00Z")
    # cross 500 − 200 = 300, isolated 0 + 200 = 200
    assert free_balances(wallet, "2026-01-05T10:03:00Z") == {
        ("cross", "USDT"): "300.00000000",
        ("BTC/USDT", "USDT"): "200.00000000",
    }
    assert_audit_clean(wallet, "2026-01-05T10:04:00Z")


# --- the risk agreement -----------------------------------------------------------------------------


def test_first_transfer_into_cross_without_terminal_or_yes_needs_confirmation(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:00Z")
    result = wallet.run("transfer", "USDT", "10", "--json", now="2026-01-05T10:01:00Z")
    assert result.code == 3
    assert result.error()["code"] == "confirmation_required"
    assert result.out == ""
    assert wallet.ok("status", now="2026-01-05T10:02:00Z")["agreementAcceptedAt"] is None
    assert free_balances(wallet, "2026-01-05T10:02:00Z") == {("spot", "USDT"): "100.00000000"}
    assert_audit_clean(wallet, "2026-01-05T10:03:00Z")


def test_first_transfer_into_an_isolated_wallet_also_needs_the_agreement(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:00Z")
    result = wallet.run("transfer", "USDT", "10", "--to", "BTC/USDT", "--json", now="2026-01-05T10:01:00Z")
    assert result.code == 3
    assert result.error()["code"] == "confirmation_required"
    assert free_balances(wallet, "2026-01-05T10:02:00Z") == {("spot", "USDT"): "100.00000000"}


def test_yes_accepts_the_agreement_and_status_shows_when(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "USDT", "10", "--yes", now="2026-01-05T10:01:00Z")
    status = wallet.ok("status", now="2026-01-05T10:02:00Z")
    assert status["agreementAcceptedAt"] == "2026-01-05T10:01:00Z"
    assert_audit_clean(wallet, "2026-01-05T10:03:00Z")


def test_after_the_agreement_later_transfers_into_margin_need_no_yes(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "USDT", "10", "--yes", now="2026-01-05T10:01:00Z")
    wallet.ok("transfer", "USDT", "20", now="2026-01-05T10:02:00Z")
    wallet.ok("transfer", "USDT", "30", "--to", "BTC/USDT", now="2026-01-05T10:03:00Z")
    # spot 100 − 10 − 20 − 30 = 40; cross 10 + 20 = 30; isolated 30
    assert free_balances(wallet, "2026-01-05T10:04:00Z") == {
        ("spot", "USDT"): "40.00000000",
        ("cross", "USDT"): "30.00000000",
        ("BTC/USDT", "USDT"): "30.00000000",
    }
    # the acceptance time stays the first one
    assert wallet.ok("status", now="2026-01-05T10:05:00Z")["agreementAcceptedAt"] == "2026-01-05T10:01:00Z"
    assert_audit_clean(wallet, "2026-01-05T10:06:00Z")


def test_the_agreement_is_per_account(wallet: Wallet) -> None:
    wallet.ok("accounts", "create", "bob", now="2026-01-05T09:00:00Z")
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:00Z")
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:01Z", account="bob")
    wallet.ok("transfer", "USDT", "10", "--yes", now="2026-01-05T10:01:00Z")
    result = wallet.run("transfer", "USDT", "10", "--json", now="2026-01-05T10:02:00Z", account="bob")
    assert result.code == 3
    assert result.error()["code"] == "confirmation_required"
    assert wallet.ok("status", now="2026-01-05T10:03:00Z", account="bob")["agreementAcceptedAt"] is None


def test_typing_i_understand_on_a_terminal_accepts_the_agreement(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:00Z")
    result = run_on_terminal(wallet, "transfer", "USDT", "10", typed="I understand\n", now="2026-01-05T10:01:00Z")
    assert result.code == 0, result
    assert "Transferred 10.00000000 USDT from spot to cross" in result.out
    assert wallet.ok("status", now="2026-01-05T10:02:00Z")["agreementAcceptedAt"] == "2026-01-05T10:01:00Z"
    assert_audit_clean(wallet, "2026-01-05T10:03:00Z")


def test_any_other_answer_on_a_terminal_refuses_the_transfer(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:00Z")
    result = run_on_terminal(wallet, "transfer", "USDT", "10", typed="yes\n", now="2026-01-05T10:01:00Z")
    assert result.code == 3
    assert "Traceback" not in result.err
    assert wallet.ok("status", now="2026-01-05T10:02:00Z")["agreementAcceptedAt"] is None
    assert free_balances(wallet, "2026-01-05T10:02:00Z") == {("spot", "USDT"): "100.00000000"}


def test_transfer_out_of_cross_back_to_spot_without_debt_is_allowed(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "USDT", "400", "--yes", now="2026-01-05T10:01:00Z")
    out = wallet.ok("transfer", "USDT", "150", "--from", "cross", "--to", "spot", now="2026-01-05T10:02:00Z")
    assert (out["from"], out["to"], out["amount"]) == ("cross", "spot", "150.00000000")
    # cross 400 − 150 = 250; spot 600 + 150 = 750
    assert free_balances(wallet, "2026-01-05T10:03:00Z") == {
        ("spot", "USDT"): "750.00000000",
        ("cross", "USDT"): "250.00000000",
    }
    assert_audit_clean(wallet, "2026-01-05T10:04:00Z")


def test_transfer_max_out_of_cross_without_debt_moves_everything(wallet: Wallet) -> None:
    wallet.ok("deposit", "BTC", "0.5", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "BTC", "0.5", "--yes", now="2026-01-05T10:01:00Z")
    result = wallet.ok("transfer", "BTC", "max", "--from", "cross", "--to", "spot", now="2026-01-05T10:02:00Z")
    # no liability: the whole free 0.5 BTC may leave
    assert result["amount"] == "0.50000000"
    assert free_balances(wallet, "2026-01-05T10:03:00Z") == {("spot", "BTC"): "0.50000000"}
    assert_audit_clean(wallet, "2026-01-05T10:04:00Z")


def test_transfer_out_of_cross_more_than_free_is_refused(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "USDT", "40", "--yes", now="2026-01-05T10:01:00Z")
    # 40.01 > 40 free in cross
    result = wallet.run(
        "transfer", "USDT", "40.01", "--from", "cross", "--to", "spot", "--json", now="2026-01-05T10:02:00Z"
    )
    assert result.code == 3
    assert result.error()["code"] == "insufficient_balance"
    assert_audit_clean(wallet, "2026-01-05T10:03:00Z")
