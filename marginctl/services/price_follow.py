"""`price follow`: poll a Binance-style public ticker and record each new price as `price set` does.

One GET per poll for every pair (standard library HTTP, no API key, no signature, ever). Each changed
price is recorded by `prices.set_price`, in its own write transaction, so stops trigger, limits fill,
interest catches up and the risk check runs exactly as for `price set`. A poll that goes wrong (timeout,
refused connection, 5xx, 429/418, a malformed answer) records nothing and backs off; a write the wallet
refuses (busy, say) is tried again at the next poll. `stop` (from a signal handler) abandons a request or
a wait at once and lets a write in progress commit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from http.client import HTTPException
from typing import Any

from marginctl import __version__
from marginctl.domain import follow
from marginctl.domain.errors import MarginctlError
from marginctl.domain.money import format_percent
from marginctl.domain.names import parse_count, parse_pair
from marginctl.domain.times import to_display
from marginctl.services.context import Context
from marginctl.services.prices import LIVE, set_price
from marginctl.services.quotes import pair_quotes

#: The only headers sent: no X-MBX-APIKEY, no Authorization, whatever the environment or the wallet holds.
HEADERS = {"User-Agent": f"marginctl/{__version__} (price follow)", "Accept": "application/json"}
MAX_POLLS = 1_000_000

Report = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class FollowRequest:
    pairs: list[str]
    source: str
    every: Decimal
    timeout: Decimal
    max_jump: Decimal
    max_polls: int | None


@dataclass(frozen=True)
class Failure:
    """Why a poll gave no prices, and the server's Retry-After (seconds) if it sent one."""

    reason: str
    retry_after: Decimal | None = None


class _Abandoned(BaseException):
    """Raised by `stop` inside a request or a wait; a BaseException so that no `except Exception` eats it."""


def parse_request(
    context: Context,
    pairs: list[str],
    source: str,
    every: str,
    timeout: str,
    max_jump: str,
    max_polls: str | None,
) -> FollowRequest:
    """Every option checked, the options first and then the pairs against the wallet's rules."""
    base = follow.parse_source(source)
    request_every = follow.parse_seconds(every, "--every", follow.EVERY_RANGE)
    request_timeout = follow.parse_seconds(timeout, "--timeout", follow.TIMEOUT_RANGE)
    jump = follow.parse_max_jump(max_jump)
    polls = parse_count(max_polls, "--max-polls", MAX_POLLS) if max_polls is not None else None
    known = context.config.pairs
    chosen = list(dict.fromkeys(parse_pair(text, known) for text in pairs))
    return FollowRequest(chosen, base, request_every, request_timeout, jump, polls)


