"""Names users type: assets, pairs, wallets, accounts."""

from __future__ import annotations

import re
from collections.abc import Collection

from marginctl.domain.errors import InvalidName, UnknownAsset, UnknownPair, UnknownWallet

SPOT = "spot"
CROSS = "cross"

_ACCOUNT_NAME = r"[a-z0-9_-]{1,32}"


def _shown(text: str) -> str:
    printable = "".join(ch if ch.isprintable() else "?" for ch in text)
    return printable if len(printable) <= 40 else printable[:40] + "…"


def parse_asset(text: str, known: Collection[str]) -> str:

    code = text.strip().upper()
    if code not in known:
        raise UnknownAsset(f"unknown asset {_shown(text)!r}; known: {', '.join(sorted(known))}")
    return code


def parse_pair(text: str, known: Collection[str]) -> str:
    """`BTC/USDT`, with `BTCUSDT` (Binance's symbol) accepted as an alias."""

    candidate = text.strip().upper()
    if candidate in known:
        return candidate
    for pair in known:
        if pair.replace("/", "") == candidate:
            return pair
    raise UnknownPair(f"unknown pair {_shown(text)!r}; known: {', '.join(sorted(known))}")


def parse_wallet(text: str, pairs: Collection[str]) -> str:
    """`spot`, `cross`, or a pair meaning that pair's isolated margin wallet."""

    lowered = text.strip().lower()
    if lowered in (SPOT, CROSS):
        return lowered
    try:
        return parse_pair(text, pairs)
    except UnknownPair:
        raise UnknownWallet(
            f"unknown wallet {_shown(text)!r}; use spot, cross or a pair: {', '.join(sorted(pairs))}"
        ) from None


def is_margin_wallet(wallet: str) -> bool:
    return wallet != SPOT


def is_isolated(wallet: str) -> bool:
    return wallet not in (SPOT, CROSS)


def pair_assets(pair: str) -> tuple[str, str]:
    base, quote = pair.split("/")
    return base, quote


def validate_account_name(text: str) -> str:

    if not re.fullmatch(_ACCOUNT_NAME, text):
        raise InvalidName(f"account names are 1-32 of a-z, 0-9, _ and -; got {_shown(text)!r}")
    return text
