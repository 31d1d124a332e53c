"""The Starlette application: Binance's paths, each parsed, authenticated, run through one service.

The wallet is touched from one worker thread only (a wallet's connection belongs to the thread that
opened it, and SQLite takes one writer at a time anyway), so the event loop only parses and answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from marginctl.api import views
from marginctl.api.errors import BAD_PARAMETER, BAD_SYMBOL, TOO_MANY_REQUESTS, UNKNOWN, BinanceError, from_refusal
from marginctl.api.signed import SignedRequest, check_signed
from marginctl.cli.runner import GlobalOptions
from marginctl.domain.errors import MarginctlError
from marginctl.domain.secrets import mask_secrets

#: The most a body may hold: every parameter of every endpoint fits in far less.
MAX_BODY = 64 * 1024
FORM = "application/x-www-form-urlencoded"
#: Binance's request weight per minute for one account (its margin endpoints' UID limit).
DEFAULT_WEIGHT_LIMIT = 180_000


def _json(document: Any, status: int = 200) -> Response:
    return Response(json.dumps(document, separators=(",", ":")), status, media_type="application/json")


def _error(error: BinanceError) -> Response:
    return _json({"code": error.code, "msg": error.message}, error.http_status)


class Api:
    """What every endpoint shares: the wallet's options, its config (read once, at the start), and the one
    thread that opens the wallet and keeps its connection for every request."""

    def __init__(self, options: GlobalOptions, replay: Any = None) -> None:
        from marginctl.config import load_config
        from marginctl.domain.times import parse_time
        from marginctl.store.database import locate

        self.options = options
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wallet")
        self.file_config = load_config(options.config)
        self.now = parse_time(options.now) if options.now else None
        #: `serve --replay`: the feed whose candles set the clock and the prices (an api.replay.ReplayFeed)
        self.replay = replay
        #: used by the worker thread only (a SQLite connection belongs to the thread that opened it)
        self.database = locate(options.db)

    async def on_wallet(self, action: Callable[[], Any]) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.worker, action)

    def close(self) -> None:
        self.worker.submit(self.database.close).result()
        self.worker.shutdown(wait=True)

    def context(self, now: Any) -> Any:
        from marginctl.services.context import Context

        return Context(file_config=self.file_config, database=self.database, now=now, creates_wallet=False)

    def clock_ms(self) -> int:
        """The time the API reports (serverTime): the replay's simulated clock, or the system's."""
        if self.replay is not None:
            return int(self.replay.clock.timestamp() * 1000)
        return int(time.time() * 1000)

    def play(self, step: bool = False) -> None:
        """On the wallet thread: the replay's candles due by now (or, with `step`, the next one) played."""
        if self.replay is not None:
            if self.replay.speed is None:
                if step:
                    self.replay.step(self.context)
            else:
                self.replay.advance(self.context)

    def on_wallet_once(
        self,
        parsed: SignedRequest,
        api_key: str | None,
        service: Callable[[Any, SignedRequest], Any],
        signed: bool,
        write: bool,
        step: bool = False,
    ) -> Any:
        """One visit to the wallet: the key checked (when signed), then the service for the key's account,
        on one context and the thread's one connection. The wallet's stored rules and clock are read anew
        each time, so a `config apply` or a write from the CLI is seen by the next request. A replay first
        plays what is due, and the request happens at its simulated clock."""
        self.play(step)
        context = self.context(self.replay.clock if self.replay is not None else self.now)
        if signed:
            from marginctl.services import api_keys

            server_ms = int(time.time() * 1000)
            key = check_signed(parsed, api_key, lambda name: api_keys.signing_key(context, name), server_ms, write)
            context.account_name = key.account_name
        return service(context, parsed)

    async def answer(
        self,
        request: Request,
        service: Callable[[Any, SignedRequest], Any] | None,
        signed: bool,
        write: bool = False,
        render: Callable[[Any], Any] = lambda result: result,
        step: bool = False,
    ) -> Response:
        try:
            body = await request.body()
            if len(body) > MAX_BODY:
                raise BinanceError(UNKNOWN, "Request body too large.")
            content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if body and content_type not in ("", FORM):
                # Binance takes a body only as a form; a JSON body would be read as one odd parameter
                raise BinanceError(BAD_PARAMETER, f"Content-Type {content_type} is not accepted; send a form body.")
            parsed = SignedRequest(request.scope["query_string"], body)
            if service is None:
                return _json({})
            api_key = request.headers.get("x-mbx-apikey")
            result = await self.on_wallet(lambda: self.on_wallet_once(parsed, api_key, service, signed, write, step))
            return _json(render(result))
        except BinanceError as error:
            return _error(error)
        except MarginctlError as error:
            return _error(from_refusal(error))
        except Exception as error:  # a bug: said on the server's stderr, never to the client in detail
            sys.stderr.write(f"error: {type(error).__name__}: {mask_secrets(str(error))}\n")
            return _error(BinanceError(UNKNOWN, "An unknown error occurred while processing the request."))


