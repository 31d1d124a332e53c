"""`watch`: the live view in a real terminal (tmux at 80×24 and 120×40) while another process trades, `q` and
Ctrl-C leaving it with the terminal restored, `--once` at 80 and 120 columns, and its failure modes.

The live tests run on the real clock (watch reads it): the wallet is built a few hours in the past with
`--now`, then another process moves the price and trades on the real clock. Its USDT loan is free of
interest (a config with a daily rate of 0), so the margin level does not depend on how many hour boundaries
the real clock has passed. Skipped only where tmux is not installed (the `--once` tests always run).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.test_terminal import whole_on_a_line
from tests.cli.test_tmux import READY_WITHIN_SECONDS, TMUX, Pane
from tests.conftest import Wallet, run_cli

needs_tmux = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")

FREE_USDT_LOANS = '[assets.USDT]\ndaily_interest_rate = "0"\n'


class SizedPane(Pane):
    """test_tmux's pane, resized to `width` × `height` as soon as its command starts (a resize watch follows)."""

    def __init__(self, width: int, height: int, home: Path) -> None:
        super().__init__(width, home)
        self.height = height

    def start(self, *marginctl_args: str) -> None:
        super().start(*marginctl_args)
        self.tmux("resize-window", "-t", "t", "-x", str(self.width), "-y", str(self.height))

    def lines(self) -> list[str]:
        return self.screen().split("\n")[: self.height]

    def wait_for_frame(self, *texts: str) -> list[str]:
        """The screen once it shows every text in a frame of exactly the pane's size: the title on the first
        line and the footer on the last (a frame laid out for another size would be cut or scrolled)."""
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while True:
            lines = self.lines()
            screen = "\n".join(lines)
            framed = len(lines) == self.height and lines[0].startswith("marginctl watch · main · cross")
            framed = framed and lines[-1].startswith("q or Ctrl-C quits")
            if framed and all(text in screen for text in texts):
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"{texts!r} never appeared in a {self.width}×{self.height} frame:\n{screen}")
            time.sleep(0.05)


@pytest.fixture
def sized_pane(tmp_path: Path) -> Iterator[Callable[[int, int], SizedPane]]:
    panes: list[SizedPane] = []

    def make(width: int, height: int) -> SizedPane:
        pane = SizedPane(width, height, tmp_path)
        panes.append(pane)
        return pane

    yield make
    for pane in panes:
        pane.stop()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def long_position(wallet: Wallet, start: datetime) -> None:
    """1000 USDT of one's own and 1000 borrowed in cross, 0.03 BTC bought at the config's 60000.

    The buy costs 0.03 × 60000 = 1800 USDT (200 left) and brings 0.03 − 0.1 % fee = 0.02997 BTC.
    """
    steps = [
        ("deposit", "USDT", "1000"),
        ("transfer", "USDT", "1000", "--yes"),
        ("borrow", "USDT", "1000", "--yes"),
        ("trade", "buy", "BTC/USDT", "0.03"),
    ]
    for second, step in enumerate(steps):
        wallet.ok(*step, now=_iso(start + timedelta(seconds=second)))


def _marginctl(wallet: Wallet, *args: str) -> list[str]:
    return [sys.executable, "-m", "marginctl", "--db", wallet.target, "--config", str(wallet.config), *args]


#: The other process: a bounded loop of commands on the real clock, each a process of its own.
TRADER = """
import subprocess, sys
for arguments in ([*sys.argv[1:], "price", "set", "BTC/USDT", "50000"],
                  [*sys.argv[1:], "trade", "sell", "BTC/USDT", "0.005"],
                  [*sys.argv[1:], "price", "set", "BTC/USDT", "34000"]):
    subprocess.run(arguments, check=True, capture_output=True)
"""


