"""The liquidation fee and the insurance payout (issue 13, item 5) and the last liquidation in `status` (item 11).

DESIGN §4: the fee is 2 % of the wallet's total asset value, capped at the equity left,
max(0, cash − debt); `insurancePayout` = max(0, debt − proceeds), what the fund really pays.
Default config: cross 3x (liquidation at 1.1), BTC/USDT 60000, taker fee 0.1 %, USDT hourly 0.00001.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from marginctl.domain.ledger import unbalanced_assets
from marginctl.domain.liquidation import LiquidationPlan, SystemAccounts, liquidation_postings, plan_liquidation
from marginctl.domain.margin import AssetBalance
from tests.conftest import Wallet

PLACES = {"USDT": 8, "BTC": 8}
FEE = Decimal("0.02")


def t(clock: str) -> str:
    return f"2026-02-01T{clock}Z"


# --- the plan, in plain numbers -----------------------------------------------------------------------


def shortfall_plan() -> LiquidationPlan:
    """The issue's wallet: 0.09987 BTC at 50000 against 7000 USDT borrowed and 0.19 of interest."""
    return plan_liquidation(
        [
            AssetBalance("BTC", free=Decimal("0.09987")),
            AssetBalance("USDT", borrowed=Decimal(7000), interest=Decimal("0.19")),
        ],
        {"BTC": Decimal(50000), "USDT": Decimal(1)},
        "USDT",
        FEE,
        PLACES,
    )


def test_negative_equity_pays_no_fee_and_the_fund_pays_the_shortfall() -> None:
    # the figures: 0.09987 BTC × 50000 = 4993.5 of proceeds against 7000 + 0.19 = 7000.19 owed
    plan = shortfall_plan()
    assert plan.fee == 0  # the fund would pay the 2 % (99.87) to itself
    assert plan.shortfall == Decimal("2006.69")  # 7000.19 − 4993.5
    assert plan.left_over == 0


def test_the_shortfall_plan_is_one_balanced_entry_that_leaves_the_wallet_empty() -> None:
    # the figures above: sell 0.09987 BTC for 4993.5, the fund pays 2006.69, no fee, 7000.19 repaid
    plan = shortfall_plan()
    user, exchange, fund, pool = 7, 2, 4, 3
    postings = liquidation_postings(plan, (user, "cross"), "USDT", SystemAccounts(exchange, fund, pool))
    assert unbalanced_assets(postings) == {}
    assert all(posting.amount != 0 for posting in postings)  # the fee of 0 is left out
    moved: dict[tuple[int, str, str], Decimal] = {}
    for posting in postings:
        key = (posting.account_id, posting.asset, posting.bucket)
        moved[key] = moved.get(key, Decimal(0)) + posting.amount
    # the user's free: −0.09987 BTC; USDT +4993.5 + 2006.69 − 7000.19 = 0; debts (negative raw) come back to 0
    assert moved[(user, "BTC", "free")] == Decimal("-0.09987")
    assert moved[(user, "USDT", "free")] == 0
    assert (moved[(user, "USDT", "borrowed")], moved[(user, "USDT", "interest")]) == (Decimal(7000), Decimal("0.19"))
    assert moved[(fund, "USDT", "free")] == Decimal("-2006.69")
    # the pool gets 7000.19 back and its receivables fall by as much
    assert moved[(pool, "USDT", "free")] == Decimal("7000.19")
    assert (moved[(pool, "USDT", "loaned")], moved[(pool, "USDT", "interest_receivable")]) == (
        Decimal(-7000),
        Decimal("-0.19"),
    )


def test_fee_above_the_equity_left_is_capped_at_it() -> None:
    # 0.022533 × 45000 = 1013.985 of assets, owing 1000.02: equity 13.965 < 2 % × 1013.985 = 20.2797
    plan = plan_liquidation(
        [
            AssetBalance("BTC", free=Decimal("0.022533")),
            AssetBalance("USDT", borrowed=Decimal(1000), interest=Decimal("0.02")),
        ],
        {"BTC": Decimal(45000), "USDT": Decimal(1)},
        "USDT",
        FEE,
        PLACES,
    )
    assert plan.fee == Decimal("13.965")
    assert plan.shortfall == 0
    assert plan.left_over == 0


def test_fee_below_the_equity_is_2_percent_of_the_asset_value() -> None:
    # 0.04995 × 44000 = 2197.8; 2 % = 43.956 < equity 2197.8 − 2000.02 = 197.78; left 197.78 − 43.956 = 153.824
    plan = plan_liquidation(
        [
            AssetBalance("BTC", free=Decimal("0.04995")),
            AssetBalance("USDT", borrowed=Decimal(2000), interest=Decimal("0.02")),
        ],
        {"BTC": Decimal(44000), "USDT": Decimal(1)},
        "USDT",
        FEE,
        PLACES,
    )
    assert (plan.fee, plan.shortfall, plan.left_over) == (Decimal("43.956"), 0, Decimal("153.824"))


def test_a_short_bought_back_at_a_loss_pays_no_fee() -> None:
    # 1599.4 USDT held, owing 0.01000002 BTC; at 200000 buying it back costs 0.01000002 × 200000 = 2000.004
    plan = plan_liquidation(
        [
            AssetBalance("USDT", free=Decimal("1599.4")),
            AssetBalance("BTC", borrowed=Decimal("0.01"), interest=Decimal("0.00000002")),
        ],
        {"BTC": Decimal(200000), "USDT": Decimal(1)},
        "USDT",
        FEE,
        PLACES,
    )
    assert plan.fee == 0
    assert plan.shortfall == Decimal("400.604")  # 2000.004 − 1599.4
    assert plan.buys == {"BTC": (Decimal("0.01000002"), Decimal("2000.004"))}


