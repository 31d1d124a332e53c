"""`price import`: replay Binance klines through the wallet, candle by candle, in one transaction."""

from __future__ import annotations

import csv
import dataclasses
import gc
import heapq
import io
import itertools
import zipfile
from collections.abc import Callable, Collection, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from marginctl.domain.clock import ONE_HOUR
from marginctl.domain.errors import ClockBackwards, InvalidInput, TimeInFuture, UnknownPair
from marginctl.domain.klines import HEADER_FIRST_CELL, Candle, Timestamps, parse_candle, symbol_of_file
from marginctl.domain.ledger import LENDING_POOL
from marginctl.domain.margin import margin_level_text
from marginctl.domain.money import div, from_text
from marginctl.domain.names import CROSS, pair_assets, parse_pair
from marginctl.domain.quiet_band import Band, OpenOrder, in_danger, order_band, risk_band
from marginctl.domain.times import from_storage, to_display, to_storage
from marginctl.services.context import Context, WriteScope, advance_clock, run_write
from marginctl.store import interest as interest_store
from marginctl.store import orders as orders_store
from marginctl.store import prices as prices_store

#: a file that names no interval holds one-minute candles (the common download)
DEFAULT_INTERVAL = "1m"
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


def read_klines(
    paths: list[Path], pair: str | None, interval: str | None, known_pairs: Collection[str]
) -> dict[str, list[Candle]]:
    """Every pair's candles, checked: the right pair, well-formed rows, time only moving forward in each pair.

    Without `pair` each file names its pair as data.binance.vision does (BTCUSDT-1m-2021-05.zip); without
    `interval` the names give it too (1m for a file that names none). Several pairs must share one interval:
    their candles are merged open time by open time.

    A year of one-minute candles is millions of objects and no reference cycle: the cyclic collector would
    walk them all again and again for nothing (it was 2 s of the 5 s a year took to read)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read_klines(paths, pair, interval, known_pairs)
    finally:
        if collecting:
            gc.enable()


def _file_pair(path: Path, pair: str | None, interval: str | None, known_pairs: Collection[str]) -> tuple[str, str]:
    """(pair, interval) of one file: from --pair/--interval, checked against its name, or from its name."""
    named = symbol_of_file(path.name)
    if pair is None:
        if named is None:
            raise InvalidInput(
                f"{path.name}: the name does not say the pair (as in BTCUSDT-1m-2021-05.zip); use --pair"
            )
        try:
            pair = parse_pair(named[0], known_pairs)
        except UnknownPair:
            raise UnknownPair(
                f"{path.name} holds {named[0]} klines, not a configured pair: {', '.join(sorted(known_pairs))}"
            ) from None
    elif named is not None and named[0] != pair.replace("/", ""):
        raise InvalidInput(f"{path.name} holds {named[0]} klines, not {pair.replace('/', '')}")
    if interval is None:
        return pair, named[1] if named is not None else DEFAULT_INTERVAL
    if named is not None and named[1] != interval:
        raise InvalidInput(f"{path.name} holds {named[1]} klines, not {interval} (use --interval)")
    return pair, interval


def _read_klines(
    paths: list[Path], pair: str | None, interval: str | None, known_pairs: Collection[str]
) -> dict[str, list[Candle]]:
    streams: dict[str, list[Candle]] = {}
    intervals: dict[str, str] = {}
    for path in paths:
        file_pair, file_interval = _file_pair(path, pair, interval, known_pairs)
        if file_interval not in INTERVALS:
            raise InvalidInput(f"{path.name}: interval {file_interval} is not one of {', '.join(INTERVALS)}")
        intervals.setdefault(file_pair, file_interval)
        if intervals[file_pair] != file_interval:
            raise InvalidInput(
                f"{path.name} holds {file_interval} klines; the other {file_pair} files hold {intervals[file_pair]}"
            )
        candles = streams.setdefault(file_pair, [])
        for name, text in _csv_texts(path):
            moment_of = Timestamps()
            for line_number, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
                if not cells or (line_number == 1 and cells[0].strip() == HEADER_FIRST_CELL):
                    continue
                candle = parse_candle(cells, f"{name}:{line_number}", moment_of)
                if candles and candle.open_time <= candles[-1].open_time:
                    raise InvalidInput(f"{name}:{line_number}: time goes backwards (or repeats)")
                candles.append(candle)
    if len(set(intervals.values())) > 1:
        listed = ", ".join(f"{name} {value}" for name, value in sorted(intervals.items()))
        raise InvalidInput(f"several pairs in one import need one interval, to merge them in time order: {listed}")
    empty = [name for name, candles in streams.items() if not candles]
    if not streams or len(empty) == len(streams):
        raise InvalidInput("the files hold no klines")
    if empty:
        raise InvalidInput(f"the {', '.join(empty)} files hold no klines")
    return streams


def read_files(config: Any, files: list[str], pair_text: str | None, interval: str | None) -> dict[str, list[Candle]]:
    """The candles of `price import FILE… [--pair] [--interval]` (and of `serve --replay`), by pair."""
    pair = parse_pair(pair_text, config.pairs) if pair_text else None
    if interval is not None and interval not in INTERVALS:
        raise InvalidInput(f"--interval must be one of {', '.join(INTERVALS)}")
    return read_klines([Path(name) for name in files], pair, interval, config.pairs)


def timeline(streams: dict[str, list[Candle]]) -> Iterator[list[tuple[str, Candle]]]:
    """Every pair's candles, merged: one list per open time (pairs in a fixed order), times ascending."""
    if len(streams) == 1:
        ((pair, candles),) = streams.items()
        for candle in candles:
            yield [(pair, candle)]
        return
    merged = heapq.merge(
        *[
            [(candle.open_time, rank, pair, candle) for candle in candles]
            for rank, (pair, candles) in enumerate(sorted(streams.items()))
        ]
    )
    for _, group in itertools.groupby(merged, key=lambda item: item[0]):
        yield [(pair, candle) for _, _, pair, candle in group]