@needs_tmux
@pytest.mark.parametrize(("width", "height"), [(80, 24), (120, 40)])
def test_the_live_view_follows_another_process_trading_and_q_restores_the_terminal(
    wallet: Wallet, sized_pane: Callable[[int, int], SizedPane], width: int, height: int
) -> None:
    wallet.with_config(FREE_USDT_LOANS)
    long_position(wallet, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    pane = sized_pane(width, height)
    pane.start("--db", wallet.target, "--config", str(wallet.config), "watch")
    # (200 + 0.02997 × 60000) / 1000 = 1998.2 / 1000 = 1.9982: NORMAL (margin call at ≤ 1.3)
    lines = pane.wait_for_frame("margin level 1.99820000 NORMAL", "BTC/USDT 60000.00 (config)")
    assert all(len(line.rstrip()) <= width for line in lines)
    assert whole_on_a_line("\n".join(lines), "1998.20000000")

    subprocess.run([sys.executable, "-c", TRADER, *_marginctl(wallet)], check=True, timeout=READY_WITHIN_SECONDS * 3)
    # the sale: 0.005 × 50000 = 250 less 0.1 % fee 0.25 → USDT 200 + 249.75 = 449.75; BTC 0.02997 − 0.005 = 0.02497
    # at 34000: (449.75 + 0.02497 × 34000) / 1000 = (449.75 + 848.98) / 1000 = 1.29873 ≤ 1.3: MARGIN_CALL
    lines = pane.wait_for_frame("margin level 1.29873000 MARGIN_CALL", "BTC/USDT 34000.00 (manual")
    screen = "\n".join(lines)
    assert all(len(line.rstrip()) <= width for line in lines)
    # margin call: (1.3 × 1000 − 449.75) / 0.02497 = 850.25 / 0.02497 = 34050.861033239887…
    # liquidation: (1.1 × 1000 − 449.75) / 0.02497 = 650.25 / 0.02497 = 26041.249499399279…,
    # (26041.2494994 − 34000) / 34000 = −23.4080…%, shown to 2 places towards zero
    assert "BTC margin call at 34050.86103324 · liquidation at 26041.24949940 (-23.40%)" in screen
    assert "MARGIN CALL at margin level 1.29873" in screen  # the newest event: the risk check of the 34000
    assert "SELL 0.00500000 BTC at 50000.00" in screen
    for value in ("449.75000000", "0.02497000", "1298.73000000"):  # USDT, BTC, total asset value
        assert whole_on_a_line(screen, value), (value, screen)
    # the wider screen has room for a column the narrow one leaves out
    header = next(line for line in lines if line.startswith("Asset"))
    assert ("Max borrowable" in header) is (width == 120)

    pane.type("q")
    after = pane.wait_for("[exit")
    assert "[exit 0]" in after
    assert "marginctl watch" not in after  # the alternate screen is gone: the shell's own screen is back


@needs_tmux
def test_ctrl_c_leaves_the_live_view_with_exit_0_and_the_wallet_unchanged(
    wallet: Wallet, sized_pane: Callable[[int, int], SizedPane]
) -> None:
    wallet.with_config(FREE_USDT_LOANS)
    long_position(wallet, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    before = wallet.fingerprint()
    pane = sized_pane(80, 24)
    pane.start("--db", wallet.target, "--config", str(wallet.config), "watch")
    first = pane.wait_for_frame("margin level 1.99820000 NORMAL")[0]
    # the clock in the title moves: the wallet is read again, tick after tick
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    while pane.lines()[0] == first and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pane.lines()[0] != first
    pane.type("C-c")
    after = pane.wait_for("[exit")
    assert "[exit 0]" in after
    assert "marginctl watch" not in after
    assert wallet.fingerprint() == before  # read only: not a byte of the wallet (or its -wal, -shm) changed


@needs_tmux
def test_sigterm_leaves_the_live_view_with_the_terminal_restored(
    wallet: Wallet, sized_pane: Callable[[int, int], SizedPane]
) -> None:
    """`kill PID` (SIGTERM) ends it as Ctrl-C does: exit 0, the alternate screen left, the terminal back in its
    line mode with echo (the view had put it in cbreak mode without echo)."""
    wallet.with_config(FREE_USDT_LOANS)
    long_position(wallet, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    pane = sized_pane(80, 24)
    pane.start("--db", wallet.target, "--config", str(wallet.config), "watch")
    tty = pane.tmux("display-message", "-p", "-t", "t", "#{pane_tty}").strip()
    pane.wait_for_frame("margin level 1.99820000 NORMAL")
    # the pane runs a shell whose child is the watch
    shell = pane.tmux("display-message", "-p", "-t", "t", "#{pane_pid}").strip()
    children = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True).stdout.split()
    (pid,) = [
        int(child)
        for child in children
        if Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0] == sys.executable.encode()
    ]
    os.kill(pid, signal.SIGTERM)
    after = pane.wait_for("[exit")
    assert "[exit 0]" in after and "marginctl watch" not in after
    modes = subprocess.run(["stty", "-a", "-F", tty], capture_output=True, text=True, check=True).stdout.split()
    assert "icanon" in modes and "echo" in modes, modes


def test_once_prints_one_frame_at_80_and_120_columns(wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    long_position(wallet, datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC))
    monkeypatch.delenv("LINES", raising=False)
    for width in (80, 120):
        monkeypatch.setenv("COLUMNS", str(width))
        result = wallet.run("watch", "--once", now="2026-01-05T10:30:00Z")
        assert result.code == 0, result
        lines = result.out.splitlines()
        assert len(lines) <= 24  # no terminal, no $LINES: a 24-line frame
        assert all(len(line) <= width for line in lines), result.out
        assert lines[0].startswith("marginctl watch · main · cross") and lines[0].endswith("2026-01-05 10:30:00 UTC")
        # the borrow's first hour: 1000 × 0.00024 / 24 = 0.01 USDT; (200 + 0.02997 × 60000) / 1000.01 = 1.998180018…
        assert "margin level 1.99818001 NORMAL" in result.out
        # margin call: (1.3 × 1000.01 − 200) / 0.02997 = 1100.013 / 0.02997 = 36703.803803803…
        # liquidation: (1.1 × 1000.01 − 200) / 0.02997 = 900.011 / 0.02997 = 30030.397063730…, −49.949…%
        assert "BTC margin call at 36703.80380380 · liquidation at 30030.39706373 (-49.94%)" in result.out
        # 200 − 1000 − 0.01 = −800.01 net USDT; 1998.2 − 1000.01 = 998.19 net value
        for value in ("200.00000000", "1000.00000000", "0.01000000", "-800.01000000", "0.02997000", "998.19000000"):
            assert whole_on_a_line(result.out, value), (width, value, result.out)
        assert "LONG BTC  0.02997000  60000.00000000" in result.out
        assert "BUY 0.03000000 BTC at 60000.00 · fee 0.00003000 BTC · order 1" in result.out
        assert "interest 0.01000000 USDT · on 1000.00000000 · ON_BORROW" in result.out
        assert "q or Ctrl-C" not in result.out  # no keys are read
        # Max borrowable USDT: 2 × (1998.2 − 1000.01) − 1000.01 = 996.37; it fits only the wider screen
        assert ("996.37000000" in result.out) is (width == 120)


def test_a_wallet_whose_clock_is_days_away_shows_its_own_clock(wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    """A replayed wallet's clock (its last event, here 10:00:03) is the one the title shows once it is more than a
    day from the view's clock; within a day the view's own clock stays."""
    long_position(wallet, datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC))
    monkeypatch.setenv("COLUMNS", "80")
    later = wallet.run("watch", "--once", now="2026-01-07T10:30:00Z").out.splitlines()[0]
    assert later.endswith("wallet clock 2026-01-05 10:00:03 UTC") and len(later) <= 80, later
    same_day = wallet.run("watch", "--once", now="2026-01-05T23:00:00Z").out.splitlines()[0]
    assert same_day.endswith(" 2026-01-05 23:00:00 UTC") and "wallet clock" not in same_day


def test_once_at_50_columns_drops_parts_and_never_cuts_a_number(
    wallet: Wallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_position(wallet, datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC))
    monkeypatch.setenv("COLUMNS", "50")
    monkeypatch.setenv("LINES", "40")
    result = wallet.run("watch", "--once", now="2026-01-05T10:30:00Z")
    assert result.code == 0, result
    lines = result.out.splitlines()
    assert all(len(line) <= 50 for line in lines), result.out
    assert not [line for line in lines if "…" in line and not line.startswith("… ")], result.out
    # 50 − 14 (time) − 2 = 34 columns for an event: "BUY 0.03000000 BTC at 60000.00" (30) fits, its " · fee …"
    # (21 more) does not; "interest 0.01000000 USDT" (24) fits, " · on 1000.00000000" (19 more) does not
    assert "01-05 10:00:03  BUY 0.03000000 BTC at 60000.00" in lines
    assert "01-05 10:00:02  interest 0.01000000 USDT" in lines


def test_a_wallet_in_danger_shows_what_raises_its_level(wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 36000 the long is at (200 + 0.02997 × 36000) / 1000.01 = 1278.92 / 1000.01 = 1.2789072… ≤ 1.3. As `status`
    advises: repay with the 200 free USDT (less than the 1000.01 owed), sell the 0.02997 BTC with auto-repay, or
    transfer USDT in."""
    long_position(wallet, datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC))
    wallet.ok("price", "set", "BTC/USDT", "36000", now="2026-01-05T10:00:10Z")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    lines = wallet.run("watch", "--once", now="2026-01-05T10:30:00Z").out.splitlines()
    assert "margin level 1.27890721 MARGIN_CALL" in lines[1]
    start = lines.index("raise it: marginctl repay USDT 200.00000000")
    assert lines[start + 1 : start + 3] == [
        "  marginctl trade sell BTC/USDT 0.02997000 --side-effect auto-repay",
        "  marginctl transfer USDT AMOUNT --to cross",
    ]


def test_once_on_a_short_screen_counts_what_it_leaves_out(wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    long_position(wallet, datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC))
    for second in ("04", "05", "06"):
        wallet.ok("trade", "sell", "BTC/USDT", "0.001", now=f"2026-01-05T10:00:{second}Z")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "16")
    result = wallet.run("watch", "--once", now="2026-01-05T10:30:00Z")
    assert result.code == 0, result
    lines = result.out.splitlines()
    # title, 2 level lines, prices (4); the lists' least: balances 3, position 2, "No open orders." 1, events 3
    # (13); 3 left: the distances line, the totals line, then one more event row
    assert len(lines) == 16
    # each sale: 0.001 × 60000 = 60 less 0.1 % = 59.94 USDT; 200 + 3 × 59.94 = 379.82 USDT, 0.02697 BTC;
    # 379.82 + 0.02697 × 60000 = 1998.02 of assets, less 1000.01 owed = 998.01
    assert "assets 1998.02000000 · liability 1000.01000000 · net 998.01000000 USDT" in lines
    assert lines[-4:] == [
        "Time            Latest events",
        "01-05 10:00:06  SELL 0.00100000 BTC at 60000.00 · fee 0.06000000 USDT · order 4",
        "01-05 10:00:05  SELL 0.00100000 BTC at 60000.00 · fee 0.06000000 USDT · order 3",
        "… 3 more",  # the first sale, the buy and the borrow's first hour
    ]


def test_without_a_terminal_watch_refuses_and_suggests_once(wallet: Wallet) -> None:
    long_position(wallet, datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC))
    result = wallet.run("watch")
    assert (result.code, result.out) == (2, "")
    assert result.err == (
        "error: watch needs a terminal to draw on and read keys from; for one frame run: marginctl watch --once "
        "(scripts: marginctl status --json)\n"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--isolated", "BTC/USDT", "--all", "--once"], "error: --isolated and --all cannot be combined\n"),
        (["--isolated", "BTC/USDT", "--all"], "error: --isolated and --all cannot be combined\n"),
        (
            ["--isolated", "NOPE/USDT", "--once"],
            "error: unknown pair 'NOPE/USDT'; known: BNB/USDT, BTC/USDT, BUSD/USDT, ETH/BTC, ETH/USDT\n",
        ),
    ],
)
def test_bad_options_are_one_error_line_and_exit_2(wallet: Wallet, arguments: list[str], message: str) -> None:
    long_position(wallet, datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC))
    result = wallet.run("watch", *arguments, now="2026-01-05T10:30:00Z")
    assert (result.code, result.out, result.err) == (2, "", message)


def test_a_wallet_that_does_not_exist_is_said_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    result = run_cli(["--db", str(missing), "watch", "--once"])
    assert (result.code, result.out) == (2, "")
    assert result.err == f"error: no wallet at {missing}; start one with: marginctl --db {missing} deposit USDT 1000\n"
    assert not missing.exists()


def test_once_leaves_the_wallet_byte_identical(wallet: Wallet) -> None:
    long_position(wallet, datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC))
    before = wallet.fingerprint()
    for arguments in (["--once"], ["--all", "--once"], ["--isolated", "BTC/USDT", "--once"]):
        assert wallet.run("watch", *arguments, now="2026-01-05T10:30:00Z").code == 0
    assert wallet.fingerprint() == before