# --- through the commands -----------------------------------------------------------------------------


def open_long(wallet: Wallet) -> None:
    """1000 USDT, buy 0.05 BTC at 60000 with auto-borrow: owes 2000 + 0.02, holds 0.04995 BTC."""
    wallet.ok("deposit", "USDT", "1000", now=t("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=t("10:01:00"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.05", "--side-effect", "auto-borrow", now=t("10:02:00"))


def insurance_fund_usdt(wallet: Wallet) -> Decimal:
    with sqlite3.connect(wallet.path) as connection:
        (amount,) = connection.execute(
            "SELECT b.amount FROM balances b JOIN accounts a ON a.id = b.account_id "
            "WHERE a.name = 'insurance-fund' AND b.wallet = 'spot' AND b.asset = 'USDT' AND b.bucket = 'free'"
        ).fetchone()
    return Decimal(amount)


def liquidate_at_40500(wallet: Wallet) -> dict:
    open_long(wallet)
    (liquidation,) = wallet.ok("price", "set", "BTC/USDT", "40500", now=t("10:04:00"))["liquidations"]
    return liquidation


def test_liquidation_whose_fee_exceeds_the_equity_charges_the_equity_left(wallet: Wallet) -> None:
    liquidation = liquidate_at_40500(wallet)
    # 0.04995 × 40500 = 2022.975; 2022.975 / 2000.02 = 1.01147… ≤ 1.1; equity 2022.975 − 2000.02 = 22.955
    # < 2 % × 2022.975 = 40.4595
    assert liquidation["marginLevel"] == "1.01147738"
    assert liquidation["liquidationFee"] == "22.95500000"
    assert liquidation["insurancePayout"] == "0.00000000"
    assert liquidation["leftOver"] == "0.00000000"
    assert insurance_fund_usdt(wallet) == Decimal("1000022.955")  # 1,000,000 + 22.955
    assert wallet.ok("audit", now=t("10:05:00"))["ok"] is True


def test_liquidation_with_negative_equity_reports_the_shortfall_as_the_payout(wallet: Wallet) -> None:
    open_long(wallet)
    (liquidation,) = wallet.ok("price", "set", "BTC/USDT", "30000", now=t("10:04:00"))["liquidations"]
    # 0.04995 × 30000 = 1498.5 against 2000.02: fee 0, the fund pays 2000.02 − 1498.5 = 501.52
    assert (liquidation["liquidationFee"], liquidation["insurancePayout"]) == ("0.00000000", "501.52000000")
    assert insurance_fund_usdt(wallet) == Decimal("999498.48")  # 1,000,000 − 501.52


def test_status_has_no_last_liquidation_before_one(wallet: Wallet) -> None:
    open_long(wallet)
    assert wallet.ok("status", now=t("10:03:00"))["lastLiquidation"] is None


def test_status_shows_the_last_liquidation(wallet: Wallet) -> None:
    liquidation = liquidate_at_40500(wallet)
    status = wallet.ok("status", now=t("10:05:00"))
    assert status["lastLiquidation"] == {
        "time": t("10:04:00"),
        "marginLevel": "1.01147738",
        "sold": {"BTC": "0.04995000"},
        "boughtBack": {},
        "liquidationFee": "22.95500000",
        "insurancePayout": "0.00000000",
        "leftOver": "0.00000000",
        "asset": "USDT",
        "tranId": liquidation["tranId"],
    }
    assert status["marginLevel"] == "999"  # nothing owed after it
    # status --all lists wallets holding something: put 10 USDT back into cross
    wallet.ok("deposit", "USDT", "10", now=t("10:05:00"))
    wallet.ok("transfer", "USDT", "10", now=t("10:06:00"))
    (cross,) = [
        document for document in wallet.ok("status", "--all", now=t("10:07:00")) if document["wallet"] == "cross"
    ]
    assert cross["lastLiquidation"] == status["lastLiquidation"]


@pytest.mark.parametrize("width", [80, 50])
def test_status_text_shows_the_last_liquidation_within_the_width(
    wallet: Wallet, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    liquidate_at_40500(wallet)
    wallet.ok("deposit", "USDT", "10", now=t("10:05:00"))
    wallet.ok("transfer", "USDT", "10", now=t("10:06:00"))  # so the cross wallet is shown with a balance
    result = wallet.run("status", now=t("10:07:00"))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert all(len(line) <= width for line in lines), lines
    text = " ".join(lines)
    for part in ("Last liquidation 2026-02-01T10:04:00Z", "margin level 1.01147738", "sold 0.04995000 BTC"):
        assert part in text
    assert "fee 22.95500000 USDT" in text and "insurance payout 0.00000000 USDT" in text


def test_history_kind_liquidation_lists_it_with_level_fee_and_payout(wallet: Wallet) -> None:
    liquidation = liquidate_at_40500(wallet)
    (entry,) = wallet.ok("history", "--kind", "liquidation", now=t("10:05:00"))
    assert entry["tranId"] == liquidation["tranId"]
    assert entry["memo"] == (
        "liquidated cross at margin level 1.01147738: fee 22.95500000 USDT, "
        "insurance payout 0.00000000 USDT, left 0.00000000 USDT"
    )