def _wanted_symbols(parsed: SignedRequest) -> set[str] | None:
    """exchangeInfo's `symbol=BTCUSDT` or `symbols=["BTCUSDT","ETHUSDT"]`; None: every pair."""
    if "symbol" in parsed.params:
        return {parsed.required("symbol")}
    if "symbols" not in parsed.params:
        return None
    try:
        listed = json.loads(parsed.params["symbols"])
    except ValueError:
        listed = None
    if not isinstance(listed, list) or not listed or not all(isinstance(name, str) for name in listed):
        raise BinanceError(BAD_PARAMETER, "Illegal characters found in parameter 'symbols'.")
    return set(listed)


#: The price request that plays the next candle of `serve --replay --speed max`.
STEPPING_PATH = "/api/v3/ticker/price"
#: How often a replay with a speed plays what has come due when nobody asks (real seconds).
REPLAY_TICK_SECONDS = 0.2


def create_app(
    options: GlobalOptions,
    on_ready: Callable[[], None] | None = None,
    weight_limit: int = DEFAULT_WEIGHT_LIMIT,
    replay: Any = None,
) -> Starlette:
    from marginctl.api.endpoints import ENDPOINTS, Endpoint

    api = Api(options, replay)
    weights = WeightCounter(weight_limit)

    async def ping(request: Request) -> Response:
        return await api.answer(request, None, signed=False)

    async def server_time(request: Request) -> Response:
        return _json({"serverTime": api.clock_ms()})

    async def exchange_info(request: Request) -> Response:
        from marginctl.services.markets import markets

        def chosen(context: Any, parsed: SignedRequest) -> Any:
            listed = markets(context)
            wanted = _wanted_symbols(parsed)
            if wanted is None:
                return listed
            found = [market for market in listed if views.symbol(market["pair"]) in wanted]
            if len(found) != len(wanted):
                raise BinanceError(BAD_SYMBOL, "Invalid symbol.")
            return found

        return await api.answer(
            request, chosen, signed=False, render=lambda found: views.exchange_info(found, api.clock_ms())
        )

    def pairs_endpoint(isolated: bool) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            from marginctl.services.markets import markets

            return await api.answer(
                request,
                lambda context, _: markets(context),
                signed=isolated,
                render=lambda found: views.margin_pairs(found, isolated),
            )

        return endpoint

    async def coin_config(request: Request) -> Response:
        # ccxt's load_markets asks for the coins' deposit and withdrawal networks: the wallet has none
        return await api.answer(request, lambda context, _: [], signed=True)

    def served(path_endpoints: dict[str, Endpoint]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            chosen = path_endpoints.get(request.method) or path_endpoints["GET"]  # HEAD: as GET
            response = await api.answer(
                request, chosen.handler, signed=chosen.signed, write=chosen.write, step=chosen.path == STEPPING_PATH
            )
            if chosen.borrowing_weight:
                # Binance weighs an order that may borrow (MARGIN_BUY, AUTO_BORROW_REPAY) more
                sent = request.scope["query_string"] + b"&" + await request.body()
                if b"sideEffectType=MARGIN_BUY" in sent or b"sideEffectType=AUTO_BORROW_REPAY" in sent:
                    weights.add_more(request.scope, chosen.borrowing_weight - chosen.weight)
            return response

        return endpoint

    plain = [
        ("/api/v3/ping", ping, 1),
        ("/api/v3/time", server_time, 1),
        ("/api/v3/exchangeInfo", exchange_info, 20),
        ("/sapi/v1/margin/allPairs", pairs_endpoint(isolated=False), 1),
        ("/sapi/v1/margin/isolated/allPairs", pairs_endpoint(isolated=True), 10),
        ("/sapi/v1/capital/config/getall", coin_config, 10),
    ]
    routes = [Route(path, handler, methods=["GET"]) for path, handler, _ in plain]
    by_path: dict[str, dict[str, Endpoint]] = {}
    for endpoint in ENDPOINTS:
        by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint
    routes += [Route(path, served(methods), methods=list(methods)) for path, methods in by_path.items()]
    weights.weights = {(("GET", path)): weight for path, _, weight in plain}
    weights.weights.update({(endpoint.method, endpoint.path): endpoint.weight for endpoint in ENDPOINTS})

    async def play_on() -> None:
        """A replay with a speed plays its candles as they come due, asked or not (others may watch)."""
        while not replay.finished:
            await api.on_wallet(api.play)
            await asyncio.sleep(REPLAY_TICK_SECONDS)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if replay is not None:
            replay.start_clock()
        playing = asyncio.ensure_future(play_on()) if replay is not None and replay.speed is not None else None
        if on_ready is not None:
            on_ready()
        yield
        if playing is not None:
            playing.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await playing
        api.close()

    async def not_served(request: Request, error: Exception) -> Response:
        """Unknown paths and methods, in Binance's error shape (-1000 with the HTTP status)."""
        status = getattr(error, "status_code", 404)
        what = "Unknown endpoint." if status == 404 else f"Method {request.method} is not allowed on this endpoint."
        return _json({"code": UNKNOWN, "msg": what}, status)

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(RateLimit, counter=weights)],
        exception_handlers={404: not_served, 405: not_served},
    )
    app.router.redirect_slashes = False  # Binance answers a path with a trailing slash 404, not a redirect
    return app


