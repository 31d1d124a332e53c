"""The ledger's invariant checks (DESIGN §3): each reports a hand-made violation and passes a sound case.

Sign convention (marginctl/domain/ledger.py): debit positive; a user's free and locked are positive, its
borrowed and interest negative; the lending pool's loaned and interest_receivable positive.
"""

from __future__ import annotations

from decimal import Decimal

from marginctl.domain.audit import (
    BalanceKey,
    entries_balance,
    interest_hours_unique,
    liabilities_match_receivables,
    locks_match_orders,
    materialized_match,
    no_negative_user_funds,
    recompute_balances,
)
from marginctl.domain.ledger import (
    BORROWED,
    FREE,
    INTEREST,
    INTEREST_RECEIVABLE,
    LOANED,
    LOCKED,
    Posting,
)

ALICE = 1
POOL = 2
EXTERNAL = 3
NAMES = {ALICE: "alice", POOL: "lending-pool", EXTERNAL: "external"}


def borrow_500_usdt() -> list[Posting]:
    """The ledger docstring's borrow: user free +500, user borrowed −500, pool free −500, pool loaned +500."""
    return [
        Posting(ALICE, "cross", "USDT", FREE, Decimal(500)),
        Posting(ALICE, "cross", "USDT", BORROWED, Decimal(-500)),
        Posting(POOL, "spot", "USDT", FREE, Decimal(-500)),
        Posting(POOL, "spot", "USDT", LOANED, Decimal(500)),
    ]


# --- entries balance ----------------------------------------------------------------------------


def test_a_balanced_borrow_entry_passes() -> None:
    assert entries_balance({1: borrow_500_usdt()}) == []


def test_an_unbalanced_entry_is_reported_with_its_asset_and_sum() -> None:
    deposit = [
        Posting(ALICE, "spot", "USDT", FREE, Decimal(500)),
        Posting(EXTERNAL, "spot", "USDT", FREE, Decimal(-499)),
    ]
    violations = entries_balance({1: borrow_500_usdt(), 7: deposit})
    # 500 − 499 = 1 USDT too much
    assert len(violations) == 1
    assert violations[0].check == "entries_balance"
    assert violations[0].where == "entry 7"
    assert "USDT" in violations[0].detail
    assert "sum to 1" in violations[0].detail


def test_only_the_unbalanced_asset_of_a_trade_is_reported() -> None:
    # A trade: alice pays 3000 USDT for 0.05 BTC; the exchange's BTC leg is short by 0.00001.
    trade = [
        Posting(ALICE, "cross", "USDT", FREE, Decimal(-3000)),
        Posting(EXTERNAL, "spot", "USDT", FREE, Decimal(3000)),
        Posting(ALICE, "cross", "BTC", FREE, Decimal("0.05")),
        Posting(EXTERNAL, "spot", "BTC", FREE, Decimal("-0.04999")),
    ]
    violations = entries_balance({3: trade})
    # USDT: −3000 + 3000 = 0; BTC: 0.05 − 0.04999 = 0.00001
    assert [(v.where, "BTC" in v.detail, "USDT" in v.detail) for v in violations] == [("entry 3", True, False)]


# --- materialized balances match the postings -----------------------------------------------------


def test_balances_equal_to_their_postings_pass() -> None:
    recomputed = recompute_balances(borrow_500_usdt())
    stored: dict[BalanceKey, Decimal] = {
        (ALICE, "cross", "USDT", FREE): Decimal(500),
        (ALICE, "cross", "USDT", BORROWED): Decimal(-500),
        (POOL, "spot", "USDT", FREE): Decimal(-500),
        (POOL, "spot", "USDT", LOANED): Decimal(500),
    }
    assert materialized_match(recomputed, stored, NAMES) == []


def test_recompute_balances_sums_postings_per_bucket() -> None:
    postings = [*borrow_500_usdt(), Posting(ALICE, "cross", "USDT", FREE, Decimal("-0.005"))]
    # 500 − 0.005 = 499.995
    assert recompute_balances(postings)[(ALICE, "cross", "USDT", FREE)] == Decimal("499.995")


