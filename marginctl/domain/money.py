"""Exact money: parsing user amounts, rounding at the documented points, canonical text."""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Context, Decimal, InvalidOperation

from marginctl.domain.errors import InvalidAmount
from marginctl.domain.names import echoed, is_keyword

#: Every division and multiplication of money runs in this context (DESIGN §2: ≥ 50 digits).
MONEY_CONTEXT = Context(prec=60)

#: The largest amount a user may type (CLI.md: more than 10^15 is refused).
MAX_AMOUNT = Decimal(10) ** 15

#: Compiled on first use by `re`'s own cache, not at import: most commands parse no amount.
PLAIN_DECIMAL = r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?"

ZERO = Decimal(0)


def parse_amount(text: str, places: int, *, what: str = "amount", allow_zero: bool = False) -> Decimal:
    """Parse a plain decimal string typed by a user, refusing anything CLI.md calls malformed."""

    shown = echoed(text)
    if not re.fullmatch(PLAIN_DECIMAL, text):
        if text.startswith("-"):
            raise InvalidAmount(f"{what} must be positive, got {shown!r}")
        raise InvalidAmount(f"{what} must be a plain decimal number like 0.5 or 1000.25, got {shown!r}")
    value = Decimal(text)
    if value == 0 and not allow_zero:
        raise InvalidAmount(f"{what} must be greater than zero")
    if value > MAX_AMOUNT:
        raise InvalidAmount(f"{what} must not exceed 10^15, got {shown!r}")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > places:
        raise InvalidAmount(f"{what} {shown} has more than {places} decimal places")
    return value


def parse_amount_or(text: str, places: int, keyword: str) -> Decimal | None:
    """An amount, or None for the keyword a command allows instead (`max`, `all`)."""
    return None if is_keyword(text, keyword) else parse_amount(text, places)


def round_down(value: Decimal, places: int) -> Decimal:
    """What the user receives, and what a limit allows, never rounds in the user's favour by accident."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN, context=MONEY_CONTEXT)


def round_up(value: Decimal, places: int) -> Decimal:
    """Interest and what the user pays round up: the lender never loses a fraction (DESIGN §2)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_UP, context=MONEY_CONTEXT)


def to_text(value: Decimal) -> str:
    """Canonical storage text: plain notation, exact, no exponent."""
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value}")
    if value == 0:
        return "0"
    return format(value, "f")


def from_text(text: str | Decimal) -> Decimal:
    """Inverse of `to_text`; also accepts a Decimal (PostgreSQL's NUMERIC already is one)."""
    if isinstance(text, Decimal):
        return text
    try:
        return Decimal(text)
    except InvalidOperation as error:  # pragma: no cover - only a corrupted row gets here
        raise ValueError(f"stored amount is not a decimal: {text!r}") from error


def format_amount(value: Decimal, places: int) -> str:
    """Amounts are shown at the asset's places, as Binance does ("0.00012345")."""
    return format(value.quantize(Decimal(1).scaleb(-places), context=MONEY_CONTEXT), "f")


def format_ratio(value: Decimal, places: int = 8) -> str:
    """Margin levels are shown rounded down to 8 places, never rounded up into a safer band."""
    return format(round_down(value, places), "f")


def mul(left: Decimal, right: Decimal) -> Decimal:
    return MONEY_CONTEXT.multiply(left, right)


def div(left: Decimal, right: Decimal) -> Decimal:
    return MONEY_CONTEXT.divide(left, right)


def format_percent(rate: Decimal, places: int | None = None) -> str:
    """A rate as a percentage for people, exact unless `places` rounds it half up: 0.00024 → "0.024"."""
    percent = mul(rate, Decimal(100))
    if places is not None:
        percent = percent.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return format(percent.normalize(), "f")
