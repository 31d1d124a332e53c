"""`report`'s charts: plotext in the terminal, matplotlib for `--png`. They draw the report document (its
amounts are exact decimal strings); floats exist only here, at the edge, for the plotting calls."""

from __future__ import annotations

import os
from contextlib import suppress
from datetime import datetime
from typing import Any

#: What `report --png` says when matplotlib is not installed.
CHARTS_EXTRA_HINT = "pip install 'marginctl[charts]'"
#: A plotted margin level: the NAV/price chart above it, the margin level below (each half of the height).
MIN_HEIGHT = 20
MAX_HEIGHT = 44
PIPE_HEIGHT = 30
MIN_WIDTH = 40
#: How events are marked on both charts.
EVENT_KEY = "events: + fill, ! margin call, X liquidation"
EVENT_COLORS = {"fill": "green", "margin_call": "orange", "liquidation": "red"}
EVENT_MARKERS = {"fill": ("+", "fill"), "margin_call": ("!", "margin call"), "liquidation": ("X", "liquidation")}


def title(document: dict[str, Any]) -> str:
    wallet = document["wallet"]
    where = "cross" if wallet == "cross" else f"{wallet} isolated"
    # Short enough for 80 columns (plotext leaves out a title wider than its chart): the days, not the hours.
    return f"{document['account']} {where} ({document['mode']}), {document['since'][:10]} to {document['until'][:10]}"


def _number(text: str | None) -> float | None:
    return None if text is None else float(text)


def _times(document: dict[str, Any]) -> list[datetime]:
    return [datetime.fromisoformat(point["time"].replace("Z", "+00:00")) for point in document["series"]]


def _event_positions(document: dict[str, Any], times: list[datetime]) -> dict[str, list[float]]:
    """Each event's place on the hour axis (hours since the first point, fractional)."""
    start = times[0]
    found: dict[str, list[float]] = {}
    for event in document["events"]:
        moment = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
        found.setdefault(event["kind"], []).append((moment - start).total_seconds() / 3600)
    return found


