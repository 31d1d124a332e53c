"""`price import`: replay Binance klines through the wallet, candle by candle, in one transaction."""

from __future__ import annotations

import csv
import dataclasses
import gc
import io
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from marginctl.domain.clock import ONE_HOUR
from marginctl.domain.errors import ClockBackwards, InvalidInput, TimeInFuture
from marginctl.domain.klines import HEADER_FIRST_CELL, Candle, Timestamps, parse_candle, symbol_of_file
from marginctl.domain.ledger import LENDING_POOL
from marginctl.domain.margin import margin_level_text
from marginctl.domain.money import from_text
from marginctl.domain.names import CROSS, pair_assets, parse_pair
from marginctl.domain.quiet_band import Band, OpenOrder, in_danger, order_band, risk_band
from marginctl.domain.times import from_storage, to_display, to_storage
from marginctl.services.context import Context, WriteScope, advance_clock, run_write
from marginctl.store import interest as interest_store
from marginctl.store import orders as orders_store
from marginctl.store import prices as prices_store

INTERVALS = ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d")


def _csv_texts(path: Path) -> Iterator[tuple[str, str]]:
    """(display name, CSV text) for a .csv file or each CSV inside a .zip as downloaded."""
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    if member.lower().endswith(".csv"):
                        yield f"{path.name}:{member}", archive.read(member).decode("utf-8")
            return
        yield path.name, path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError, zipfile.BadZipFile) as error:
        raise InvalidInput(f"cannot read {path}: {error}") from None


def read_candles(paths: list[Path], pair: str, interval: str) -> list[Candle]:
    """Every candle of every file, checked: the right pair, well-formed rows, time only moving forward.

    A year of one-minute candles is millions of objects and no reference cycle: the cyclic collector would
    walk them all again and again for nothing (it was 2 s of the 5 s a year took to read)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read_candles(paths, pair, interval)
    finally:
        if collecting:
            gc.enable()


def _read_candles(paths: list[Path], pair: str, interval: str) -> list[Candle]:
    symbol = pair.replace("/", "")
    candles: list[Candle] = []
    for path in paths:
        named = symbol_of_file(path.name)
        if named is not None and named[0] != symbol:
            raise InvalidInput(f"{path.name} holds {named[0]} klines, not {symbol}")
        if named is not None and named[1] != interval:
            raise InvalidInput(f"{path.name} holds {named[1]} klines, not {interval} (use --interval)")
        for name, text in _csv_texts(path):
            moment_of = Timestamps()
            for line_number, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
                if not cells or (line_number == 1 and cells[0].strip() == HEADER_FIRST_CELL):
                    continue
                candle = parse_candle(cells, f"{name}:{line_number}", moment_of)
                if candles and candle.open_time <= candles[-1].open_time:
                    raise InvalidInput(f"{name}:{line_number}: time goes backwards (or repeats)")
                candles.append(candle)
    if not candles:
        raise InvalidInput("the files hold no klines")
    return candles


def import_klines(
    context: Context,
    files: list[str],
    pair_text: str,
    interval: str,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Each candle: accrue to its time, then each price of its path runs triggers, fills and the risk check."""
    from marginctl.services.accrual import AccrualSummary, accrue_through
    from marginctl.services.catch_up import InterestCharger
    from marginctl.services.risk import wallet_position
    from marginctl.services.risk_check import RiskBook, RiskReport, check_risk
    from marginctl.services.trading import match_orders

    config = context.config
    pair = parse_pair(pair_text, config.pairs)
    if interval not in INTERVALS:
        raise InvalidInput(f"--interval must be one of {', '.join(INTERVALS)}")
    candles = read_candles([Path(name) for name in files], pair, interval)

    def act(scope: WriteScope) -> dict[str, Any]:
        summary = AccrualSummary()
        report = RiskReport()
        book = RiskBook.load(scope.tx)
        # The hours' interest is held here from hour to hour (the book counts it) and booked, in one entry per
        # account for all the hours held, before a price that can fill or liquidate and at the end.
        charger = InterestCharger(scope.tx, config, scope.system_ids[LENDING_POOL])
        fills = triggered = 0
        watch = _Watch(scope, pair, book)
        next_hour = watch.next_accrual_hour()
        last_price: Decimal | None = None
        for index, candle in enumerate(candles):
            at = candle.open_time
            if next_hour is not None and at >= next_hour:
                if last_price is not None:
                    _record_price(dataclasses.replace(scope, at=at), pair, last_price)
                liquidated = len(report.liquidations)
                accrue_through(scope, at, summary, report, book, charger)
                # A liquidation cancels the wallet's orders; an hour's interest moves no order.
                watch.refresh(orders_changed=len(report.liquidations) != liquidated)
                next_hour = watch.next_accrual_hour()
            if watch.quiet_candle(candle):
                last_price = candle.close
                if progress is not None and (index % 1000 == 999 or index == len(candles) - 1):
                    progress(index + 1, len(candles))
                continue
            path = candle.price_path()
            for step, price in enumerate(path):
                moment = candle.close_time if step == len(path) - 1 else at
                last_price = price
                if watch.quiet(price, moment):
                    continue
                charger.flush()
                point = dataclasses.replace(scope, request_id=None, at=moment)
                _record_price(point, pair, price)
                matched = match_orders(point, pair, price)
                fills += matched["filled"]
                triggered += matched["triggered"]
                if matched["filled"]:
                    book.reload(scope.tx, list(book.balances))
                report.extend(check_risk(point, pair_assets(pair), book))
                watch.refresh(moment)
            if progress is not None and (index % 1000 == 999 or index == len(candles) - 1):
                progress(index + 1, len(candles))
        assert last_price is not None
        charger.flush()
        _record_price(dataclasses.replace(scope, at=candles[-1].close_time), pair, last_price)
        advance_clock(scope.tx, candles[-1].close_time)
        position = wallet_position(scope.tx, config, scope.account_id, CROSS)
        level = position.margin_level
        return {
            "pair": pair,
            "candles": len(candles),
            "from": to_display(candles[0].open_time),
            "to": to_display(candles[-1].close_time),
            "triggered": triggered,
            "fills": fills,
            "interestCharges": summary.charges,
            "marginCallCount": len(report.margin_calls),
            "liquidationCount": len(report.liquidations),
            **report.as_json(),
            "finalMarginLevel": margin_level_text(level),
        }

    arguments = {"pair": pair, "files": files, "interval": interval}
    first = to_display(candles[0].open_time)
    if context.now is None and candles[-1].close_time > context.clock():
        # On the real clock a candle from the future would hold back every later write, as `--at` would.
        raise TimeInFuture(
            f"the candles run to {to_display(candles[-1].close_time)}, later than the clock; "
            f"replay them into a simulated wallet: marginctl --db replay.db --now {first} deposit USDT 1000"
        )
    try:
        # The first candle may not be older than the wallet's last event; the clock ends at the last one.
        return run_write(
            context, "price-import", arguments, None, act, at=candles[0].open_time, catch_up=False, market_data=True
        )
    except ClockBackwards as refused:
        raise ClockBackwards(
            f"{refused.message}: a replay needs a wallet whose clock is at or before its first candle; start a "
            f"new wallet with --now at or before {first}, e.g. marginctl --db replay.db --now {first} deposit USDT 1000"
        ) from None


