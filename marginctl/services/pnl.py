"""`pnl`: average-cost profit and loss per wallet and base asset, from the `trades` and `interest_charges` rows.

A fill moves its position by the base the wallet actually gained or gave (the gross quantity less a base
commission on a buy; see domain/pnl). A fill's price and fee enter the valuation asset at the quote's price
recorded with the fill; the last price and the interest are valued at today's prices. `--since` limits which
fills' realized PnL and fees, and which interest charges, are totalled; the position and its average always
come from every fill. A position row carries the interest charged on its own asset (a short's borrowed base);
the wallet's totals carry all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from marginctl.config import Config
from marginctl.domain import pnl as rules
from marginctl.domain.money import ZERO, format_amount, from_text, mul
from marginctl.domain.names import CROSS, pair_assets, parse_pair
from marginctl.domain.times import display_stored, from_storage, parse_time, to_storage
from marginctl.services.context import Context, lookup_account
from marginctl.services.quotes import asset_prices
from marginctl.store import interest as interest_store
from marginctl.store import pnl as store
from marginctl.store.database import Transaction


@dataclass(frozen=True)
class AssetPnl:
    asset: str
    position: rules.Position
    #: The base asset's current valuation price, None when it has none.
    last_price: Decimal | None
    interest: Decimal

    @property
    def unrealized(self) -> Decimal:
        return self.position.unrealized(self.last_price) if self.last_price is not None else ZERO


@dataclass(frozen=True)
class WalletPnl:
    wallet: str
    assets: list[AssetPnl]
    interest: Decimal
    unpriced: list[str]
    #: What liquidations charged the wallet (the fee to the insurance fund), a cost like fees and interest.
    liquidation_fees: Decimal = ZERO
    #: What the insurance fund paid for the wallet's negative equity: a loss the user never bears.
    insurance_payouts: Decimal = ZERO

    @property
    def realized(self) -> Decimal:
        return sum((item.position.realized for item in self.assets), ZERO)

    @property
    def unrealized(self) -> Decimal:
        return sum((item.unrealized for item in self.assets), ZERO)

    @property
    def fees(self) -> Decimal:
        return sum((item.position.fees for item in self.assets), ZERO)

    @property
    def net(self) -> Decimal:
        costs = self.liquidation_fees - self.insurance_payouts
        return rules.net_pnl(self.realized, self.unrealized, self.fees, self.interest) - costs


def pnl(context: Context, isolated_pair: str | None = None, all_wallets: bool = False, since: str | None = None) -> Any:
    """One wallet's PnL document (cross by default), or with `all_wallets` a list: every wallet with a trade."""
    config = context.config
    wallet = parse_pair(isolated_pair, config.pairs) if isolated_pair else CROSS
    since_stored = to_storage(parse_time(since)) if since is not None else None
    with context.read() as tx:
        account = lookup_account(tx, context)
        account_id = int(account["id"]) if account is not None else None
        prices = asset_prices(tx, config)
        names = traded_wallets(tx, account_id) if all_wallets else [wallet]
        reports = [wallet_pnl(tx, config, account_id, name, prices, since_stored) for name in names]
    documents = [pnl_document(config, context.account_name, report, since_stored) for report in reports]
    return documents if all_wallets else documents[0]


def traded_wallets(tx: Transaction, account_id: int | None) -> list[str]:
    if account_id is None:
        return []
    names = store.traded_wallets(tx, account_id)
    return sorted(names, key=lambda name: (name != CROSS, name))