def _nearest(values: list[float | None], position: float) -> float | None:
    """The series' value at the hour end at or after an event (the first state that holds it)."""
    index = min(max(int(-(-position // 1)), 0), len(values) - 1)
    return values[index]


def _without_duplicates(items: Any) -> list[Any]:
    """Each item once, in the order first met."""
    return list(dict.fromkeys(items))


def terminal_chart(document: dict[str, Any], width: int, height: int, color: bool) -> str:
    """Two charts stacked: net asset value with the price (right axis), and the margin level with the
    margin-call and liquidation lines; fills, margin calls and liquidations marked on both."""
    import plotext as plt  # type: ignore[import-untyped]
    import plotext._utility as plotext_utility  # type: ignore[import-untyped]

    # plotext drops duplicate points through a set: with string hashes salted per process, the order it draws
    # (and so which mark wins a shared cell, and where labels fit) changed from run to run
    plotext_utility.no_duplicates = _without_duplicates
    series = document["series"]
    times = _times(document)
    hours = [float(index) for index in range(len(series))]
    valuation = document["valuationAsset"]
    net = [_number(point["totalNetAssetValue"]) for point in series]
    levels = [_number(point["marginLevel"]) for point in series]
    pair = document["pairs"][0] if document["pairs"] else None
    events = _event_positions(document, times)
    ticks = _tick_positions(len(series))
    labels = [times[index].strftime("%m-%d %H:%M") for index in ticks]

    # clear_figure clears the active subplot only: the whole figure is cleared from its main one.
    plt.main().clear_figure()
    plt.subplots(2, 1)
    plt.plotsize(max(width, MIN_WIDTH), max(min(height, MAX_HEIGHT), MIN_HEIGHT))

    plt.subplot(1, 1)
    plt.theme("clear")
    plt.title(title(document))
    plt.plot(hours, [value or 0.0 for value in net], marker="hd", color="blue")
    if pair is not None:
        priced = [
            (hour, float(point["prices"][pair]))
            for hour, point in zip(hours, series, strict=True)
            if point["prices"][pair] is not None
        ]
        if priced:
            plt.plot([x for x, _ in priced], [y for _, y in priced], yside="right", marker="dot", color="gray")
            plt.ylabel(f"· {pair} price", yside="right")
    plt.ylabel(f"▄ net asset value ({valuation})")
    _mark_events(plt, events, [value or 0.0 for value in net])
    plt.xticks(ticks, labels)
    plt.xlim(hours[0], hours[-1])

    plt.subplot(2, 1)
    plt.theme("clear")
    call, liquidation = float(document["marginCallLevel"]), float(document["liquidationLevel"])
    with_debt = [(hour, level) for hour, level in zip(hours, levels, strict=True) if level is not None]
    shown = [call, liquidation, *(level for _, level in with_debt)]
    low, high = min(shown), max(shown)
    if with_debt:
        plt.plot([x for x, _ in with_debt], [y for _, y in with_debt], marker="hd", color="blue")
        _mark_events(plt, events, levels)
    else:
        plt.plot([hours[0], hours[-1]], [high, high], marker=" ")  # the axes, with no debt to draw
    plt.hline(call, "orange")
    plt.hline(liquidation, "red")
    plt.ylim(low - (high - low) * 0.05, high + (high - low) * 0.05)
    drawn = [level for _, level in with_debt] or [high]
    # An extreme that would share a text row with the margin-call or liquidation line leaves the row to it.
    rows = max(max(min(height, MAX_HEIGHT), MIN_HEIGHT) // 2 - 5, 1)
    near = (high - low) * 1.1 / rows
    extremes = {value for value in (min(drawn), max(drawn)) if min(abs(value - call), abs(value - liquidation)) > near}
    tick_values = sorted({*extremes, call, liquidation})
    plt.yticks(tick_values, [_level_label(value, document) for value in tick_values])
    plt.ylabel("▄ margin level, ─ margin call and liquidation levels")
    plt.xlabel("time (UTC)")
    plt.xticks(ticks, labels)
    plt.xlim(hours[0], hours[-1])
    text = str(plt.build())
    plt.main().clear_figure()
    text = text if color else str(plt.uncolorize(text))
    return text.rstrip() + "\n" + EVENT_KEY


def _level_label(value: float, document: dict[str, Any]) -> str:
    """The margin-call and liquidation levels as configured, the series' extremes to 4 places."""
    for key in ("marginCallLevel", "liquidationLevel"):
        if value == float(document[key]):
            return str(document[key])
    return f"{value:.4f}"


def _tick_positions(count: int) -> list[int]:
    """At most five evenly spread hour indexes, first and last included."""
    if count <= 1:
        return [0]
    steps = min(4, count - 1)
    return sorted({round(index * (count - 1) / steps) for index in range(steps + 1)})


def _mark_events(plt: Any, events: dict[str, list[float]], values: list[float | None]) -> None:
    for kind, positions in events.items():
        marker = EVENT_MARKERS.get(kind, ("*", kind))[0]
        points = [(position, _nearest(values, position)) for position in positions]
        points = [(x, y) for x, y in points if y is not None]
        if points:
            plt.scatter([x for x, _ in points], [y for _, y in points], marker=marker, color=EVENT_COLORS.get(kind))


def wants_color() -> bool:
    """Colour only on a terminal, and never with NO_COLOR set (no-color.org)."""
    import sys

    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def check_matplotlib() -> None:
    """`--png` needs the charts extra: refuse before anything is read or written."""
    from marginctl.domain.errors import ExtraMissing

    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ExtraMissing(f"--png needs the charts extra: {CHARTS_EXTRA_HINT}") from None


def png_figure(document: dict[str, Any]) -> Any:
    """The matplotlib Figure (Agg, no window): NAV and price above, margin level with its lines below."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    series = document["series"]
    times = _times(document)
    valuation = document["valuationAsset"]
    figure = Figure(figsize=(11, 7), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    figure.suptitle(title(document))

    net = [float(point["totalNetAssetValue"]) for point in series]
    top.plot(times, net, color="tab:blue", label=f"net asset value ({valuation})")
    top.set_ylabel(f"net asset value ({valuation})")
    handles = list(top.get_legend_handles_labels()[0])
    pair = document["pairs"][0] if document["pairs"] else None
    if pair is not None:
        priced = [
            (moment, float(point["prices"][pair]))
            for moment, point in zip(times, series, strict=True)
            if point["prices"][pair] is not None
        ]
        if priced:
            right = top.twinx()
            # the price behind the net asset value: the left axes drawn over the right one, see-through
            right.set_zorder(top.get_zorder() - 1)
            top.patch.set_visible(False)
            (line,) = right.plot(
                [m for m, _ in priced], [p for _, p in priced], color="tab:gray", label=f"{pair} price"
            )
            right.set_ylabel(f"{pair} price")
            handles.append(line)

    with_debt = [
        (moment, float(point["marginLevel"]))
        for moment, point in zip(times, series, strict=True)
        if point["marginLevel"] is not None
    ]
    if with_debt:
        bottom.plot([m for m, _ in with_debt], [lv for _, lv in with_debt], color="tab:blue", label="margin level")
    bottom.axhline(
        float(document["marginCallLevel"]),
        color="tab:orange",
        linestyle="--",
        label=f"margin call {document['marginCallLevel']}",
    )
    bottom.axhline(
        float(document["liquidationLevel"]),
        color="tab:red",
        linestyle="--",
        label=f"liquidation {document['liquidationLevel']}",
    )
    bottom.set_ylabel("margin level")
    bottom.set_xlabel("time (UTC)")

    colors = {"fill": "tab:green", "margin_call": "tab:orange", "liquidation": "tab:red"}
    seen: set[str] = set()
    for event in document["events"]:
        moment = datetime.fromisoformat(event["time"].replace("Z", "+00:00"))
        kind = event["kind"]
        name = EVENT_MARKERS.get(kind, ("*", kind))[1]
        label = None if kind in seen else name
        seen.add(kind)
        for axes in (top, bottom):
            axes.axvline(
                moment,
                color=colors.get(kind, "black"),
                linewidth=0.8,
                alpha=0.7,
                label=label if axes is bottom else None,
            )
    top.legend(handles=handles, loc="best")
    bottom.legend(loc="best")
    return figure


def write_png(document: dict[str, Any], path: str) -> None:
    png_figure(document).savefig(path, format="png")


def summary_line(document: dict[str, Any]) -> str:
    """What the chart tells, in one line above it."""
    summary = document["summary"]
    valuation = document["valuationAsset"]
    wallet = document["wallet"]
    where = "cross" if wallet == "cross" else f"{wallet} isolated"
    if not summary["hours"]:
        return f"{document['account']} {where}: no hour ends to report from {document['since']} to {document['until']}."
    lowest = (
        f"lowest margin level {summary['minMarginLevel']} at {summary['minMarginLevelTime']}"
        if summary["minMarginLevel"] is not None
        else "no debt"
    )
    return (
        f"{document['account']} {where} ({document['mode']}), {document['since']} to {document['until']}, "
        f"{summary['hours']} hours: net asset value {summary['startNetAssetValue']} → {summary['endNetAssetValue']} "
        f"{valuation}; {lowest}; {summary['fills']} fill(s), {summary['marginCalls']} margin call(s), "
        f"{summary['liquidations']} liquidation(s)."
    )


#: `--csv -` writes the CSV on stdout.
STDOUT = "-"


def check_output(path: str | None, option: str, other: str | None = None) -> None:
    """A file `report` may write: refused before the wallet is read (so nothing is written on a refusal).
    `--csv -` is stdout; `other` is the other option's file, which must not be the same one."""
    from pathlib import Path

    from marginctl.domain.errors import InvalidInput

    if path is None or (path == STDOUT and option == "--csv"):
        return
    if path == STDOUT:
        raise InvalidInput(f"{option} needs a file name (a PNG is not written to stdout)")
    if other is not None and other != STDOUT and os.path.abspath(other) == os.path.abspath(path):
        raise InvalidInput(f"--png and --csv name the same file {path!r}")
    shown = path if len(path) <= 80 else path[:80] + "…"
    if not path.strip() or "\x00" in path:
        raise InvalidInput(f"{option} needs a file name")
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        raise InvalidInput(f"{option} {shown!r} is a folder, not a file")
    if not folder.is_dir():
        raise InvalidInput(f"{option} {shown!r}: no such folder {str(folder)!r}")
    if not os.access(folder, os.W_OK | os.X_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise InvalidInput(f"{option} {shown!r}: cannot write there (permission denied)")


def csv_text(columns: list[str], rows: list[dict[str, Any]]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_outputs(document: dict[str, Any], png: str | None, csv_file: str | None, csv_content: str) -> None:
    """Write the PNG and the CSV each to a temporary file beside it, then put both in place: a failure leaves
    neither file half-written (nor an earlier one replaced)."""
    import tempfile

    from marginctl.domain.errors import InvalidInput

    pending: list[tuple[str, str]] = []
    try:
        for path, option in ((png, "--png"), (csv_file, "--csv")):
            if path is None or path == STDOUT:
                continue
            folder = os.path.dirname(os.path.abspath(path))
            handle, temporary = tempfile.mkstemp(prefix=".marginctl-report-", dir=folder)
            os.close(handle)
            pending.append((temporary, path))
            os.chmod(temporary, 0o666 & ~_umask())  # as a plain open() would make it, not mkstemp's 0600
            try:
                if option == "--png":
                    write_png(document, temporary)
                else:
                    with open(temporary, "w", encoding="utf-8", newline="") as stream:
                        stream.write(csv_content)
            except OSError as error:
                raise InvalidInput(f"cannot write {option} {path!r}: {error.strerror or error}") from None
        for temporary, path in pending:
            os.replace(temporary, path)
        pending = []
    except OSError as error:
        raise InvalidInput(f"cannot write the report: {error.strerror or error}") from None
    finally:
        for temporary, _ in pending:
            with suppress(OSError):
                os.remove(temporary)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
