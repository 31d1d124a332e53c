"""Rich views for people. Imported only by the commands that draw a table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.table import Table

#: Binance's sideEffectType as the CLI's --side-effect names it.
EFFECT_NAMES = {"NO_SIDE_EFFECT": "normal", "MARGIN_BUY": "auto-borrow", "AUTO_REPAY": "auto-repay"}

STATUS_STYLES = {
    "EXCESSIVE": "green",
    "NORMAL": "green",
    "MARGIN_CALL": "yellow",
    "PRE_LIQUIDATION": "bold red",
    "FORCE_LIQUIDATION": "bold red",
}


def _console() -> Console:
    """A terminal's own width; 120 columns when piped, so amounts keep all their places."""
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=120)


def _short_time(iso: str | None) -> str:
    """Tables show times to the second; JSON keeps the full instant."""
    return "-" if iso is None else iso[:19].replace("T", " ")


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
    table = Table(title=title, box=box.SIMPLE_HEAVY, title_justify="left")
    table.add_column("Asset")
    for label, _ in shown_fields:
        table.add_column(label, justify="right", overflow="fold")
    for row in shown_rows:
        table.add_row(row["asset"], *[row[key] or "-" for _, key in shown_fields])
    console.print(table)
    lines = [
        f"Total asset value {document['totalAssetValue']} {valuation}"
        f" · liability {document['totalLiabilityValue']} {valuation}"
        f" · net {document['totalNetAssetValue']} {valuation}"
    ]
    if "totalNetAssetOfBtc" in document:
        lines.append(f"Net asset {document['totalNetAssetOfBtc']} BTC")
    if is_margin:
        status = document["marginLevelStatus"]
        level = document["marginLevel"] or "∞ (no debt)"
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
        console.print(line)
    if is_margin and document["marginLevelStatus"] in ("MARGIN_CALL", "PRE_LIQUIDATION", "FORCE_LIQUIDATION"):
        console.print(_warning_panel(document))
    console.print()


def _warning_panel(document: dict[str, Any]) -> Panel:
    style = STATUS_STYLES[document["marginLevelStatus"]]
    lines = [
        f"Margin level {document['marginLevel']} is at or below the margin-call level {document['marginCallLevel']};"
        f" at {document['liquidationLevel']} the wallet is liquidated at market price."
    ]
    for row in document["userAssets"]:
        change = row.get("liquidationPriceChangePercent")
        if change is None:
            continue
        direction = "fall" if change.startswith("-") else "rise"
        lines.append(
            f"{row['asset']} may {direction} {change.lstrip('-')}% (to {row['liquidationPrice']}) before liquidation."
        )
    lines.append("To lower the risk: repay debt (marginctl repay ASSET all) or transfer collateral in.")
    return Panel("\n".join(lines), title="Margin call", border_style=style)


def prices_table(result: list[dict[str, Any]]) -> None:
    table = Table(box=box.SIMPLE_HEAVY)
    for column in ("Pair", "Price", "Time", "Source"):
        table.add_column(column, justify="right" if column == "Price" else "left")
    for row in result:
        table.add_row(row["pair"], row["price"], _short_time(row["time"]), row["source"])
    _console().print(table)


def history_table(result: list[dict[str, Any]]) -> None:
    if not result:
        _console().print("No entries.")
        return
    table = Table(box=box.SIMPLE_HEAVY)
    for column in ("tranId", "Time", "Kind", "Changes", "Memo"):
        table.add_column(column)
    for entry in result:
        changes = "\n".join(
            f"{change['wallet']} {change['asset']} {change['field']} "
            f"{'+' if not change['amount'].startswith('-') else ''}{change['amount']}"
            for change in entry["changes"]
        )
        table.add_row(str(entry["tranId"]), _short_time(entry["time"]), entry["kind"], changes, entry["memo"] or "")
    _console().print(table)


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
    table = Table(box=box.SIMPLE_HEAVY)
    for column in ("Account", "Created", "Agreement accepted", "Cooling off until"):
        table.add_column(column)
    for row in result:
        table.add_row(
            row["name"],
            _short_time(row["createdAt"]),
            _short_time(row["agreementAcceptedAt"]),
            _short_time(row["coolingOffUntil"]),
        )
    _console().print(table)


def interest_table(result: dict[str, Any]) -> None:
    if not result["rows"]:
        _console().print("No interest charged.")
        return
    table = Table(box=box.SIMPLE_HEAVY)
    for column in ("Time", "Asset", "Wallet", "Principal", "Interest", "Daily rate", "Type"):
        numeric = column in ("Principal", "Interest", "Daily rate")
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for row in result["rows"]:
        table.add_row(
            _short_time(row["interestAccuredTime"]),
            row["asset"],
            row.get("isolatedSymbol", "cross"),
            row["principal"],
            row["interest"],
            row["interestRate"],
            row["type"],
        )
    _console().print(table)


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
        console.print(f"Filled {fill['qty']} at {fill['price']}, fee {fill['commission']} {fill['commissionAsset']}.")
    console.print(f"Order {order['orderId']}: {what} — {order['status']}")


def orders_table(result: list[dict[str, Any]]) -> None:
    if not result:
        _console().print("No orders.")
        return
    table = Table(box=box.SIMPLE_HEAVY)
    for column in ("orderId", "Time", "Wallet", "Side", "Type", "Price", "Stop", "Qty", "Executed", "Status", "Effect"):
        table.add_column(column, overflow="fold")
    for order in result:
        table.add_row(
            str(order["orderId"]),
            _short_time(order["time"]),
            order["wallet"],
            order["side"],
            order["type"],
            order["price"] or "-",
            order["stopPrice"] or "-",
            order["origQty"],
            order["executedQty"],
            order["status"],
            EFFECT_NAMES.get(order["sideEffectType"], order["sideEffectType"]),
        )
    _console().print(table)
