"""Measure every figure of the benchmarks table, print it, and write benchmarks/results.md.

python benchmarks/run.py                      # everything, writes results.md (about 20 minutes on 2 cores)
python benchmarks/run.py --only NAME --json   # one figure as JSON (repeat --only for several)
python benchmarks/run.py --quick              # the startup figures, printed (results.md untouched)
python benchmarks/run.py --list               # the figures' names and targets

Every figure runs whole `marginctl` processes on installed bytecode: the package is compiled into its
`__pycache__` first (PYTHONDONTWRITEBYTECODE only stops Python writing .pyc files; it still reads them).
PostgreSQL figures use MARGINCTL_BENCH_POSTGRES_URL, or a throwaway server on 127.0.0.1 started with
.ci/with-postgres; without PostgreSQL's binaries they are skipped and said so.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import functools
import http.client
import itertools
import json
import os
import platform
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import api_load, fixtures  # noqa: E402
from benchmarks.common import (  # noqa: E402
    BASELINE,
    PAIRS,
    Figure,
    environment,
    interleaved,
    marginctl_command,
    median_spread,
    python_executable,
    ratio_stats,
    run_measured,
    run_once,
    run_output,
)

RESULTS = Path(__file__).resolve().parent / "results.md"
#: results.md below this line is written by hand; run.py rewrites only what is above it.
MARKER = "<!-- Written by hand below this line: benchmarks/run.py keeps it as it is. -->"
#: Timed runs of the slower figures, each on a fresh copy of the wallet.
REPEATS = 3


class Skipped(Exception):
    """A figure that cannot be measured here (no PostgreSQL server), said in one line."""


@dataclass
class Bench:
    """The run's work folder, the wallets built so far (each built once a run) and the PostgreSQL server."""

    workdir: Path
    built: dict[str, Any] = field(default_factory=dict)
    postgres: PostgresServer | None = None
    #: `python -c pass` timed beside the runs of the figures in seconds: how loaded the machine was.
    passes: list[float] = field(default_factory=list)

    def wallet(self, key: str, build: Callable[[Path], Any]) -> tuple[Path, Any]:
        """A finished fixture, built on first use; timed runs work on copies (`fresh`)."""
        if key not in self.built:
            path = self.workdir / f"{key}.db"
            print(f"  building the {key} wallet…", file=sys.stderr, flush=True)
            self.built[key] = (path, build(path))
        return self.built[key]  # type: ignore[no-any-return]

    def fresh(self, key: str, build: Callable[[Path], Any]) -> Path:
        template, _ = self.wallet(key, build)
        return fixtures.copy_wallet(template, self.workdir / f"{key}-run.db")

    def postgresql(self) -> PostgresServer:
        if self.postgres is None:
            self.postgres = PostgresServer.start()
        return self.postgres

    def close(self) -> None:
        if self.postgres is not None:
            self.postgres.stop()


# --- installed bytecode -----------------------------------------------------------------------------------

_SOURCE_LOADS = re.compile(r"^# code object from '?(?P<path>[^']+\.py)'?$")


