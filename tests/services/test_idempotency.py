"""`--client-id`: a retried command is answered with its first result and never applied twice, and says so
(issue 12, item 11): a note on stderr, and `"replayed": true` in its JSON."""

from __future__ import annotations

import json

from tests.conftest import Wallet
from tests.reliability.support import REPLAY_NOTE, Store


def spot_free(wallet: Wallet, asset: str, now: str, account: str | None = None) -> str:
    documents = wallet.ok("status", "--all", now=now, account=account)
    for document in documents:
        if document["wallet"] == "spot":
            for row in document["userAssets"]:
                if row["asset"] == asset:
                    return str(row["free"])
    return "0.00000000"


def entry_count(wallet: Wallet, now: str, account: str | None = None) -> int:
    return len(wallet.ok("history", "--limit", "1000", now=now, account=account))


def test_same_client_id_twice_returns_the_first_result_and_deposits_once(wallet: Wallet) -> None:
    first = wallet.ok("deposit", "USDT", "100", "--client-id", "pay-1", now="2026-01-05T10:00:00Z")
    second = wallet.ok("deposit", "USDT", "100", "--client-id", "pay-1", now="2026-01-05T10:01:00Z")
    assert second == {**first, "replayed": True}
    assert second["tranId"] == first["tranId"]
    # applied once: 0 + 100 = 100, not 200
    assert first["free"] == "100.00000000"
    assert spot_free(wallet, "USDT", "2026-01-05T10:02:00Z") == "100.00000000"
    assert entry_count(wallet, "2026-01-05T10:02:00Z") == 1
    assert wallet.ok("audit", now="2026-01-05T10:03:00Z")["ok"] is True


