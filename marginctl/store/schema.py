"""The wallet's tables as SQLAlchemy 2 Core metadata; the Alembic revisions in migrations/ create them.

Amounts are `Amount`: canonical decimal TEXT on SQLite (SQLAlchemy's Numeric goes through float there
and 0.1 comes back as 0.100000000000000006) and unconstrained NUMERIC on PostgreSQL.
Times are fixed-width ISO 8601 UTC text, so text order is time order on both engines.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from marginctl.domain.money import from_text, to_text


class Amount(TypeDecorator[Decimal]):
    """An exact decimal: canonical TEXT on SQLite, NUMERIC on PostgreSQL."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return to_text(Decimal(value))
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else from_text(value)


Time = String(32)

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("is_system", Boolean, nullable=False),
    Column("created_at", Time, nullable=False),
    Column("agreement_accepted_at", Time),
    Column("cooling_off_until", Time),
)

requests = Table(
    "requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("client_id", String(200), nullable=False),
    Column("command", String(32), nullable=False),
    Column("fingerprint", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("created_at", Time, nullable=False),
    UniqueConstraint("account_id", "client_id", name="uq_requests_account_client"),
)

entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("created_at", Time, nullable=False),
    Column("request_id", Integer, ForeignKey("requests.id")),
    Column("memo", Text),
    Index("ix_entries_account_created", "account_id", "created_at"),
    Index("ix_entries_kind", "kind"),
)

postings = Table(
    "postings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id"), nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("wallet", String(32), nullable=False),
    Column("asset", String(16), nullable=False),
    Column("bucket", String(32), nullable=False),
    Column("amount", Amount, nullable=False),
    Index("ix_postings_entry", "entry_id"),
)

balances = Table(
    "balances",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("wallet", String(32), primary_key=True),
    Column("asset", String(16), primary_key=True),
    Column("bucket", String(32), primary_key=True),
    Column("amount", Amount, nullable=False),
)

prices = Table(
    "prices",
    metadata,
    Column("pair", String(32), primary_key=True),
    Column("price", Amount, nullable=False),
    Column("at", Time, nullable=False),
    Column("source", String(16), nullable=False),
)

price_hours = Table(
    "price_hours",
    metadata,
    # The last price recorded for a pair in each UTC hour (H − 1 h, H]: `hour` is H, the hour's end; `at` that
    # price's own time.
    Column("pair", String(32), primary_key=True),
    Column("hour", Time, primary_key=True),
    Column("price", Amount, nullable=False),
    Column("at", Time, nullable=False),
)

interest_charges = Table(
    "interest_charges",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id"), nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("wallet", String(32), nullable=False),
    Column("asset", String(16), nullable=False),
    # A charge is one hour (ON_BORROW at its own time) or a run of `hours` PERIODIC hours of one loan, from
    # charged_at (= periodic_hour) through last_at, each hour charged `interest` on `principal` at `daily_rate`;
    # `interest` derives one row per hour from it, as Binance's interestHistory lists them.
    Column("charged_at", Time, nullable=False),
    Column("last_at", Time, nullable=False),
    Column("type", String(16), nullable=False),
    # The first hour a PERIODIC charge is for; NULL for ON_BORROW, so a borrow never collides with the hour.
    Column("periodic_hour", Time),
    Column("hours", Integer, nullable=False, server_default="1"),
    Column("principal", Amount, nullable=False),
    Column("daily_rate", Amount, nullable=False),
    # Per hour: the run's total is hours × interest.
    Column("interest", Amount, nullable=False),
    # A second run of a loan from the same hour is refused; the loan clock keeps runs from overlapping.
    UniqueConstraint("account_id", "wallet", "asset", "periodic_hour", name="uq_interest_hour"),
)

order_lists = Table(
    "order_lists",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("list_client_order_id", String(64)),
    Column("wallet", String(32), nullable=False),
    Column("pair", String(32), nullable=False),
    # Binance's names: contingencyType OCO; listStatusType EXEC_STARTED/ALL_DONE; listOrderStatus EXECUTING/ALL_DONE.
    Column("contingency_type", String(16), nullable=False),
    Column("list_status_type", String(16), nullable=False),
    Column("list_order_status", String(16), nullable=False),
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("client_order_id", String(64)),
    Column("wallet", String(32), nullable=False),
    Column("pair", String(32), nullable=False),
    Column("side", String(4), nullable=False),
    Column("type", String(24), nullable=False),
    Column("price", Amount),
    Column("stop_price", Amount),
    # A stop-limit order becomes a plain limit order once its stop is reached.
    Column("triggered", Boolean, nullable=False),
    Column("orig_qty", Amount, nullable=False),
    Column("executed_qty", Amount, nullable=False),
    Column("quote_qty", Amount, nullable=False),
    Column("status", String(16), nullable=False),
    Column("side_effect", String(32), nullable=False),
    # What the open order holds in `locked` (quote for a buy, base for a sell), for audit and cancel.
    Column("locked_asset", String(16)),
    Column("locked_amount", Amount, nullable=False),
    # What MARGIN_BUY borrowed for it, repaid if it is cancelled (Binance's autoRepayAtCancel).
    Column("borrowed_amount", Amount, nullable=False),
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
    # The OCO list the order is a leg of (Binance's orderListId), NULL for a single order.
    Column("order_list_id", Integer, ForeignKey("order_lists.id", name="fk_orders_order_list")),
    Index("ix_orders_open_pair", "status", "pair", "id"),
    Index("ix_orders_account", "account_id", "id"),
)

