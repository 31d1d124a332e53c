"""Binance's parameters, read as Binance reads them: names, enums, booleans in any case, plain decimals.

Each refusal is Binance's error (-1100 malformed, -1102 missing, -1121 bad symbol, …), raised before the
wallet is asked anything, so a refused request changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from marginctl.api.errors import BAD_PARAMETER, BAD_SYMBOL, FILTER_FAILURE, MANDATORY_PARAM_MISSING, BinanceError
from marginctl.api.signed import SignedRequest
from marginctl.config import Config
from marginctl.domain.names import CROSS

#: Binance's pattern for a decimal parameter (quantity, price, amount): no sign, no exponent.
DECIMAL = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,20})?")
WHOLE = re.compile(r"[0-9]{1,18}")
#: Binance's pattern for a symbol parameter.
SYMBOL = re.compile(r"[A-Z0-9_.-]{1,20}")
TRUE, FALSE = "true", "false"


def illegal(name: str, legal: str | None = None) -> BinanceError:
    shown = f"; legal range is '{legal}'" if legal else ""
    return BinanceError(BAD_PARAMETER, f"Illegal characters found in parameter '{name}'{shown}.")


def optional(request: SignedRequest, name: str) -> str | None:
    """A parameter's text; None when absent or empty (Binance treats an empty value as not sent)."""
    value = request.params.get(name)
    return value if value else None


def decimal_text(request: SignedRequest, name: str, required: bool = True) -> str | None:
    """A decimal parameter's text, checked against Binance's pattern; the wallet's rules parse it."""
    text = request.required(name) if required else optional(request, name)
    if text is not None and not DECIMAL.fullmatch(text):
        raise illegal(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$")
    return text


def whole(request: SignedRequest, name: str, required: bool = False) -> int | None:
    text = request.required(name) if required else optional(request, name)
    if text is None:
        return None
    if not WHOLE.fullmatch(text):
        raise illegal(name, "^[0-9]{1,18}$")
    return int(text)


def count(request: SignedRequest, name: str, default: int, most: int) -> int:
    """A page size or limit: 1 to `most`."""
    value = whole(request, name)
    if value is None:
        return default
    if not 1 <= value <= most:
        raise BinanceError(BAD_PARAMETER, f"Parameter '{name}' must be between 1 and {most}.")
    return value


def boolean(request: SignedRequest, name: str, default: bool) -> bool:
    """TRUE, true, True…: clients differ in case (ccxt sends both)."""
    text = optional(request, name)
    if text is None:
        return default
    lowered = text.lower()
    if lowered not in (TRUE, FALSE):
        raise illegal(name, "TRUE|FALSE")
    return lowered == TRUE


def choice(request: SignedRequest, name: str, choices: Collection[str], code: int = BAD_PARAMETER) -> str:
    """An enum parameter, in Binance's upper case exactly."""
    text = request.required(name)
    if text not in choices:
        raise BinanceError(code, f"Invalid {name}." if code != BAD_PARAMETER else f"Illegal value for '{name}'.")
    return text


def pair_of(config: Config, symbol: str) -> str:
    """`BTCUSDT` → the wallet's pair `BTC/USDT`."""
    if not SYMBOL.fullmatch(symbol):
        raise illegal("symbol", "^[A-Z0-9-_.]{1,20}$")
    for pair in config.pairs:
        if pair.replace("/", "") == symbol:
            return pair
    raise BinanceError(BAD_SYMBOL, "Invalid symbol.")


def symbol_pair(config: Config, request: SignedRequest, name: str = "symbol", required: bool = True) -> str | None:
    text = request.required(name) if required else optional(request, name)
    return None if text is None else pair_of(config, text)


def isolated_pair(config: Config, request: SignedRequest, symbol_name: str = "symbol") -> str | None:
    """`isIsolated=TRUE` with `symbol`: the isolated wallet's pair; otherwise None (the cross wallet)."""
    if not boolean(request, "isIsolated", False):
        return None
    pair = symbol_pair(config, request, symbol_name)
    assert pair is not None
    if pair not in config.isolated:
        raise BinanceError(BAD_SYMBOL, "Invalid symbol: no isolated margin for this pair.")
    return pair


def wallet_of(isolated: str | None) -> str:
    return isolated if isolated is not None else CROSS


def missing(name: str) -> BinanceError:
    return BinanceError(
        MANDATORY_PARAM_MISSING, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def on_filters(
    config: Config, pair: str, request: SignedRequest, quantities: tuple[str, ...], prices: tuple[str, ...]
) -> None:
    """Binance refuses a quantity off the pair's step (LOT_SIZE) and a price off its tick (PRICE_FILTER)
    with -1013; marginctl's CLI rounds a quantity down to the step, the API does not."""
    from decimal import Decimal

    settings = config.pairs[pair]
    for names, size, name_of_filter in (
        (quantities, settings.step_size, "LOT_SIZE"),
        (prices, settings.tick_size, "PRICE_FILTER"),
    ):
        for name in names:
            text = optional(request, name)
            if text is not None and DECIMAL.fullmatch(text) and Decimal(text) % size != 0:
                raise BinanceError(FILTER_FAILURE, f"Filter failure: {name_of_filter}")
