"""`report`'s charts drawn from a known series: what they show (title, axes, the series' extremes), not bytes.

The series: four hours of an isolated 10x long, net asset value 1000 → 400 → 250 → 600 USDT, BTC/USDT
50000 → 47000 → 46000 → 48500, margin level 1.25 → 1.09 → 1.06, then no debt; a fill and a liquidation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from marginctl.cli import charts


def point(time: str, price: str, nav: str, level: str | None) -> dict[str, Any]:
    return {
        "time": time,
        "prices": {"BTC/USDT": price},
        "totalAssetValue": nav,
        "totalLiabilityValue": "0",
        "totalNetAssetValue": nav,
        "marginLevel": level,
        "marginLevelStatus": "NORMAL",
    }


DOCUMENT: dict[str, Any] = {
    "account": "main",
    "wallet": "BTC/USDT",
    "mode": "isolated-10x",
    "valuationAsset": "USDT",
    "since": "2021-05-19T00:00:00Z",
    "until": "2021-05-19T03:00:00Z",
    "marginCallLevel": "1.08",
    "liquidationLevel": "1.05",
    "pairs": ["BTC/USDT"],
    "series": [
        point("2021-05-19T00:00:00Z", "50000.00", "1000.00000000", "1.25000000"),
        point("2021-05-19T01:00:00Z", "47000.00", "400.00000000", "1.09000000"),
        point("2021-05-19T02:00:00Z", "46000.00", "250.00000000", "1.06000000"),
        point("2021-05-19T03:00:00Z", "48500.00", "600.00000000", None),
    ],
    "events": [
        {"time": "2021-05-19T00:00:00Z", "kind": "fill", "pair": "BTC/USDT", "side": "BUY"},
        {"time": "2021-05-19T02:30:00Z", "kind": "liquidation", "marginLevel": "1.04"},
    ],
    "summary": {},
    "unpricedAssets": [],
}


def ticks(chart: str, side: str) -> tuple[float, float]:
    """The lowest and highest numbered tick of one y axis of a plotext chart."""
    values = []
    for line in chart.splitlines():
        if side == "left" and ("┤" in line or "├" in line) and line[:1] != "└":
            label = line.split("┤")[0].split("├")[0].split("│")[0].strip()
        elif side == "right" and line.rstrip()[-1:].isdigit():
            label = line.rsplit("├", 1)[-1].strip()
        else:
            continue
        if label.replace(".", "", 1).isdigit():
            values.append(float(label))
    return min(values), max(values)


def test_the_terminal_chart_shows_the_title_axes_and_the_series_extremes() -> None:
    text = charts.terminal_chart(DOCUMENT, 80, 30, color=False)
    lines = text.splitlines()
    assert "main BTC/USDT isolated (isolated-10x), 2021-05-19 to 2021-05-19" in text
    assert max(len(line) for line in lines) <= 80
    assert "\x1b[" not in text
    top, bottom = text.split("▄ net asset value (USDT)")
    # the y-axis ticks run from each series' lowest value to its highest
    assert ticks(top, "left") == (250.0, 1000.0)  # net asset value 250 … 1000
    assert ticks(top, "right") == (46000.0, 50000.0)  # the price 46000 … 50000
    # the margin level 1.06 … 1.25 within its axis, the margin-call and liquidation levels labelled as set
    low, high = ticks(bottom, "left")
    assert low <= 1.06 and high == 1.25
    labels = {line.split("┤")[0].split("├")[0].strip() for line in bottom.splitlines()}
    assert {"1.2500", "1.08", "1.05"} <= labels
    assert "▄ net asset value (USDT)" in text and "· BTC/USDT price" in text
    assert "margin level" in text
    assert text.endswith("events: + fill, ! margin call, X liquidation")
    assert "+" in text and "X" in text  # the fill and the liquidation marked


def test_the_terminal_chart_is_coloured_only_when_asked() -> None:
    assert "\x1b[" in charts.terminal_chart(DOCUMENT, 80, 30, color=True)


def test_no_colour_without_a_terminal_or_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdout.isatty", lambda: True, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    assert charts.wants_color() is False
    monkeypatch.delenv("NO_COLOR")
    assert charts.wants_color() is True


def test_the_png_figure_has_the_title_labels_and_the_series_extremes() -> None:
    figure = charts.png_figure(DOCUMENT)
    assert figure.get_suptitle() == "main BTC/USDT isolated (isolated-10x), 2021-05-19 to 2021-05-19"
    top, bottom, price = figure.axes
    assert top.get_ylabel() == "net asset value (USDT)"
    assert price.get_ylabel() == "BTC/USDT price"
    assert bottom.get_ylabel() == "margin level"
    assert bottom.get_xlabel() == "time (UTC)"
    nav = top.get_lines()[0].get_ydata()
    assert (min(nav), max(nav)) == (250.0, 1000.0)
    prices = price.get_lines()[0].get_ydata()
    assert (min(prices), max(prices)) == (46000.0, 50000.0)
    levels, call, liquidation = bottom.get_lines()[:3]
    # three hours with debt; the fourth has none and is not drawn
    assert list(levels.get_ydata()) == [1.25, 1.09, 1.06]
    assert list(call.get_ydata()) == [1.08, 1.08] and list(liquidation.get_ydata()) == [1.05, 1.05]
    labels = [text.get_text() for text in bottom.get_legend().get_texts()]
    assert labels == ["margin level", "margin call 1.08", "liquidation 1.05", "fill", "liquidation"]


def test_write_png_makes_a_png_file(tmp_path: Path) -> None:
    target = tmp_path / "chart.png"
    charts.write_png(DOCUMENT, str(target))
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # 1100 × 700 pixels (11 × 7 inches at 100 dpi): the IHDR chunk's width and height
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1100, 700)


def test_the_terminal_chart_is_the_same_in_every_process(tmp_path: Path) -> None:
    """String hashes are salted per process (PYTHONHASHSEED); the chart of May 2021 must not change with them
    (plotext dedupes points through a set, which once moved labels by a column from one run to the next)."""
    import os
    import subprocess

    from tests.conftest import new_wallet
    from tests.readme_examples import ROOT, marginctl_executable

    wallet = new_wallet(tmp_path / "may.db")
    at = "2021-05-01T00:00:00Z"
    wallet.ok("deposit", "USDT", "1000", now=at)
    wallet.ok("transfer", "USDT", "1000", "--to", "BTC/USDT", "--yes", now=at)
    wallet.ok("trade", "buy", "BTC/USDT", "0.05", "--isolated", "--side-effect", "auto-borrow", now=at)
    wallet.ok("price", "import", str(ROOT / "docs" / "BTCUSDT-1h-2021-05.csv"), now=at)
    charts = set()
    for seed in ("0", "1", "3"):
        environment = {**os.environ, "PYTHONHASHSEED": seed, "COLUMNS": "80", "NO_COLOR": "1"}
        done = subprocess.run(
            [marginctl_executable(), "--db", wallet.target, "report", "--isolated", "BTC/USDT"],
            capture_output=True,
            text=True,
            env=environment,
            check=True,
        )
        charts.add(done.stdout)
    assert len(charts) == 1
