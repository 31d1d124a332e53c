"""mask_secrets: every password form libpq accepts becomes ***, and nothing else changes."""

from __future__ import annotations

import pytest

from marginctl.domain.secrets import mask_secrets


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgresql+psycopg://alice:pw@h:5432/db", "postgresql+psycopg://alice:***@h:5432/db"),
        ("postgresql://:pw@h/db", "postgresql://:***@h/db"),
        ("postgresql://alice:p@ss@h/db", "postgresql://alice:***@h/db"),  # to the last @
        ("postgresql://alice@h/db?password=pw", "postgresql://alice@h/db?password=***"),
        (
            "postgresql://alice@h/db?sslmode=require&PASSWORD=pw&x=1",
            "postgresql://alice@h/db?sslmode=require&PASSWORD=***&x=1",
        ),
        ("postgresql://alice@h/db?pass%77ord=pw", "postgresql://alice@h/db?pass%77ord=***"),
        ("postgresql://alice@h/db?sslpassword=pw", "postgresql://alice@h/db?sslpassword=***"),
        ("host=h password=pw dbname=db", "host=h password=*** dbname=db"),
        ("host=h password = 'a b\\' c' dbname=db", "host=h password = *** dbname=db"),
        (
            "cannot use the wallet postgresql://u@h/db?password=***: refused",
            "cannot use the wallet postgresql://u@h/db?password=***: refused",
        ),
        # quotes are characters of a URL's query value, and of an unquoted conninfo value
        ("postgresql://alice@h/db?password=ab'cd", "postgresql://alice@h/db?password=***"),
        ('postgresql://alice@h/db?password=ab"cd&x=1', "postgresql://alice@h/db?password=***&x=1"),
        ("host=h password=ab'cd dbname=db", "host=h password=*** dbname=db"),
        ("/tmp/a&b=c;d.db", "/tmp/a&b=c;d.db"),
        ("no wallet at real.db#paper", "no wallet at real.db#paper"),
        ("postgresql://alice@h/db", "postgresql://alice@h/db"),
    ],
)
def test_mask_secrets(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked
