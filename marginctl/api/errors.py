"""Binance's error answers: `{"code": -NNNN, "msg": "…"}` with an HTTP 4xx status, and the one table that
maps each of marginctl's refusal codes to Binance's."""

from __future__ import annotations

from marginctl.domain.errors import MarginctlError

#: Binance's codes (the REST API's error code list) that this server answers with.
UNKNOWN = -1000
TOO_MANY_REQUESTS = -1003
FILTER_FAILURE = -1013
UNSUPPORTED_COMBINATION = -1014
PARAMETER_NOT_REQUIRED = -1106
INVALID_TIME_IN_FORCE = -1115
INVALID_ORDER_TYPE = -1116
INVALID_SIDE = -1117
TOO_MANY_PARAMETERS = -1101
MANDATORY_PARAM_MISSING = -1102
BAD_PARAMETER = -1100
TIMESTAMP_OUTSIDE_RECV_WINDOW = -1021
INVALID_SIGNATURE = -1022
BAD_RECV_WINDOW = -1131
INVALID_API_KEY_FORMAT = -2014
REJECTED_API_KEY = -2015
NEW_ORDER_REJECTED = -2010
NO_SUCH_ORDER = -2011
ORDER_DOES_NOT_EXIST = -2013
BAD_SYMBOL = -1121
MARGIN_ACCOUNT_MISSING = -3003
BALANCE_NOT_ENOUGH = -3041
EXCEEDS_MAX_BORROWABLE = -3006
MARGIN_LEVEL_TOO_LOW = -3045
NOT_A_MARGIN_ASSET = -3027
#: Binance's "Repay amount exceeds borrow amount."
REPAY_EXCEEDS_DEBT = -3015

#: marginctl's refusal codes → Binance's; anything not named is -1100 (bad input) or -2010 (a rule).
BINANCE_CODES = {
    "insufficient_balance": BALANCE_NOT_ENOUGH,
    "exceeds_max_borrowable": EXCEEDS_MAX_BORROWABLE,
    "borrow_limit_exceeded": EXCEEDS_MAX_BORROWABLE,
    "margin_level_too_low": MARGIN_LEVEL_TOO_LOW,
    "unknown_pair": BAD_SYMBOL,
    "unknown_order": NO_SUCH_ORDER,
    "agreement_required": MARGIN_ACCOUNT_MISSING,
    "pool_insufficient": EXCEEDS_MAX_BORROWABLE,
    "repay_exceeds_debt": REPAY_EXCEEDS_DEBT,
    "min_notional": FILTER_FAILURE,
    "unknown_asset": NOT_A_MARGIN_ASSET,
}
#: -2014 and -2015 are refused with 401, as Binance answers them; every other error with 400.
UNAUTHORIZED = (INVALID_API_KEY_FORMAT, REJECTED_API_KEY)


class BinanceError(Exception):
    """An answer in Binance's error form."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        if self.code == TOO_MANY_REQUESTS:
            return 429
        return 401 if self.code in UNAUTHORIZED else 400


def from_refusal(error: MarginctlError) -> BinanceError:
    """A refusal of the wallet's rules, as Binance would answer it."""
    from marginctl.domain.errors import InvalidInput

    default = BAD_PARAMETER if isinstance(error, InvalidInput) else NEW_ORDER_REJECTED
    return BinanceError(BINANCE_CODES.get(error.code, default), error.message)
