"""Words users type: asset, pair, wallet and account names, keywords, and counts.

Every typed name is compared through `name_key`, which folds only ASCII letters: `uſdt` (long s, which
`str.upper()` turns into S) or full-width `ＵＳＤＴ` never match `USDT`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Mapping

from marginctl.domain.errors import InvalidInput, InvalidName, UnknownAsset, UnknownPair, UnknownWallet

SPOT = "spot"
CROSS = "cross"

_ACCOUNT_NAME = r"[a-z0-9_-]{1,32}"
_ASCII_WHITESPACE = " \t\n\r\v\f"
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
#: A count is ASCII digits only: int() would also take "١", "１", "1_0", "+3" and " 3 ".
_COUNT = r"[0-9]{1,18}"


def name_key(text: str) -> str:
    """The form in which typed names and keywords are compared: ASCII spaces trimmed, ASCII letters lower-case.

    Nothing else is touched, so a non-ASCII character never turns into an ASCII one.
    """
    return text.strip(_ASCII_WHITESPACE).translate(_ASCII_LOWER)


def match_name(text: str, choices: Mapping[str, str]) -> str | None:
    """The value in `choices` (keyed by `name_key` of each accepted spelling) that `text` names, if any."""
    return choices.get(name_key(text))


def echoed(text: str, limit: int = 40) -> str:
    """What the user typed, for an error message: non-printable characters as `?`, cut to `limit` with `…`."""
    printable = "".join(ch if ch.isprintable() else "?" for ch in text)
    return printable if len(printable) <= limit else printable[:limit] + "…"


def parse_asset(text: str, known: Collection[str]) -> str:
    code = match_name(text, {name_key(code): code for code in known})
    if code is None:
        raise UnknownAsset(f"unknown asset {echoed(text)!r}; known: {', '.join(sorted(known))}")
    return code


def parse_pair(text: str, known: Collection[str]) -> str:
    """`BTC/USDT`, with `BTCUSDT` (Binance's symbol) accepted as an alias."""
    spellings = {name_key(pair.replace("/", "")): pair for pair in known}
    spellings.update({name_key(pair): pair for pair in known})
    pair = match_name(text, spellings)
    if pair is None:
        raise UnknownPair(f"unknown pair {echoed(text)!r}; known: {', '.join(sorted(known))}")
    return pair


def parse_wallet(text: str, pairs: Collection[str]) -> str:
    """`spot`, `cross`, or a pair meaning that pair's isolated margin wallet."""
    kind = match_name(text, {SPOT: SPOT, CROSS: CROSS})
    if kind is not None:
        return kind
    try:
        return parse_pair(text, pairs)
    except UnknownPair:
        raise UnknownWallet(
            f"unknown wallet {echoed(text)!r}; use spot, cross or a pair: {', '.join(sorted(pairs))}"
        ) from None


def is_keyword(text: str, keyword: str) -> bool:
    """`max`, `all`, … typed in any ASCII case."""
    return name_key(text) == keyword


def parse_count(text: str, what: str, maximum: int) -> int:
    """A whole number from 1 to `maximum`, written in ASCII digits (`--limit 20`)."""
    if not re.fullmatch(_COUNT, text) or not 1 <= int(text) <= maximum:
        raise InvalidInput(f"{what} must be a whole number from 1 to {maximum}, got {echoed(text, 20)!r}")
    return int(text)


def is_margin_wallet(wallet: str) -> bool:
    return wallet != SPOT


def is_isolated(wallet: str) -> bool:
    return wallet not in (SPOT, CROSS)


def pair_assets(pair: str) -> tuple[str, str]:
    base, quote = pair.split("/")
    return base, quote


def validate_account_name(text: str) -> str:
    if not re.fullmatch(_ACCOUNT_NAME, text):
        raise InvalidName(f"account names are 1-32 of a-z, 0-9, _ and -; got {echoed(text)!r}")
    return text