def prepare_bytecode() -> str:
    """Compile marginctl into its __pycache__ and check that its modules then load from bytecode."""
    python = python_executable()
    package = subprocess.run(
        [python, "-P", "-c", "import marginctl, os; print(os.path.dirname(marginctl.__file__))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([python, "-m", "compileall", "-q", package], check=True, env=env, timeout=300)
    migrations = Path(package).parent / "migrations"
    if migrations.is_dir():
        subprocess.run([python, "-m", "compileall", "-q", str(migrations)], check=True, env=env, timeout=300)
    verbose = subprocess.run(
        [python, "-P", "-v", "-c", "import marginctl.cli"], capture_output=True, text=True, check=True, timeout=60
    ).stderr
    from_source = [
        match["path"]
        for match in map(_SOURCE_LOADS.match, verbose.splitlines())
        if match and match["path"].startswith(package)
    ]
    loaded = sum(1 for line in verbose.splitlines() if line.startswith("# code object from") and package in line)
    if from_source:
        raise RuntimeError(f"after compileall, {len(from_source)} marginctl modules still load from source")
    return (
        f"bytecode: compiled {package} (the package the `marginctl` command imports) with compileall into its "
        f"__pycache__; {loaded} modules of `import marginctl.cli` load from .pyc, none from source"
    )


# --- startup figures --------------------------------------------------------------------------------------


def _small(bench: Bench) -> Path:
    return bench.wallet("journal-10", lambda path: fixtures.journal_wallet(path, 10))[0]


def figure_help(bench: Bench) -> list[Figure]:
    env = environment(_small(bench))
    base, took = interleaved([(BASELINE, env), ([*marginctl_command(), "--help"], env)])
    ratio, spread = ratio_stats(took, base)
    return [
        Figure(
            "help",
            "`marginctl --help`",
            "≤ 8× pass",
            ratio,
            spread,
            "× pass",
            ratio <= 8,
            {"pairs": PAIRS, "seconds": statistics.median(took)},
        )
    ]


def figure_status_1m(bench: Bench) -> list[Figure]:
    big = bench.wallet("journal-1m", lambda path: fixtures.journal_wallet(path, 1_000_000))[0]
    small = _small(bench)
    status = [*marginctl_command(), "status", "--json"]
    base, on_big, on_small = interleaved(
        [(BASELINE, environment(big)), (status, environment(big)), (status, environment(small))]
    )
    ratio, spread = ratio_stats(on_big, base)
    small_ratio, small_spread = ratio_stats(on_small, base)
    versus, versus_spread = ratio_stats(on_big, on_small)
    return [
        Figure(
            "status-1m",
            "`status --json`, 1,000,000 journal entries",
            "≤ 6× pass",
            ratio,
            spread,
            "× pass",
            ratio <= 6,
            {"pairs": PAIRS, "seconds": statistics.median(on_big), "versus_10_entries": round(versus, 4)},
        ),
        Figure("status-10", "`status --json`, 10 journal entries", "(reference)", small_ratio, small_spread, "× pass"),
        Figure(
            "status-1m-vs-10",
            "`status --json` 1,000,000 ÷ 10 entries",
            "≤ 1.3×",
            versus,
            versus_spread,
            "×",
            versus <= 1.3,
        ),
    ]


def figure_deposit(bench: Bench) -> list[Figure]:
    env = environment(_small(bench))
    base, took = interleaved([(BASELINE, env), ([*marginctl_command(), "deposit", "USDT", "1", "--json"], env)])
    ratio, spread = ratio_stats(took, base)
    return [
        Figure(
            "deposit",
            "`deposit USDT 1 --json`",
            "≤ 7× pass",
            ratio,
            spread,
            "× pass",
            ratio <= 7,
            {"pairs": PAIRS, "seconds": statistics.median(took)},
        )
    ]


def _accounts_figure(bench: Bench, name: str, title: str, arguments: list[str]) -> list[Figure]:
    """The command on 100,000 user accounts ÷ the same on 10 (main and 9 users), interleaved with pass."""
    hour = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:00:00.000000Z")
    big = bench.wallet("accounts-100k", lambda path: fixtures.accounts_wallet(path, 99_999, at=hour))[0]
    small = bench.wallet("accounts-10", lambda path: fixtures.accounts_wallet(path, 9, at=hour))[0]
    command = [*marginctl_command(), *arguments]
    base, on_small, on_big = interleaved(
        [(BASELINE, environment(small)), (command, environment(small)), (command, environment(big))]
    )
    ratio, spread = ratio_stats(on_big, on_small)
    big_pass, _ = ratio_stats(on_big, base)
    small_pass, _ = ratio_stats(on_small, base)
    return [
        Figure(
            name,
            title,
            "≤ 1.2× on 10 accounts",
            ratio,
            spread,
            "×",
            ratio <= 1.2,
            {
                "pairs": PAIRS,
                "big_x_pass": round(big_pass, 4),
                "small_x_pass": round(small_pass, 4),
                "big_seconds": statistics.median(on_big),
                "small_seconds": statistics.median(on_small),
            },
        )
    ]


def figure_status_accounts(bench: Bench) -> list[Figure]:
    return _accounts_figure(
        bench, "status-100k-accounts", "`status --json`, 100,000 ÷ 10 user accounts", ["status", "--json"]
    )


def figure_deposit_accounts(bench: Bench) -> list[Figure]:
    return _accounts_figure(
        bench, "deposit-100k-accounts", "`deposit USDT 1 --json`, 100,000 ÷ 10 user accounts", ["deposit", "USDT", "1"]
    )


# --- whole commands on big wallets ------------------------------------------------------------------------


def _timed(bench: Bench, key: str, build: Callable[[Path], Any], arguments: list[str]) -> tuple[list[float], Any]:
    """REPEATS runs of the command, each on a fresh copy of the wallet; the first run's JSON output."""
    samples, first = [], None
    for _ in range(REPEATS):
        path = bench.fresh(key, build)
        bench.passes.append(run_once(BASELINE))
        seconds, output = run_output([*marginctl_command(), *arguments], env=environment(path))
        samples.append(seconds)
        first = first if first is not None else json.loads(output)
    return samples, first


def _checked(name: str, what: str, found: Any, expected: Any) -> None:
    """A figure that did not do the work it names is an error, never a timing."""
    if found != expected:
        raise RuntimeError(f"{name}: expected {what} {expected}, the command reported {found}")


def _seconds_figure(bench: Bench, name: str, title: str, limit: float, samples: list[float], **extra: Any) -> Figure:
    """Seconds, with `python -c pass` of the same runs beside them (on a loaded machine both grow)."""
    median, spread = median_spread(samples)
    beside = statistics.median(bench.passes[-len(samples) :])
    return Figure(
        name,
        title,
        f"≤ {limit:g} s",
        median,
        spread,
        "s",
        median <= limit,
        {"runs": len(samples), "pass_seconds": round(beside, 4), **extra},
    )


def figure_accrue_1h(bench: Bench) -> list[Figure]:
    arguments = ["accrue", "--until", "2026-06-01T01:00:00Z", "--json"]
    samples, result = _timed(bench, "loans-100k", lambda path: fixtures.loans_wallet(path, 10_000), arguments)
    _checked("accrue-1h-100k", "charges", result["charges"], 100_000)
    return [_seconds_figure(bench, "accrue-1h-100k", "`accrue`, 1 hour × 100,000 open loans", 1.0, samples)]


def figure_accrue_24h(bench: Bench) -> list[Figure]:
    arguments = ["accrue", "--until", "2026-06-02T00:00:00Z", "--json"]
    samples, result = _timed(bench, "loans-10k", lambda path: fixtures.loans_wallet(path, 1_000), arguments)
    _checked("accrue-24h-10k", "charges", result["charges"], 24 * 10_000)
    return [_seconds_figure(bench, "accrue-24h-10k", "`accrue`, 24 missed hours × 10,000 loans", 0.5, samples)]


def figure_price_set_borrowers(bench: Bench) -> list[Figure]:
    arguments = ["--now", "2026-06-01T00:01:00Z", "price", "set", "BTC/USDT", fixtures.BORROWERS_PRICE, "--json"]
    samples, result = _timed(bench, "borrowers-10k", fixtures.borrowers_wallet, arguments)
    _, expected = bench.wallet("borrowers-10k", fixtures.borrowers_wallet)
    found = {"marginCalls": len(result["marginCalls"]), "liquidations": len(result["liquidations"])}
    _checked("price-set-10k-borrowers", "crossings", found, expected)
    return [
        _seconds_figure(
            bench,
            "price-set-10k-borrowers",
            "`price set`, 10,000 borrowing wallets, 100 crossing (50 margin calls, 50 liquidations)",
            0.3,
            samples,
            **found,
        )
    ]


def figure_price_set_orders(bench: Bench) -> list[Figure]:
    arguments = ["--now", "2026-06-01T00:01:00Z", "price", "set", "BTC/USDT", "59000", "--json"]
    samples, result = _timed(bench, "orders-100k", lambda path: fixtures.orders_wallet(path, 1_000, 100, 1), arguments)
    _checked("price-set-100k-orders", "filled orders", result["filled"], 1_000)
    return [
        _seconds_figure(
            bench, "price-set-100k-orders", "`price set`, 100,000 resting orders, 1,000 crossed", 0.1, samples
        )
    ]


def figure_price_import(bench: Bench) -> list[Figure]:
    klines = bench.workdir / "BTCUSDT-1m-2026-07.csv"
    if not klines.exists():
        fixtures.klines_file(klines, 525_600)
    # a year of candles from 2026-07: a simulation on its own clock (on the real clock later candles are refused)
    arguments = ["--now", "2026-06-01T00:00:00Z", "price", "import", str(klines), "--pair", "BTC/USDT", "--json"]
    samples, result = _timed(bench, "positions-10", fixtures.positions_wallet, arguments)
    _checked("price-import-525k", "candles", result["candles"], 525_600)
    return [
        _seconds_figure(
            bench, "price-import-525k", "`price import`, 525,600 one-minute candles, 10 positions", 4.0, samples
        )
    ]


def _century(bench: Bench, door: str, arguments: list[str]) -> list[Figure]:
    """The worst accepted gap (issue 12, item 3): a loan from 2000-01-01, then a write at 2099-12-31T23:59:59Z."""
    samples = []
    for _ in range(REPEATS):
        path = bench.fresh("century", fixtures.century_loan_wallet)
        bench.passes.append(run_once(BASELINE))
        command = [*marginctl_command(), "--now", fixtures.CENTURY_END, *arguments, "--json"]
        samples.append(run_measured(command, env=environment(path)))
    seconds, seconds_spread = median_spread([sample[0] for sample in samples])
    memory, memory_spread = median_spread([sample[1] for sample in samples])
    title = {
        "deposit": "`deposit` catching up one loan, 2000 → 2099 (876,599 hours)",
        "accrue": "`accrue`, one loan, 2000 → 2099 (876,599 hours)",
    }[door]
    return [
        Figure(
            f"catch-up-century-{door}",
            title,
            "≤ 30 s",
            seconds,
            seconds_spread,
            "s",
            seconds <= 30,
            {
                "runs": REPEATS,
                "pass_seconds": round(statistics.median(bench.passes[-REPEATS:]), 4),
                "peak_memory_mb": round(memory, 2),
            },
        ),
        Figure(
            f"catch-up-century-{door}-memory",
            f"{title}: peak memory",
            "≤ 150 MB",
            memory,
            memory_spread,
            "MB",
            memory <= 150,
            {"runs": REPEATS},
        ),
    ]


def figure_century_deposit(bench: Bench) -> list[Figure]:
    return _century(bench, "deposit", ["deposit", "USDT", "1"])


def figure_century_accrue(bench: Bench) -> list[Figure]:
    return _century(bench, "accrue", ["accrue"])


# --- the API under load -----------------------------------------------------------------------------------


def _api_figure(bench: Bench, name: str, title: str, limit: float, load: api_load.Load) -> list[Figure]:
    """REPEATS runs of `load` by api_load.CLIENTS clients, each on a fresh copy of the wallet and a server of
    its own: requests per second (median, spread max − min) and the runs' median p50 and p99 in ms."""
    runs = []
    for _ in range(REPEATS):
        path = bench.fresh("api-clients", api_load.build_wallet)
        _, keys = bench.wallet("api-clients", api_load.build_wallet)
        check = functools.partial(api_load.check_orders, path, keys, load) if load is api_load.ORDERS else None
        bench.passes.append(run_once(BASELINE))
        runs.append(api_load.served(path, bench.workdir, keys, load, check))
    rate, rate_spread = median_spread([run.per_second for run in runs])
    p50, p50_spread = median_spread([run.percentile_ms(50) for run in runs])
    p99, p99_spread = median_spread([run.percentile_ms(99) for run in runs])
    requests = sum(run.requests for run in runs)
    extra = {
        "runs": REPEATS,
        "clients": len(keys),
        "requests_per_run": runs[0].requests,
        "p50_ms": round(p50, 3),
        "p99_ms": round(p99, 3),
        "seconds": [round(run.seconds, 4) for run in runs],
        "server_cpu_ms_per_request": round(1000 * sum(run.server_cpu for run in runs) / requests, 3),
        "clients_cpu_ms_per_request": round(1000 * sum(run.clients_cpu for run in runs) / requests, 3),
        "pass_seconds": round(statistics.median(bench.passes[-REPEATS:]), 4),
    }
    return [
        Figure(name, title, f"≥ {limit:g} req/s", rate, rate_spread, "req/s", rate >= limit, extra),
        Figure(f"{name}-p50", f"{title}: p50 latency", "(reference)", p50, p50_spread, "ms"),
        Figure(f"{name}-p99", f"{title}: p99 latency", "(reference)", p99, p99_spread, "ms"),
    ]


def figure_api_account(bench: Bench) -> list[Figure]:
    return _api_figure(
        bench,
        "api-account",
        f"signed `GET /sapi/v1/margin/account`, {api_load.CLIENTS} keep-alive clients, SQLite",
        500,
        api_load.ACCOUNT,
    )


def figure_api_orders(bench: Bench) -> list[Figure]:
    return _api_figure(
        bench,
        "api-orders",
        f"signed `POST /sapi/v1/margin/order` (MARKET BUY), {api_load.CLIENTS} keep-alive clients, SQLite",
        200,
        api_load.ORDERS,
    )


# --- watch, report and the replay server (issue 16) -------------------------------------------------------

#: `watch --once`'s screen: the larger of the two sizes issue 16 tests it at.
WATCH_SCREEN = {"COLUMNS": "120", "LINES": "40"}
#: In-process refreshes of watch's snapshot timed after the first (the live loop's read, every half second).
SNAPSHOT_RUNS = 21

#: Run by the measured interpreter: services/watch.py's snapshot of the wallet in argv[1], first as `watch`
#: opens it (schema check, rules), then SNAPSHOT_RUNS times on a `refreshed` context, as the live loop reads
#: it at every tick; prints the seconds as JSON.
_SNAPSHOT = """
import json, sys, time
from marginctl.services import watch
from marginctl.services.context import open_context

context = open_context(sys.argv[1], None, None, None, write=False)
start = time.perf_counter()
first = watch.snapshot(context)
took = [time.perf_counter() - start]
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    watch.snapshot(watch.refreshed(context))
    took.append(time.perf_counter() - start)
context.database.close()
print(json.dumps({"seconds": took, "wallets": [document["wallet"] for document in first["wallets"]]}))
"""


def figure_watch_frame(bench: Bench) -> list[Figure]:
    big = bench.wallet("journal-1m", lambda path: fixtures.journal_wallet(path, 1_000_000))[0]
    env = {**environment(big), **WATCH_SCREEN}
    command = [*marginctl_command(), "watch", "--once"]
    _, frame = run_output(command, env=env)
    lines = frame.splitlines()
    _checked(
        "watch-frame-1m",
        "a frame headed",
        lines[0].split("  ")[0] if lines else None,
        "marginctl watch · main · cross",
    )
    if len(lines) > 40 or any(len(line) > 120 for line in lines):
        raise RuntimeError(
            f"watch-frame-1m: the frame does not fit 120×40: {len(lines)} lines, widest {max(map(len, lines))}"
        )
    base, took = interleaved([(BASELINE, env), (command, env)])
    bench.passes += base
    ratio, _ = ratio_stats(took, base)
    done = subprocess.run(
        [python_executable(), "-P", "-c", _SNAPSHOT, str(big), str(SNAPSHOT_RUNS)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    snapshot = json.loads(done.stdout)
    _checked("watch-frame-1m", "the wallets read", snapshot["wallets"], ["cross"])
    refreshes = snapshot["seconds"][1:]
    return [
        _seconds_figure(
            bench,
            "watch-frame-1m",
            "`watch --once` at 120×40, 1,000,000 journal entries",
            0.5,
            took,
            x_pass=round(ratio, 4),
            frame_lines=len(lines),
            snapshot_first_seconds=round(snapshot["seconds"][0], 4),
            snapshot_refresh_seconds=round(statistics.median(refreshes), 4),
            snapshot_refresh_spread=round(max(refreshes) - min(refreshes), 4),
            snapshot_refreshes=len(refreshes),
        )
    ]


#: README's report example, on the wallet that replayed May 2021 through an isolated 10x long.
REPORT_MONTH = ["report", "--isolated", "BTC/USDT", "--json"]
#: What that report must find: every hour of May, the buy, the margin call and the liquidation of May 19.
REPORT_MONTH_SUMMARY = {"hours": 744, "fills": 1, "marginCalls": 1, "liquidations": 1}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _report_summary(name: str, document: Any) -> None:
    found = {key: document["summary"][key] for key in REPORT_MONTH_SUMMARY}
    _checked(name, "the month's hours and events", found, REPORT_MONTH_SUMMARY)


def figure_report_month(bench: Bench) -> list[Figure]:
    samples, result = _timed(bench, "may-2021", fixtures.may_2021_wallet, REPORT_MONTH)
    _report_summary("report-month", result)
    return [
        _seconds_figure(
            bench,
            "report-month",
            "`report --isolated BTC/USDT --json`, May 2021 replayed hourly (744 hours)",
            1.0,
            samples,
            points=len(result["series"]),
        )
    ]


def figure_report_month_png(bench: Bench) -> list[Figure]:
    image = bench.workdir / "may-2021.png"
    command = [*marginctl_command(), *REPORT_MONTH, "--png", str(image)]
    # one run first, untimed: matplotlib builds its font cache on a machine's first plot, once
    run_output(command, env=environment(bench.fresh("may-2021", fixtures.may_2021_wallet)))
    samples = []
    for _ in range(REPEATS):
        path = bench.fresh("may-2021", fixtures.may_2021_wallet)
        image.unlink(missing_ok=True)
        bench.passes.append(run_once(BASELINE))
        seconds, output = run_output(command, env=environment(path))
        samples.append(seconds)
        _report_summary("report-month-png", json.loads(output))
        written = image.read_bytes() if image.exists() else b""
        _checked("report-month-png", "a PNG file", written[: len(PNG_SIGNATURE)], PNG_SIGNATURE)
    return [
        _seconds_figure(
            bench,
            "report-month-png",
            "`report --isolated BTC/USDT --json --png FILE` (matplotlib), May 2021 (744 hours)",
            4.0,
            samples,
            png_bytes=len(written),
        )
    ]


def _closes(klines: Path) -> list[Decimal]:
    with klines.open(encoding="ascii", newline="") as handle:
        return [Decimal(row[4]) for row in csv.reader(handle)]


#: May 1-18 (18 × 24 candles): every one of them played while the long still owes its loan (it is liquidated
#: on May 19 at 04:00; the month's 308 later candles find no loan to charge or check).
LOAN_CANDLES = 18 * 24


def _replay_run(bench: Bench, closes: list[Decimal]) -> tuple[float, float, float]:
    """One replay on a fresh copy of the wallet and a server of its own: one keep-alive client asks
    `GET /api/v3/ticker/price?symbol=BTCUSDT` once per candle; each answer must be that candle's close.
    Seconds from the first price request sent to the last answer, the same to the LOAN_CANDLES-th answer,
    and the server's CPU seconds meanwhile."""
    wallet = bench.fresh("may-2021-start", functools.partial(fixtures.may_2021_wallet, imported=False))
    bench.passes.append(run_once(BASELINE))
    server = api_load.Server(wallet, bench.workdir, ["--replay", str(fixtures.MAY_2021_KLINES), "--speed", "max"])
    try:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=30)

        def get(path: str) -> Any:
            connection.request("GET", path)
            answer = connection.getresponse()
            body = answer.read()
            if answer.status != 200:
                raise RuntimeError(f"serve-replay-max: GET {path} answered {answer.status} {body[:200]!r}")
            return json.loads(body)

        for _ in range(5):  # warm-up: the connection and the server's first requests; the clock does not move
            _checked(
                "serve-replay-max",
                "the serverTime before the first candle",
                get("/api/v3/time")["serverTime"],
                fixtures.MAY_2021_START_MS,
            )
        cpu_before = server.cpu_seconds()
        start = time.perf_counter()
        prices, answered = [], []
        for _ in closes:
            prices.append(get("/api/v3/ticker/price?symbol=BTCUSDT")["price"])
            answered.append(time.perf_counter())
        seconds = answered[-1] - start
        with_loan = answered[LOAN_CANDLES - 1] - start
        server_cpu = server.cpu_seconds() - cpu_before
        connection.close()
    finally:
        code = server.stop()
    stderr = server.stderr()
    _checked("serve-replay-max", "the candles' closes", [Decimal(price) for price in prices], closes)
    _checked("serve-replay-max", "the exit code on SIGTERM", code, 0)
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    _checked("serve-replay-max", "errors logged", errors, [])
    liquidations = [line for line in stderr.splitlines() if "LIQUIDATED" in line]
    _checked("serve-replay-max", "liquidations logged", len(liquidations), 1)
    if "replay: the last candle closed at" not in stderr:
        raise RuntimeError("serve-replay-max: the server did not say the last candle was played")
    return seconds, with_loan, server_cpu


def figure_serve_replay(bench: Bench) -> list[Figure]:
    closes = _closes(fixtures.MAY_2021_KLINES)
    runs = [_replay_run(bench, closes) for _ in range(REPEATS)]
    rate, spread = median_spread([len(closes) / seconds for seconds, _, _ in runs])
    loan_rate, loan_spread = median_spread([LOAN_CANDLES / with_loan for _, with_loan, _ in runs])
    return [
        Figure(
            "serve-replay-max",
            "`serve --replay --speed max`: May 2021 hourly (744 candles), one keep-alive client asking "
            "`ticker/price` per candle, an isolated 10x long",
            "≥ 100 candles/s",
            rate,
            spread,
            "candles/s",
            rate >= 100,
            {
                "runs": REPEATS,
                "candles": len(closes),
                "seconds": [round(seconds, 4) for seconds, _, _ in runs],
                "with_loan_candles": LOAN_CANDLES,
                "with_loan_candles_per_second": round(loan_rate, 2),
                "with_loan_spread": round(loan_spread, 2),
                "server_cpu_ms_per_candle": round(1000 * sum(cpu for _, _, cpu in runs) / (len(closes) * REPEATS), 3),
                "pass_seconds": round(statistics.median(bench.passes[-REPEATS:]), 4),
            },
        )
    ]


# --- PostgreSQL -------------------------------------------------------------------------------------------

#: Keeps .ci/with-postgres's server up: prints its URL, then waits for its stdin to close.
_HOLD = "import os, sys\nprint(os.environ['MARGINCTL_TEST_POSTGRES_URL'], flush=True)\nsys.stdin.read()\n"


@dataclass
class PostgresServer:
    url: str
    holder: subprocess.Popen[str] | None
    database: str | None = None

    @classmethod
    def start(cls) -> PostgresServer:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise Skipped("psycopg is not installed (pip install 'marginctl[postgres]')") from None
        given = os.environ.get("MARGINCTL_BENCH_POSTGRES_URL")
        if given:
            server = cls(given, None)
        else:
            if not any(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
                raise Skipped(
                    "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin); set MARGINCTL_BENCH_POSTGRES_URL"
                )
            holder = subprocess.Popen(
                [str(ROOT / ".ci" / "with-postgres"), sys.executable, "-c", _HOLD],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert holder.stdout is not None
            ready, _, _ = select.select([holder.stdout], [], [], 120)
            line = holder.stdout.readline().strip() if ready else ""
            if not line:
                holder.kill()
                holder.wait(timeout=30)
                raise Skipped(".ci/with-postgres did not start a server within 120 s")
            server = cls(line, holder)
        try:
            server._admin(f'CREATE DATABASE "marginctl_bench_{os.getpid()}"')
        except Exception:
            server.stop()
            raise
        server.database = f"marginctl_bench_{os.getpid()}"
        return server

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self._libpq(self.url), autocommit=True, connect_timeout=10) as connection:
            connection.execute(sql)  # type: ignore[call-overload]

    @staticmethod
    def _libpq(url: str) -> str:
        return re.sub(r"^postgresql\+psycopg://", "postgresql://", url)

    def wallet_url(self) -> str:
        """The URL of the benchmark's own database on the server (made by `start`, dropped by `stop`)."""
        assert self.database is not None
        head, _, _ = self.url.partition("?")
        return re.sub(r"/[^/]*$", f"/{self.database}", head)

    def stop(self) -> None:
        if self.database is not None:
            try:
                self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            except Exception as error:  # the server is going away anyway when we started it
                print(f"  could not drop {self.database}: {error}", file=sys.stderr)
        if self.holder is not None:
            assert self.holder.stdin is not None
            self.holder.stdin.close()
            try:
                self.holder.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.holder.kill()
                self.holder.wait(timeout=30)


def _pg_wallet(bench: Bench) -> str:
    """The PostgreSQL wallet, made (and upgraded) by a first deposit, so no figure pays the creation."""
    if "postgresql" not in bench.built:
        url = bench.postgresql().wallet_url()
        run_once([*marginctl_command(), "deposit", "USDT", "1000", "--json"], env=environment(url), timeout=300)
        bench.built["postgresql"] = (url, None)
    return str(bench.built["postgresql"][0])


#: Runs marginctl in this interpreter with libpq's trace on every psycopg connection, from the moment
#: the connection is made (its startup and authentication are not in the trace) until it is closed.
_TRACED = """
import atexit, os, sys
import psycopg
from psycopg import pq

trace_path = os.environ["MARGINCTL_BENCH_TRACE"]
traced = []
_connect = psycopg.Connection.connect.__func__

def connect(cls, *args, **kwargs):
    connection = _connect(cls, *args, **kwargs)
    connection.pgconn.trace(os.open(trace_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
    traced.append(connection)
    return connection

def untrace(connection):
    if any(item is connection for item in traced):
        traced[:] = [item for item in traced if item is not connection]
        if not connection.closed:
            connection.pgconn.untrace()  # flushes libpq's buffered trace

_close = psycopg.Connection.close

def close(self):
    untrace(self)
    _close(self)

psycopg.Connection.connect = classmethod(connect)
psycopg.connect = psycopg.Connection.connect
psycopg.Connection.close = close
atexit.register(lambda: [untrace(connection) for connection in list(traced)])

from marginctl.cli import main
sys.argv = ["marginctl", *sys.argv[1:]]
main()
"""


def count_round_trips(trace: str) -> dict[str, Any]:
    """Round trips in a libpq trace: each run of frontend (F) messages that the backend (B) then answers.

    Also the Sync, simple Query and Flush messages (those the server answers), the statements (a Parse of
    an extended query, or a simple Query) and, per round trip, the start of its first statement."""
    messages = []
    for line in trace.splitlines():  # a statement's later lines (SQL text with newlines) start with neither
        parts = line.split("\t")
        if len(parts) >= 3 and parts[0] in ("F", "B"):
            messages.append((parts[0], parts[2].split(" ", 1)[0], parts[3].strip() if len(parts) > 3 else ""))
    trips: list[str] = []
    for index, (direction, name, text) in enumerate(messages):
        starts_run = direction == "F" and (index == 0 or messages[index - 1][0] == "B")
        if starts_run and any(later[0] == "B" for later in messages[index : index + 200]):
            trips.append(f"{name} {text}"[:70])
    frontend = [name for direction, name, _ in messages if direction == "F"]
    return {
        "round_trips": sum(
            1
            for before, after in itertools.pairwise(direction for direction, _, _ in messages)
            if (before, after) == ("F", "B")
        ),
        "syncs": frontend.count("Sync"),
        "simple_queries": frontend.count("Query"),
        "flushes": frontend.count("Flush"),
        "statements": frontend.count("Parse") + frontend.count("Query"),
        "frontend_messages": len(frontend),
        "trips": trips,
    }


def figure_pg_round_trips(bench: Bench) -> list[Figure]:
    url = _pg_wallet(bench)
    counts = []
    for run in range(REPEATS):
        trace = bench.workdir / f"pg-trace-{run}.txt"
        trace.unlink(missing_ok=True)
        env = {**environment(url), "MARGINCTL_BENCH_TRACE": str(trace)}
        subprocess.run(
            [python_executable(), "-P", "-c", _TRACED, "deposit", "USDT", "1", "--json"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            timeout=120,
        )
        counts.append(count_round_trips(trace.read_text(encoding="utf-8", errors="replace")))
    trips = [count["round_trips"] for count in counts]
    median, spread = median_spread(trips)
    return [
        Figure(
            "pg-round-trips",
            "PostgreSQL: round trips of `deposit USDT 1 --json` (after connecting)",
            "≤ 3",
            median,
            spread,
            "round trips",
            median <= 3,
            {"runs": REPEATS, **counts[0]},
        )
    ]


def figure_pg_deposit(bench: Bench) -> list[Figure]:
    url = _pg_wallet(bench)
    env = environment(url)
    python = python_executable()
    base, took, psycopg_only, with_sqlalchemy = interleaved(
        [
            (BASELINE, env),
            ([*marginctl_command(), "deposit", "USDT", "1", "--json"], env),
            ([python, "-c", "import psycopg"], env),
            ([python, "-c", "import psycopg, sqlalchemy"], env),
        ]
    )
    ratio, spread = ratio_stats(took, base)
    floor, floor_spread = ratio_stats(psycopg_only, base)
    floor_sa, floor_sa_spread = ratio_stats(with_sqlalchemy, base)
    return [
        Figure(
            "pg-deposit",
            "PostgreSQL: `deposit USDT 1 --json`, whole process",
            "≤ 25× pass",
            ratio,
            spread,
            "× pass",
            ratio <= 25,
            {
                "pairs": PAIRS,
                "seconds": statistics.median(took),
                "floor_psycopg": round(floor, 4),
                "floor_psycopg_sqlalchemy": round(floor_sa, 4),
            },
        ),
        Figure("pg-floor-psycopg", '`python -c "import psycopg"`', "(floor)", floor, floor_spread, "× pass"),
        Figure(
            "pg-floor-psycopg-sqlalchemy",
            '`python -c "import psycopg, sqlalchemy"`',
            "(floor)",
            floor_sa,
            floor_sa_spread,
            "× pass",
        ),
    ]


# --- the table of figures ---------------------------------------------------------------------------------

#: Each measuring function and the names of the figures it gives, in the table's order.
BENCHMARKS: list[tuple[Callable[[Bench], list[Figure]], tuple[str, ...], str]] = [
    (figure_help, ("help",), "startup"),
    (figure_status_1m, ("status-1m", "status-10", "status-1m-vs-10"), "startup"),
    (figure_deposit, ("deposit",), "startup"),
    (figure_status_accounts, ("status-100k-accounts",), "startup"),
    (figure_deposit_accounts, ("deposit-100k-accounts",), "startup"),
    (figure_accrue_1h, ("accrue-1h-100k",), "big"),
    (figure_accrue_24h, ("accrue-24h-10k",), "big"),
    (figure_price_set_borrowers, ("price-set-10k-borrowers",), "big"),
    (figure_price_set_orders, ("price-set-100k-orders",), "big"),
    (figure_price_import, ("price-import-525k",), "big"),
    (figure_century_deposit, ("catch-up-century-deposit", "catch-up-century-deposit-memory"), "big"),
    (figure_century_accrue, ("catch-up-century-accrue", "catch-up-century-accrue-memory"), "big"),
    (figure_api_account, ("api-account", "api-account-p50", "api-account-p99"), "api"),
    (figure_api_orders, ("api-orders", "api-orders-p50", "api-orders-p99"), "api"),
    (figure_watch_frame, ("watch-frame-1m",), "big"),
    (figure_report_month, ("report-month",), "big"),
    (figure_report_month_png, ("report-month-png",), "big"),
    (figure_serve_replay, ("serve-replay-max",), "api"),
    (figure_pg_round_trips, ("pg-round-trips",), "postgresql"),
    (figure_pg_deposit, ("pg-deposit", "pg-floor-psycopg", "pg-floor-psycopg-sqlalchemy"), "postgresql"),
]
NAMES = [name for _, names, _ in BENCHMARKS for name in names]
TARGETS = {
    "help": "≤ 8× pass",
    "status-1m": "≤ 6× pass",
    "status-10": "(reference)",
    "status-1m-vs-10": "≤ 1.3×",
    "deposit": "≤ 7× pass",
    "status-100k-accounts": "≤ 1.2× on 10 accounts",
    "deposit-100k-accounts": "≤ 1.2× on 10 accounts",
    "accrue-1h-100k": "≤ 1 s",
    "accrue-24h-10k": "≤ 0.5 s",
    "price-set-10k-borrowers": "≤ 0.3 s",
    "price-set-100k-orders": "≤ 0.1 s",
    "price-import-525k": "≤ 4 s",
    "catch-up-century-deposit": "≤ 30 s",
    "catch-up-century-deposit-memory": "≤ 150 MB",
    "catch-up-century-accrue": "≤ 30 s",
    "catch-up-century-accrue-memory": "≤ 150 MB",
    "api-account": "≥ 500 req/s",
    "api-account-p50": "(reference)",
    "api-account-p99": "(reference)",
    "api-orders": "≥ 200 req/s",
    "api-orders-p50": "(reference)",
    "api-orders-p99": "(reference)",
    "watch-frame-1m": "≤ 0.5 s",
    "report-month": "≤ 1 s",
    "report-month-png": "≤ 4 s",
    "serve-replay-max": "≥ 100 candles/s",
    "pg-round-trips": "≤ 3",
    "pg-deposit": "≤ 25× pass",
    "pg-floor-psycopg": "(floor)",
    "pg-floor-psycopg-sqlalchemy": "(floor)",
}


def measure(bench: Bench, wanted: list[str]) -> tuple[list[Figure], list[tuple[str, str]]]:
    """The wanted figures, in the table's order; a figure that fails or is skipped is reported, not fatal."""
    figures: list[Figure] = []
    problems: list[tuple[str, str]] = []
    for function, names, _ in BENCHMARKS:
        chosen = [name for name in names if name in wanted]
        if not chosen:
            continue
        print(f"measuring {', '.join(chosen)}…", file=sys.stderr, flush=True)
        try:
            figures += [figure for figure in function(bench) if figure.name in chosen]
        except Skipped as reason:
            problems += [(name, f"skipped: {reason}") for name in chosen]
            print(f"  skipped: {reason}", file=sys.stderr, flush=True)
        except Exception as error:
            problems += [(name, f"failed: {error}") for name in chosen]
            traceback.print_exc()
    return figures, problems


def table(figures: list[Figure], problems: list[tuple[str, str]]) -> list[str]:
    lines = ["| figure | name | target | median | spread | met |", "|---|---|---|---|---|---|"]
    for figure in figures:
        met = "-" if figure.met is None else ("yes" if figure.met else "**no**")
        lines.append(
            f"| {figure.title} | `{figure.name}` | {figure.target} | {figure.median:.2f} {figure.unit} "
            f"| {figure.spread:.2f} | {met} |"
        )
    for name, problem in problems:
        lines.append(f"| | `{name}` | {TARGETS[name]} | {problem} | | **no** |")
    return lines


def header(bytecode: str) -> list[str]:
    return [
        "# Benchmark results",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, commit {_commit()}",
        f"- machine: {platform.machine()}, {platform.processor() or 'unknown cpu'}, "
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}",
        f"- {bytecode}",
        f"- startup and PostgreSQL process figures: whole processes, interleaved with `python -c pass` in rounds "
        f"({PAIRS} rounds after one warm-up), median of the per-round ratios; spread is their interquartile range",
        f"- other figures: whole `marginctl` processes, each on a fresh copy of a wallet built once, median of "
        f"{REPEATS} runs; spread is max − min; each checks the command did the work it names (charges, "
        "crossings, fills, candles)",
        f"- `api-*`: `marginctl serve` on 127.0.0.1 (fixed clock, no weight limit) and {api_load.CLIENTS} client "
        "processes on the same cores, each one keep-alive connection and one account's HMAC key; after a "
        "warm-up each sends a fixed number of requests one after another; requests ÷ seconds from the first "
        f"request sent to the last answer, median of {REPEATS} runs (a fresh wallet and server each); every "
        "answer must be 200, and after the orders each account must hold exactly the orders sent and audit clean",
        f"- `watch-frame-1m`: `watch --once` at 120×40, {PAIRS} rounds interleaved with `python -c pass` after a "
        "warm-up, median seconds, spread max − min; `serve-replay-max`: `serve --replay --speed max` on 127.0.0.1 "
        "and one keep-alive client asking `ticker/price` once per candle, candles ÷ seconds from the first request "
        f"to the last answer, median of {REPEATS} runs (a fresh wallet and server each), every answer the candle's "
        "close",
        "- `pg-round-trips`: libpq's trace of every psycopg connection of the command, from after the connection's "
        "startup to its close; a round trip is a run of frontend messages the backend then answers",
        "",
    ]


def _commit() -> str:
    found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return found.stdout.strip() or "unknown"


def write_results(text: str) -> None:
    old = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else ""
    kept = old.split(MARKER, 1)[1] if MARKER in old else "\n"
    RESULTS.write_text(text + "\n" + MARKER + kept, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="list the figures' names and targets, measure nothing")
    parser.add_argument("--only", action="append", metavar="NAME", choices=NAMES, help="measure only this figure")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (with --only)")
    parser.add_argument("--quick", action="store_true", help="the startup figures only, printed")
    options = parser.parse_args()
    if options.list:
        for name in NAMES:
            print(f"{name}\t{TARGETS[name]}")
        return 0
    if options.json and not options.only:
        parser.error("--json prints the figures named with --only")
    if options.quick and options.only:
        parser.error("--quick and --only choose figures in two ways; give one")
    if options.only:
        wanted = list(dict.fromkeys(options.only))
    elif options.quick:
        wanted = [name for _, names, group in BENCHMARKS if group == "startup" for name in names]
    else:
        wanted = NAMES
    bytecode = prepare_bytecode()
    print(bytecode, file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="marginctl-bench-") as folder:
        bench = Bench(Path(folder))
        try:
            figures, problems = measure(bench, wanted)
        finally:
            bench.close()
    if options.json:
        found = {figure.name: figure.as_json() for figure in figures}
        found.update({name: {"name": name, "target": TARGETS[name], "error": problem} for name, problem in problems})
        items = [found[name] for name in wanted if name in found]
        print(json.dumps(items[0] if len(items) == 1 else items, indent=2, ensure_ascii=False))
    else:
        text = "\n".join(header(bytecode) + table(figures, problems)) + "\n"
        print(text)
        if not options.only and not options.quick:
            write_results(text)
    return 1 if any(problem.startswith("failed") for _, problem in problems) else 0


if __name__ == "__main__":
    sys.exit(main())