def _record_price(scope: WriteScope, pair: str, price: Decimal) -> None:
    prices_store.record_price(scope.tx, pair, price, to_storage(scope.at), "import")


#: Binance repeats a margin call every 24 hours; a replay re-checks a wallet in danger that often.
RECHECK = timedelta(hours=24)


class _Watch:
    """Knows, without a query, whether a price can change anything: the quiet band of orders and wallets."""

    def __init__(self, scope: WriteScope, pair: str, book: Any) -> None:
        self.scope = scope
        self.pair = pair
        self.book = book
        self.base, self.quote = pair_assets(pair)
        self.band = Band()
        self.orders_band = Band()
        self.danger_since: datetime | None = None
        self.refresh()

    def refresh(self, moment: datetime | None = None, orders_changed: bool = True) -> None:
        from marginctl.services.quotes import asset_prices

        tx, config = self.scope.tx, self.scope.config
        if orders_changed:
            self.orders_band = order_band(
                OpenOrder(
                    str(row["type"]),
                    str(row["side"]),
                    from_text(row["price"]),
                    from_text(row["stop_price"]) if row["stop_price"] is not None else None,
                    bool(row["triggered"]),
                )
                for row in orders_store.open_order_prices(tx, self.pair)
            )
        prices = asset_prices(tx, config)
        keys = [key for key, balances in self.book.balances.items() if self.base in balances or self.quote in balances]
        wallets = [(list(self.book.balances[key].values()), config.rules_for(key[1])) for key in keys]
        self.band = self.orders_band
        if self.base in prices and self.quote in prices:
            self.band = self.band.narrow(risk_band(wallets, self.base, prices, prices[self.quote]))
        danger = any(self._in_danger(key, prices) for key in keys)
        self.danger_since = (moment or self.scope.at) if danger else None

    def _in_danger(self, key: tuple[int, str], prices: dict[str, Decimal]) -> bool:
        """At or below the margin-call level: the book's kept level, or (an asset unpriced) `in_danger`."""
        rules = self.scope.config.rules_for(key[1])
        level = self.book.level(key, prices)
        if level is False:
            return in_danger(list(self.book.balances[key].values()), prices, rules)
        return level is not None and level <= rules.margin_call_level

    def quiet_candle(self, candle: Candle) -> bool:
        """Every price of the candle is quiet: its low and high lie in the band (an interval), and no wallet in
        danger is due for its daily re-check before the candle closes."""
        if self.danger_since is not None and candle.close_time - self.danger_since >= RECHECK:
            return False
        return self.band.contains(candle.low) and self.band.contains(candle.high)

    def quiet(self, price: Decimal, moment: datetime) -> bool:
        if self.danger_since is not None and moment - self.danger_since >= RECHECK:
            return False
        return self.band.contains(price)

    def next_accrual_hour(self) -> datetime | None:
        hour = interest_store.first_unaccrued_hour(self.scope.tx)
        return from_storage(hour) + ONE_HOUR if hour else None
