"""A real terminal: marginctl in a tmux pane of 50, 80 and 120 columns, read back with `capture-pane`.

The prompts (the first transfer's risk agreement, the borrow confirmation) wrap at spaces, never inside a
word or a number; Ctrl-C at a prompt ends its line, says `error: interrupted` and exits 130; `status` keeps
every number whole. Skipped only where tmux is not installed.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_terminal import at, busy_wallet, status_values, whole_on_a_line
from tests.conftest import Wallet

__all__ = ["busy_wallet"]  # the fixture, shared with test_terminal

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")

#: How long a pane may take to show what is waited for; a slow machine only waits longer, it never fails sooner.
READY_WITHIN_SECONDS = 60


class Pane:
    """One tmux server of our own (its own socket), one pane of `width` columns running one command."""

    def __init__(self, width: int, home: Path) -> None:
        self.width = width
        self.socket = f"marginctl-test-{uuid.uuid4().hex[:12]}"
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
        for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            self.env[name] = os.environ[name]

    def tmux(self, *args: str) -> str:
        assert TMUX is not None
        done = subprocess.run(
            [TMUX, "-L", self.socket, "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            env=self.env,
            check=True,
        )
        return done.stdout

    def start(self, *marginctl_args: str) -> None:
        command = shlex.join([sys.executable, "-m", "marginctl", *marginctl_args])
        # The pane stays after the command ends, so its last screen can be read; the exit code is printed.
        # The shell traps Ctrl-C (a handler, which the command does not inherit) so it outlives the command.
        script = f'trap "true" INT; {command}; echo "[exit $?]"; exec sleep 600'
        self.tmux("new-session", "-d", "-s", "t", "-x", str(self.width), "-y", "100", "sh", "-c", script)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "t")

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the pane shows:\n{screen}")
            time.sleep(0.05)

    def type(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "t", *keys)

    def stop(self) -> None:
        subprocess.run([str(TMUX), "-L", self.socket, "kill-server"], capture_output=True, env=self.env, check=False)


@pytest.fixture
def pane_of(tmp_path: Path) -> Iterator[type]:
    panes: list[Pane] = []

    def make(width: int) -> Pane:
        pane = Pane(width, tmp_path)
        panes.append(pane)
        return pane

    yield make  # type: ignore[misc]
    for pane in panes:
        pane.stop()


def flowing(text: str) -> str:
    """Text with its line breaks and runs of spaces as single spaces: a word split by a wrap shows as two."""
    return " ".join(text.split())


AGREEMENT = (
    "Margin trading is risky: borrowed funds can be liquidated and you can lose all you transfer. "
    "Type I understand to accept, or press Enter to cancel:"
)


@pytest.mark.parametrize("width", [50, 80, 120])
def test_the_risk_agreement_prompt_wraps_at_spaces_and_explains_a_wrong_answer(
    wallet: Wallet, pane_of, width: int
) -> None:
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    pane = pane_of(width)
    pane.start("--db", wallet.target, "--now", at("10:01:00"), "transfer", "USDT", "10")
    screen = pane.wait_for("cancel:")
    assert flowing(screen) == AGREEMENT
    assert all(len(line) <= width for line in screen.splitlines())
    pane.type("yes", "Enter")
    screen = pane.wait_for("type exactly")
    assert "To accept, type exactly: I understand" in flowing(screen)
    pane.type("I understand", "Enter")
    screen = pane.wait_for("[exit")
    assert "[exit 0]" in screen
    # the result line too wraps at spaces on a terminal ("tranId" is not cut at 50 columns)
    assert "Transferred 10.00000000 USDT from spot to cross. tranId 8" in flowing(screen)


@pytest.mark.parametrize("width", [50, 80, 120])
def test_the_borrow_prompt_wraps_at_spaces_and_ctrl_c_exits_130(wallet: Wallet, pane_of, width: int) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:00:01"))
    pane = pane_of(width)
    pane.start("--db", wallet.target, "--now", at("10:01:00"), "borrow", "USDT", "500")
    screen = pane.wait_for("[y/N]:")
    # daily 0.00024 = 0.024 %; a year 0.024 × 365 = 8.76 %; the first hour 500 × 0.00024 / 24 = 0.005
    assert flowing(screen) == (
        "Borrow 500.00000000 USDT into cross at 0.024 % a day (about 8.76 % a year), charged every hour; "
        "the first hour, 0.00500000 USDT, is charged now. Borrow? [y/N]:"
    )
    pane.type("C-c")
    screen = pane.wait_for("[exit")
    lines = [line.rstrip() for line in screen.splitlines() if line.strip()]
    assert lines[-2:] == ["error: interrupted", "[exit 130]"]
    assert lines[-3].endswith("[y/N]: ^C")  # the newline ends the prompt's line before the message
    assert wallet.ok("status", now=at("10:02:00"))["totalLiabilityValue"] == "0.00000000"


@pytest.mark.parametrize("width", [50, 80, 120])
def test_status_in_a_real_terminal_keeps_every_number_whole(busy_wallet: Wallet, pane_of, width: int) -> None:
    document = busy_wallet.ok("status", now=at("12:31:00"))
    pane = pane_of(width)
    pane.start("--db", busy_wallet.target, "--now", at("12:31:00"), "status")
    screen = pane.wait_for("[exit")
    assert "[exit 0]" in screen
    missing = [value for value in status_values(document) if not whole_on_a_line(screen, value)]
    assert not missing, f"split or cut at {width} columns: {missing}\n{screen}"
    assert all(len(line) <= width for line in screen.splitlines())


@pytest.mark.parametrize("width", [50, 80, 120])
def test_the_close_prompt_fits_and_yes_unwinds_the_short(wallet: Wallet, pane_of, width: int) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:00:01"))
    wallet.ok("trade", "sell", "BTC/USDT", "0.01", "--side-effect", "auto-borrow", now=at("10:02:00"))
    # owes 0.01 BTC + the first hour 0.01 × 0.000048 / 24 = 0.00000002
    pane = pane_of(width)
    pane.start("--db", wallet.target, "--now", at("10:03:00"), "close")
    screen = pane.wait_for("[y/N]:")
    assert all(len(line) <= width for line in screen.splitlines())
    assert "repay 0.01000002 BTC (interest first). Close? [y/N]:" in flowing(screen)
    pane.type("y", "Enter")
    screen = pane.wait_for("[exit")
    assert "[exit 0]" in screen
    assert all(len(line) <= width for line in screen.splitlines())
    # buys 0.01000002 / 0.999 = 0.0100100… → 0.01002 (fee 0.00001002); 0.01000998 − 0.01000002 = 0.00000996 left;
    # USDT 1000 + (600 − 0.6) − 0.01002 × 60000 = 1599.4 − 601.2 = 998.2
    for value in ("0.01002000", "0.00001002", "0.01000002", "0.00000996", "998.20000000"):
        assert whole_on_a_line(screen, value), (value, screen)
    assert wallet.ok("status", now=at("10:04:00"))["totalLiabilityValue"] == "0.00000000"


@pytest.mark.parametrize("width", [50, 80, 120])
def test_the_config_apply_prompt_fits_and_no_changes_nothing(
    wallet: Wallet, pane_of, width: int, tmp_path: Path
) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    raised = tmp_path / "raised.toml"
    raised.write_text('[assets.USDT]\ndaily_interest_rate = "0.0003"\n', encoding="utf-8")
    pane = pane_of(width)
    pane.start("--db", wallet.target, "--now", at("10:01:00"), "config", "apply", str(raised))
    screen = pane.wait_for("[y/N]:")
    assert all(len(line) <= width for line in screen.splitlines())
    for value in ("assets.USDT.daily_interest_rate:", "0.00024", "0.0003"):
        assert whole_on_a_line(screen, value), (value, screen)
    pane.type("n", "Enter")
    screen = pane.wait_for("[exit")
    assert "[exit 3]" in screen
    rates = wallet.ok("rates", "--asset", "USDT", now=at("10:02:00"))
    assert [row["dailyInterestRate"] for row in rates] == ["0.00024"]
