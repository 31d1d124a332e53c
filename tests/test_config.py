"""config.toml (DESIGN §9): shipped defaults, merging a user file over them, and clear errors naming the key."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from marginctl.config import Config, load_config
from marginctl.domain.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def load(tmp_path: Path, toml: str) -> Config:
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    return load_config(path)


def refused(tmp_path: Path, toml: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert error.value.code == "config_error"
    return error.value.message


def test_no_config_file_gives_the_example_file_values() -> None:
    built_in = load_config()
    example = load_config(EXAMPLE)
    assert built_in.source == "built-in defaults"
    assert dataclasses.replace(built_in, source="") == dataclasses.replace(example, source="")


def test_default_cross_margin_is_3x_with_levels_1_3_and_1_1() -> None:
    cross = load_config().cross
    assert cross.leverage == 3
    assert cross.margin_call_level == Decimal("1.3")
    assert cross.liquidation_level == Decimal("1.1")
    assert cross.transfer_out_level == Decimal(2)
    assert cross.pre_liquidation_margin == Decimal("0.05")
    assert cross.liquidation_fee_rate == Decimal("0.02")


def test_default_assets_follow_design() -> None:
    config = load_config()
    assert config.valuation_asset == "USDT"
    assert config.assets["USDT"].daily_interest_rate == Decimal("0.00024")
    assert config.assets["BTC"].daily_interest_rate == Decimal("0.000048")
    assert config.assets["BTC"].borrow_limit == Decimal(100)
    assert config.places("BTC") == 8
    assert config.pairs["BTC/USDT"].price == Decimal(60000)
    assert config.lending_pool["USDT"] == Decimal(100000000)
    assert config.insurance_fund["USDT"] == Decimal(1000000)
    assert config.fees.maker == Decimal("0.001")
    assert config.fees.taker == Decimal("0.001")


def test_leverage_5_alone_gives_binance_5x_levels(tmp_path: Path) -> None:
    cross = load(tmp_path, "[margin]\nleverage = 5\n").cross
    # DESIGN §4: cross 5x margin call 1.16, liquidation 1.1
    assert cross.leverage == 5
    assert cross.margin_call_level == Decimal("1.16")
    assert cross.liquidation_level == Decimal("1.1")
    assert cross.initial_level == Decimal("1.25")


def test_isolated_btc_usdt_is_10x_by_default() -> None:
    config = load_config()
    rules = config.rules_for("BTC/USDT")
    assert rules.leverage == 10
    assert rules.margin_call_level == Decimal("1.08")
    assert rules.liquidation_level == Decimal("1.05")
    assert config.mode_of("BTC/USDT") == "isolated-10x"


def test_a_pair_without_an_isolated_table_is_isolated_3x() -> None:
    config = load_config()
    rules = config.rules_for("ETH/USDT")
    assert rules.leverage == 3
    assert rules.margin_call_level == Decimal("1.3")
    assert rules.liquidation_level == Decimal("1.1")
    assert config.mode_of("ETH/USDT") == "isolated-3x"
    assert config.mode_of("cross") == "cross-3x"


def test_an_isolated_5x_table_gets_its_own_levels_and_keeps_btc_usdt_10x(tmp_path: Path) -> None:
    config = load(tmp_path, '[isolated."ETH/USDT"]\nleverage = 5\n')
    # DESIGN §4: isolated 5x margin call 1.16, liquidation 1.08
    assert config.rules_for("ETH/USDT").margin_call_level == Decimal("1.16")
    assert config.rules_for("ETH/USDT").liquidation_level == Decimal("1.08")
    assert config.rules_for("BTC/USDT").leverage == 10


def test_an_asset_override_keeps_the_other_keys_of_that_asset(tmp_path: Path) -> None:
    btc = load(tmp_path, '[assets.BTC]\ncollateral_ratio = "0.9"\n').assets["BTC"]
    assert btc.collateral_ratio == Decimal("0.9")
    assert btc.decimals == 8
    assert btc.daily_interest_rate == Decimal("0.000048")
    assert btc.borrow_limit == Decimal(100)


def test_a_pair_override_keeps_the_other_pairs(tmp_path: Path) -> None:
    config = load(tmp_path, '[pairs."BTC/USDT"]\nprice = "65000"\n')
    assert config.pairs["BTC/USDT"].price == Decimal(65000)
    assert config.pairs["BTC/USDT"].tick_size == Decimal("0.01")
    assert config.pairs["ETH/USDT"].price == Decimal(3000)


def test_toml_floats_become_exact_decimals(tmp_path: Path) -> None:
    config = load(tmp_path, '[pairs."BTC/USDT"]\nprice = 60000.5\n[assets.BTC]\ncollateral_ratio = 0.9\n')
    price = config.pairs["BTC/USDT"].price
    assert isinstance(price, Decimal)
    assert str(price) == "60000.5"
    # A binary float 0.9 would be 0.90000000000000002220446…
    assert config.assets["BTC"].collateral_ratio == Decimal("0.9")


def test_an_unknown_margin_key_is_named(tmp_path: Path) -> None:
    assert "margin.foo" in refused(tmp_path, "[margin]\nfoo = 1\n")


def test_a_misspelt_asset_key_is_named(tmp_path: Path) -> None:
    assert "assets.BTC.colateral_ratio" in refused(tmp_path, '[assets.BTC]\ncolateral_ratio = "0.9"\n')


def test_an_unknown_top_level_key_is_named(tmp_path: Path) -> None:
    assert "colour" in refused(tmp_path, 'colour = "red"\n')


def test_a_liquidation_level_above_the_margin_call_level_is_refused(tmp_path: Path) -> None:
    # 1.4 ≥ the default margin call 1.3
    assert "margin.liquidation_level" in refused(tmp_path, '[margin]\nliquidation_level = "1.4"\n')


def test_an_impossible_isolated_level_is_refused(tmp_path: Path) -> None:
    # 10x margin call 1.08; a liquidation level of 1.1 is above it
    toml = '[isolated."BTC/USDT"]\nleverage = 10\nliquidation_level = "1.1"\n'
    assert "isolated.BTC/USDT.liquidation_level" in refused(tmp_path, toml)


def test_an_unsupported_leverage_is_refused(tmp_path: Path) -> None:
    assert "margin.leverage" in refused(tmp_path, "[margin]\nleverage = 4\n")


def test_a_malformed_number_is_named(tmp_path: Path) -> None:
    assert "assets.BTC.collateral_ratio" in refused(tmp_path, '[assets.BTC]\ncollateral_ratio = "abc"\n')


def test_a_collateral_ratio_above_1_is_refused(tmp_path: Path) -> None:
    assert "assets.BTC.collateral_ratio" in refused(tmp_path, '[assets.BTC]\ncollateral_ratio = "1.1"\n')


def test_a_pair_with_an_unknown_asset_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, '[pairs."DOGE/USDT"]\ntick_size = "0.0001"\n')
    assert "pairs.DOGE/USDT" in message
    assert "DOGE" in message


def test_invalid_toml_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    message = refused(tmp_path, "[margin\nleverage = = 3\n")
    assert str(tmp_path / "config.toml") in message
    assert "TOML" in message


def test_a_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as error:
        load_config(missing)
    assert str(missing) in error.value.message


# Issue 12 item 9: every such config is refused when loaded, in one line naming the key.


def refusal(tmp_path: Path, toml: str) -> str:
    """The message after `config PATH: `, which every config refusal starts with."""
    message = refused(tmp_path, toml)
    prefix = f"config {tmp_path / 'config.toml'}: "
    assert message.startswith(prefix), message
    assert "\n" not in message
    return message[len(prefix) :]


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        # Python's bool is an int: pydantic read `true` as 1 decimal place.
        ("[assets.BTC]\ndecimals = true\n", "assets.BTC.decimals: must be an integer, got true"),
        ("[assets.BTC]\ndecimals = 8.0\n", "assets.BTC.decimals: must be an integer, got 8.0"),
        ('[assets.BTC]\ndecimals = "8"\n', "assets.BTC.decimals: must be an integer, got '8'"),
        ("[assets.BTC]\nborrow_limit = true\n", "assets.BTC.borrow_limit: must be a decimal number, got true"),
    ],
)
def test_a_value_of_the_wrong_toml_type_is_refused(tmp_path: Path, toml: str, expected: str) -> None:
    assert refusal(tmp_path, toml) == expected


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        # `section.margin_call_level or default` took a level of 0 for "use the default".
        ("[margin]\nmargin_call_level = 0\n", "margin.margin_call_level: must be greater than 1, got 0"),
        ('[margin]\nliquidation_level = "0"\n', "margin.liquidation_level: must be greater than 1, got 0"),
        (
            '[isolated."BTC/USDT"]\nleverage = 10\nmargin_call_level = "0"\n',
            "isolated.BTC/USDT.margin_call_level: must be greater than 1, got 0",
        ),
        (
            '[isolated."ETH/USDT"]\nliquidation_level = 0.0\n',
            "isolated.ETH/USDT.liquidation_level: must be greater than 1, got 0.0",
        ),
    ],
)
def test_a_level_of_zero_is_refused_not_replaced_by_the_default(tmp_path: Path, toml: str, expected: str) -> None:
    assert refusal(tmp_path, toml) == expected


@pytest.mark.parametrize(
    ("key", "toml"),
    [
        ("pairs.BTC/USDT.min_notional", '[pairs."BTC/USDT"]\nmin_notional = "-5"\n'),
        ("pairs.BTC/USDT.min_notional", '[pairs."BTC/USDT"]\nmin_notional = -5\n'),
        ("pairs.BTC/USDT.tick_size", '[pairs."BTC/USDT"]\ntick_size = -0.01\n'),
        ("fees.maker", '[fees]\nmaker = "-0.001"\n'),
        ("assets.BTC.daily_interest_rate", '[assets.BTC]\ndaily_interest_rate = "-0.0001"\n'),
        ("margin.pre_liquidation_margin", '[margin]\npre_liquidation_margin = "-0.05"\n'),
        ("lending_pool.USDT", 'lending_pool = { USDT = "-1" }\n'),
    ],
)
def test_a_negative_number_is_refused_naming_its_key(tmp_path: Path, key: str, toml: str) -> None:
    message = refusal(tmp_path, toml)
    assert message.startswith(f"{key}: must not be negative, got ")


@pytest.mark.parametrize(
    ("key", "toml"),
    [
        ("pairs.BTC/USDT.tick_size", '[pairs."BTC/USDT"]\ntick_size = "0"\n'),
        ("pairs.BTC/USDT.step_size", '[pairs."BTC/USDT"]\nstep_size = 0\n'),
        ("pairs.BTC/USDT.price", '[pairs."BTC/USDT"]\nprice = "0"\n'),
    ],
)
def test_a_zero_tick_step_or_price_is_refused(tmp_path: Path, key: str, toml: str) -> None:
    assert refusal(tmp_path, toml) == f"{key}: must be greater than zero"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            '[assets."ＢＴＣ"]\ndecimals = 8\n',
            "assets.ＢＴＣ: asset codes are 1 to 20 ASCII upper-case letters and digits",
        ),
        (
            '[assets."' + "A" * 10_000 + '"]\ndecimals = 8\n',
            "assets." + "A" * 40 + "…: asset codes are 1 to 20 ASCII upper-case letters and digits",
        ),
        (
            '[assets."A" ]\ndecimals = 8\n[assets."ABCDEFGHIJKLMNOPQRSTU"]\ndecimals = 8\n',  # 21 letters
            "assets.ABCDEFGHIJKLMNOPQRSTU: asset codes are 1 to 20 ASCII upper-case letters and digits",
        ),
        (
            '[assets."BTC-2"]\ndecimals = 8\n',
            "assets.BTC-2: asset codes are 1 to 20 ASCII upper-case letters and digits",
        ),
        ('[pairs."USDT/USDT"]\nprice = "1"\n', "pairs.USDT/USDT: a pair needs two different assets"),
    ],
)
def test_an_impossible_asset_code_or_pair_is_refused(tmp_path: Path, toml: str, expected: str) -> None:
    assert refusal(tmp_path, toml) == expected


def test_one_letter_and_twenty_character_asset_codes_are_accepted(tmp_path: Path) -> None:
    # Binance lists one-letter assets (T, W) and codes with digits (1INCH, 1000SATS).
    config = load(
        tmp_path, '[assets.T]\ndecimals = 8\n[assets."1000SATS"]\ndecimals = 0\n[assets.ABCDEFGHIJKLMNOPQRST]\n'
    )
    assert {"T", "1000SATS", "ABCDEFGHIJKLMNOPQRST"} <= set(config.assets)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            "[assets.BTC]\nborrow_limit = 1e400\n",
            "assets.BTC.borrow_limit: must be a plain decimal number like 0.5 or 1000.25, got '1e400'",
        ),
        (
            '[assets.BTC]\nborrow_limit = "1e400"\n',
            "assets.BTC.borrow_limit: must be a plain decimal number like 0.5 or 1000.25, got '1e400'",
        ),
        (
            "[assets.BTC]\ndaily_interest_rate = 1e-400\n",
            "assets.BTC.daily_interest_rate: must be a plain decimal number like 0.5 or 1000.25, got '1e-400'",
        ),
        (
            '[fees]\ntaker = "0.0000000000000000001"\n',  # 19 places
            "fees.taker: must have at most 18 decimal places, got '0.0000000000000000001'",
        ),
        (
            '[assets.BTC]\nborrow_limit = "1000000000000001"\n',  # 10^15 + 1
            "assets.BTC.borrow_limit: must not exceed 10^15, got '1000000000000001'",
        ),
        (
            "[assets.BTC]\nborrow_limit = 1_000\n",  # a TOML integer may have underscores: 1000
            None,
        ),
        (
            '[assets.BTC]\nborrow_limit = "1_000"\n',
            "assets.BTC.borrow_limit: must be a plain decimal number like 0.5 or 1000.25, got '1_000'",
        ),
        (
            "[assets.BTC]\ncollateral_ratio = inf\n",
            "assets.BTC.collateral_ratio: must be a plain decimal number like 0.5 or 1000.25, got 'inf'",
        ),
        (
            '[assets.BTC]\nborrow_limit = " 100"\n',
            "assets.BTC.borrow_limit: must be a plain decimal number like 0.5 or 1000.25, got ' 100'",
        ),
    ],
)
def test_config_numbers_are_plain_decimals_within_bounds(tmp_path: Path, toml: str, expected: str | None) -> None:
    if expected is None:
        assert load(tmp_path, toml).assets["BTC"].borrow_limit == Decimal(1000)
    else:
        assert refusal(tmp_path, toml) == expected


@pytest.mark.parametrize("quoted", [False, True])
def test_a_5000_digit_integer_is_refused_naming_its_key(tmp_path: Path, quoted: bool) -> None:
    # tomllib cannot read an integer of more than 4300 digits (ValueError, exit 1 before); as a string it
    # was accepted and failed later.
    digits = "9" * 5000
    value = f'"{digits}"' if quoted else digits
    message = refusal(tmp_path, f"[assets.BTC]\nborrow_limit = {value}\n")
    assert message == f"assets.BTC.borrow_limit: must not exceed 10^15, got '{'9' * 40}…'"


def test_a_5000_digit_decimals_is_refused_naming_its_key(tmp_path: Path) -> None:
    message = refusal(tmp_path, "[assets.BTC]\ndecimals = " + "9" * 5000 + "\n")
    assert message.startswith("assets.BTC.decimals: must be an integer, got '9999")


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        (
            # 10x borrows down to 10/9 = 1.111…; transfer-out at 1.1 would let funds leave below it.
            '[isolated."BTC/USDT"]\nleverage = 10\ntransfer_out_level = "1.1"\n',
            "isolated.BTC/USDT.transfer_out_level: must be at least the borrow level L/(L-1) = 1.11111111 at 10x,"
            " got 1.1",
        ),
        (
            # cross 3x: margin call 1.3 < 1.4 < 3/2 = 1.5
            '[margin]\ntransfer_out_level = "1.4"\n',
            "margin.transfer_out_level: must be at least the borrow level L/(L-1) = 1.5 at 3x, got 1.4",
        ),
        (
            # cross 5x: margin call 1.16 < 1.2 < 5/4 = 1.25
            '[margin]\nleverage = 5\ntransfer_out_level = "1.2"\n',
            "margin.transfer_out_level: must be at least the borrow level L/(L-1) = 1.25 at 5x, got 1.2",
        ),
    ],
)
def test_a_transfer_out_level_below_the_borrow_level_is_refused(tmp_path: Path, toml: str, expected: str) -> None:
    assert refusal(tmp_path, toml) == expected


def test_a_transfer_out_level_at_the_borrow_level_is_accepted(tmp_path: Path) -> None:
    # 3x: 3/2 = 1.5 exactly
    assert load(tmp_path, '[margin]\ntransfer_out_level = "1.5"\n').cross.transfer_out_level == Decimal("1.5")


def test_a_changed_rule_is_not_served_from_a_cache_of_the_old_one(tmp_path: Path) -> None:
    from marginctl import config as config_module

    path = tmp_path / "config.toml"
    path.write_text("[assets.BTC]\ndecimals = 8\n", encoding="utf-8")
    load_config(path)
    entry = config_module._cache_entry(EXAMPLE, path)
    assert entry is not None
    assert str(Path(config_module.__file__).resolve()) in entry[1]
