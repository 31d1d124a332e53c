"""`watch`: a full-screen live view of one wallet (or every wallet), read afresh every half second.

The loop: read a snapshot (services/watch.py, a fresh read transaction each time, none held between ticks),
lay it out for the terminal's size, draw it on the alternate screen (Rich Live), then wait for a key, a
resize or the next tick with `select`. Keys arrive one at a time (cbreak mode); `q` leaves, and so does
Ctrl-C; the terminal is restored either way. `--once` prints one frame and needs no terminal.

Layout: a frame is a list of lines, each at most the screen's width, never wrapped, so a number is never
split; a table leaves out its least needed columns until it fits, and a list that does not fit its share of
the height ends with "… N more". Imported only by the command (Rich with it).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.cells import cell_len
from rich.console import Console, Group
from rich.text import Text

from marginctl.cli import output
from marginctl.cli.commands import refuse_isolated_with_all
from marginctl.cli.render import EFFECT_NAMES, STATUS_STYLES
from marginctl.cli.runner import Exit, GlobalOptions, run
from marginctl.domain.errors import MarginctlError
from marginctl.domain.margin import IN_DANGER, NO_DEBT_MARGIN_LEVEL

#: "At least once a second" (issue 16): the wallet is read every half second.
REFRESH_SECONDS = 0.5
#: The height of a frame printed by --once with no terminal and no $LINES: the smallest screen it fits.
PIPE_HEIGHT = 24
#: Between a table's columns.
GAP = 2
EMPTY = "-"
PART_SEPARATOR = " · "
QUIT_KEYS = b"qQ"


def watch(options: GlobalOptions, isolated: str | None, all_wallets: bool, once: bool) -> None:
    from marginctl.services import watch as watch_service

    refuse_isolated_with_all(isolated, all_wallets, False)
    if once:
        run(
            options,
            False,
            lambda context: watch_service.snapshot(context, isolated, all_wallets),
            print_frame,
            write=False,
        )
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        output.report_error(
            "no_terminal",
            "watch needs a terminal to draw on and read keys from; for one frame run: marginctl watch --once "
            "(scripts: marginctl status --json)",
            False,
        )
        raise Exit(output.EXIT_USAGE)

    def action(context: Any) -> None:
        first = watch_service.snapshot(context, isolated, all_wallets)  # a bad pair or no wallet: said here
        live(first, lambda: watch_service.snapshot(watch_service.refreshed(context), isolated, all_wallets))

    run(options, False, action, lambda result: None, write=False)


# ---- the live loop --------------------------------------------------------------------------------------


def live(first: dict[str, Any], read: Any) -> None:
    """Draw, then wait for a key, a resize or the next tick; `q` or Ctrl-C returns (the terminal restored).

    A read that fails (the wallet busy, its rules changed meanwhile) keeps the last frame and says why on its
    bottom line; the next tick tries again.
    """
    import select
    import signal
    import termios
    import time
    import tty

    from rich.live import Live

    keys = sys.stdin.fileno()
    screen = sys.stdout.fileno()
    saved = termios.tcgetattr(keys)
    resized, poke = os.pipe()
    os.set_blocking(poke, False)

    def on_resize(_signal: int, _frame: Any) -> None:
        with contextlib.suppress(OSError):  # a full pipe: a resize already waits in it
            os.write(poke, b"r")

    def on_stop(_signal: int, _frame: Any) -> None:
        raise KeyboardInterrupt  # SIGTERM, SIGHUP: leave as Ctrl-C does, through the `finally` that restores

    previous_handler = signal.signal(signal.SIGWINCH, on_resize)
    previous_stops = {number: signal.signal(number, on_stop) for number in (signal.SIGTERM, signal.SIGHUP)}
    console = Console(highlight=False)
    latest, problem = first, None
    try:
        tty.setcbreak(keys)  # one key at a time, not echoed; Ctrl-C still interrupts
        with Live(console=console, screen=True, auto_refresh=False, redirect_stderr=False) as view:
            next_read = time.monotonic() + REFRESH_SECONDS
            redraw = True
            while True:
                if redraw:
                    width, height = os.get_terminal_size(screen)
                    console.size = (width, height)
                    footer = _footer(problem)
                    view.update(Group(*frame_lines(latest, width, height, footer)), refresh=True)
                    redraw = False
                ready, _, _ = select.select([keys, resized], [], [], max(0.0, next_read - time.monotonic()))
                if keys in ready:
                    typed = os.read(keys, 64)
                    if not typed or any(key in typed for key in QUIT_KEYS):
                        return
                if resized in ready:
                    os.read(resized, 64)
                    redraw = True  # the same snapshot, laid out again for the new size
                if time.monotonic() >= next_read:
                    next_read = time.monotonic() + REFRESH_SECONDS
                    try:
                        latest, problem = read(), None
                    except MarginctlError as error:
                        problem = error.message
                    redraw = True
    except KeyboardInterrupt:
        return
    finally:
        termios.tcsetattr(keys, termios.TCSADRAIN, saved)
        signal.signal(signal.SIGWINCH, previous_handler)
        for number, handler in previous_stops.items():
            signal.signal(number, handler)
        os.close(resized)
        os.close(poke)


def _footer(problem: str | None) -> Text:
    if problem is not None:
        return Text(f"error: {output.one_line(problem)} (retrying)", style="bold red")
    return Text("q or Ctrl-C quits · refreshed every half second", style="dim")


# ---- --once ---------------------------------------------------------------------------------------------


def print_frame(snapshot: dict[str, Any]) -> None:
    """One frame at the screen's width and height, without the trailing blank lines."""
    width = output.screen_width()
    lines = frame_lines(snapshot, width, output.screen_height(PIPE_HEIGHT), None)
    while lines and not lines[-1].plain.strip():
        lines.pop()
    console = Console(highlight=False, width=width)
    for line in lines:
        console.print(line, no_wrap=True, overflow="crop")