def test_a_stored_balance_that_differs_from_its_postings_is_reported() -> None:
    recomputed = recompute_balances(borrow_500_usdt())
    stored = dict(recomputed)
    stored[(ALICE, "cross", "USDT", FREE)] = Decimal(501)
    violations = materialized_match(recomputed, stored, NAMES)
    assert len(violations) == 1
    assert violations[0].check == "balances_match_postings"
    assert violations[0].where == "alice cross USDT free"
    assert violations[0].detail == "stored 501, postings sum to 500"


def test_a_stored_balance_without_any_posting_is_reported() -> None:
    stored = {**recompute_balances(borrow_500_usdt()), (ALICE, "spot", "BTC", FREE): Decimal("0.1")}
    violations = materialized_match(recompute_balances(borrow_500_usdt()), stored, NAMES)
    assert [v.where for v in violations] == ["alice spot BTC free"]


# --- no negative user funds ---------------------------------------------------------------------


def test_positive_funds_and_normal_debts_pass() -> None:
    balances: dict[BalanceKey, Decimal] = {
        (ALICE, "cross", "USDT", FREE): Decimal(500),
        (ALICE, "cross", "BTC", LOCKED): Decimal("0.1"),
        (ALICE, "cross", "USDT", BORROWED): Decimal(-500),  # owes 500: negative is normal for a liability
        (ALICE, "cross", "USDT", INTEREST): Decimal("-0.005"),
    }
    assert no_negative_user_funds(balances, [ALICE], NAMES) == []


def test_a_negative_user_free_balance_is_reported() -> None:
    balances = {(ALICE, "spot", "USDT", FREE): Decimal("-0.00000001")}
    violations = no_negative_user_funds(balances, [ALICE], NAMES)
    assert len(violations) == 1
    assert violations[0].check == "no_negative_balance"
    assert violations[0].where == "alice spot USDT free"


def test_violation_details_show_tiny_amounts_in_plain_notation() -> None:
    # Amounts a user reads are plain decimals ("0.00012345", CLI.md), never exponent notation ("-1E-8").
    negative = no_negative_user_funds({(ALICE, "spot", "USDT", FREE): Decimal("-0.00000001")}, [ALICE], NAMES)
    assert negative[0].detail == "balance is -0.00000001"
    deposit = [
        Posting(ALICE, "spot", "BTC", FREE, Decimal("0.10000001")),
        Posting(EXTERNAL, "spot", "BTC", FREE, Decimal("-0.1")),
    ]
    # 0.10000001 − 0.1 = 0.00000001
    unbalanced = entries_balance({9: deposit})
    assert unbalanced[0].detail == "BTC postings sum to 0.00000001, not 0"


def test_a_negative_user_locked_balance_is_reported() -> None:
    balances = {(ALICE, "cross", "BTC", LOCKED): Decimal("-0.1")}
    assert [v.where for v in no_negative_user_funds(balances, [ALICE], NAMES)] == ["alice cross BTC locked"]


def test_a_negative_debt_is_reported() -> None:
    # A raw borrowed balance of +1 would mean the pool owes the user: a debt below zero.
    balances = {(ALICE, "cross", "USDT", BORROWED): Decimal(1)}
    assert [v.where for v in no_negative_user_funds(balances, [ALICE], NAMES)] == ["alice cross USDT borrowed"]


def test_system_accounts_may_go_negative() -> None:
    # The pool's free goes −500 when it lends from an unseeded balance; only users are checked.
    balances = {(POOL, "spot", "USDT", FREE): Decimal(-500)}
    assert no_negative_user_funds(balances, [ALICE], NAMES) == []


# --- user liabilities equal the pool's receivables ------------------------------------------------


def test_user_debts_equal_to_pool_receivables_pass() -> None:
    balances: dict[BalanceKey, Decimal] = {
        (ALICE, "cross", "USDT", BORROWED): Decimal(-500),
        (ALICE, "cross", "USDT", INTEREST): Decimal("-0.005"),
        (POOL, "spot", "USDT", LOANED): Decimal(500),
        (POOL, "spot", "USDT", INTEREST_RECEIVABLE): Decimal("0.005"),
    }
    assert liabilities_match_receivables(balances, [ALICE], POOL) == []


