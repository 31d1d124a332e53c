"""`marginctl report` through the CLI: an isolated BTC/USDT 10x long (margin call 1.08, liquidation 1.05)
walked down by hand until it is liquidated, its CSV and JSON worked out from the rules, and its failure modes.

    09:30  1000 USDT into BTC/USDT's isolated wallet
    10:00  buy 0.15 BTC at 60000 = 9000 with auto-borrow: borrows 9000 − 1000 = 8000 USDT, ON_BORROW interest
           8000 × 0.00024 / 24 = 0.08; the taker fee 0.15 × 0.001 = 0.00015 BTC leaves 0.14985 BTC
    11:00 … 16:00  price set 59000, 58000, … 54000; each hour's PERIODIC interest is 0.08 more
Each hour end: assets 0.14985 × price, debt 8000 + 0.08 × (hours so far + 1), level assets / debt.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Wallet

DAY = "2026-01-05"
NOW = f"{DAY}T17:30:00Z"


def at(clock: str) -> str:
    return f"{DAY}T{clock}Z"


@pytest.fixture
def crashed(wallet: Wallet) -> Wallet:
    wallet.ok("deposit", "USDT", "1000", now=at("09:30:00"))
    wallet.ok("transfer", "USDT", "1000", "--to", "BTC/USDT", "--yes", now=at("09:31:00"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.15", "--isolated", "--side-effect", "auto-borrow", now=at("10:00:00"))
    for hour, price in zip(range(11, 17), range(59000, 53000, -1000), strict=True):
        wallet.run("price", "set", "BTC/USDT", str(price), "--json", now=at(f"{hour}:00:00"))
    wallet.ok("accrue", now=NOW)
    return wallet


#: The hour ends from 10:00 (the first after the 09:30 transfer) through 17:00 (the clock 17:30's last).
EXPECTED_CSV = [
    "time,BTC/USDT,totalAssetValue,totalLiabilityValue,totalNetAssetValue,marginLevel,marginLevelStatus",
    # 0.14985 × 60000 = 8991; 8000 + 0.08 = 8000.08; 8991 − 8000.08 = 990.92; 8991 / 8000.08 = 1.12386376…
    "2026-01-05T10:00:00Z,60000.00,8991.00000000,8000.08000000,990.92000000,1.12386376,NORMAL",
    # 0.14985 × 59000 = 8841.15; 8000.16; 840.99; 8841.15 / 8000.16 = 1.10512164…
    "2026-01-05T11:00:00Z,59000.00,8841.15000000,8000.16000000,840.99000000,1.10512164,NORMAL",
    # 0.14985 × 58000 = 8691.3; 8000.24; 691.06; 8691.3 / 8000.24 = 1.08637990… (above 1.08)
    "2026-01-05T12:00:00Z,58000.00,8691.30000000,8000.24000000,691.06000000,1.08637990,NORMAL",
    # 0.14985 × 57000 = 8541.45; 8000.32; 541.13; 8541.45 / 8000.32 = 1.06763854… ≤ 1.08, ≤ 1.05 + 0.05
    "2026-01-05T13:00:00Z,57000.00,8541.45000000,8000.32000000,541.13000000,1.06763854,PRE_LIQUIDATION",
    # 14:00: 0.14985 × 56000 = 8391.6; 8391.6 / 8000.40 = 1.04889755… ≤ 1.05: liquidated. Sold for 8391.6, the
    # debt 8000.40 repaid, the fee 2 % × 8391.6 = 167.832: 8391.6 − 8000.4 − 167.832 = 223.368 left, no debt
    "2026-01-05T14:00:00Z,56000.00,223.36800000,0.00000000,223.36800000,,EXCESSIVE",
    "2026-01-05T15:00:00Z,55000.00,223.36800000,0.00000000,223.36800000,,EXCESSIVE",
    "2026-01-05T16:00:00Z,54000.00,223.36800000,0.00000000,223.36800000,,EXCESSIVE",
    "2026-01-05T17:00:00Z,54000.00,223.36800000,0.00000000,223.36800000,,EXCESSIVE",
]


def test_the_csv_holds_one_row_per_hour_worked_out_by_hand(crashed: Wallet, tmp_path: Path) -> None:
    target = tmp_path / "crash.csv"
    result = crashed.run("report", "--isolated", "BTC/USDT", "--csv", str(target), now=NOW)
    assert result.code == 0, result.err
    assert target.read_text(encoding="utf-8").splitlines() == EXPECTED_CSV
    assert f"Wrote {target}." in result.out


def test_csv_dash_writes_the_csv_on_stdout_and_nothing_else(crashed: Wallet) -> None:
    result = crashed.run("report", "--isolated", "BTCUSDT", "--csv", "-", now=NOW)
    assert result.code == 0, result.err
    assert result.out.splitlines() == EXPECTED_CSV


def test_the_json_has_the_series_the_events_and_the_summary(crashed: Wallet) -> None:
    document = crashed.ok("report", "--isolated", "BTC/USDT", now=NOW)
    assert (document["wallet"], document["mode"], document["since"], document["until"]) == (
        "BTC/USDT",
        "isolated-10x",
        "2026-01-05T10:00:00Z",
        "2026-01-05T17:00:00Z",
    )
    assert (document["marginCallLevel"], document["liquidationLevel"]) == ("1.08", "1.05")
    assert document["series"][3] == {
        "time": "2026-01-05T13:00:00Z",
        "prices": {"BTC/USDT": "57000.00"},
        "totalAssetValue": "8541.45000000",
        "totalLiabilityValue": "8000.32000000",
        "totalNetAssetValue": "541.13000000",
        "marginLevel": "1.06763854",
        "marginLevelStatus": "PRE_LIQUIDATION",
    }
    assert document["series"][4]["marginLevel"] is None  # no debt after the liquidation
    # the fill, the margin call at 13:00 (1.0676… ≤ 1.08), the liquidation at 14:00 (1.0488… ≤ 1.05); the
    # liquidation's own sale is part of it, not a fill
    assert document["events"] == [
        {
            "time": "2026-01-05T10:00:00Z",
            "kind": "fill",
            "pair": "BTC/USDT",
            "side": "BUY",
            "price": "60000.00",
            "qty": "0.15000000",
        },
        {"time": "2026-01-05T13:00:00Z", "kind": "margin_call", "marginLevel": "1.06763854"},
        {"time": "2026-01-05T14:00:00Z", "kind": "liquidation", "marginLevel": "1.04889755"},
    ]
    assert document["summary"] == {
        "hours": 8,
        "startNetAssetValue": "990.92000000",
        "endNetAssetValue": "223.36800000",
        # the liquidation's 1.04889755 is below every hour end's
        "minMarginLevel": "1.04889755",
        "minMarginLevelStatus": "FORCE_LIQUIDATION",
        "minMarginLevelTime": "2026-01-05T14:00:00Z",
        "fills": 1,
        "marginCalls": 1,
        "liquidations": 1,
    }


def test_since_and_until_narrow_the_hours(crashed: Wallet) -> None:
    document = crashed.ok("report", "--isolated", "BTC/USDT", "--since", at("11:30:00"), "--until", at("13:00:00"))
    # the hour ends 12:00 and 13:00; the 10:00 fill is outside, the 13:00 margin call inside
    assert [point["time"] for point in document["series"]] == [at("12:00:00"), at("13:00:00")]
    assert [event["kind"] for event in document["events"]] == ["margin_call"]


def test_the_terminal_chart_comes_under_a_summary_line(crashed: Wallet) -> None:
    result = crashed.run("report", "--isolated", "BTC/USDT", now=NOW)
    assert result.code == 0, result.err
    first, *chart = result.out.splitlines()
    assert first == (
        "main BTC/USDT isolated (isolated-10x), 2026-01-05T10:00:00Z to 2026-01-05T17:00:00Z, 8 hours: "
        "net asset value 990.92000000 → 223.36800000 USDT; lowest margin level 1.04889755 at "
        "2026-01-05T14:00:00Z; 1 fill(s), 1 margin call(s), 1 liquidation(s)."
    )
    text = "\n".join(chart)
    assert "main BTC/USDT isolated (isolated-10x), 2026-01-05 to 2026-01-05" in text
    assert "\x1b[" not in text  # not a terminal: no colour


def test_an_empty_wallet_reports_no_hours(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1", now=at("09:00:00"))
    document = wallet.ok("report", now=at("12:00:00"))
    # the cross wallet never held anything
    assert document["series"] == [] and document["events"] == []
    assert document["summary"]["hours"] == 0


# --- failure modes: one error line, exit 2, nothing written ----------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "code", "says"),
    [
        (["--since", "yesterday"], "invalid_time", "not an ISO 8601 time"),
        (["--until", "2026-13-01T00:00:00Z"], "invalid_time", "not an ISO 8601 time"),
        (["--since", at("13:00:00"), "--until", at("12:00:00")], "invalid_input", "is after --until"),
        (["--until", f"{DAY}T18:00:00Z"], "time_in_future", "later than the clock"),
        (["--since", f"{DAY}T18:00:00Z"], "time_in_future", "later than the clock"),
        (["--isolated", "DOGE/USDT"], "unknown_pair", "unknown pair"),
        (["--csv", "{tmp}/missing/x.csv"], "invalid_input", "no such folder"),
        (["--csv", "{tmp}"], "invalid_input", "is a folder"),
        (["--png", "-"], "invalid_input", "needs a file name"),
        (["--csv", "{tmp}/same.png", "--png", "{tmp}/same.png"], "invalid_input", "the same file"),
    ],
)
def test_bad_input_is_one_error_and_writes_nothing(
    crashed: Wallet, tmp_path: Path, arguments: list[str], code: str, says: str
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    filled = [argument.replace("{tmp}", str(folder)) for argument in arguments]
    result = crashed.run("report", "--isolated", "BTC/USDT", *filled, "--json", now=NOW)
    assert result.code == 2, result.err
    assert result.error()["code"] == code
    assert says in result.error()["message"]
    assert result.out == ""
    assert list(folder.iterdir()) == []
    plain = crashed.run("report", "--isolated", "BTC/USDT", *filled, now=NOW)
    assert plain.code == 2
    assert plain.err.startswith("error: ") and len(plain.err.splitlines()) == 1
    assert "Traceback" not in plain.err


def test_csv_on_stdout_and_json_cannot_be_combined(crashed: Wallet) -> None:
    result = crashed.run("report", "--csv", "-", "--json", now=NOW)
    assert result.code == 2
    assert result.error() == {
        "code": "invalid_input",
        "message": "--csv - and --json cannot be combined (both write stdout)",
    }
    assert result.out == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_an_unwritable_folder_is_refused(crashed: Wallet, tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    try:
        result = crashed.run("report", "--csv", str(folder / "x.csv"), now=NOW)
        assert result.code == 2
        assert result.err == f"error: --csv {str(folder / 'x.csv')!r}: cannot write there (permission denied)\n"
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


@pytest.mark.parametrize("name", ["with spaces.csv", "ünïcode-€.csv", "-leading-dash.csv"])
def test_odd_file_names_are_written_as_given(crashed: Wallet, tmp_path: Path, monkeypatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    # a leading dash is a value, not an option, after --csv (and with --csv=)
    result = crashed.run("report", "--isolated", "BTC/USDT", f"--csv={name}", "--json", now=NOW)
    assert result.code == 0, result.err
    assert [path.name for path in tmp_path.iterdir() if path.suffix == ".csv"] == [name]
    assert (tmp_path / name).read_text(encoding="utf-8").splitlines() == EXPECTED_CSV


def test_png_writes_an_image(crashed: Wallet, tmp_path: Path) -> None:
    target = tmp_path / "crash chart.png"
    result = crashed.run("report", "--isolated", "BTC/USDT", "--png", str(target), "--json", now=NOW)
    assert result.code == 0, result.err
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000  # a drawn 1100 × 700 chart, not an empty file
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".marginctl-report-")] == []


def test_png_without_matplotlib_says_how_to_install_it(crashed: Wallet, tmp_path: Path) -> None:
    """matplotlib made absent in a real process: a folder first on PYTHONPATH whose matplotlib fails to import."""
    shadow = tmp_path / "shadow" / "matplotlib"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('matplotlib is not installed')\n", encoding="utf-8")
    target = tmp_path / "chart.png"
    environment = {**os.environ, "PYTHONPATH": str(shadow.parent)}
    completed = subprocess.run(
        [sys.executable, "-m", "marginctl", "--db", crashed.target, "--now", NOW, "report", "--png", str(target)],
        capture_output=True,
        text=True,
        env=environment,
        stdin=subprocess.DEVNULL,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stderr == "error: --png needs the charts extra: pip install 'marginctl[charts]'\n"
    assert completed.stdout == ""
    assert not target.exists()


def test_plotext_only_for_the_chart_and_matplotlib_only_for_png(crashed: Wallet, tmp_path: Path) -> None:
    from tests.cli.test_startup import _modules_after

    if crashed.url is not None:
        pytest.skip("the startup check runs on a SQLite file")
    base = ["--now", NOW, "report", "--isolated", "BTC/USDT"]
    as_json = _modules_after([*base, "--json"], str(crashed.file))
    chart = _modules_after(base, str(crashed.file))
    image = _modules_after([*base, "--png", str(tmp_path / "x.png"), "--json"], str(crashed.file))
    assert "marginctl.services.report" in as_json
    assert not {"plotext", "matplotlib"} & as_json
    assert "plotext" in chart and "matplotlib" not in chart
    assert "matplotlib" in image and "plotext" not in image