def test_retried_withdraw_is_applied_once(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:00Z")
    first = wallet.ok("withdraw", "USDT", "30", "--client-id", "w-1", now="2026-01-05T10:01:00Z")
    second = wallet.ok("withdraw", "USDT", "30", "--client-id", "w-1", now="2026-01-05T10:02:00Z")
    assert second == {**first, "replayed": True}
    # 100 − 30 = 70 once, not 100 − 60 = 40
    assert spot_free(wallet, "USDT", "2026-01-05T10:03:00Z") == "70.00000000"
    assert wallet.ok("audit", now="2026-01-05T10:04:00Z")["ok"] is True


def test_retried_transfer_is_applied_once(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now="2026-01-05T10:00:00Z")
    first = wallet.ok("transfer", "USDT", "25", "--yes", "--client-id", "t-1", now="2026-01-05T10:01:00Z")
    second = wallet.ok("transfer", "USDT", "25", "--yes", "--client-id", "t-1", now="2026-01-05T10:02:00Z")
    assert second["tranId"] == first["tranId"]
    assert second == {**first, "replayed": True}
    # spot 100 − 25 = 75 once
    assert spot_free(wallet, "USDT", "2026-01-05T10:03:00Z") == "75.00000000"
    cross = wallet.ok("status", now="2026-01-05T10:03:00Z")
    assert next(row["free"] for row in cross["userAssets"] if row["asset"] == "USDT") == "25.00000000"
    assert wallet.ok("audit", now="2026-01-05T10:04:00Z")["ok"] is True


def test_retry_in_human_mode_prints_the_same_line_and_a_note_that_it_was_a_replay(wallet: Wallet) -> None:
    first = wallet.run("deposit", "BTC", "0.5", "--client-id", "h-1", now="2026-01-05T10:00:00Z")
    second = wallet.run("deposit", "BTC", "0.5", "--client-id", "h-1", now="2026-01-05T10:01:00Z")
    assert first.code == second.code == 0
    assert second.out == first.out
    assert "0.50000000" in first.out
    assert first.err == ""
    assert second.err == REPLAY_NOTE.format("h-1")


def test_a_replay_says_so_on_stderr_and_in_json_and_the_stored_result_is_unchanged(wallet: Wallet) -> None:
    first = wallet.run("deposit", "USDT", "100", "--client-id", "pay-1", "--json", now="2026-01-05T10:00:00Z")
    assert first.code == 0 and first.err == ""
    assert "replayed" not in first.json()
    second = wallet.run("deposit", "USDT", "100", "--client-id", "pay-1", "--json", now="2026-01-05T10:01:00Z")
    assert second.code == 0
    assert second.err == REPLAY_NOTE.format("pay-1")
    assert second.json() == {**first.json(), "replayed": True}
    # the database keeps the first run's own result, without the marker
    ((_, stored),) = Store(wallet.target).requests().values()
    assert json.loads(stored) == first.json()
    # 0 + 100 = 100 once
    assert spot_free(wallet, "USDT", "2026-01-05T10:02:00Z") == "100.00000000"


def test_a_replayed_cancel_marks_each_order_it_returns(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now="2026-01-05T10:00:00Z")
    wallet.ok("transfer", "USDT", "1000", "--yes", now="2026-01-05T10:01:00Z")
    order = wallet.ok("trade", "buy", "BTC/USDT", "0.01", "--price", "50000", now="2026-01-05T10:02:00Z")
    first = wallet.ok("cancel", "--all", "--client-id", "c-1", now="2026-01-05T10:03:00Z")
    assert [row["orderId"] for row in first] == [order["orderId"]]
    again = wallet.run("cancel", "--all", "--client-id", "c-1", "--json", now="2026-01-05T10:04:00Z")
    assert again.code == 0
    assert again.json() == [{**row, "replayed": True} for row in first]
    assert again.err == REPLAY_NOTE.format("c-1")


def test_same_client_id_with_a_different_amount_is_refused_as_reused(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", "--client-id", "pay-1", now="2026-01-05T10:00:00Z")
    result = wallet.run("deposit", "USDT", "200", "--client-id", "pay-1", "--json", now="2026-01-05T10:01:00Z")
    assert result.code == 3
    assert result.error()["code"] == "client_id_reused"
    assert result.out == ""
    assert spot_free(wallet, "USDT", "2026-01-05T10:02:00Z") == "100.00000000"


def test_same_client_id_on_a_different_command_is_refused_as_reused(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", "--client-id", "op-1", now="2026-01-05T10:00:00Z")
    result = wallet.run("withdraw", "USDT", "100", "--client-id", "op-1", "--json", now="2026-01-05T10:01:00Z")
    assert result.code == 3
    assert result.error()["code"] == "client_id_reused"
    # nothing withdrawn: still 100
    assert spot_free(wallet, "USDT", "2026-01-05T10:02:00Z") == "100.00000000"


def test_same_client_id_with_a_different_asset_is_refused_as_reused(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1", "--client-id", "pay-1", now="2026-01-05T10:00:00Z")
    result = wallet.run("deposit", "BTC", "1", "--client-id", "pay-1", "--json", now="2026-01-05T10:01:00Z")
    assert result.code == 3
    assert result.error()["code"] == "client_id_reused"
    assert spot_free(wallet, "BTC", "2026-01-05T10:02:00Z") == "0.00000000"


def test_retry_with_an_earlier_now_still_returns_the_first_result(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "5", now="2026-01-05T09:00:00Z")
    first = wallet.ok("deposit", "USDT", "100", "--client-id", "pay-1", now="2026-01-05T12:00:00Z")
    # 09:00 is before the wallet's last event (12:00); a fresh command would be clock_backwards,
    # a retry is only answered.
    second = wallet.ok("deposit", "USDT", "100", "--client-id", "pay-1", now="2026-01-05T09:30:00Z")
    assert second == {**first, "replayed": True}
    assert second["time"] == "2026-01-05T12:00:00Z"
    # 5 + 100 = 105, once
    assert spot_free(wallet, "USDT", "2026-01-05T12:01:00Z") == "105.00000000"


def test_client_ids_are_per_account(wallet: Wallet) -> None:
    wallet.ok("accounts", "create", "bob", now="2026-01-05T09:00:00Z")
    main_result = wallet.ok("deposit", "USDT", "10", "--client-id", "same", now="2026-01-05T10:00:00Z")
    bob_result = wallet.ok("deposit", "USDT", "10", "--client-id", "same", now="2026-01-05T10:01:00Z", account="bob")
    assert bob_result["tranId"] != main_result["tranId"]
    assert bob_result["account"] == "bob"
    assert spot_free(wallet, "USDT", "2026-01-05T10:02:00Z") == "10.00000000"
    assert spot_free(wallet, "USDT", "2026-01-05T10:02:00Z", account="bob") == "10.00000000"


def test_a_refused_first_attempt_does_not_burn_the_client_id(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "10", now="2026-01-05T10:00:00Z")
    refused = wallet.run("withdraw", "USDT", "20", "--client-id", "w-1", "--json", now="2026-01-05T10:01:00Z")
    assert refused.code == 3
    assert refused.error()["code"] == "insufficient_balance"
    wallet.ok("deposit", "USDT", "10", now="2026-01-05T10:02:00Z")
    # now 10 + 10 = 20 free, so the retry is applied: 20 − 20 = 0
    retried = wallet.ok("withdraw", "USDT", "20", "--client-id", "w-1", now="2026-01-05T10:03:00Z")
    assert retried["free"] == "0.00000000"
    assert wallet.ok("audit", now="2026-01-05T10:04:00Z")["ok"] is True