# ---- the frame ------------------------------------------------------------------------------------------


@dataclass
class Section:
    """A list under a header row: balances, positions, orders or events."""

    header: Text
    rows: list[Text]
    #: Shown alone when there are no rows.
    empty: Text
    #: Rows that exist but were not read (older events).
    unread: int = 0

    @property
    def full(self) -> int:
        """Lines to show every row: the header, the rows, and a "… N more" line for the unread ones."""
        if not self.rows:
            return 1
        return 1 + len(self.rows) + (1 if self.unread else 0)

    @property
    def least(self) -> int:
        """The header, one row and, if there are more, the line that counts them."""
        return min(self.full, 3)

    def lines(self, allotted: int) -> list[Text]:
        if not self.rows:
            return [self.empty]
        if allotted >= self.full:
            more = [_more(self.unread)] if self.unread else []
            return [self.header, *self.rows, *more]
        fitting = max(allotted - 2, 0)
        return [self.header, *self.rows[:fitting], _more(len(self.rows) - fitting + self.unread)]


def _more(count: int) -> Text:
    return Text(f"… {count} more", style="dim")


def frame_lines(snapshot: dict[str, Any], width: int, height: int, footer: Text | None) -> list[Text]:
    """Exactly `height` lines (blank ones at the bottom), each at most `width` cells wide.

    The title, each wallet's margin level and the prices always show, then each list's header and first row;
    the rest of the height goes, in this order, to the distances to the margin-call and liquidation prices,
    the commands that raise a level in danger, the balances, the totals, the positions, PnL, the open orders
    and the latest events.
    """
    several = len(snapshot["wallets"]) > 1
    essential = [_title(snapshot, width)]
    distances: list[Text] = []
    advice: list[Text] = []
    totals: list[Text] = []
    pnl: list[Text] = []
    if not snapshot["wallets"]:
        essential.append(Text("No wallet holds anything yet. Start with: marginctl deposit USDT 1000"))
    for wallet in snapshot["wallets"]:
        essential += _packed(_level_parts(wallet, snapshot["valuationAsset"]), width)
        if "marginLevel" not in wallet:
            continue  # spot: its level line says what it holds
        distances += _distance_lines(wallet, width, several)
        if wallet.get("riskActions"):
            # in danger: what raises the level now, as `status` advises (the first command first)
            first, *others = wallet["riskActions"]
            label = f"{wallet['wallet']}: raise it:" if several else "raise it:"
            advice += _packed([Text(label, style="bold").append(f" {first}", style=""), *others], width)
        totals += _packed(_totals_parts(wallet, snapshot["valuationAsset"], several), width)
        pnl += _packed(_pnl_parts(wallet, several), width) if wallet.get("pnl") else []
    essential += _packed(_price_parts(snapshot), width) if snapshot["prices"] else []
    balances, positions, orders, events = sections = [
        _balances(snapshot, width, several),
        _positions(snapshot, width, several),
        _orders(snapshot, width, several),
        _events(snapshot, width, several),
    ]
    claims: list[Section | list[Text]] = [distances, advice, balances, totals, positions, pnl, orders, events]
    bottom = [footer] if footer is not None else []
    allotted, summaries, budget = _allot(sections, claims, height - len(essential) - len(bottom))
    if not all(allotted.values()):
        bottom = [Text("… the screen is too small for every list", style="dim")]
        allotted, summaries, budget = _allot(sections, claims, height - len(essential) - 1)
    top = essential + [line for block in (distances, advice, totals, pnl) for line in summaries.get(id(block), [])]
    body: list[Text] = []
    for number, section in enumerate(section for section in sections if allotted[id(section)]):
        if number and budget > 0:
            body.append(Text(""))  # room to spare: a blank line between the lists
            budget -= 1
        body += section.lines(allotted[id(section)])
    frame = [_fit(line, width) for line in [*top, *body]][: max(height - len(bottom), 0)]
    frame += [Text("")] * (height - len(frame) - len(bottom))
    return frame + [_fit(line, width) for line in bottom][: max(height - len(frame), 0)]


