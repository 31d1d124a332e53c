"""Secrets never reach the screen: the one masking function every printed error goes through."""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"

#: `scheme://user:password@`: the password runs to the last `@` of the word (a password may hold `@` or `/`).
_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*):\S*@")
#: A URL query item `?key=value` or `&key=value`: the value runs to the next `&`, `#` or the end of the word
#: (quotes included: they are characters of the value).
_QUERY_ITEM = re.compile(r"(?P<head>[?&](?P<key>[A-Za-z0-9_%.-]+)=)(?P<value>[^&#\s]*)")
#: A libpq conninfo pair `key = value` at the start or after a space; the value is single-quoted with backslash
#: escapes, or runs to the next space (libpq's conninfo syntax).
_CONNINFO_ITEM = re.compile(r"(?P<head>(?:^|(?<=\s))(?P<key>[A-Za-z0-9_]+)\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|\S*)")


def mask_secrets(text: str) -> str:
    """`text` with every password libpq accepts replaced by ***.

    Covers a URL's `user:password@`, `password=` (any case, percent-encoded or not, `sslpassword` too) in a
    URL's query, and `password=…` in a conninfo string (`host=db password='a b'`).
    """
    text = _USERINFO.sub(lambda match: f"{match['head']}:{MASK}@", text)

    def pair(match: re.Match[str]) -> str:
        key = unquote(match["key"]).strip().lower()
        if not key.endswith("password") or match["value"].rstrip(":,.)") == MASK:  # masked already
            return match[0]
        return f"{match['head']}{MASK}"

    return _CONNINFO_ITEM.sub(pair, _QUERY_ITEM.sub(pair, text))
