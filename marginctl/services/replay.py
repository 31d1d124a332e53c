"""`price import`: replay Binance klines through the wallet, candle by candle, in one transaction."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from marginctl.domain.errors import InvalidInput
from marginctl.domain.klines import HEADER_FIRST_CELL, Candle, parse_candle, symbol_of_file
from marginctl.domain.money import format_ratio
from marginctl.domain.names import CROSS, parse_pair
from marginctl.domain.times import to_display, to_storage
from marginctl.services.context import Context, WriteScope, advance_clock, run_write

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
    """Every candle of every file, checked: the right pair, well-formed rows, time only moving forward."""
    symbol = pair.replace("/", "")
    candles: list[Candle] = []
    for path in paths:
        named = symbol_of_file(path.name)
        if named is not None and named[0] != symbol:
            raise InvalidInput(f"{path.name} holds {named[0]} klines, not {symbol}")
        if named is not None and named[1] != interval:
            raise InvalidInput(f"{path.name} holds {named[1]} klines, not {interval} (use --interval)")
        for name, text in _csv_texts(path):
            for line_number, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
                if not cells or (line_number == 1 and cells[0].strip() == HEADER_FIRST_CELL):
                    continue
                candle = parse_candle(cells, f"{name}:{line_number}")
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
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Each candle: accrue to its time, then each price of its path runs triggers, fills and the risk check."""
    from marginctl.services.accrual import AccrualSummary, accrue_through
    from marginctl.services.risk import wallet_position
    from marginctl.services.risk_check import RiskReport, pair_risk
    from marginctl.services.trading import match_orders

    config = context.config
    pair = parse_pair(pair_text, config.pairs)
    if interval not in INTERVALS:
        raise InvalidInput(f"--interval must be one of {', '.join(INTERVALS)}")
    candles = read_candles([Path(name) for name in files], pair, interval)

    def act(scope: WriteScope) -> dict[str, Any]:
        summary = AccrualSummary()
        report = RiskReport()
        fills = triggered = 0
        for index, candle in enumerate(candles):
            at = candle.open_time
            accrue_through(scope, at, summary, report)
            path = candle.price_path()
            for step, price in enumerate(path):
                moment = candle.close_time if step == len(path) - 1 else at
                point = WriteScope(scope.tx, context, scope.account, None, scope.system_ids, moment)
                _record_price(point, pair, price)
                matched = match_orders(point, pair, price)
                fills += matched["filled"]
                triggered += matched["triggered"]
                report.extend(pair_risk(point, pair))
            if progress is not None:
                progress(index + 1)
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
            "finalMarginLevel": None if level is None else format_ratio(level),
        }

    arguments = {"pair": pair, "files": files, "interval": interval}
    # The first candle may not be older than the wallet's last event; the clock ends at the last one.
    return run_write(context, "price-import", arguments, None, act, at=candles[0].open_time, catch_up=False)


def _record_price(scope: WriteScope, pair: str, price: Any) -> None:
    scope.tx.execute(
        "INSERT INTO prices (pair, price, at, source) VALUES (:pair, :price, :at, 'import') "
        "ON CONFLICT (pair) DO UPDATE SET price = excluded.price, at = excluded.at, source = excluded.source",
        {"pair": pair, "price": price, "at": to_storage(scope.at)},
    )