def _allot(
    sections: list[Section], claims: list[Section | list[Text]], budget: int
) -> tuple[dict[int, int], dict[int, list[Text]], int]:
    """Lines for each list (by id; 0: not shown), the summary blocks that fit, and the lines left over:
    each list its least first, then each claim in order, a list as many rows as fit, a block whole or not."""
    allotted = {id(section): 0 for section in sections}
    for section in sections:
        if section.least <= budget:
            allotted[id(section)] = section.least
            budget -= section.least
    summaries: dict[int, list[Text]] = {}
    for claim in claims:
        if isinstance(claim, Section):
            if allotted[id(claim)]:
                extra = min(budget, claim.full - allotted[id(claim)])
                allotted[id(claim)] += extra
                budget -= extra
        elif len(claim) <= budget:
            summaries[id(claim)] = claim
            budget -= len(claim)
    return allotted, summaries, budget


def _fit(line: Text, width: int) -> Text:
    """A line that is still too wide (a screen narrower than any layout) is cut at the screen's edge."""
    if line.cell_len > width:
        line = line.copy()
        line.truncate(width, overflow="ellipsis")
    return line


def _packed(parts: Sequence[Text | str], width: int) -> list[Text]:
    """Parts joined by " · ", as many to a line as the width holds; a part is never broken."""
    lines: list[Text] = []
    line: Text | None = None
    for part in parts:
        piece = part if isinstance(part, Text) else Text(part)
        if line is None:
            line = piece.copy()
        elif line.cell_len + len(PART_SEPARATOR) + piece.cell_len <= width:
            line.append(PART_SEPARATOR)
            line.append_text(piece)
        else:
            lines.append(line)
            line = Text("  ").append_text(piece)
    if line is not None:
        lines.append(line)
    return lines