class WeightCounter:
    """Binance's REQUEST_WEIGHT limit: each request's weight counted per calendar minute, per API key (per
    client address without one). Counted on the event loop only, so nothing else touches it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.weights: dict[tuple[str, str], int] = {}
        self.minute = 0
        self.used: dict[str, int] = {}

    def add_more(self, scope: Any, weight: int) -> None:
        """More weight for the request of `scope`, once its parameters are known."""
        who = scope.get("state", {}).get(WEIGHED)
        if who is not None and self.minute == int(time.time() // 60):
            self.used[who] = self.used.get(who, 0) + weight

    def add(self, who: str, method: str, path: str) -> int:
        minute = int(time.time() // 60)
        if minute != self.minute:
            self.minute, self.used = minute, {}
        used = self.used.get(who, 0) + self.weights.get((method, path), 1)
        self.used[who] = used
        return used


#: Where the rate limit notes, in the request's state, whom the request's weight was counted for.
WEIGHED = "marginctl.weighed"


class RateLimit:
    """`X-MBX-USED-WEIGHT-1M` on every answer; past the limit, 429 with -1003 and Retry-After."""

    def __init__(self, app: Any, counter: WeightCounter) -> None:
        self.app = app
        self.counter = counter

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        client = scope.get("client") or ("-", 0)
        who = headers.get(b"x-mbx-apikey", b"").decode("latin-1") or f"address {client[0]}"
        used = self.counter.add(who, scope["method"], scope["path"])
        scope.setdefault("state", {})[WEIGHED] = who
        limit = self.counter.limit
        if limit and used > limit:
            message = (
                f"Too many requests; current limit is {limit} request weight per 1 MINUTE. "
                "Please use the websocket for live updates to avoid polling the API."
            )
            response = _error(BinanceError(TOO_MANY_REQUESTS, message))
            response.headers["Retry-After"] = str(60 - int(time.time()) % 60)
            response.headers["X-MBX-USED-WEIGHT-1M"] = str(used)
            await response(scope, receive, send)
            return

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                # read when the answer starts: an order's weight is known only once it is parsed
                used_now = self.counter.used.get(who, used)
                message["headers"] = [*message.get("headers", []), (b"x-mbx-used-weight-1m", str(used_now).encode())]
            await send(message)

        await self.app(scope, receive, sending)


class AccessLog:
    """One line per request on stderr: client, method, path (never the query: it holds the signature),
    status and time."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client") or ("-", 0)
            milliseconds = (time.perf_counter() - started) * 1000
            sys.stderr.write(f'{client[0]} "{scope["method"]} {scope["path"]}" {status[0]} {milliseconds:.1f} ms\n')
            sys.stderr.flush()
