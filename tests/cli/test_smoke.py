from tests.conftest import Wallet


def test_deposit_then_status_shows_the_spot_balance(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now="2026-01-05T10:00:00Z")
    documents = wallet.ok("status", "--all", now="2026-01-05T10:00:00Z")
    spot = next(document for document in documents if document["wallet"] == "spot")
    usdt = next(row for row in spot["userAssets"] if row["asset"] == "USDT")
    assert usdt["free"] == "1000.00000000"
