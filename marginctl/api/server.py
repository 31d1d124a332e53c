"""`marginctl serve`: the API on a real ASGI server (uvicorn), on loopback unless told otherwise."""

from __future__ import annotations

import ipaddress
import signal
import socket
import sys
from typing import Any, NamedTuple

from marginctl.cli.runner import GlobalOptions
from marginctl.domain.api_keys import SERVER_EXTRA_HINT
from marginctl.domain.errors import ExtraMissing, InvalidInput


class Replay(NamedTuple):
    """`serve --replay FILE… [--pair] [--interval] [--speed]` as given."""

    files: list[str]
    pair: str | None
    interval: str | None
    speed: str


def check_installed() -> None:
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ExtraMissing(f"marginctl serve needs the server extra; install it with: {SERVER_EXTRA_HINT}") from None


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the server starts: `--port 0` takes a free port, and the port is
    known (and printed) before the first request can come."""
    if not 0 <= port <= 65535:
        raise InvalidInput(f"--port must be 0-65535, got {port}")
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        return socket.create_server((host, port), family=family, backlog=512)
    except OSError as error:
        raise InvalidInput(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def _server_class() -> Any:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, whose stop on SIGINT or SIGTERM ends the command with exit 0: a stop that was
        asked for is a clean one (uvicorn itself raises the signal again once it has shut down)."""

        def handle_exit(self, sig: int, frame: Any) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True  # a second Ctrl-C: stop without waiting for requests in flight
            else:
                self.should_exit = True

    return Server


def serve(
    context: Any,
    options: GlobalOptions,
    host: str,
    port: int,
    weight_limit: int,
    replay: Replay | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM; requests in flight are finished first (uvicorn's graceful shutdown).

    The wallet must exist (its keys are in it) and is checked, and upgraded if older, before the port opens;
    so are a replay's files.
    """
    check_installed()
    if weight_limit < 0:
        raise InvalidInput(f"--weight-limit must be 0 (no limit) or more, got {weight_limit}")
    import uvicorn

    with context.read():
        pass  # opens the wallet: refused here, once, if there is none (a read never creates one)
    feed = None
    if replay is not None:
        from marginctl.api.replay import load_feed

        if options.now is not None:
            raise InvalidInput("--now and --replay: the replay's candles set the clock")
        feed = load_feed(context, replay.files, replay.pair, replay.interval, replay.speed)

    from marginctl.api.app import AccessLog, create_app

    listener = listen(host, port)
    bound_host, bound_port = listener.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    if not ipaddress.ip_address(bound_host.split("%")[0]).is_loopback:
        sys.stderr.write(f"warning: serving on {host}: any machine that reaches it can call the API\n")

    def ready() -> None:
        sys.stdout.write(f"listening on http://{shown}:{bound_port}\n")
        sys.stdout.flush()

    config = uvicorn.Config(
        AccessLog(create_app(options, on_ready=ready, weight_limit=weight_limit, replay=feed)),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=30,
    )
    _server_class()(config).run(sockets=[listener])