def import_klines(
    context: Context,
    files: list[str],
    pair_text: str | None,
    interval: str | None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Each candle: accrue to its time, then each price of its path runs triggers, fills and the risk check."""
    config = context.config
    streams = read_files(config, files, pair_text, interval)
    first_open = min(candles[0].open_time for candles in streams.values())
    last_close = max(candles[-1].close_time for candles in streams.values())
    total = sum(len(candles) for candles in streams.values())

    def act(scope: WriteScope) -> dict[str, Any]:
        replayed = replay_candles(scope, streams, progress=progress, total=total)
        position = wallet_position(scope.tx, config, scope.account_id, CROSS)
        return {
            "pair": next(iter(streams)) if len(streams) == 1 else None,
            "pairs": sorted(streams),
            "candles": total,
            "from": to_display(first_open),
            "to": to_display(last_close),
            **replayed,
            "finalMarginLevel": margin_level_text(position.margin_level),
        }

    from marginctl.services.risk import wallet_position

    arguments = {"pairs": sorted(streams), "files": files, "interval": interval}
    first = to_display(first_open)
    if context.now is None and last_close > context.clock():
        # On the real clock a candle from the future would hold back every later write, as `--at` would.
        raise TimeInFuture(
            f"the candles run to {to_display(last_close)}, later than the clock; "
            f"replay them into a simulated wallet: marginctl --db replay.db --now {first} deposit USDT 1000"
        )
    try:
        # The first candle may not be older than the wallet's last event; the clock ends at the last one.
        return run_write(context, "price-import", arguments, None, act, at=first_open, catch_up=False, market_data=True)
    except ClockBackwards as refused:
        raise ClockBackwards(
            f"{refused.message}: a replay needs a wallet whose clock is at or before its first candle; start a "
            f"new wallet with --now at or before {first}, e.g. marginctl --db replay.db --now {first} deposit USDT 1000"
        ) from None


def replay_candles(
    scope: WriteScope,
    streams: dict[str, list[Candle]],
    *,
    not_before: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
    total: int = 0,
) -> dict[str, Any]:
    """Run every pair's candles through the wallet in `scope`'s transaction, merged in time order, and leave
    the clock at the last close. `not_before`: no price is booked earlier (a wallet that moved on meanwhile:
    `serve --replay`, where a bot's requests happen between candles).

    The hours' interest is held from hour to hour (the book counts it) and booked, in one entry per account
    for all the hours held, before a price that can fill or liquidate and at the end."""
    from marginctl.services.accrual import AccrualSummary, accrue_through
    from marginctl.services.catch_up import InterestCharger
    from marginctl.services.risk_check import RiskBook, RiskReport, check_risk
    from marginctl.services.trading import match_orders

    summary = AccrualSummary()
    report = RiskReport()
    book = RiskBook.load(scope.tx)
    charger = InterestCharger(scope.tx, scope.config, scope.system_ids[LENDING_POOL])
    fills = triggered = 0
    bases = {pair_assets(pair)[0] for pair in streams}
    watches = {pair: _Watch(scope, pair, book, bases) for pair in sorted(streams)}
    several = len(watches) > 1
    next_hour = next(iter(watches.values())).next_accrual_hour()
    #: a pair's latest price and its moment, recorded or not (a quiet price is only kept here)
    latest: dict[str, tuple[Decimal, datetime]] = {}
    #: the prices the wallet holds: a quiet price is recorded when anything else is, so every check sees them
    recorded: dict[str, Decimal] = {}
    #: the next hour to leave its last price in the price history
    next_mark: datetime | None = None
    done = 0

    def record(pair: str, price: Decimal, moment: datetime) -> None:
        _record_price(dataclasses.replace(scope, at=moment), pair, price)
        recorded[pair] = price

    def refresh_all(orders_changed: bool) -> None:
        for watch in watches.values():
            watch.refresh(orders_changed=orders_changed)

    def step(pair: str, price: Decimal, moment: datetime) -> None:
        nonlocal fills, triggered
        latest[pair] = (price, moment)
        if watches[pair].quiet(price, moment):
            return
        charger.flush()
        point = dataclasses.replace(scope, request_id=None, at=moment)
        if several:
            # the other pairs' quiet prices first: the risk check values every wallet at the prices of now
            for other, (other_price, _) in latest.items():
                if other != pair and recorded.get(other) != other_price:
                    record(other, other_price, moment)
        record(pair, price, moment)
        matched = match_orders(point, pair, price)
        fills += matched["filled"]
        triggered += matched["triggered"]
        if matched["filled"]:
            book.reload(scope.tx, list(book.balances))
        liquidations = len(report.liquidations)
        report.extend(check_risk(point, pair_assets(pair), book))
        if several:
            # the others' orders move only with a liquidation, which cancels a wallet's orders
            liquidated = len(report.liquidations) != liquidations
            for other, watch in watches.items():
                if other != pair:
                    watch.refresh(None, orders_changed=liquidated, keep_danger_since=True)
        watches[pair].refresh(moment)

    for group in timeline(streams):
        at = group[0][1].open_time
        if not_before is not None and at < not_before:
            at = not_before
        if next_mark is None or at >= next_mark:
            # each hour's last price stays in the price history even when it was quiet (`report` charts it)
            for pair, (price, moment) in latest.items():
                prices_store.mark_hour(scope.tx, pair, price, to_storage(moment))
            next_mark = at.replace(minute=0, second=0, microsecond=0) + ONE_HOUR
        if next_hour is not None and at >= next_hour:
            for pair, (price, _) in latest.items():
                record(pair, price, at)
            liquidated = len(report.liquidations)
            accrue_through(scope, at, summary, report, book, charger)
            # A liquidation cancels the wallet's orders; an hour's interest moves no order.
            refresh_all(orders_changed=len(report.liquidations) != liquidated)
            next_hour = watches[group[0][0]].next_accrual_hour()
        closes: list[tuple[str, Decimal, datetime]] = []
        for pair, candle in group:
            close_time = candle.close_time if not_before is None or candle.close_time >= at else at
            if watches[pair].quiet_candle(candle):
                if not several:
                    latest[pair] = (candle.close, close_time)
                    continue
                # the other pairs' prices of this open time meet this pair where its path stands before its
                # close, as if every price were played; its close comes with the others' closes
                path = candle.price_path()
                latest[pair] = (path[-2], at)
                closes.append((pair, path[-1], close_time))
                continue
            path = candle.price_path()
            for price in path[:-1]:
                step(pair, price, at)
            closes.append((pair, path[-1], close_time))
        for pair, price, close_time in closes:
            step(pair, price, close_time)
        done += len(group)
        if progress is not None and (done % 1000 < len(group) or done == total):
            progress(done, total)
    charger.flush()
    end = max(moment for _, moment in latest.values())
    for pair, (price, _) in latest.items():
        record(pair, price, end)
    advance_clock(scope.tx, end)
    return {
        "triggered": triggered,
        "fills": fills,
        "interestCharges": summary.charges,
        "marginCallCount": len(report.margin_calls),
        "liquidationCount": len(report.liquidations),
        **report.as_json(),
    }


def _record_price(scope: WriteScope, pair: str, price: Decimal) -> None:
    prices_store.record_price(scope.tx, pair, price, to_storage(scope.at), "import")


#: Binance repeats a margin call every 24 hours; a replay re-checks a wallet in danger that often.
RECHECK = timedelta(hours=24)


class _Watch:
    """Knows, without a query, whether a price can change anything: the quiet band of orders and wallets."""

    def __init__(self, scope: WriteScope, pair: str, book: Any, replayed_bases: set[str]) -> None:
        self.scope = scope
        self.pair = pair
        self.book = book
        self.replayed_bases = replayed_bases
        #: assets valued one hop away (ETH as ETH/BTC × BTC/USDT where no ETH/USDT is configured): a wallet
        #: holding one moves with two pairs' prices, not linearly, so no price of it is quiet
        valuation = scope.config.valuation_asset
        self.indirect = {
            base
            for base, _ in (name.split("/") for name in scope.config.pairs)
            if base != valuation and f"{base}/{valuation}" not in scope.config.pairs
        }
        self.base, self.quote = pair_assets(pair)
        self.band = Band()
        self.orders_band = Band()
        self.danger_since: datetime | None = None
        self.refresh()

    def refresh(
        self, moment: datetime | None = None, orders_changed: bool = True, keep_danger_since: bool = False
    ) -> None:
        """The bands anew. `keep_danger_since`: the wallets were not checked now (another pair's step), so a wallet
        still in danger keeps the time of its last check, and its daily re-check stays due when it was."""
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
        keys = [
            key
            for key, balances in self.book.balances.items()
            if self.base in balances or self.quote in balances or not self.indirect.isdisjoint(balances)
        ]
        wallets = [(list(self.book.balances[key].values()), config.rules_for(key[1])) for key in keys]
        self.band = self.orders_band
        if self.base in prices and self.quote in prices:
            self.band = self.band.narrow(self._risk_band(keys, wallets, prices))
        danger = any(self._in_danger(key, prices) for key in keys)
        if not danger:
            self.danger_since = None
        elif not keep_danger_since or self.danger_since is None:
            self.danger_since = moment or self.scope.at

    def _risk_band(
        self, keys: list[tuple[int, str]], wallets: list[tuple[list[Any], Any]], prices: dict[str, Decimal]
    ) -> Band:
        """Where a wallet's level crosses a threshold as this pair's price moves, the others' held still.

        A wallet holding k of the replayed pairs' base assets has each pair's band cut to 1/k of its width
        around the price: its thresholds are linear in the prices, so k moves each within 1/k of the way to a
        threshold cannot together reach it, and the other pairs' quiet prices may lag unrecorded."""
        quote_price = prices[self.quote]
        current = div(prices[self.base], quote_price)
        if any(not self.indirect.isdisjoint(self.book.balances[key]) for key in keys):
            return Band(current, current)  # holds no price: every one is played
        shared = [len(self.replayed_bases.intersection(self.book.balances[key])) for key in keys]
        if all(count <= 1 for count in shared):
            return risk_band(wallets, self.base, prices, quote_price)
        band = Band()
        for wallet, count in zip(wallets, shared, strict=True):
            band = band.narrow(risk_band([wallet], self.base, prices, quote_price).shrunk(current, max(count, 1)))
        return band

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
