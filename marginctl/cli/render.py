"""Rich views for people. Imported only by the commands that draw a table.

Every table goes through `show_records`: a table when each cell fits whole on one line at the screen's
width, else one block of `Header: value` lines per row, so no number, id or time is ever split or cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from marginctl.cli.output import screen_width
from marginctl.domain.margin import NO_DEBT_MARGIN_LEVEL
from marginctl.domain.orders import SIDE_EFFECTS

#: Binance's sideEffectType as the CLI's --side-effect names it.
EFFECT_NAMES = {name: cli for cli, name in SIDE_EFFECTS.items()}

STATUS_STYLES = {
    "EXCESSIVE": "green",
    "NORMAL": "green",
    "MARGIN_CALL": "yellow",
    "PRE_LIQUIDATION": "bold red",
    "FORCE_LIQUIDATION": "bold red",
}

#: A cell with nothing to show; a column that shows only this in every row is left out.
EMPTY = "-"


def _console() -> Console:
    """The screen's width (output.screen_width: a terminal's own, $COLUMNS, or 120 when piped)."""
    return Console(highlight=False, width=screen_width())


def short_time(iso: str | None) -> str:
    """Tables show times to the second, as one ISO 8601 word; JSON keeps the full instant."""
    return EMPTY if iso is None else iso[:19] + "Z"


@dataclass(frozen=True)
class Column:
    header: str
    numeric: bool = False
    #: Free text (a memo) that may wrap at spaces; every other cell stays whole on its lines.
    wraps: bool = False


#: Columns are separated by one space of padding and the box's blank divider.
_TABLE_OPTIONS: dict[str, Any] = {"box": box.SIMPLE_HEAVY, "show_edge": False, "pad_edge": False}
_COLUMN_GAP = 2


def _needed_width(column: Column, cells: Sequence[str]) -> int:
    """The narrowest the column may be: its longest line, or for free text its longest word."""
    texts = [column.header, *cells]
    if column.wraps:
        return max((cell_len(word) for text in texts for word in text.split()), default=1)
    return max(cell_len(line) for text in texts for line in text.split("\n"))


def show_records(
    console: Console, columns: Sequence[Column], rows: Sequence[Sequence[str]], title: str | None = None
) -> None:
    """Rows as a table if it fits the console whole, else one `Header: value` block per row.

    Columns holding nothing but EMPTY are left out, so what is shown keeps its room.
    """
    kept = [index for index in range(len(columns)) if any(row[index] != EMPTY for row in rows)]
    columns = [columns[index] for index in kept]
    rows = [[row[index] for index in kept] for row in rows]
    if title is not None:
        console.print(Text(title))
    needed = sum(_needed_width(column, [row[index] for row in rows]) for index, column in enumerate(columns))
    if needed + _COLUMN_GAP * (len(columns) - 1) <= console.width:
        table = Table(**_TABLE_OPTIONS, collapse_padding=True)
        for column in columns:
            table.add_column(column.header, justify="right" if column.numeric else "left", no_wrap=not column.wraps)
        for row in rows:
            table.add_row(*[Text(cell) for cell in row])
        console.print(table)
        return
    for number, row in enumerate(rows):
        if number:
            console.print()
        block = Table.grid(padding=(0, 1))
        block.add_column(no_wrap=True)
        block.add_column()
        for column, cell in zip(columns, row, strict=True):
            block.add_row(Text(f"{column.header}:"), Text(cell))
        console.print(block)


def status_view(result: Any) -> None:
    documents = result if isinstance(result, list) else [result]
    console = _console()
    if not documents:
        console.print("No wallet holds anything yet. Start with: marginctl deposit USDT 1000")
    for document in documents:
        _wallet_view(console, document)


def _wallet_view(console: Console, document: dict[str, Any]) -> None:
    valuation = document["valuationAsset"]
    title = f"{document['account']} · {document['wallet']} ({document['mode']})"
    is_margin = "marginLevel" in document
    fields = [("Free", "free"), ("Locked", "locked"), ("Borrowed", "borrowed"), ("Interest", "interest")]
    fields += [("Net asset", "netAsset")]
    if is_margin:
        fields += [("Max borrowable", "maxBorrowable"), ("Liq. price", "liquidationPrice")]
    shown_rows = [
        row
        for row in document["userAssets"]
        if row["asset"] == valuation
        or any(Decimal(row[key]) != 0 for key in ("free", "locked", "borrowed", "interest"))
    ]
    # Columns that are zero for every asset are left out, so amounts keep all their places on 80 columns.
    shown_fields = [
        (label, key)
        for label, key in fields
        if key in ("free", "netAsset", "maxBorrowable")
        or any(row[key] and Decimal(row[key]) != 0 for row in shown_rows)
    ]
    columns = [Column("Asset"), *[Column(label, numeric=True) for label, _ in shown_fields]]
    rows = [[row["asset"], *[row[key] or EMPTY for _, key in shown_fields]] for row in shown_rows]
    show_records(console, columns, rows, title)
    console.print()
    lines = [
        f"Total asset value {document['totalAssetValue']} {valuation}"
        f" · liability {document['totalLiabilityValue']} {valuation}"
        f" · net {document['totalNetAssetValue']} {valuation}"
    ]
    if "totalNetAssetOfBtc" in document:
        lines.append(f"Net asset {document['totalNetAssetOfBtc']} BTC")
    if is_margin:
        status = document["marginLevelStatus"]
        level = document["marginLevel"]
        if level == NO_DEBT_MARGIN_LEVEL and Decimal(document["totalLiabilityValue"]) == 0:
            level = f"{level} (no debt)"
        style = STATUS_STYLES[status]
        lines.append(
            f"Margin level [{style}]{level} {status}[/] · margin call at {document['marginCallLevel']},"
            f" liquidation at {document['liquidationLevel']}"
        )
        if document["collateralMarginLevel"] and document["collateralMarginLevel"] != document["marginLevel"]:
            lines.append(f"Collateral margin level {document['collateralMarginLevel']}")
        accepted = document["agreementAcceptedAt"]
        lines.append(f"Risk agreement accepted {accepted}" if accepted else "Risk agreement not accepted yet")
        if document.get("coolingOffUntil"):
            lines.append(f"[yellow]Cooling-off until {document['coolingOffUntil']}[/]")
    if document["unpricedAssets"]:
        lines.append(f"[yellow]No price for {', '.join(document['unpricedAssets'])}: not valued, no borrowing[/]")
    for line in lines:
        _print_summary_line(console, line)
    if is_margin and document.get("pnl"):
        _status_pnl_lines(console, document["pnl"], valuation)
    if is_margin and document.get("lastLiquidation"):
        _print_packed(console, _last_liquidation_parts(document["lastLiquidation"]))
    if is_margin and document["marginLevelStatus"] in WARNINGS:
        _print_warning(console, document)
    console.print()


def _pnl_parts(figures: dict[str, Any], valuation: str) -> list[str]:
    """Net PnL first, then what it is made of, each part whole (packed to the screen's width)."""
    return [
        f"PnL net {figures['netPnl']} {valuation}",
        f"realized {figures['realizedPnl']}",
        f"unrealized {figures['unrealizedPnl']}",
        f"fees {figures['fees']}",
        f"interest {figures['interest']}",
    ] + [
        f"{label} {figures[key]}"
        for label, key in (("liquidation fees", "liquidationFees"), ("insurance paid", "insurancePayouts"))
        if Decimal(figures.get(key, "0"))
    ]


def _status_pnl_lines(console: Console, pnl: dict[str, Any], valuation: str) -> None:
    """status: one packed PnL line, and a line per open position ("LONG BTC 0.05000000 @ 60000.00000000")."""
    if not pnl["positions"] and all(Decimal(value) == 0 for key, value in pnl.items() if key != "positions"):
        return
    _print_packed(console, _pnl_parts(pnl, valuation))
    for position in pnl["positions"]:
        side = "SHORT" if position["quantity"].startswith("-") else "LONG"
        _print_packed(
            console,
            [
                f"{side} {position['asset']} {position['quantity']} @ {position['averageEntryPrice']}",
                f"unrealized {position['unrealizedPnl']}",
            ],
        )


def pnl_view(result: Any) -> None:
    documents = result if isinstance(result, list) else [result]
    console = _console()
    if not documents:
        console.print("No trades in any wallet yet. Trades show here once filled: marginctl trade buy BTC/USDT 0.01")
    for document in documents:
        _pnl_wallet_view(console, document)


def _pnl_wallet_view(console: Console, document: dict[str, Any]) -> None:
    valuation = document["valuationAsset"]
    title = f"{document['account']} · {document['wallet']} PnL ({valuation}, average cost)"
    if not document["positions"]:
        console.print(
            f"No trades in {document['wallet']} yet. PnL shows here once an order fills: "
            "marginctl trade buy BTC/USDT 0.01"
        )
        return
    columns = [
        Column("Asset"),
        Column("Side"),
        Column("Quantity", numeric=True),
        Column("Avg entry", numeric=True),
        Column("Last", numeric=True),
        Column("Realized", numeric=True),
        Column("Unrealized", numeric=True),
        Column("Fees", numeric=True),
        Column("Interest", numeric=True),
        Column("Net", numeric=True),
    ]
    rows = [
        [
            position["asset"],
            position["side"],
            position["quantity"],
            position["averageEntryPrice"] or EMPTY,
            position["lastPrice"] or EMPTY,
            position["realizedPnl"],
            position["unrealizedPnl"],
            position["fees"],
            position["interest"],
            position["netPnl"],
        ]
        for position in document["positions"]
    ]
    show_records(console, columns, rows, title)
    console.print()
    _print_packed(console, _pnl_parts(document, valuation))
    if document["since"]:
        console.print(Text(f"Realized PnL, fees and interest since {document['since']}"))
    if document["unpricedAssets"]:
        console.print(f"[yellow]No price for {', '.join(document['unpricedAssets'])}: not valued[/]")
    console.print()


def _last_liquidation_parts(liquidation: dict[str, Any]) -> list[str]:
    """When, at what level, what was sold and bought back, the fee, the insurance payout, what was left."""
    asset = liquidation["asset"]
    parts = [f"Last liquidation {liquidation['time']}", f"margin level {liquidation['marginLevel']}"]
    parts += [f"sold {quantity} {sold}" for sold, quantity in liquidation["sold"].items()]
    parts += [f"bought back {quantity} {bought}" for bought, quantity in liquidation["boughtBack"].items()]
    parts += [
        f"fee {liquidation['liquidationFee']} {asset}",
        f"insurance payout {liquidation['insurancePayout']} {asset}",
        f"left {liquidation['leftOver']} {asset}",
        f"tranId {liquidation['tranId']}",
    ]
    return parts


def _print_packed(console: Console, parts: list[str]) -> None:
    """Parts joined by " · ", as many to a line as the screen holds; a part is never broken."""
    line = parts[0]
    for part in parts[1:]:
        if cell_len(f"{line} · {part}") <= console.width:
            line = f"{line} · {part}"
        else:
            console.print(Text(line))
            line = f"  {part}"
    console.print(Text(line))


def _print_summary_line(console: Console, line: str) -> None:
    """A line of Rich markup; one too long for the screen breaks at its " · " first, so a label stays
    beside its figure ("liability 500.00500000 USDT" on one line)."""
    parts = line.split(" · ")
    if Text.from_markup(line).cell_len <= console.width or len(parts) == 1:
        console.print(line)
        return
    for index, part in enumerate(parts):
        console.print(part if index == 0 else f"  {part}")


#: The warning panel's title and first sentence, by marginLevelStatus.
WARNINGS = {
    "MARGIN_CALL": (
        "Margin call: liquidation at {liquidationLevel}",
        "Margin level {marginLevel} is at or below the margin-call level {marginCallLevel};"
        " at {liquidationLevel} the wallet is liquidated at market price.",
    ),
    "PRE_LIQUIDATION": (
        "Pre-liquidation: liquidation at {liquidationLevel}",
        "Margin level {marginLevel} is close to the liquidation level {liquidationLevel};"
        " at {liquidationLevel} the wallet is liquidated at market price.",
    ),
    "FORCE_LIQUIDATION": (
        "Liquidation: margin level at or below {liquidationLevel}",
        "Margin level {marginLevel} is at or below the liquidation level {liquidationLevel}: the next price"
        " update, trade or accrue liquidates the wallet at market price.",
    ),
}


def _print_warning(console: Console, document: dict[str, Any]) -> None:
    """The warning in a panel when each suggested command fits inside it on one line; else without a border.

    A suggested command is never broken by a newline of ours (soft wrap: a narrow terminal folds it, and a
    copy of it is still one command).
    """
    status = document["marginLevelStatus"]
    title, first = WARNINGS[status]
    title = title.format(**document)
    lines = [first.format(**document)]
    for row in document["userAssets"]:
        change = row.get("liquidationPriceChangePercent")
        if change is None:
            continue
        direction = "fall" if change.startswith("-") else "rise"
        lines.append(
            f"{row['asset']} may {direction} {change.lstrip('-')}% (to {row['liquidationPrice']}) before liquidation."
        )
    commands = [f"  {action}" for action in document.get("riskActions", [])]
    if commands:
        lines.append("To lower the risk, any of:")
    else:
        lines.append("Nothing in this wallet can lower the risk now; the cooling-off blocks transfers in.")
    style = STATUS_STYLES[status]
    panel_border = 4  # "│ " and " │"
    if max((len(command) for command in commands), default=0) + panel_border <= console.width:
        console.print(Panel(Text("\n".join(lines + commands)), title=title, border_style=style, expand=False))
        return
    console.print(Text(title, style=style))
    for line in lines:
        console.print(Text(line))
    for command in commands:
        console.print(Text(command), soft_wrap=True)


def prices_table(result: list[dict[str, Any]]) -> None:
    columns = [Column("Pair"), Column("Price", numeric=True), Column("Time"), Column("Source")]
    rows = [[row["pair"], row["price"], short_time(row["time"]), row["source"]] for row in result]
    show_records(_console(), columns, rows)


def history_table(result: list[dict[str, Any]]) -> None:
    if not result:
        _console().print("No entries.")
        return
    columns = [Column("tranId"), Column("Time"), Column("Kind"), Column("Changes"), Column("Memo", wraps=True)]
    rows = [
        [
            str(entry["tranId"]),
            short_time(entry["time"]),
            entry["kind"],
            "\n".join(
                f"{change['wallet']} {change['asset']} {change['field']} "
                f"{'+' if not change['amount'].startswith('-') else ''}{change['amount']}"
                for change in entry["changes"]
            )
            or EMPTY,
            entry["memo"] or EMPTY,
        ]
        for entry in result
    ]
    show_records(_console(), columns, rows)


def audit_view(result: dict[str, Any]) -> None:
    console = _console()
    for check in result["checks"]:
        mark = "[green]ok[/]" if check["ok"] else f"[red]{check['violations']} violation(s)[/]"
        console.print(f"{check['name']:<32} {mark}")
    for violation in result["violations"]:
        console.print(f"[red]{violation['check']}[/]: {violation['where']}: {violation['detail']}")
    summary = f"{result['entries']} entries, {result['postings']} postings: "
    console.print(summary + ("[green]the ledger is consistent[/]" if result["ok"] else "[red]violations found[/]"))


def accounts_table(result: list[dict[str, Any]]) -> None:
    columns = [Column("Account"), Column("Created"), Column("Agreement accepted"), Column("Cooling off until")]
    rows = [
        [
            row["name"],
            short_time(row["createdAt"]),
            short_time(row["agreementAcceptedAt"]),
            short_time(row["coolingOffUntil"]),
        ]
        for row in result
    ]
    show_records(_console(), columns, rows)


def interest_table(result: dict[str, Any]) -> None:
    if not result["rows"]:
        _console().print("No interest charged.")
        return
    columns = [
        Column("Time"),
        Column("Asset"),
        Column("Wallet"),
        Column("Principal", numeric=True),
        Column("Interest", numeric=True),
        Column("Daily rate", numeric=True),
        Column("Type"),
    ]
    rows = [
        [
            short_time(row["interestAccuredTime"]),
            row["asset"],
            row["wallet"],
            row["principal"],
            row["interest"],
            row["interestRate"],
            row["type"],
        ]
        for row in result["rows"]
    ]
    show_records(_console(), columns, rows)


def order_line(order: dict[str, Any]) -> None:
    console = _console()
    what = f"{order['side']} {order['origQty']} {order['pair']} {order['type']}"
    if order["price"]:
        what += f" @ {order['price']}"
    if order["stopPrice"]:
        what += f" stop {order['stopPrice']}"
    if order.get("marginBuyBorrowAmount"):
        console.print(f"Borrowed {order['marginBuyBorrowAmount']} {order['marginBuyBorrowAsset']} for the order.")
    for fill in order.get("fills", []):
        console.print(
            f"Filled {fill['qty']} at {fill['price']}, fee {fill['commission']} {fill['commissionAsset']} "
            f"(trade {fill['tradeId']})."
        )
    for record in order.get("repaid", []):
        console.print(Text(repaid_line(record)))
    console.print(f"Order {order['orderId']}: {what} — {order['status']}")


def repaid_line(record: dict[str, str]) -> str:
    """An automatic repayment (auto-repay, autoRepayAtCancel), as Binance's repay record reads."""
    return (
        f"Repaid {record['amount']} {record['asset']} (interest {record['interest']}, principal {record['principal']})."
    )


def order_list_lines(order_list: dict[str, Any]) -> None:
    """An OCO as placed: its two legs, then the list (Binance's orderListId and status)."""
    console = _console()
    if order_list.get("marginBuyBorrowAmount"):
        console.print(
            f"Borrowed {order_list['marginBuyBorrowAmount']} {order_list['marginBuyBorrowAsset']} for the order list."
        )
    for leg in order_list["orderReports"]:
        what = f"{leg['side']} {leg['origQty']} {leg['pair']} {leg['type']} @ {leg['price']}"
        if leg["stopPrice"]:
            what += f" stop {leg['stopPrice']}"
        console.print(f"Order {leg['orderId']}: {what} — {leg['status']}")
    console.print(
        f"OCO list {order_list['orderListId']}: {order_list['listStatusType']}; a fill or the stop's trigger "
        "expires the other."
    )


def orders_table(result: list[dict[str, Any]]) -> None:
    if not result:
        _console().print("No orders.")
        return
    headers = (
        "orderId",
        "List",
        "Time",
        "Wallet",
        "Side",
        "Type",
        "Price",
        "Stop",
        "Qty",
        "Executed",
        "Status",
        "Effect",
    )
    columns = [Column(header, numeric=header in ("Price", "Stop", "Qty", "Executed")) for header in headers]
    rows = [
        [
            str(order["orderId"]),
            EMPTY if order.get("orderListId", -1) == -1 else str(order["orderListId"]),
            short_time(order["transactTime"]),
            order["wallet"],
            order["side"],
            order["type"],
            order["price"] or EMPTY,
            order["stopPrice"] or EMPTY,
            order["origQty"],
            order["executedQty"],
            order["status"],
            EFFECT_NAMES.get(order["sideEffectType"], order["sideEffectType"]),
        ]
        for order in result
    ]
    show_records(_console(), columns, rows)


def close_report(result: dict[str, Any]) -> None:
    """What `close` did, one line per step, then what is left (lines wrap at spaces, never inside a number)."""
    console = _console()
    wallet = result["wallet"]
    if result["nothingToClose"]:
        console.print(Text(f"Nothing to close in {wallet}: no debt and no open orders."))
        return
    lines = [f"Cancelled order {order_id}." for order_id in result["cancelledOrders"]]
    for trade in result["trades"]:
        for fill in trade["fills"]:
            verb = "Bought" if trade["side"] == "BUY" else "Sold"
            base, quote = trade["pair"].split("/")
            lines.append(
                f"{verb} {fill['qty']} {base} at {fill['price']} {quote} (fee {fill['commission']} "
                f"{fill['commissionAsset']}), order {trade['orderId']}."
            )
    for record in result["repaid"]:
        lines.append(
            f"Repaid {record['amount']} {record['asset']} (interest {record['interest']}, "
            f"principal {record['principal']})."
        )
    for debt in result["debtLeft"]:
        lines.append(
            f"Still owed: {debt['asset']} borrowed {debt['borrowed']}, interest {debt['interest']} ({debt['reason']})."
        )
    held = [f"{row['asset']} {row['free']}" for row in result["balances"] if Decimal(row["free"]) != 0]
    lines.append(f"Left in {wallet}: {', '.join(held) if held else 'nothing'}.")
    level = result["marginLevel"]
    shown = f"{level} (no debt)" if not result["debtLeft"] and level == NO_DEBT_MARGIN_LEVEL else level
    lines.append(f"Margin level {shown} {result['marginLevelStatus']}.")
    for line in lines:
        console.print(Text(line))


def rule_change_lines(changes: list[dict[str, Any]]) -> list[str]:
    """One line per changed setting: `key: old → new` (`none` where the setting does not exist)."""
    return [f"  {change['key']}: {change['old'] or 'none'} → {change['new'] or 'none'}" for change in changes]


def rates_table(rows: list[dict[str, Any]]) -> None:
    console = _console()
    if not rows:
        console.print("No interest rates.")
        return
    columns = [Column("Since"), Column("Asset"), Column("Daily rate", numeric=True)]
    show_records(
        console, columns, [[short_time(row["timestamp"]), row["asset"], row["dailyInterestRate"]] for row in rows]
    )
