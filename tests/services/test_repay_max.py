"""`repay ASSET max` and the repay JSON's names (issue 13, items 6 and 9).

Binance's repay record: `amount` repaid in total, `interest` and `principal` the parts of it repaid; what
is still owed is ours: `borrowedLeft`, `interestLeft`. Default config: BTC/USDT 60000, taker fee 0.1 %,
USDT hourly interest 0.00001, all within one clock hour.
"""

from __future__ import annotations

from tests.conftest import Result, Wallet, asset_row

DAY = "2026-01-05"


def at(clock: str) -> str:
    return f"{DAY}T{clock}Z"


def refused(wallet: Wallet, *args: str, now: str) -> Result:
    before = wallet.fingerprint()
    result = wallet.run(*args, "--json", now=now)
    assert result.code == 3, (result.code, result.out, result.err)
    assert wallet.fingerprint() == before, f"{args} changed the wallet file although it was refused"
    return result


def long_with_599_4_usdt_free(wallet: Wallet) -> None:
    """Buy 0.05 BTC with auto-borrow (owes 2000 + 0.02 interest, USDT free 0), then sell 0.01 BTC:
    0.01 × 60000 = 600 − 0.6 fee = 599.4 USDT free."""
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:01:00"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.05", "--side-effect", "auto-borrow", now=at("10:02:00"))
    wallet.ok("trade", "sell", "BTC/USDT", "0.01", now=at("10:03:00"))


def test_repay_max_repays_what_is_free_interest_first(wallet: Wallet) -> None:
    long_with_599_4_usdt_free(wallet)
    result = wallet.ok("repay", "USDT", "max", now=at("10:10:00"))
    # min(free 599.4, owed 2000.02) = 599.4: interest 0.02, then principal 599.4 − 0.02 = 599.38
    assert (result["amount"], result["interest"], result["principal"]) == (
        "599.40000000",
        "0.02000000",
        "599.38000000",
    )
    # left: 2000 − 599.38 = 1400.62 borrowed, no interest
    assert (result["borrowedLeft"], result["interestLeft"]) == ("1400.62000000", "0.00000000")
    assert asset_row(wallet.ok("status", now=at("10:11:00")), "USDT")["free"] == "0.00000000"


def test_repay_max_with_enough_free_repays_the_whole_debt(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:01:00"))
    wallet.ok("borrow", "USDT", "500", "--yes", now=at("10:20:00"))
    result = wallet.ok("repay", "USDT", "max", now=at("10:30:00"))
    # owed 500 + 500 × 0.00001 = 500.005 < free 1500
    assert result["amount"] == "500.00500000"
    assert (result["borrowedLeft"], result["interestLeft"]) == ("0.00000000", "0.00000000")


def test_repay_json_has_no_old_field_names(wallet: Wallet) -> None:
    long_with_599_4_usdt_free(wallet)
    result = wallet.ok("repay", "USDT", "100", now=at("10:10:00"))
    assert "interestRepaid" not in result and "principalRepaid" not in result and "borrowed" not in result
    # 100: interest 0.02, principal 99.98; left 2000 − 99.98 = 1900.02
    assert (result["interest"], result["principal"], result["borrowedLeft"]) == (
        "0.02000000",
        "99.98000000",
        "1900.02000000",
    )


def test_repay_max_with_no_free_balance_is_refused(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:01:00"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.05", "--side-effect", "auto-borrow", now=at("10:02:00"))
    result = refused(wallet, "repay", "USDT", "max", now=at("10:10:00"))
    assert result.error()["code"] == "insufficient_balance"


def test_repay_max_with_nothing_owed_is_refused(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:01:00"))
    result = refused(wallet, "repay", "USDT", "max", now=at("10:10:00"))
    assert result.error()["code"] == "repay_exceeds_debt"


def test_repay_all_with_too_little_free_suggests_max(wallet: Wallet) -> None:
    long_with_599_4_usdt_free(wallet)
    result = refused(wallet, "repay", "USDT", "all", now=at("10:10:00"))
    assert result.error()["code"] == "insufficient_balance"
    # free 599.4 < owed 2000.02
    assert result.error()["message"] == (
        "insufficient USDT in cross: free 599.40000000, repay needs 2000.02000000; "
        "repay what you have with: marginctl repay USDT max"
    )


def test_repay_max_isolated_repays_in_that_wallet(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--to", "BTC/USDT", "--yes", now=at("10:01:00"))
    wallet.ok("borrow", "BTC", "0.001", "--isolated", "BTC/USDT", "--yes", now=at("10:02:00"))
    result = wallet.ok("repay", "BTC", "max", "--isolated", "BTC/USDT", now=at("10:10:00"))
    # owed 0.001 + 0.001 × 0.000002 = 0.000000002 → up to 8 places 0.00000001; free 0.001 < 0.00100001
    assert (result["wallet"], result["amount"], result["interest"], result["principal"]) == (
        "BTC/USDT",
        "0.00100000",
        "0.00000001",
        "0.00099999",
    )
    assert result["borrowedLeft"] == "0.00000001"
