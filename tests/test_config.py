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