def test_a_user_debt_not_matched_by_the_pool_is_reported() -> None:
    balances: dict[BalanceKey, Decimal] = {
        (ALICE, "cross", "USDT", BORROWED): Decimal(-500),
        (ALICE, "cross", "USDT", INTEREST): Decimal("-0.005"),
        (POOL, "spot", "USDT", LOANED): Decimal(400),
        (POOL, "spot", "USDT", INTEREST_RECEIVABLE): Decimal("0.005"),
    }
    violations = liabilities_match_receivables(balances, [ALICE], POOL)
    # borrowed: users owe 500, the pool is owed 400; interest matches (0.005 = 0.005)
    assert len(violations) == 1
    assert violations[0].check == "liabilities_match_receivables"
    assert violations[0].where == "USDT borrowed"
    assert violations[0].detail == "users owe 500, the lending pool is owed 400"


def test_interest_owed_without_a_pool_receivable_is_reported() -> None:
    balances = {(ALICE, "cross", "BTC", INTEREST): Decimal("-0.00000002")}
    violations = liabilities_match_receivables(balances, [ALICE], POOL)
    assert [v.where for v in violations] == ["BTC interest"]


# --- each PERIODIC hour once --------------------------------------------------------------------


def test_distinct_interest_hours_pass() -> None:
    charges = [
        (ALICE, "cross", "USDT", "2026-01-05T10:00:00Z"),
        (ALICE, "cross", "USDT", "2026-01-05T11:00:00Z"),
        (ALICE, "cross", "BTC", "2026-01-05T10:00:00Z"),
        (ALICE, "BTC/USDT", "USDT", "2026-01-05T10:00:00Z"),
    ]
    assert interest_hours_unique(charges) == []


def test_a_periodic_hour_charged_twice_is_reported() -> None:
    charges = [
        (ALICE, "cross", "USDT", "2026-01-05T10:00:00Z"),
        (ALICE, "cross", "USDT", "2026-01-05T11:00:00Z"),
        (ALICE, "cross", "USDT", "2026-01-05T10:00:00Z"),
    ]
    violations = interest_hours_unique(charges)
    assert len(violations) == 1
    assert violations[0].check == "interest_hours_unique"
    assert violations[0].where == "account 1 cross USDT 2026-01-05T10:00:00Z"
    assert violations[0].detail == "charged 2 times"


# --- locked funds equal what open orders hold -----------------------------------------------------


def test_locks_held_by_open_orders_pass() -> None:
    balances = {(ALICE, "cross", "BTC", LOCKED): Decimal("0.5"), (ALICE, "cross", "USDT", FREE): Decimal(100)}
    held = {(ALICE, "cross", "BTC", LOCKED): Decimal("0.5")}
    assert locks_match_orders(balances, held, NAMES) == []


def test_a_zero_lock_needs_no_order() -> None:
    balances = {(ALICE, "cross", "BTC", LOCKED): Decimal(0)}
    assert locks_match_orders(balances, {}, NAMES) == []


def test_locked_funds_without_an_order_are_reported() -> None:
    balances = {(ALICE, "cross", "BTC", LOCKED): Decimal("0.5")}
    violations = locks_match_orders(balances, {}, NAMES)
    assert len(violations) == 1
    assert violations[0].check == "locks_match_orders"
    assert violations[0].where == "alice cross BTC"
    assert violations[0].detail == "locked 0.5, open orders hold 0"


def test_an_order_holding_more_than_is_locked_is_reported() -> None:
    balances = {(ALICE, "cross", "USDT", LOCKED): Decimal(3000)}
    held = {(ALICE, "cross", "USDT", LOCKED): Decimal("3000.01")}
    violations = locks_match_orders(balances, held, NAMES)
    assert [v.detail for v in violations] == ["locked 3000, open orders hold 3000.01"]
