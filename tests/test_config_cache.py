"""The validated config is cached per file version; an edited file is validated again."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from marginctl.config import load_config
from marginctl.domain.errors import ConfigError


def test_an_edited_config_file_is_read_again_not_served_from_the_cache(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[fees]\ntaker = "0.002"\n', encoding="utf-8")
    assert load_config(config).fees.taker == Decimal("0.002")
    assert load_config(config).fees.taker == Decimal("0.002")  # served from the cache
    config.write_text('[fees]\ntaker = "0.003"\n', encoding="utf-8")
    stat = config.stat()
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert load_config(config).fees.taker == Decimal("0.003")


def test_a_cached_config_equals_a_freshly_validated_one(tmp_path: Path) -> None:
    first = load_config()
    cached = load_config()
    assert cached == first
    assert cached.pairs["BTC/USDT"].price == Decimal("60000")
    assert cached.isolated["BTC/USDT"].liquidation_level == Decimal("1.05")


def test_a_broken_edit_is_refused_even_after_a_good_version_was_cached(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[margin]\nleverage = 5\n", encoding="utf-8")
    assert load_config(config).cross.margin_call_level == Decimal("1.16")
    config.write_text("[margin]\nleverage = 4\n", encoding="utf-8")
    stat = config.stat()
    os.utime(config, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    with pytest.raises(ConfigError, match=r"margin\.leverage"):
        load_config(config)