#: Open orders by the float value of their limit and stop prices, so a price update reads only the orders it
#: may cross (store/orders.py widens the range and decides each candidate with Decimal). The expression's
#: text must be the queries' text: SQLite matches an indexed expression by it.
OPEN_ONLY = text("status = 'NEW'")
Index(
    "ix_orders_open_price",
    orders.c.pair,
    orders.c.side,
    text("CAST(price AS DOUBLE PRECISION)"),
    sqlite_where=OPEN_ONLY,
    postgresql_where=OPEN_ONLY,
)
Index(
    "ix_orders_open_stop",
    orders.c.pair,
    orders.c.side,
    orders.c.type,
    text("CAST(stop_price AS DOUBLE PRECISION)"),
    sqlite_where=OPEN_ONLY,
    postgresql_where=OPEN_ONLY,
)

trades = Table(
    "trades",
    metadata,
    # Binance's tradeId: one row per fill, with what the fill moved.
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("wallet", String(32), nullable=False),
    Column("pair", String(32), nullable=False),
    Column("side", String(4), nullable=False),
    Column("price", Amount, nullable=False),
    Column("qty", Amount, nullable=False),
    Column("quote_qty", Amount, nullable=False),
    Column("commission", Amount, nullable=False),
    Column("commission_asset", String(16), nullable=False),
    Column("is_maker", Boolean, nullable=False),
    # The quote asset's price in the valuation asset at the fill (1 for USDT pairs), for profit and loss.
    Column("quote_price", Amount),
    Column("entry_id", Integer, ForeignKey("entries.id"), nullable=False),
    Column("at", Time, nullable=False),
    Index("ix_trades_account", "account_id", "wallet", "id"),
    Index("ix_trades_order", "order_id"),
)

loan_accruals = Table(
    "loan_accruals",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("wallet", String(32), primary_key=True),
    Column("asset", String(16), primary_key=True),
    # The last hour boundary whose PERIODIC interest this loan has been charged (or did not owe).
    Column("accrued_through", Time, nullable=False),
)

risk_events = Table(
    "risk_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("wallet", String(32), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("at", Time, nullable=False),
    Column("margin_level", Text),
    Column("entry_id", Integer, ForeignKey("entries.id")),
    Column("detail", Text),
    Index("ix_risk_events_wallet", "account_id", "wallet", "kind", "at"),
)

risk_reach = Table(
    "risk_reach",
    metadata,
    # Where each margin wallet that owes something is in danger (domain/reach.py): at prices of `asset` at or
    # below / at or above the bounds, or at any price (`always`). Float bounds only pre-select wallets, widened
    # by store/risk.py; the check decides with Decimal. Rebuilt from the postings after `reach_through` (meta).
    Column("account_id", Integer, ForeignKey("accounts.id"), primary_key=True),
    Column("wallet", String(32), primary_key=True),
    Column("asset", String(16)),
    Column("at_or_below", Float),
    Column("at_or_above", Float),
    Column("always", Boolean, nullable=False),
    Index("ix_risk_reach_below", "asset", "at_or_below"),
    Index("ix_risk_reach_above", "asset", "at_or_above"),
    Index("ix_risk_reach_always", "always"),
)

api_keys = Table(
    "api_keys",
    metadata,
    # Keys for `marginctl serve`, each of one account. An HMAC key keeps its secret (every signature is
    # recomputed from it); an Ed25519 key keeps only its public key (PEM) and no secret.
    Column("id", Integer, primary_key=True),
    Column("api_key", String(64), nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("key_type", String(16), nullable=False),
    Column("permissions", String(16), nullable=False),
    Column("secret", Text),
    Column("public_key", Text),
    Column("created_at", Time, nullable=False),
    Column("revoked_at", Time),
    Index("ix_api_keys_account", "account_id", "id"),
)

wallet_rules = Table(
    "wallet_rules",
    metadata,
    # The rules a wallet keeps (margin levels, assets and rates, pairs, fees), one row per version;
    # the newest row whose effective_at has passed is in force.
    Column("id", Integer, primary_key=True),
    Column("effective_at", Time, nullable=False),
    Column("document", Text, nullable=False),
    Column("source", Text, nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
