"""The one typed model of config.toml (DESIGN §9), validated with pydantic-settings.

The validated values are plain frozen dataclasses, so the rest of marginctl never imports pydantic.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from marginctl.domain.errors import ConfigError
from marginctl.domain.margin import MarginRules, initial_level
from marginctl.domain.money import MAX_AMOUNT, PLAIN_DECIMAL, round_down
from marginctl.domain.names import echoed
from marginctl.folders import user_folder

#: Binance's defaults per leverage: (margin call, liquidation) — DESIGN §4's table.
CROSS_LEVELS = {3: (Decimal("1.3"), Decimal("1.1")), 5: (Decimal("1.16"), Decimal("1.1"))}
ISOLATED_LEVELS = {
    3: (Decimal("1.3"), Decimal("1.1")),
    5: (Decimal("1.16"), Decimal("1.08")),
    10: (Decimal("1.08"), Decimal("1.05")),
}

_FORBID_EXTRA = {"extra": "forbid"}

#: Asset codes: ASCII upper-case letters and digits, 1 to 20 of them (Binance lists one-letter codes such as T).
ASSET_CODE = r"[A-Z0-9]{1,20}"

#: A number in the config has at most this many decimal places (as many as an asset may have).
MAX_CONFIG_PLACES = 18


def _toml_value(value: object) -> str:
    """A raw TOML value as the user wrote it, for an error message."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(echoed(value))
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return echoed(str(value))


def config_integer(value: object) -> int:
    """A TOML integer: not `true` (Python's bool is an int), not `8.0`, not `"8"`."""
    if type(value) is not int:
        raise ValueError(f"must be an integer, got {_toml_value(value)}")
    return value


def config_decimal(value: object) -> Decimal:
    """A config number: the same plain decimals as typed amounts (no sign, exponent, `_`, NaN or Infinity),
    as a string, a TOML integer or a TOML float; from 0 to 10^15 with at most 18 decimal places."""
    if isinstance(value, str):
        if value.startswith("-"):
            raise ValueError(f"must not be negative, got {_toml_value(value)}")
        if not re.fullmatch(PLAIN_DECIMAL, value):
            raise ValueError(f"must be a plain decimal number like 0.5 or 1000.25, got {_toml_value(value)}")
        number = Decimal(value)
    elif isinstance(value, Decimal | int) and not isinstance(value, bool):
        number = Decimal(value)  # a TOML float reaches here only in plain notation (see _read_toml)
    else:
        raise ValueError(f"must be a decimal number, got {_toml_value(value)}")
    if number < 0:
        raise ValueError(f"must not be negative, got {_toml_value(value)}")
    if number > MAX_AMOUNT:
        raise ValueError(f"must not exceed 10^15, got {_toml_value(value)}")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > MAX_CONFIG_PLACES:
        raise ValueError(f"must have at most {MAX_CONFIG_PLACES} decimal places, got {_toml_value(value)}")
    return number


class _Checked:
    """Annotated metadata: pydantic runs `check` on the raw TOML value instead of its own lax coercion.

    Pydantic asks for the schema only while validating, so importing this module does not import it.
    """

    def __init__(self, check: Callable[[object], object]) -> None:
        self.check = check

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_plain_validator_function(self.check)


ConfigInt = Annotated[int, _Checked(config_integer)]
ConfigDecimal = Annotated[Decimal, _Checked(config_decimal)]


@dataclass(frozen=True)
class AssetConfig:
    __pydantic_config__ = _FORBID_EXTRA

    decimals: ConfigInt = 8
    daily_interest_rate: ConfigDecimal = Decimal("0.0002")
    collateral_ratio: ConfigDecimal = Decimal(1)
    borrow_limit: ConfigDecimal = Decimal(1000000)


@dataclass(frozen=True)
class PairConfig:
    __pydantic_config__ = _FORBID_EXTRA

    tick_size: ConfigDecimal = Decimal("0.01")
    step_size: ConfigDecimal = Decimal("0.00001")
    min_notional: ConfigDecimal = Decimal(5)
    price: ConfigDecimal | None = None


@dataclass(frozen=True)
class FeeConfig:
    __pydantic_config__ = _FORBID_EXTRA

    maker: ConfigDecimal = Decimal("0.001")
    taker: ConfigDecimal = Decimal("0.001")