class Follower:
    """The polling loop; `run` until `stop` is called or --max-polls is reached, then the summary."""

    def __init__(self, context: Context, request: FollowRequest, report: Report) -> None:
        self.context = context
        self.request = request
        self.report = report
        self.url = follow.ticker_url(request.source, request.pairs)
        self.ticks = {pair: context.config.pairs[pair].tick_size for pair in request.pairs}
        self.stopped_by: str | None = None
        self._interruptible = False
        self.held: dict[str, Decimal] = {}
        self.counts = {"polls": 0, "recorded": 0, "failedPolls": 0, "held": 0, "notRecorded": 0}

    def stop(self, reason: str) -> None:
        """Ask the loop to end (a signal's name as `reason`): a request or a wait is abandoned at once; a
        write in progress commits first, and no other begins."""
        if self.stopped_by is None:
            self.stopped_by = reason
        if self._interruptible:
            self._interruptible = False
            raise _Abandoned

    def run(self) -> dict[str, Any]:
        request = self.request
        self.report(
            {
                "event": "started",
                "pairs": request.pairs,
                "source": request.source,
                "every": _seconds(request.every),
                "timeout": _seconds(request.timeout),
                "maxJump": format_percent(request.max_jump),
            }
        )
        failures = 0
        while self.stopped_by is None:
            self.counts["polls"] += 1
            answer = self._interruptibly(self._fetch)
            if self.stopped_by is not None:
                break  # an answer that came in after the signal is not used
            if isinstance(answer, Failure):
                failures += 1
                self.counts["failedPolls"] += 1
                delay = follow.backoff_delay(request.every, failures, answer.retry_after)
                last_poll = request.max_polls is not None and self.counts["polls"] >= request.max_polls
                self.report(
                    {
                        "event": "failed",
                        "time": self._now(),
                        "reason": answer.reason,
                        "nextPollIn": None if last_poll else _seconds(delay),
                    }
                )
            else:
                # a write the wallet refused waited for it already (busy_timeout): the next poll tries again
                self._apply(answer)
                failures = 0
                delay = request.every
            if request.max_polls is not None and self.counts["polls"] >= request.max_polls:
                self.stopped_by = "max-polls"
                break
            self._interruptibly(partial(time.sleep, float(delay)))  # seconds, not money: float at the edge
        return {"stoppedBy": self.stopped_by, **self.counts}

    def _interruptibly(self, work: Callable[[], Any]) -> Any:
        try:
            try:
                self._interruptible = True
                if self.stopped_by is not None:
                    raise _Abandoned
                return work()
            finally:
                self._interruptible = False
        except _Abandoned:
            return None

    def _now(self) -> str:
        return to_display(self.context.clock().replace(microsecond=0))

    def _fetch(self) -> dict[str, tuple[Decimal, Decimal]] | Failure:
        """One GET; the prices of every pair, or why there are none."""
        import urllib.request
        from urllib.error import HTTPError, URLError

        timeout = float(self.request.timeout)  # seconds, not money
        deadline = time.monotonic() + timeout
        try:
            with urllib.request.urlopen(urllib.request.Request(self.url, headers=HEADERS), timeout=timeout) as response:
                body = _read_until(response, deadline)
        except HTTPError as error:
            return _http_failure(error)
        except (TimeoutError, URLError, OSError, HTTPException) as error:
            return Failure(_connection_reason(error, self.request.timeout))
        if body is None:
            return Failure(f"timed out after {_seconds(self.request.timeout)} s")
        if len(body) > follow.MAX_ANSWER_BYTES:
            return Failure("malformed answer: longer than 1 MiB")
        try:
            return follow.parse_ticker(body, self.ticks)
        except follow.MalformedAnswer as error:
            return Failure(f"malformed answer: {error}")

    def _apply(self, answer: dict[str, tuple[Decimal, Decimal]]) -> None:
        """Judge each pair's price against the wallet's last one and record the changes. A write the wallet
        refuses is reported; the price still differs at the next poll, which tries again."""
        with self.context.read() as tx:
            last = {pair: quote[0] for pair, quote in pair_quotes(tx, self.context.config).items()}
        for pair in self.request.pairs:
            price, given = answer[pair]
            verdict = follow.judge(last.get(pair), self.held.get(pair), price, self.request.max_jump)
            self._hold(pair, verdict.held)
            shown = {"pair": pair, "time": self._now()}
            if verdict.dropped is not None:
                self.report({"event": "dropped", **shown, "heldPrice": _plain(verdict.dropped), "price": _plain(price)})
            if verdict.action == follow.HOLD:
                self.counts["held"] += 1
                previous = last[pair]
                self.report(
                    {
                        "event": "held",
                        **shown,
                        "price": _plain(price),
                        "previousPrice": self.context.config.price_text(pair, previous),
                        "jump": format_percent(follow.jump(previous, price), 2),
                        "maxJump": format_percent(self.request.max_jump),
                    }
                )
            if not verdict.records or self.stopped_by is not None:
                continue
            try:
                result = set_price(
                    self.context, pair, _plain(price), None, None, source=LIVE, expected_last=last.get(pair)
                )
            except MarginctlError as error:
                self.counts["notRecorded"] += 1
                self.report(
                    {
                        "event": "not_recorded",
                        **shown,
                        "price": _plain(price),
                        "code": error.code,
                        "message": error.message,
                    }
                )
                continue
            self.counts["recorded"] += 1
            previous_price = last.get(pair)
            event = {
                "event": "price",
                **result,
                "previousPrice": self.context.config.price_text(pair, previous_price)
                if previous_price is not None
                else None,
                "confirmed": verdict.action == follow.CONFIRMED,
            }
            if given != price:
                event["feedPrice"] = _plain(given)
            self.report(event)

    def _hold(self, pair: str, price: Decimal | None) -> None:
        if price is None:
            self.held.pop(pair, None)
        else:
            self.held[pair] = price


def _read_until(response: Any, deadline: float) -> bytes | None:
    """The body, read in pieces so that a server trickling bytes cannot hold a poll past --timeout; None
    when the deadline passed. At most one byte more than the limit is read."""
    chunks: list[bytes] = []
    size = 0
    while size <= follow.MAX_ANSWER_BYTES:
        if time.monotonic() > deadline:
            return None
        chunk = response.read1(64 * 1024)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _http_failure(error: Any) -> Failure:
    """A status other than 2xx: 429 and 418 with their Retry-After, Binance's `msg` when it sent one."""
    retry_after = follow.parse_retry_after(error.headers.get("Retry-After")) if error.headers else None
    reason = f"HTTP {error.code}"
    if retry_after is not None:
        reason += f" (Retry-After {retry_after} s)"
    try:
        import json

        message = json.loads(error.read(4096)).get("msg")
    except Exception:  # an error page that is not Binance's JSON: the status says enough
        message = None
    if isinstance(message, str) and message:
        from marginctl.domain.names import echoed

        reason += f": {echoed(message, 80)}"
    return Failure(reason, retry_after)


def _connection_reason(error: BaseException, timeout: Decimal) -> str:
    cause = getattr(error, "reason", error)
    if isinstance(cause, TimeoutError) or isinstance(error, TimeoutError):
        return f"timed out after {_seconds(timeout)} s"
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, HTTPException):
        return f"bad HTTP answer ({type(error).__name__})"
    return f"cannot connect: {cause}"


def _seconds(value: Decimal) -> str:
    """2, 0.5, 60: a number of seconds (or a percentage) without trailing zeros."""
    return format(value.normalize(), "f")


def _plain(price: Decimal) -> str:
    return format(price, "f")
