"""`serve --replay`: a wallet whose clock and prices come from kline files, for a bot to run against history.

The simulated clock runs `--speed N` simulated seconds per real second from the first candle's open, and every
candle that has closed by then has gone through the wallet (its prices fill orders, its hours accrue, its lows
liquidate) before a request is answered. With `--speed max` the clock stands still until the bot asks for a
price (`GET /api/v3/ticker/price`): each such request first plays the next candle (one open time of every pair),
so a bot's loop of "read the price, act" goes through history as fast as it runs. The clock stops at the last
candle's close. Signatures are still checked against the real clock; everything the wallet reports is simulated.

Only the wallet's thread calls `advance` and `step`; the event loop reads `clock` (a datetime, replaced whole).
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from marginctl.domain.errors import ClockBackwards, InvalidInput, MarginctlError
from marginctl.domain.klines import Candle
from marginctl.domain.times import to_display

#: `--speed max`: a candle per price request instead of a rate.
AS_FAST_AS_ASKED = "max"
#: The most simulated seconds per real second (a year per 10 real seconds): past it, `max` is the way.
MAX_SPEED = Decimal(3_153_600)


def parse_speed(text: str) -> Decimal | None:
    """`--speed`: simulated seconds per real second (> 0), or `max` (None)."""
    if text.strip().lower() == AS_FAST_AS_ASKED:
        return None
    try:
        speed = Decimal(text)
    except InvalidOperation:
        speed = Decimal("NaN")
    if not speed.is_finite() or not 0 < speed <= MAX_SPEED:
        raise InvalidInput(f"--speed must be a number of simulated seconds per second (0 < N ≤ {MAX_SPEED}) or max")
    return speed


class ReplayFeed:
    """The candles still to play and the simulated clock they set."""

    def __init__(self, streams: dict[str, list[Candle]], speed: Decimal | None) -> None:
        from marginctl.services.replay import timeline

        self.groups: list[list[tuple[str, Candle]]] = list(timeline(streams))
        self.speed = speed
        self.start = self.groups[0][0][1].open_time
        self.end = max(candles[-1].close_time for candles in streams.values())
        self.position = 0
        self.started = time.monotonic()  # again when the server is ready: `start_clock`
        #: the simulated time of now: with a speed, where it has run to; with max, the last played close
        self.clock = self.start
        self.finished = False

    def start_clock(self) -> None:
        """The simulated clock starts running now (with a speed), once the port is open."""
        self.started = time.monotonic()

    def simulated_now(self) -> datetime:
        if self.speed is None:
            return self.clock
        elapsed = Decimal(str(time.monotonic() - self.started)) * self.speed
        moment = self.start + timedelta(microseconds=int(elapsed * 1_000_000))
        return min(moment, self.end)

    def advance(self, context_for: Any) -> None:
        """With a speed: play every candle closed by the simulated now, then move the clock there."""
        if self.finished:
            return
        now = self.simulated_now()
        due = self.position
        while due < len(self.groups) and _closes_at(self.groups[due]) <= now:
            due += 1
        self._play(context_for, due, now)
        self.clock = max(self.clock, now)

    def step(self, context_for: Any) -> None:
        """With max: play the next candle (every pair's candle of the next open time)."""
        if not self.finished and self.position < len(self.groups):
            closes = _closes_at(self.groups[self.position])
            self._play(context_for, self.position + 1, closes)
            self.clock = max(self.clock, closes)

    def _play(self, context_for: Any, until: int, now: datetime) -> None:
        from marginctl.services.context import run_write
        from marginctl.services.replay import replay_candles

        if until > self.position:
            streams: dict[str, list[Candle]] = {}
            for group in self.groups[self.position : until]:
                for pair, candle in group:
                    streams.setdefault(pair, []).append(candle)
            not_before = self.clock
            first = max(self.groups[self.position][0][1].open_time, not_before)
            try:
                played = run_write(
                    context_for(now),
                    "serve-replay",
                    {"from": to_display(first), "candles": until - self.position},
                    None,
                    lambda scope: replay_candles(scope, streams, not_before=not_before),
                    at=first,
                    catch_up=False,
                    market_data=True,
                )
            except Exception as error:
                # e.g. another writer moved the wallet's clock past the candles: the replay stops there, said
                # once; the server goes on answering at the clock it reached
                from marginctl.domain.secrets import mask_secrets

                message = error.message if isinstance(error, MarginctlError) else f"{type(error).__name__}: {error}"
                self.finished = True
                sys.stderr.write(f"error: the replay stopped at {to_display(self.clock)}: {mask_secrets(message)}\n")
                sys.stderr.flush()
                return
            self.position = until
            _log_events(played)
        if self.position == len(self.groups) and not self.finished:
            self.finished = True
            sys.stderr.write(f"replay: the last candle closed at {to_display(self.end)}; the clock stays there\n")
            sys.stderr.flush()


def _closes_at(group: list[tuple[str, Candle]]) -> datetime:
    """When one open time's candles have all closed (the pairs share an interval: they close together)."""
    return max(candle.close_time for _, candle in group)


def _log_events(played: dict[str, Any]) -> None:
    """One line on stderr per margin call (a new one: Binance repeats it once a day) and per liquidation."""
    for call in played["marginCalls"]:
        if not call["recorded"]:
            continue
        sys.stderr.write(
            f"replay {call['time']}: margin call: {call['account']} {call['wallet']} level {call['marginLevel']}\n"
        )
    for liquidation in played["liquidations"]:
        sys.stderr.write(
            f"replay {liquidation['time']}: LIQUIDATED: {liquidation['account']} {liquidation['wallet']} "
            f"level {liquidation['marginLevel']}\n"
        )
    sys.stderr.flush()


def load_feed(
    context: Any, files: list[str], pair_text: str | None, interval: str | None, speed_text: str
) -> ReplayFeed:
    """The feed of `serve --replay`, checked before the port opens: readable files of configured pairs, and
    a wallet whose clock is not past the first candle."""
    from marginctl.services.context import wallet_clock
    from marginctl.services.replay import read_files

    speed = parse_speed(speed_text)
    feed = ReplayFeed(read_files(context.config, files, pair_text, interval), speed)

    with context.read() as tx:
        last = wallet_clock(tx)
    if last is not None and last > feed.start:
        first = to_display(feed.start)
        raise ClockBackwards(
            f"the wallet's clock is at {to_display(last)}, past the first candle; a replay needs a wallet whose "
            f"clock is at or before {first}, e.g. marginctl --db replay.db --now {first} deposit USDT 1000"
        )
    return feed