@dataclass(frozen=True)
class Config:
    """Everything configurable, validated; `rules_for(wallet)` gives a margin wallet's thresholds."""

    valuation_asset: str
    cross: MarginRules
    isolated: dict[str, MarginRules]
    fees: FeeConfig
    assets: dict[str, AssetConfig]
    pairs: dict[str, PairConfig]
    lending_pool: dict[str, Decimal]
    insurance_fund: dict[str, Decimal]
    source: str = field(default="built-in defaults")

    def rules_for(self, wallet: str) -> MarginRules:
        return self.cross if wallet == "cross" else self.isolated[wallet]

    def mode_of(self, wallet: str) -> str:
        """`cross-3x`, `isolated-10x`, … as `status --json` shows it."""
        kind = "cross" if wallet == "cross" else "isolated"
        return f"{kind}-{self.rules_for(wallet).leverage}x"

    def places(self, asset: str) -> int:
        return self.assets[asset].decimals

    def price_text(self, pair: str, price: Decimal) -> str:
        """A price of `pair` at its tick's places, as every view shows it (a config's 60000 as 60000.00)."""
        from marginctl.domain.money import format_amount
        from marginctl.domain.prices import price_places

        return format_amount(price, price_places(self.pairs[pair].tick_size))


def default_config_path() -> Path | None:
    """The user config dir's config.toml, if the user made one."""
    candidate = user_folder("config") / "config.toml"
    return candidate if candidate.is_file() else None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read `path` (or the user's config.toml, or nothing) merged over the shipped defaults.

    Validation imports pydantic (~150 ms); its result is cached per file version, so a command whose
    config has not changed starts without it.
    """
    from marginctl.resources import resource_path

    example = resource_path("config.example.toml")
    chosen = Path(path) if path is not None else default_config_path()
    cache = _cache_entry(example, chosen)
    if cache is not None:
        cached = _read_cache(*cache)
        if cached is not None:
            return cached
    defaults = _read_toml(example)
    raw = _merge(defaults, _read_toml(chosen)) if chosen is not None else defaults
    config = _validate(raw, source=str(chosen) if chosen is not None else "built-in defaults")
    if cache is not None:
        _write_cache(*cache, config)
    return config


def _cache_entry(example: Path, chosen: Path | None) -> tuple[Path, str] | None:
    """The cache file and key for these exact file versions; None when a file cannot be stat'ed."""
    import zlib

    from marginctl import __version__

    # This module's own file version too: a changed rule must not serve a config validated by the old one.
    parts = [__version__]
    for file in (Path(__file__), example, chosen):
        if file is None:
            parts.append("-")
            continue
        try:
            stat = file.stat()
        except OSError:
            return None
        parts.append(f"{file.resolve()}:{stat.st_mtime_ns}:{stat.st_size}")
    key = "|".join(parts)
    return user_folder("cache") / f"config-{zlib.crc32(key.encode()):08x}.json", key


def _read_cache(cache: Path, key: str) -> Config | None:
    import json

    try:
        document = json.loads(cache.read_text(encoding="utf-8"))
        return _config_from_json(document["config"]) if document.get("key") == key else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_cache(cache: Path, key: str, config: Config) -> None:
    import json
    import tempfile

    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=cache.parent, delete=False, encoding="utf-8") as handle:
            json.dump({"key": key, "config": _config_to_json(config)}, handle)
        os.replace(handle.name, cache)
    except OSError:
        pass  # a read-only cache folder only costs speed


def _config_to_json(config: Config) -> dict[str, Any]:
    from dataclasses import asdict

    return json_ready(asdict(config))