def wallet_pnl(
    tx: Transaction,
    config: Config,
    account_id: int | None,
    wallet: str,
    prices: dict[str, Decimal],
    since_stored: str | None = None,
) -> WalletPnl:
    """Load the wallet's fills and interest charges, value them, and let the domain average the cost."""
    if account_id is None:
        return WalletPnl(wallet, [], ZERO, [])
    rows = store.wallet_trades(tx, account_id, wallet)
    unpriced: set[str] = set()
    fills: dict[str, list[rules.Fill]] = {}
    for row in rows:
        base, quote = pair_assets(str(row["pair"]))
        # The quote's valuation price at the fill; a row without one (no price then) takes today's.
        quote_price = from_text(row["quote_price"]) if row["quote_price"] is not None else prices.get(quote)
        if quote_price is None:
            unpriced.add(quote)
            continue
        price = from_text(row["price"])
        qty, commission = from_text(row["qty"]), from_text(row["commission"])
        commission_asset = str(row["commission_asset"])
        fills.setdefault(base, []).append(
            rules.Fill(
                trade_id=int(row["id"]),
                at=str(row["at"]),
                side=str(row["side"]),
                price=mul(price, quote_price),
                qty=qty,
                fee=rules.fee_value(commission, commission_asset, base, price, quote_price),
                counted=since_stored is None or str(row["at"]) >= since_stored,
                moved=rules.moved_quantity(str(row["side"]), qty, commission, commission_asset, base),
            )
        )
    interest: dict[str, Decimal] = {}
    since_at = from_storage(since_stored) if since_stored is not None else None
    for asset, per_hour, hours in interest_store.wallet_interest(tx, account_id, wallet, since_at):
        interest[asset] = interest.get(asset, ZERO) + hours * from_text(per_hour)
    unpriced.update(asset for asset in interest if asset not in prices)
    priced_interest = {asset: amount for asset, amount in interest.items() if asset in prices}
    assets = [
        AssetPnl(
            asset=base,
            position=rules.average_cost(base_fills),
            last_price=prices.get(base),
            interest=rules.interest_value({base: priced_interest[base]}, prices) if base in priced_interest else ZERO,
        )
        for base, base_fills in sorted(fills.items())
    ]
    unpriced.update(item.asset for item in assets if item.last_price is None and item.position.quantity != 0)
    details = store.liquidation_details(tx, account_id, wallet, since_stored)
    liquidation_fees = sum((from_text(detail["liquidationFee"]) for detail in details), ZERO)
    insurance_payouts = sum((from_text(detail["insurancePayout"]) for detail in details), ZERO)
    interest_total = rules.interest_value(priced_interest, prices)
    return WalletPnl(wallet, assets, interest_total, sorted(unpriced), liquidation_fees, insurance_payouts)


def pnl_document(config: Config, account: str, report: WalletPnl, since_stored: str | None) -> dict[str, Any]:
    valuation = config.valuation_asset
    places = config.places(valuation)

    def figure(value: Decimal) -> str:
        return rules.report_figure(value, places)

    positions = []
    for item in report.assets:
        position = item.position
        positions.append(
            {
                "asset": item.asset,
                "quantity": format_amount(position.quantity, config.places(item.asset)),
                "side": position.side,
                "averageEntryPrice": figure(position.average_entry_price) if position.quantity else None,
                "lastPrice": None if item.last_price is None else figure(item.last_price),
                "realizedPnl": figure(position.realized),
                "unrealizedPnl": figure(item.unrealized),
                "fees": figure(position.fees),
                "interest": figure(item.interest),
                "netPnl": figure(rules.net_pnl(position.realized, item.unrealized, position.fees, item.interest)),
                "fills": [
                    {
                        "tradeId": result.fill.trade_id,
                        "time": display_stored(result.fill.at),
                        "side": result.fill.side,
                        "price": figure(result.fill.price),
                        "qty": format_amount(result.fill.qty, config.places(item.asset)),
                        "realizedPnl": figure(result.realized),
                    }
                    for result in position.fills
                ],
            }
        )
    return {
        "account": account,
        "wallet": report.wallet,
        "valuationAsset": valuation,
        "since": display_stored(since_stored),
        **totals_document(config, report),
        "positions": positions,
        "unpricedAssets": report.unpriced,
    }


def totals_document(config: Config, report: WalletPnl) -> dict[str, str]:
    places = config.places(config.valuation_asset)
    return {
        "realizedPnl": rules.report_figure(report.realized, places),
        "unrealizedPnl": rules.report_figure(report.unrealized, places),
        "fees": rules.report_figure(report.fees, places),
        "interest": rules.report_figure(report.interest, places),
        "liquidationFees": rules.report_figure(report.liquidation_fees, places),
        "insurancePayouts": rules.report_figure(report.insurance_payouts, places),
        "netPnl": rules.report_figure(report.net, places),
    }


def status_pnl(
    tx: Transaction, config: Config, account_id: int | None, wallet: str, prices: dict[str, Decimal]
) -> dict[str, Any]:
    """`status`'s compact PnL: the wallet's totals and each open position."""
    report = wallet_pnl(tx, config, account_id, wallet, prices)
    places = config.places(config.valuation_asset)
    return {
        **totals_document(config, report),
        "positions": [
            {
                "asset": item.asset,
                "quantity": format_amount(item.position.quantity, config.places(item.asset)),
                "averageEntryPrice": rules.report_figure(item.position.average_entry_price, places),
                "unrealizedPnl": rules.report_figure(item.unrealized, places),
            }
            for item in report.assets
            if item.position.quantity != 0
        ],
    }