def _short_time(iso: str | None) -> str:
    """Events and prices show their time as "01-05 10:07:00" (the date without its year)."""
    return EMPTY if iso is None else f"{iso[5:10]} {iso[11:19]}"


#: Past this many seconds between the wallet's last event and now, the title shows the wallet's clock.
WALLET_CLOCK_APART = 86_400


def _seconds_apart(first: str, second: str) -> float:
    from datetime import datetime

    def moment(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return (moment(first) - moment(second)).total_seconds()


def _title(snapshot: dict[str, Any], width: int) -> Text:
    wallet = snapshot["wallets"][0]["wallet"] if len(snapshot["wallets"]) == 1 else "every wallet"
    left = f"marginctl watch · {snapshot['account']} · {wallet}"
    clock = snapshot["time"][:19].replace("T", " ") + " UTC"
    wallet_time = snapshot.get("walletTime")
    if wallet_time is not None and abs(_seconds_apart(wallet_time, snapshot["time"])) > WALLET_CLOCK_APART:
        # a replayed wallet (or one kept on --now): its own clock is the one that matters
        clock = "wallet clock " + wallet_time[:19].replace("T", " ") + " UTC"
    title = Text(left, style="bold")
    room = width - cell_len(left) - cell_len(clock)
    if room >= 1:
        title.append(" " * room).append(clock)
    return title


def _level_parts(wallet: dict[str, Any], valuation: str) -> list[Text | str]:
    name = f"{wallet['wallet']} ({wallet['mode']})"
    if "marginLevel" not in wallet:
        return [Text(name, style="bold"), f"assets {wallet['totalAssetValue']} {valuation}"]
    status = wallet["marginLevelStatus"]
    level = wallet["marginLevel"]
    if level == NO_DEBT_MARGIN_LEVEL and Decimal(wallet["totalLiabilityValue"]) == 0:
        level = f"{level} (no debt)"
    return [
        Text(name, style="bold"),
        Text(f"margin level {level} {status}", style=STATUS_STYLES[status]),
        f"margin call ≤ {wallet['marginCallLevel']}",
        f"liquidation ≤ {wallet['liquidationLevel']}",
    ]


def _distance_lines(wallet: dict[str, Any], width: int, several: bool) -> list[Text]:
    """Per asset that moves the level: its price at the margin call, and at liquidation (and how far that is)."""
    style = STATUS_STYLES[wallet["marginLevelStatus"]] if wallet["marginLevelStatus"] in IN_DANGER else ""
    lines = []
    for row in wallet["userAssets"]:
        call = wallet["marginCallPrices"].get(row["asset"])
        liquidation = row.get("liquidationPrice")
        if call is None and liquidation is None:
            continue
        name = f"{wallet['wallet']} {row['asset']}" if several else row["asset"]
        parts: list[Text | str] = []
        if call is not None:
            parts.append(f"margin call at {call}")
        if liquidation is not None:
            change = row["liquidationPriceChangePercent"]
            change = change if change.startswith("-") else f"+{change}"
            parts.append(Text(f"liquidation at {liquidation} ({change}%)", style=style))
        parts[0] = Text.assemble((name, "bold"), " ", parts[0])
        lines += _packed(parts, width)
    return lines


def _totals_parts(wallet: dict[str, Any], valuation: str, several: bool) -> list[Text | str]:
    prefix = f"{wallet['wallet']}: " if several else ""
    return [
        f"{prefix}assets {wallet['totalAssetValue']}",
        f"liability {wallet['totalLiabilityValue']}",
        f"net {wallet['totalNetAssetValue']} {valuation}",
    ]


def _pnl_parts(wallet: dict[str, Any], several: bool) -> list[Text | str]:
    figures = wallet["pnl"]
    prefix = f"{wallet['wallet']}: " if several else ""
    return [
        f"{prefix}PnL net {figures['netPnl']}",
        f"realized {figures['realizedPnl']}",
        f"unrealized {figures['unrealizedPnl']}",
        f"fees {figures['fees']}",
        f"interest {figures['interest']}",
    ]


def _price_parts(snapshot: dict[str, Any]) -> list[Text | str]:
    parts: list[Text | str] = []
    for quote in snapshot["prices"]:
        when = "" if quote["time"] is None else f" {_short_time(quote['time'])}"
        parts.append(Text.assemble((f"{quote['pair']} {quote['price']}", "bold"), f" ({quote['source']}{when})"))
    return parts


@dataclass(frozen=True)
class Column:
    header: str
    #: 0: always shown; a higher number is left out sooner when the table is too wide.
    rank: int = 0
    numeric: bool = False


def _table(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int) -> tuple[Text, list[Text]]:
    """A header line and one line per row: columns holding only "-" left out, then the highest-ranked ones
    until the table fits the width; cells are never cut or wrapped."""
    kept = [index for index in range(len(columns)) if columns[index].rank == 0 or any(r[index] != EMPTY for r in rows)]

    def widths(indexes: list[int]) -> dict[int, int]:
        return {i: max([cell_len(columns[i].header), *(cell_len(row[i]) for row in rows)]) for i in indexes}

    while True:
        sizes = widths(kept)
        if sum(sizes.values()) + GAP * (len(kept) - 1) <= width:
            break
        droppable = [index for index in kept if columns[index].rank > 0]
        if not droppable:
            break
        kept.remove(max(droppable, key=lambda index: (columns[index].rank, index)))

    def line(cells: Sequence[str], style: str = "") -> Text:
        text = Text(style=style)
        for number, index in enumerate(kept):
            if number:
                text.append(" " * GAP)
            cell = cells[index]
            pad = " " * (sizes[index] - cell_len(cell))
            text.append(pad + cell if columns[index].numeric else cell + pad)
        text.rstrip()
        return text

    return line([column.header for column in columns], "bold"), [line(row) for row in rows]


def _balances(snapshot: dict[str, Any], width: int, several: bool) -> Section:
    valuation = snapshot["valuationAsset"]
    columns = [
        Column("Wallet", 0 if several else 9),
        Column("Asset"),
        Column("Free", numeric=True),
        Column("Locked", 3, True),
        Column("Borrowed", 1, True),
        Column("Interest", 2, True),
        Column("Net asset", numeric=True),
        Column("Liq. price", 4, True),
        Column("Max borrowable", 5, True),
    ]
    rows = []
    for wallet in snapshot["wallets"]:
        for row in wallet["userAssets"]:
            amounts = [row[key] for key in ("free", "locked", "borrowed", "interest")]
            if row["asset"] != valuation and all(Decimal(amount) == 0 for amount in amounts):
                continue
            rows.append(
                [
                    wallet["wallet"] if several else EMPTY,
                    row["asset"],
                    row["free"],
                    *[EMPTY if Decimal(amount) == 0 else amount for amount in amounts[1:]],
                    row["netAsset"],
                    row.get("liquidationPrice") or EMPTY,
                    row.get("maxBorrowable") or EMPTY,
                ]
            )
    header, lines = _table(columns, rows, width)
    return Section(header, lines, Text("No balances.", style="dim"))


def _positions(snapshot: dict[str, Any], width: int, several: bool) -> Section:
    columns = [
        Column("Wallet", 0 if several else 9),
        Column("Position"),
        Column("Quantity", numeric=True),
        Column("Avg entry", 1, True),
        Column("Unrealized PnL", numeric=True),
    ]
    rows = [
        [
            wallet["wallet"] if several else EMPTY,
            f"{'SHORT' if position['quantity'].startswith('-') else 'LONG'} {position['asset']}",
            position["quantity"],
            position["averageEntryPrice"],
            position["unrealizedPnl"],
        ]
        for wallet in snapshot["wallets"]
        for position in (wallet.get("pnl") or {}).get("positions", [])
    ]
    header, lines = _table(columns, rows, width)
    return Section(header, lines, Text("No open positions.", style="dim"))


def _orders(snapshot: dict[str, Any], width: int, several: bool) -> Section:
    columns = [
        Column("Order"),
        Column("Wallet", 0 if several else 9),
        Column("Pair", 2),
        Column("Side"),
        Column("Type", 1),
        Column("Price", numeric=True),
        Column("Stop", 3, True),
        Column("Qty", numeric=True),
        Column("Filled", 4, True),
        Column("Effect", 6),
        Column("Time", 5),
    ]
    rows = [
        [
            str(order["orderId"]),
            order["wallet"] if several else EMPTY,
            order["pair"],
            order["side"],
            order["type"],
            order["price"] or EMPTY,
            order["stopPrice"] or EMPTY,
            order["origQty"],
            order["executedQty"],
            EFFECT_NAMES.get(order["sideEffectType"], order["sideEffectType"]),
            _short_time(order["transactTime"]),
        ]
        for order in snapshot["openOrders"]
    ]
    header, lines = _table(columns, rows, width)
    return Section(header, lines, Text("No open orders.", style="dim"))


EVENT_STYLES = {"margin_call": "yellow", "liquidation": "bold red"}


def _event_parts(event: dict[str, Any]) -> list[tuple[str, str]]:
    """What happened, most telling first, each part with what joins it to the one before: a shown event keeps
    as many of its parts as the width holds, and a number is never cut (a narrow screen drops its part)."""
    kind = event["kind"]
    if kind == "fill":
        base = event["pair"].split("/")[0]
        return [
            ("", f"{event['side']} {event['qty']} {base}"),
            (" ", f"at {event['price']}"),
            (PART_SEPARATOR, f"fee {event['commission']} {event['commissionAsset']}"),
            (PART_SEPARATOR, f"order {event['orderId']}"),
        ]
    if kind == "interest":
        hours = f"{event['hours']} h × " if event["hours"] > 1 else ""
        return [
            ("", f"interest {hours}{event['interest']} {event['asset']}"),
            (PART_SEPARATOR, f"on {event['principal']}"),
            (PART_SEPARATOR, event["type"]),
        ]
    if kind == "margin_call":
        return [("", "MARGIN CALL"), (" ", f"at margin level {event['marginLevel']}")]
    asset = event.get("asset", "")
    return [
        ("", "LIQUIDATED"),
        (" ", f"at margin level {event['marginLevel']}"),
        (PART_SEPARATOR, f"fee {event.get('liquidationFee')} {asset}"),
        (PART_SEPARATOR, f"insurance paid {event.get('insurancePayout')}"),
        (PART_SEPARATOR, f"left {event.get('leftOver')} {asset}"),
    ]


def _events(snapshot: dict[str, Any], width: int, several: bool) -> Section:
    time_width = len("01-05 10:07:00")
    wallet_width = max((cell_len(event["wallet"]) for event in snapshot["events"]), default=0) if several else 0
    room = width - time_width - GAP - (wallet_width + GAP if several else 0)
    lines = []
    for event in snapshot["events"]:
        line = Text(_short_time(event["time"]) + " " * GAP)
        if several:
            line.append(event["wallet"].ljust(wallet_width + GAP))
        parts = _event_parts(event)
        what = parts[0][1]
        for joint, part in parts[1:]:
            if cell_len(what) + len(joint) + cell_len(part) > room:
                break
            what += joint + part
        line.append(what, style=EVENT_STYLES.get(event["kind"], ""))
        lines.append(line)
    header = Text("Time".ljust(time_width + GAP) + ("Wallet".ljust(wallet_width + GAP) if several else ""), "bold")
    header.append("Latest events", style="bold")
    return Section(header, lines, Text("No events yet.", style="dim"), unread=snapshot["moreEvents"])