def json_ready(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def _config_from_json(document: dict[str, Any]) -> Config:
    def decimal(text: str | None) -> Decimal | None:
        return None if text is None else Decimal(text)

    def rules(data: dict[str, Any]) -> MarginRules:
        return MarginRules(
            leverage=int(data["leverage"]),
            **{key: Decimal(data[key]) for key in data if key != "leverage"},
        )

    return Config(
        valuation_asset=document["valuation_asset"],
        cross=rules(document["cross"]),
        isolated={pair: rules(data) for pair, data in document["isolated"].items()},
        fees=FeeConfig(**{key: Decimal(value) for key, value in document["fees"].items()}),
        assets={
            code: AssetConfig(
                decimals=int(data["decimals"]),
                **{key: Decimal(data[key]) for key in data if key != "decimals"},
            )
            for code, data in document["assets"].items()
        },
        pairs={
            pair: PairConfig(**{key: decimal(value) for key, value in data.items()})  # type: ignore[arg-type]
            for pair, data in document["pairs"].items()
        },
        lending_pool={code: Decimal(value) for code, value in document["lending_pool"].items()},
        insurance_fund={code: Decimal(value) for code, value in document["insurance_fund"].items()},
        source=document["source"],
    )


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from None
    try:
        try:
            return tomllib.loads(text, parse_float=_toml_float)
        except tomllib.TOMLDecodeError:
            raise
        except ValueError:
            # tomllib cannot read an integer of more than 4300 digits (CPython's limit) and does not say
            # where it is; read such integers as text, so that their key's check refuses them by name.
            return tomllib.loads(_HUGE_INTEGER.sub(r'\1"\2"', text), parse_float=_toml_float)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {path} is not valid TOML: {error}") from None


#: An integer literal of 1000 digits or more (far above any bound) after a `=`.
_HUGE_INTEGER = re.compile(r"(=[ \t]*)([+-]?[0-9][0-9_]{999,})")


def _toml_float(text: str) -> Decimal | str:
    """Money stays exact: a TOML float becomes a Decimal, never a binary float.

    One not in plain notation (`1e400`, `1_000.5`, `inf`, `-0.5`) stays text, so the key's check refuses it
    as it refuses the same string.
    """
    return Decimal(text) if re.fullmatch(PLAIN_DECIMAL, text) else text


# How deep a user's table is merged into the defaults: assets and pairs key by key, the others whole.
_MERGE_DEPTH = {"assets": 2, "pairs": 2, "lending_pool": 1, "insurance_fund": 1, "isolated": 1}


def _merge(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = {key: value for key, value in defaults.items() if key not in ("margin", "fees")}
    for key, value in overrides.items():
        depth = _MERGE_DEPTH.get(key, 0)
        if depth and isinstance(value, dict) and isinstance(merged.get(key), dict):
            table = dict(merged[key])
            for name, entry in value.items():
                if depth == 2 and isinstance(entry, dict) and isinstance(table.get(name), dict):
                    table[name] = {**table[name], **entry}
                else:
                    table[name] = entry
            merged[key] = table
        else:
            merged[key] = value
    return merged


def _validate(raw: dict[str, Any], source: str) -> Config:
    from pydantic import ValidationError
    from pydantic_settings import BaseSettings, SettingsConfigDict

    # The sections exist only to be validated; defined here so a cached start never builds them.
    @dataclass(frozen=True)
    class CrossSection:
        __pydantic_config__ = _FORBID_EXTRA

        leverage: Literal[3, 5] = 3
        transfer_out_level: ConfigDecimal = Decimal(2)
        margin_call_level: ConfigDecimal | None = None
        liquidation_level: ConfigDecimal | None = None
        pre_liquidation_margin: ConfigDecimal = Decimal("0.05")
        liquidation_fee_rate: ConfigDecimal = Decimal("0.02")

    @dataclass(frozen=True)
    class IsolatedSection:
        __pydantic_config__ = _FORBID_EXTRA

        leverage: Literal[3, 5, 10] = 3
        transfer_out_level: ConfigDecimal = Decimal(2)
        margin_call_level: ConfigDecimal | None = None
        liquidation_level: ConfigDecimal | None = None
        pre_liquidation_margin: ConfigDecimal = Decimal("0.05")
        liquidation_fee_rate: ConfigDecimal = Decimal("0.02")

    class Settings(BaseSettings):
        """config.toml; the settings come only from the file (environment variables name files)."""

        model_config = SettingsConfigDict(extra="forbid")

        valuation_asset: str = "USDT"
        margin: CrossSection = CrossSection()
        fees: FeeConfig = FeeConfig()
        assets: dict[str, AssetConfig] = {}
        pairs: dict[str, PairConfig] = {}
        isolated: dict[str, IsolatedSection] = {}
        lending_pool: dict[str, ConfigDecimal] = {}
        insurance_fund: dict[str, ConfigDecimal] = {}

        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, **other_sources):  # type: ignore[no-untyped-def, override]
            return (init_settings,)

    try:
        settings = Settings(**raw)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(echoed(str(part)) for part in first["loc"])
        if first["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            raise ConfigError(f"config {source}: unknown key {key!r}") from None
        # A check of ours (config_decimal, config_integer) says it in its own words, without "Value error, ".
        message = str(first["ctx"]["error"]) if first["type"] == "value_error" else first["msg"]
        raise ConfigError(f"config {source}: {key}: {message}") from None
    except TypeError as error:
        raise ConfigError(f"config {source}: {error}") from None

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(f"config {source}: {key}: {message}")

    for code, asset in settings.assets.items():
        if not re.fullmatch(ASSET_CODE, code):
            raise fail(f"assets.{echoed(code)}", "asset codes are 1 to 20 ASCII upper-case letters and digits")
        if not 0 <= asset.decimals <= 18:
            raise fail(f"assets.{code}.decimals", "must be between 0 and 18")
        for name in ("daily_interest_rate", "collateral_ratio", "borrow_limit"):
            if getattr(asset, name) < 0:
                raise fail(f"assets.{code}.{name}", "must not be negative")
        if asset.collateral_ratio > 1:
            raise fail(f"assets.{code}.collateral_ratio", "must be between 0 and 1")
    if settings.valuation_asset not in settings.assets:
        raise fail("valuation_asset", f"{settings.valuation_asset!r} is not a configured asset")
    for name, pair in settings.pairs.items():
        parts = name.split("/")
        if len(parts) != 2:
            raise fail(f"pairs.{echoed(name)}", "pair names are BASE/QUOTE, like BTC/USDT")
        for part in parts:
            if part not in settings.assets:
                raise fail(f"pairs.{echoed(name)}", f"unknown asset {echoed(part)!r}")
        if parts[0] == parts[1]:
            raise fail(f"pairs.{name}", "a pair needs two different assets")
        for key in ("tick_size", "step_size"):
            if getattr(pair, key) <= 0:
                raise fail(f"pairs.{name}.{key}", "must be greater than zero")
        if pair.price is not None and pair.price <= 0:
            raise fail(f"pairs.{name}.price", "must be greater than zero")
    for section, table in (
        ("lending_pool", settings.lending_pool),
        ("insurance_fund", settings.insurance_fund),
    ):
        for code, amount in table.items():
            if code not in settings.assets:
                raise fail(f"{section}.{echoed(code)}", "unknown asset")
            if amount < 0:
                raise fail(f"{section}.{code}", "must not be negative")
    for name in settings.isolated:
        if name not in settings.pairs:
            raise fail(f"isolated.{echoed(name)}", "not a configured pair")
    for name in ("maker", "taker"):
        rate = getattr(settings.fees, name)
        if not 0 <= rate < 1:
            raise fail(f"fees.{name}", "must be between 0 and 1")

    cross = _rules(settings.margin, CROSS_LEVELS, "margin", fail)
    isolated = {
        pair: _rules(settings.isolated.get(pair, IsolatedSection()), ISOLATED_LEVELS, f"isolated.{pair}", fail)
        for pair in settings.pairs
    }
    return Config(
        valuation_asset=settings.valuation_asset,
        cross=cross,
        isolated=isolated,
        fees=settings.fees,
        assets=dict(settings.assets),
        pairs=dict(settings.pairs),
        lending_pool=dict(settings.lending_pool),
        insurance_fund=dict(settings.insurance_fund),
        source=source,
    )


def _rules(
    section: Any,
    defaults: dict[int, tuple[Decimal, Decimal]],
    key: str,
    fail: Any,
) -> MarginRules:
    default_call, default_liquidation = defaults[section.leverage]
    # `is None`, not `or`: a level of 0 is a mistake to refuse, not a request for the default.
    margin_call_level = default_call if section.margin_call_level is None else section.margin_call_level
    liquidation_level = default_liquidation if section.liquidation_level is None else section.liquidation_level
    if margin_call_level <= 1:
        raise fail(f"{key}.margin_call_level", f"must be greater than 1, got {margin_call_level:f}")
    if liquidation_level <= 1:
        raise fail(f"{key}.liquidation_level", f"must be greater than 1, got {liquidation_level:f}")
    if liquidation_level >= margin_call_level:
        raise fail(
            f"{key}.liquidation_level",
            f"liquidation level {liquidation_level:f} must be below the margin-call level {margin_call_level:f}",
        )
    if section.transfer_out_level <= margin_call_level:
        raise fail(f"{key}.transfer_out_level", "must be above the margin-call level")
    borrow_level = initial_level(section.leverage)
    if section.transfer_out_level < borrow_level:
        raise fail(
            f"{key}.transfer_out_level",
            f"must be at least the borrow level L/(L-1) = {round_down(borrow_level, 8).normalize():f} "
            f"at {section.leverage}x, got {section.transfer_out_level:f}",
        )
    if not 0 <= section.liquidation_fee_rate < 1:
        raise fail(f"{key}.liquidation_fee_rate", "must be between 0 and 1")
    return MarginRules(
        leverage=section.leverage,
        transfer_out_level=section.transfer_out_level,
        margin_call_level=margin_call_level,
        liquidation_level=liquidation_level,
        pre_liquidation_margin=section.pre_liquidation_margin,
        liquidation_fee_rate=section.liquidation_fee_rate,
    )


#: The sections of a config that decide money or risk: a wallet keeps them (its rules); the rest (the
#: lending pool's and insurance fund's starting funds, a pair's starting price) only seed a new wallet.
RULES_SECTIONS = ("valuation_asset", "margin", "isolated", "fees", "assets", "pairs")
_PAIR_RULES = ("tick_size", "step_size", "min_notional")


def rules_document(config: Config) -> dict[str, Any]:
    """The config's rules as a canonical JSON-ready document (decimals as strings, integers as integers).

    `starting_prices` rides along (a pair's seed price, used until a price is recorded) but is not a rule:
    it is never compared.
    """
    from dataclasses import asdict

    return {
        "valuation_asset": config.valuation_asset,
        "margin": json_ready(asdict(config.cross)),
        "isolated": {pair: json_ready(asdict(rules)) for pair, rules in config.isolated.items()},
        "fees": json_ready(asdict(config.fees)),
        "assets": {code: json_ready(asdict(asset)) for code, asset in config.assets.items()},
        "pairs": {
            pair: {key: format(getattr(settings, key), "f") for key in _PAIR_RULES}
            for pair, settings in config.pairs.items()
        },
        "starting_prices": {
            pair: format(settings.price, "f") for pair, settings in config.pairs.items() if settings.price is not None
        },
    }


def canonical_json(document: dict[str, Any]) -> str:
    import json

    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def config_with_rules(config: Config, document: dict[str, Any]) -> Config:
    """`config` with a wallet's stored rules in place of its own (the seeds stay the config's)."""
    import dataclasses

    def rules(data: dict[str, Any]) -> MarginRules:
        return MarginRules(
            leverage=int(data["leverage"]),
            **{key: Decimal(data[key]) for key in data if key != "leverage"},
        )

    prices = document.get("starting_prices", {})

    def ordered(stored: dict[str, Any], shown: dict[str, Any]) -> dict[str, Any]:
        # The stored document's keys are sorted; lists keep the config's order, then the others'.
        return {key: stored[key] for key in [*(key for key in shown if key in stored), *sorted(stored)]}

    document = {
        **document,
        "assets": ordered(document["assets"], config.assets),
        "pairs": ordered(document["pairs"], config.pairs),
        "isolated": ordered(document["isolated"], config.isolated),
    }
    return dataclasses.replace(
        config,
        valuation_asset=document["valuation_asset"],
        cross=rules(document["margin"]),
        isolated={pair: rules(data) for pair, data in document["isolated"].items()},
        fees=FeeConfig(**{key: Decimal(value) for key, value in document["fees"].items()}),
        assets={
            code: AssetConfig(
                decimals=int(data["decimals"]),
                **{key: Decimal(data[key]) for key in data if key != "decimals"},
            )
            for code, data in document["assets"].items()
        },
        pairs={
            pair: PairConfig(
                **{key: Decimal(data[key]) for key in _PAIR_RULES},
                price=Decimal(prices[pair]) if pair in prices else None,
            )
            for pair, data in document["pairs"].items()
        },
    )
