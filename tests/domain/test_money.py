"""Exact money (DESIGN §2, CLI.md "Amounts"): parsing what users type, rounding, canonical text."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marginctl.domain.errors import InvalidAmount
from marginctl.domain.money import (
    format_amount,
    format_ratio,
    from_text,
    parse_amount,
    round_down,
    round_up,
    to_text,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0.5", Decimal("0.5")),
        ("1000", Decimal("1000")),
        ("1000.25", Decimal("1000.25")),
        ("0.00000001", Decimal("0.00000001")),  # exactly 8 places, the asset's precision
        ("1000000000000000", Decimal(10) ** 15),  # 10^15 itself is allowed; only more is refused
    ],
)
def test_parse_amount_accepts_plain_decimals(text: str, expected: Decimal) -> None:
    value = parse_amount(text, 8)
    assert value == expected
    assert str(value) == str(expected)


@pytest.mark.parametrize(
    "text",
    [
        "-1",  # negative
        "0",  # zero where a positive amount is needed
        "0.00000000",  # zero written with places is still zero
        "abc",
        "1e3",  # exponent notation
        "1E3",
        "NaN",
        "Infinity",
        "inf",
        "1,000",  # thousands separator
        "0.123456789",  # 9 places for an 8-place asset
        "10000000000000000",  # 10^16 > 10^15
        "1000000000000000.00000001",  # just above 10^15
        "",
        " 1",  # surrounding space
        "1 ",
        "01",  # leading zero
        "1.",  # no digits after the point
        ".5",  # no digits before the point
        "+1",
    ],
)
def test_parse_amount_refuses_malformed_input(text: str) -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_amount(text, 8)
    assert refused.value.code == "invalid_amount"


def test_parse_amount_accepts_zero_only_when_allowed() -> None:
    assert parse_amount("0", 8, allow_zero=True) == 0


def test_parse_amount_refuses_places_beyond_a_two_place_asset() -> None:
    # 0.001 has 3 places; an asset with 2 places cannot hold it.
    with pytest.raises(InvalidAmount):
        parse_amount("0.001", 2)
    assert parse_amount("0.01", 2) == Decimal("0.01")


def test_parse_amount_error_names_what_was_parsed() -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_amount("abc", 8, what="price")
    assert "price" in refused.value.message


def test_round_down_drops_the_digits_beyond_the_places() -> None:
    # 2000 / 60000 = 0.0333333333… → 0.03333333 (never 0.03333334)
    assert round_down(Decimal(2000) / Decimal(60000), 8) == Decimal("0.03333333")
    # 1.239 → 1.23 at 2 places, even though the next digit is 9
    assert round_down(Decimal("1.239"), 2) == Decimal("1.23")


def test_round_up_takes_any_fraction_to_the_next_unit() -> None:
    # 0.000249945455375 → 0.00024995 (Binance's interest example)
    assert round_up(Decimal("0.000249945455375"), 8) == Decimal("0.00024995")
    # 1.231 → 1.24 at 2 places, even though the next digit is 1
    assert round_up(Decimal("1.231"), 2) == Decimal("1.24")


def test_rounding_keeps_a_value_already_on_the_places() -> None:
    assert round_up(Decimal("0.005"), 8) == Decimal("0.005")
    assert round_down(Decimal("0.005"), 8) == Decimal("0.005")
    assert str(round_down(Decimal("0.005"), 8)) == "0.00500000"


@pytest.mark.parametrize("text", ["0.1", "0.000000000000000001", "123456789012345.12345678", "1000", "1000.25"])
def test_storage_text_round_trips_exactly(text: str) -> None:
    value = Decimal(text)
    stored = to_text(value)
    assert stored == text
    assert from_text(stored) == value
    assert str(from_text(stored)) == str(value)


def test_storage_text_never_uses_an_exponent() -> None:
    # Decimal("1E+3") is one thousand; Decimal("1E-18") is 0.000000000000000001.
    assert to_text(Decimal("1E+3")) == "1000"
    assert to_text(Decimal("1E-18")) == "0.000000000000000001"


@pytest.mark.parametrize("zero", [Decimal(0), Decimal("0.00000000"), Decimal("-0"), Decimal("0E-18")])
def test_storage_text_of_zero_is_0(zero: Decimal) -> None:
    assert to_text(zero) == "0"


def test_storage_text_refuses_non_finite_values() -> None:
    with pytest.raises(ValueError):
        to_text(Decimal("NaN"))
    with pytest.raises(ValueError):
        to_text(Decimal("Infinity"))


def test_from_text_accepts_a_postgres_numeric_as_is() -> None:
    value = Decimal("0.10000000")
    assert from_text(value) is value


def test_format_amount_pads_to_the_asset_places() -> None:
    assert format_amount(Decimal("0.5"), 8) == "0.50000000"
    assert format_amount(Decimal("1000"), 2) == "1000.00"
    assert format_amount(Decimal("0.00012345"), 8) == "0.00012345"
    assert format_amount(Decimal(0), 8) == "0.00000000"


def test_format_ratio_rounds_down_not_into_a_safer_band() -> None:
    # 2.999999999 would round half-up to 3.00000000; shown rounded down it stays 2.99999999.
    assert format_ratio(Decimal("2.999999999")) == "2.99999999"
    # 1500 / 500.005 = 2.99997000029999… → 2.99997000
    assert format_ratio(Decimal(1500) / Decimal("500.005")) == "2.99997000"
    # 1.25 is padded to 8 places
    assert format_ratio(Decimal("1.25")) == "1.25000000"
    assert format_ratio(Decimal("1.2345"), 2) == "1.23"
