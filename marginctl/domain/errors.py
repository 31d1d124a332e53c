"""Every failure a user can see, each with a stable snake_case code.

The CLI maps the three families to exit codes in one table: invalid input → 2, refused by a rule → 3,
anything else → 1.
"""

from __future__ import annotations


class MarginctlError(Exception):
    """Base of every expected failure; `code` is part of the JSON contract."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(MarginctlError):
    """The request itself is malformed; nothing was changed (exit 2)."""

    code = "invalid_input"


class InvalidAmount(InvalidInput):
    code = "invalid_amount"


class UnknownAsset(InvalidInput):
    code = "unknown_asset"


class UnknownPair(InvalidInput):
    code = "unknown_pair"


class UnknownWallet(InvalidInput):
    code = "unknown_wallet"


class UnknownAccount(InvalidInput):
    code = "unknown_account"


class InvalidName(InvalidInput):
    code = "invalid_name"


class InvalidTime(InvalidInput):
    code = "invalid_time"


class ClockBackwards(InvalidInput):
    code = "clock_backwards"


class TimeInFuture(InvalidInput):
    """An event time (--at, --until) later than the command's clock: it would hold every later write back."""

    code = "time_in_future"


class ConfigError(InvalidInput):
    code = "config_error"


class RulesDiffer(ConfigError):
    """A config file read by a command holds rules other than the wallet's (exit 2: a config problem)."""

    code = "rules_differ"


class DatabaseError(InvalidInput):
    """The wallet file or URL cannot be used (missing folder, foreign file, newer schema)."""

    code = "database_error"


class NoWallet(InvalidInput):
    """A read-only command found no wallet: reads never create one."""

    code = "no_wallet"


class Refused(MarginctlError):
    """A valid request that a rule refuses; nothing was changed (exit 3)."""

    code = "refused"


class InsufficientBalance(Refused):
    code = "insufficient_balance"


class RulesChangeRefused(Refused):
    """`config apply` would make the wallet inconsistent (a held asset removed, decimals changed, …)."""

    code = "rules_change_refused"


class ConfirmationRequired(Refused):
    code = "confirmation_required"


class AgreementRequired(Refused):
    code = "agreement_required"


class ClientIdReused(Refused):
    code = "client_id_reused"


class AccountExists(Refused):
    code = "account_exists"


class NoPrice(Refused):
    code = "no_price"


class MarginLevelTooLow(Refused):
    code = "margin_level_too_low"


class ExceedsMaxBorrowable(Refused):
    code = "exceeds_max_borrowable"


class BorrowLimitExceeded(Refused):
    code = "borrow_limit_exceeded"


class PoolInsufficient(Refused):
    code = "pool_insufficient"


class RepayExceedsDebt(Refused):
    code = "repay_exceeds_debt"


class DatabaseBusy(Refused):
    code = "database_busy"


class DiskFull(Refused):
    """The disk holding the wallet is full; the transaction was rolled back, so a retry is safe."""

    code = "disk_full"


class PriceMoved(Refused):
    """`price follow`: another writer recorded the pair's price since the follower judged its jump."""

    code = "price_moved"


class MinNotional(Refused):
    code = "min_notional"


class UnknownOrder(Refused):
    code = "unknown_order"


class LiquidationInProgress(Refused):
    code = "liquidation_in_progress"


class WouldTriggerImmediately(Refused):
    code = "would_trigger_immediately"


class CoolingOffActive(Refused):
    code = "cooling_off_active"


class InvalidOcoPrices(InvalidInput):
    """An OCO's prices contradict each other whatever the market: a sell needs limit > stop, a buy limit < stop."""

    code = "invalid_oco_prices"


class WouldMatchImmediately(Refused):
    """A LIMIT_MAKER (an OCO's limit leg) that the last price would fill at once (Binance -2010)."""

    code = "would_match_immediately"


class ExtraMissing(InvalidInput):
    """A command needs an optional part that is not installed; the message names the pip command."""

    code = "extra_missing"


class InvalidApiKey(InvalidInput):
    code = "invalid_api_key"


class UnknownApiKey(Refused):
    code = "unknown_api_key"


class ApiKeyExists(Refused):
    code = "api_key_exists"
