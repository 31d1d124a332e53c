"""Commands. Each parses its arguments, calls one service through `runner.run`, and renders the result."""

import sys
from typing import Annotated, Any

import typer

from marginctl.cli import commands, output
from marginctl.cli.help import Typer
from marginctl.cli.runner import Exit, GlobalOptions, run
from marginctl.domain.ledger import ENTRY_KINDS

#: How every time option says what it takes.
TIME_FORMAT = "ISO 8601 UTC, e.g. 2026-01-05T10:20:00Z"

app = Typer(
    name="marginctl",
    help="A margin wallet in the terminal, following Binance Margin's rules, on an exact double-entry ledger.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)
price_app = Typer(help="Record and show market prices.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(price_app, name="price")
accounts_app = Typer(
    help="List the wallet's accounts, or create one.", invoke_without_command=True, rich_markup_mode=None
)
app.add_typer(accounts_app, name="accounts")
config_app = Typer(help="Change the wallet's rules from a config file.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(config_app, name="config")
apikey_app = Typer(
    help="API keys for Binance's API served by marginctl: create, list, revoke.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(apikey_app, name="apikey")


JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
YesFlag = Annotated[bool, typer.Option("--yes", "-y", help="Answer yes to the confirmation.")]
ClientId = Annotated[
    str | None,
    typer.Option("--client-id", metavar="ID", help="Idempotency key: a retry with the same id changes nothing."),
]


def _show_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"marginctl {version('marginctl')}")
        raise typer.Exit(output.EXIT_OK)


@app.callback()
def global_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", envvar="MARGINCTL_DB", metavar="PATH_OR_URL", help="Wallet: a SQLite file path or a SQLAlchemy URL."
        ),
    ] = None,
    config: Annotated[
        str | None, typer.Option("--config", envvar="MARGINCTL_CONFIG", metavar="PATH", help="TOML config file.")
    ] = None,
    account: Annotated[
        str | None,
        typer.Option("--account", envvar="MARGINCTL_ACCOUNT", metavar="NAME", help="Account (profile); default main."),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option("--now", envvar="MARGINCTL_NOW", metavar="TIME", help=f"The clock (simulation): {TIME_FORMAT}."),
    ] = None,
    _version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_show_version, help="Print the version and exit."),
    ] = False,
) -> None:
    ctx.obj = GlobalOptions(db=db, config=config, account=account, now=now)


def _say(text: str) -> None:
    """A message for people: wrapped at spaces on a terminal (never inside a word or number), whole when piped."""
    typer.echo(output.wrap_text(text) if sys.stdout.isatty() else text)


#: A confirmation asks at most this many times before taking the answer as no.
ASK_ATTEMPTS = 3
#: What a person types to accept the risk agreement (DESIGN §4).
RISK_AGREEMENT = "I understand"


def _confirm(what: str, text: str, question: str | None = None, expected: str | None = None) -> bool:
    """Ask on a terminal; with no terminal, refuse (never assume yes).

    `text` says what is about to happen; the answer is y or yes (n, no or Enter: no), or with `expected`
    that phrase (in any case). Another answer is told what is expected and asked again.
    """
    from marginctl.domain.errors import ConfirmationRequired

    if not sys.stdin.isatty():
        raise ConfirmationRequired(f"{what} needs confirmation: run it on a terminal or pass --yes")
    typer.echo(output.wrap_text(text))
    if expected is None:
        prompt, accept, decline = f"{question} [y/N]:", {"y", "yes"}, {"", "n", "no"}
        hint = "Please answer y or n."
    else:
        prompt, accept, decline = f"Type {expected} to accept, or press Enter to cancel:", {expected.lower()}, {""}
        hint = f"To accept, type exactly: {expected}"
    for _ in range(ASK_ATTEMPTS):
        answer = " ".join(_ask(output.wrap_text(prompt) + " ").split()).lower()
        if answer in accept:
            return True
        if answer in decline:
            return False
        typer.echo(output.wrap_text(hint))
    return False


def _ask(prompt: str) -> str:
    """One line typed at the terminal. Ctrl-D is no answer; Ctrl-C ends the prompt's line and stops (exit 130)."""
    try:
        return input(prompt)
    except EOFError:
        typer.echo()
        return ""
    except KeyboardInterrupt:
        typer.echo()
        raise output.Interrupted("interrupted") from None


@app.command()
def deposit(
    ctx: typer.Context,
    asset: Annotated[str, typer.Argument(help="Asset code, e.g. USDT.")],
    amount: Annotated[str, typer.Argument(help="Plain decimal amount, e.g. 1000.25.")],
    client_id: ClientId = None,
    as_json: JsonFlag = False,
) -> None:
    """Credit the spot wallet from outside (simulated funding)."""
    commands.deposit(ctx.obj, asset, amount, client_id, as_json)


@app.command()
def withdraw(
    ctx: typer.Context,
    asset: Annotated[str, typer.Argument(help="Asset code.")],
    amount: Annotated[str, typer.Argument(help="Plain decimal amount.")],
    client_id: ClientId = None,
    as_json: JsonFlag = False,
) -> None:
    """Debit the spot wallet to outside."""
    from marginctl.services import funds

    run(ctx.obj, as_json, lambda context: funds.withdraw(context, asset, amount, client_id), commands.render_move)


@app.command()
def transfer(
    ctx: typer.Context,
    asset: Annotated[str, typer.Argument(help="Asset code.")],
    amount: Annotated[str, typer.Argument(help="Plain decimal amount, or max.")],
    source: Annotated[
        str, typer.Option("--from", metavar="WALLET", help="spot, cross or a pair (its isolated wallet).")
    ] = "spot",
    target: Annotated[
        str, typer.Option("--to", metavar="WALLET", help="spot, cross or a pair (its isolated wallet).")
    ] = "cross",
    yes: YesFlag = False,
    client_id: ClientId = None,
    as_json: JsonFlag = False,
) -> None:
    """Move funds between wallets (default spot → cross)."""
    from marginctl.services import funds

    def action(context: Any) -> Any:
        request = funds.parse_transfer(context.config, asset, amount, source, target)
        accepted = yes
        if not yes and funds.agreement_needed(context, request):
            accepted = _confirm(
                "the first transfer into a margin wallet (risk agreement)",
                "Margin trading is risky: borrowed funds can be liquidated and you can lose all you transfer.",
                expected=RISK_AGREEMENT,
            )
        return funds.transfer(context, request, accepted, client_id)

    run(ctx.obj, as_json, action, commands.render_move)


IsolatedPair = Annotated[
    str | None,
    typer.Option("--isolated", metavar="PAIR", help="Use this pair's isolated margin wallet instead of cross."),
]


@app.command()
def borrow(
    ctx: typer.Context,
    asset: Annotated[str, typer.Argument(help="Asset code.")],
    amount: Annotated[str, typer.Argument(help="Plain decimal amount, or max.")],
    isolated: IsolatedPair = None,
    yes: YesFlag = False,
    client_id: ClientId = None,
    as_json: JsonFlag = False,
) -> None:
    """Borrow into the cross (or an isolated) margin wallet; the first hour's interest is charged at once."""
    from marginctl.services import loans

    def action(context: Any) -> Any:
        if not yes:
            quote = loans.borrow_quote(context, asset, amount, isolated)
            text = (
                f"Borrow {quote['amount']} {quote['asset']} into {quote['wallet']} at "
                f"{quote['dailyInterestPercent']} % a day (about {quote['yearlyInterestPercent']} % a year), "
                f"charged every hour; the first hour, {quote['interestNow']} {quote['asset']}, is charged now."
            )
            if not _confirm("borrow", text, "Borrow?"):
                from marginctl.domain.errors import ConfirmationRequired

                raise ConfirmationRequired("borrow not confirmed; nothing borrowed")
        return loans.borrow(context, asset, amount, isolated, client_id)

    def render(result: Any) -> None:
        _say(
            f"Borrowed {result['amount']} {result['asset']} into {result['wallet']}; interest "
            f"{result['interestCharged']} charged now, then {result['hourlyInterestRate']} of the principal "
            f"every hour. tranId {result['tranId']}"
        )

    run(ctx.obj, as_json, action, render)


@app.command()
def repay(
    ctx: typer.Context,
    asset: Annotated[str, typer.Argument(help="Asset code.")],
    amount: Annotated[
        str, typer.Argument(help="Plain decimal amount, all (the whole debt) or max (as much as free allows).")
    ],
    isolated: IsolatedPair = None,
    client_id: ClientId = None,
    as_json: JsonFlag = False,
) -> None:
    """Repay from the wallet's free balance: interest first, then principal."""
    from marginctl.services import loans

    def render(result: Any) -> None:
        _say(
            f"Repaid {result['amount']} {result['asset']} in {result['wallet']} (interest "
            f"{result['interest']}, principal {result['principal']}); still owed: borrowed "
            f"{result['borrowedLeft']}, interest {result['interestLeft']}. tranId {result['tranId']}"
        )

    run(ctx.obj, as_json, lambda context: loans.repay(context, asset, amount, isolated, client_id), render)


@app.command()
def close(
    ctx: typer.Context,
    isolated: IsolatedPair = None,
    yes: YesFlag = False,
    client_id: ClientId = None,
    as_json: JsonFlag = False,
) -> None:
    """Close a margin wallet: cancel its open orders, buy back what is owed, repay every loan with interest."""
    from marginctl.services import closing

    def action(context: Any) -> Any:
        if not yes:
            preview = closing.close_preview(context, isolated)
            if preview["openOrders"] or preview["owed"]:
                owed = ", ".join(f"{amount} {asset}" for asset, amount in preview["owed"].items()) or "nothing"
                text = (
                    f"Close {preview['wallet']}: cancel {len(preview['openOrders'])} open order(s), buy back at "
                    f"market price what free balances do not cover, and repay {owed} (interest first)."
                )
                if not _confirm("close", text, "Close?"):
                    from marginctl.domain.errors import ConfirmationRequired

                    raise ConfirmationRequired("close not confirmed; nothing changed")
        return closing.close_wallet(context, isolated, client_id)

    def render(result: Any) -> None:
        from marginctl.cli import render as views

        views.close_report(result)

    run(ctx.obj, as_json, action, render, risk_lines=True)


@app.command()
def interest(
    ctx: typer.Context,
    asset: Annotated[str | None, typer.Option("--asset", help="Only this asset.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="TIME", help=f"Only charges at or after this time: {TIME_FORMAT}.")
    ] = None,
    limit: Annotated[
        str, typer.Option("--limit", metavar="N", help="At most the newest N charges (JSON total counts them all).")
    ] = "20",
    as_json: JsonFlag = False,
) -> None:
    """The hourly interest charges, newest first, with the fields of Binance's interest history."""
    from marginctl.services import interest as interest_service

    def render(result: Any) -> None:
        from marginctl.cli import render as views

        views.interest_table(result)

    run(
        ctx.obj,
        as_json,
        lambda context: interest_service.interest_history(context, asset, since, limit),
        render,
        write=False,
    )


@app.command()
def trade(
    ctx: typer.Context,
    side: Annotated[str, typer.Argument(help="buy or sell.")],
    pair: Annotated[str, typer.Argument(help="Pair, e.g. BTC/USDT.")],
    quantity: Annotated[
        str | None, typer.Argument(help="Base quantity (rounded down to the step); sell: `all` sells what is free.")
    ] = None,
    quote: Annotated[str | None, typer.Option("--quote", help="Spend (buy) or receive (sell) this much quote.")] = None,
    price: Annotated[str | None, typer.Option("--price", help="Limit price; without it, a market order.")] = None,
    stop: Annotated[str | None, typer.Option("--stop", help="Stop price (with --price: stop-limit).")] = None,
    side_effect: Annotated[
        str,
        typer.Option(
            "--side-effect",
            help="normal, auto-borrow (MARGIN_BUY), auto-repay (AUTO_REPAY) or auto-borrow-repay (AUTO_BORROW_REPAY).",
        ),
    ] = "normal",
    isolated: Annotated[bool, typer.Option("--isolated", help="Trade in the pair's isolated wallet.")] = False,
    close: Annotated[
        bool, typer.Option("--close", help="Buy exactly what repays the base asset's debt and interest (market).")
    ] = False,
    client_id: ClientId = None,
    as_json: JsonFlag = False,
) -> None:
    """Place an order in the margin wallet: market, limit (--price) or stop-limit (--stop and --price)."""
    from marginctl.services import trading

    def action(context: Any) -> Any:
        request = trading.parse_order(
            context.config, side, pair, quantity, quote, price, stop, side_effect, isolated, close=close
        )
        return trading.place_order(context, request, client_id)

    def render(result: Any) -> None:
        from marginctl.cli import render as views

        views.order_line(result)

    run(ctx.obj, as_json, action, render, risk_lines=True)


@app.command("trade oco")
def trade_oco(
    ctx: typer.Context,
    side: Annotated[str, typer.Argument(help="buy or sell.")],
    pair: Annotated[str, typer.Argument(help="Pair, e.g. BTC/USDT.")],
    quantity: Annotated[str, typer.Argument(help="Base quantity of both legs (rounded down to the step).")],
    price: Annotated[
        str | None, typer.Option("--price", help="The limit leg's price (LIMIT_MAKER, take profit).")
    ] = None,
    stop: Annotated[str | None, typer.Option("--stop", help="The stop leg's trigger price (STOP_LOSS_LIMIT).")] = None,
    stop_limit: Annotated[
        str | None, typer.Option("--stop-limit", help="The stop leg's limit price once it has triggered.")
    ] = None,
    side_effect: Annotated[
        str,
        typer.Option(
            "--side-effect",
            help="normal, auto-borrow (MARGIN_BUY), auto-repay (AUTO_REPAY) or auto-borrow-repay (AUTO_BORROW_REPAY).",
        ),
    ] = "normal",
    isolated: Annotated[bool, typer.Option("--isolated", help="Trade in the pair's isolated wallet.")] = False,
    client_id: ClientId = None,
    as_json: JsonFlag = False,
) -> None:
    """Place an OCO: a take-profit limit and a stop-loss-limit on one quantity; one filling expires the other."""
    from marginctl.services import oco

    def action(context: Any) -> Any:
        request = oco.parse_oco(context.config, side, pair, quantity, price, stop, stop_limit, side_effect, isolated)
        return oco.place_oco(context, request, client_id)

    def render(result: Any) -> None:
        from marginctl.cli import render as views

        views.order_list_lines(result)

    run(ctx.obj, as_json, action, render, risk_lines=True)


@app.command()
def orders(
    ctx: typer.Context,
    include_closed: Annotated[bool, typer.Option("--all", help="Also filled and cancelled orders.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Open orders (with --all, every order)."""
    from marginctl.services import trading

    def render(result: Any) -> None:
        from marginctl.cli import render as views

        views.orders_table(result)

    run(ctx.obj, as_json, lambda context: trading.list_orders(context, include_closed), render, write=False)


@app.command()
def cancel(
    ctx: typer.Context,
    order_id: Annotated[str | None, typer.Argument(help="The orderId to cancel.")] = None,
    cancel_all: Annotated[bool, typer.Option("--all", help="Cancel every open order.")] = False,
    client_id: ClientId = None,
    as_json: JsonFlag = False,
) -> None:
    """Cancel open orders, releasing their locked funds (and repaying what auto-borrow lent)."""
    from marginctl.services import trading

    def render(result: Any) -> None:
        from marginctl.cli import render as views

        if not result:
            _say("No open orders.")
        for order in result:
            in_list = f", OCO list {order['orderListId']}" if order.get("orderListId", -1) != -1 else ""
            _say(f"Cancelled order {order['orderId']} ({order['side']} {order['origQty']} {order['pair']}{in_list}).")
            for record in order.get("repaid", []):
                _say(views.repaid_line(record))

    run(ctx.obj, as_json, lambda context: trading.cancel_orders(context, order_id, cancel_all, client_id), render)


@app.command()
def accrue(
    ctx: typer.Context,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="TIME", help=f"Charge the hours up to this time ({TIME_FORMAT}); default now."),
    ] = None,
    client_id: ClientId = None,
    as_json: JsonFlag = False,
) -> None:
    """Charge every hourly interest due since the last run, for every account, exactly once; then risk-check."""
    commands.accrue(ctx.obj, until, client_id, as_json)


@app.command()
def cooloff(
    ctx: typer.Context,
    period: Annotated[str, typer.Argument(help="1d, 1w or 1m.")],
    yes: YesFlag = False,
    client_id: ClientId = None,
    as_json: JsonFlag = False,
) -> None:
    """Lock yourself out of new margin exposure until 23:59:59 UTC of today, day +7 or next month."""
    from marginctl.services import cooloff as cooloff_service

    def action(context: Any) -> Any:
        until = cooloff_service.cooloff_end(context, period)  # a typo is a usage error, not a question
        if not yes and not _confirm(
            "cooloff",
            f"Cooling-off until {until}: until then no transfers into margin wallets, no borrowing and no new "
            "orders except auto-repay ones; repay, cancel and transfers out stay allowed. It cannot be shortened "
            "or undone.",
            "Start the cooling-off?",
        ):
            from marginctl.domain.errors import ConfirmationRequired

            raise ConfirmationRequired("cooling-off not confirmed; nothing changed")
        return cooloff_service.start_cooloff(context, period, client_id)

    run(
        ctx.obj,
        as_json,
        action,
        lambda result: _say(f"Cooling-off until {result['coolingOffUntil']}."),
    )


@price_app.command("set")
def price_set(
    ctx: typer.Context,
    pair: Annotated[str, typer.Argument(help="Pair, e.g. BTC/USDT (or BTCUSDT).")],
    price: Annotated[str, typer.Argument(help="Last price, on the pair's tick.")],
    at: Annotated[
        str | None, typer.Option("--at", metavar="TIME", help=f"Time of the price ({TIME_FORMAT}); default now.")
    ] = None,
    client_id: ClientId = None,
    as_json: JsonFlag = False,
) -> None:
    """Record a market price."""
    commands.price_set(ctx.obj, pair, price, at, client_id, as_json)


@price_app.command("follow")
def price_follow(
    ctx: typer.Context,
    pairs: Annotated[list[str], typer.Argument(metavar="PAIR", help="Pairs to follow, e.g. BTC/USDT ETH/USDT.")],
    source: Annotated[
        str,
        typer.Option("--source", metavar="URL", help="Base URL of a Binance-style public API (http or https)."),
    ] = "https://api.binance.com",
    every: Annotated[str, typer.Option("--every", metavar="SECONDS", help="Seconds between polls.")] = "2",
    timeout: Annotated[str, typer.Option("--timeout", metavar="SECONDS", help="Seconds a poll may take.")] = "5",
    max_jump: Annotated[
        str,
        typer.Option("--max-jump", metavar="PERCENT", help="A move beyond this waits for the next answer to confirm."),
    ] = "20",
    max_polls: Annotated[
        str | None, typer.Option("--max-polls", metavar="N", help="Stop after N polls (default: until stopped).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Poll a public ticker and record each new price as `price set` does, until Ctrl-C or SIGTERM."""
    import signal

    from marginctl.services import price_follow as follow_service

    def report(event: dict[str, Any]) -> None:
        kind, at = event["event"], event.get("time")
        if kind == "price":
            if as_json:
                output.print_json(event)
                sys.stdout.flush()
            else:
                line = f"{at} {event['pair']} {event['previousPrice'] or '-'} -> {event['price']}"
                if "feedPrice" in event:
                    line += f" (feed {event['feedPrice']}, nearest tick)"
                if event["confirmed"]:
                    line += " (confirms the jump held before)"
                if event["triggered"] or event["filled"]:
                    line += f"; stops triggered: {event['triggered']}, orders filled: {event['filled']}"
                _say(line)
            output.report_risk(event)
            return
        if kind == "started":
            line = (
                f"following {', '.join(event['pairs'])} from {event['source']} every {event['every']} s "
                f"(timeout {event['timeout']} s, max jump {event['maxJump']} %); stop with Ctrl-C or SIGTERM"
            )
        elif kind == "failed":
            line = f"{at} poll failed: {event['reason']}"
            if event["nextPollIn"] is not None:
                line += f"; next poll in {event['nextPollIn']} s"
        elif kind == "held":
            line = (
                f"{at} {event['pair']} {event['price']} held: {event['jump']} % from "
                f"{event['previousPrice']} is beyond --max-jump {event['maxJump']} %; recorded if the next answer "
                "confirms it"
            )
        elif kind == "dropped":
            line = (
                f"{at} {event['pair']} {event['heldPrice']} dropped: the next answer ({event['price']}) "
                "did not confirm it"
            )
        else:
            line = f"{at} {event['pair']} {event['price']} not recorded: {event['message']}; the next poll tries again"
        sys.stdout.flush()
        sys.stderr.write(output.one_line(line) + "\n")
        sys.stderr.flush()

    def action(context: Any) -> Any:
        request = follow_service.parse_request(context, pairs, source, every, timeout, max_jump, max_polls)
        follower = follow_service.Follower(context, request, report)

        def on_signal(number: int, _frame: object) -> None:
            follower.stop(signal.Signals(number).name)

        previous = {number: signal.signal(number, on_signal) for number in (signal.SIGINT, signal.SIGTERM)}
        try:
            return follower.run()
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def render(summary: dict[str, Any]) -> None:
        _say(
            f"Stopped ({summary['stoppedBy']}) after {summary['polls']} poll(s): {summary['recorded']} price(s) "
            f"recorded, {summary['failedPolls']} poll(s) failed, {summary['held']} held, "
            f"{summary['notRecorded']} not recorded."
        )

    run(ctx.obj, as_json, action, render)


@price_app.command("import")
def price_import(
    ctx: typer.Context,
    files: Annotated[
        list[str], typer.Argument(metavar="FILE", help="Binance kline CSV or ZIP files (data.binance.vision).")
    ],
    pair: Annotated[
        str | None, typer.Option("--pair", help="The pair of every file; default: each file's name says it.")
    ] = None,
    interval: Annotated[
        str | None, typer.Option("--interval", help="Kline interval of the files; default: their names, else 1m.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Replay klines in time order, atomically: each candle accrues interest, fills orders, checks risk.

    Several pairs' files (BTCUSDT-1m-2021-05.zip ETHUSDT-1m-2021-05.zip) are merged in time order."""
    from marginctl.services import replay

    def action(context: Any) -> Any:
        show_progress = sys.stderr.isatty() and not as_json
        if not show_progress:
            return replay.import_klines(context, files, pair, interval)
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("Replaying klines", total=None)
            return replay.import_klines(
                context,
                files,
                pair,
                interval,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )

    def render(result: Any) -> None:
        level = result["finalMarginLevel"] or "∞ (no debt)"
        pairs = " and ".join(result["pairs"])
        _say(
            f"Imported {result['candles']} {pairs} candles ({result['from']} → {result['to']}): "
            f"{result['triggered']} stop(s) triggered, {result['fills']} fill(s), "
            f"{result['marginCallCount']} margin call(s), {result['liquidationCount']} liquidation(s); "
            f"cross margin level {level}."
        )

    run(ctx.obj, as_json, action, render, risk_lines=True)


@price_app.command("show")
def price_show(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Last price of every pair, with its time and source."""
    from marginctl.services import prices

    def render(result: Any) -> None:
        from marginctl.cli import render as views

        views.prices_table(result)

    run(ctx.obj, as_json, prices.show_prices, render, write=False)


@app.command()
def status(
    ctx: typer.Context,
    isolated: Annotated[
        str | None, typer.Option("--isolated", metavar="PAIR", help="Show this pair's isolated wallet.")
    ] = None,
    all_wallets: Annotated[bool, typer.Option("--all", help="Every wallet holding anything.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 4 at or below the margin-call level.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Balances, margin level, warnings, max borrowable, liquidation prices."""
    commands.status(ctx.obj, isolated, all_wallets, check, as_json)


@app.command()
def watch(
    ctx: typer.Context,
    isolated: Annotated[
        str | None, typer.Option("--isolated", metavar="PAIR", help="Watch this pair's isolated wallet.")
    ] = None,
    all_wallets: Annotated[bool, typer.Option("--all", help="Every wallet holding anything.")] = False,
    once: Annotated[
        bool, typer.Option("--once", help="Print one frame at the screen's size and exit (no terminal needed).")
    ] = False,
) -> None:
    """A live full-screen view: margin level, balances, positions, orders, latest events; q quits. Read only."""
    from marginctl.cli import watch as live_view

    live_view.watch(ctx.obj, isolated, all_wallets, once)


@app.command()
def pnl(
    ctx: typer.Context,
    isolated: Annotated[
        str | None, typer.Option("--isolated", metavar="PAIR", help="This pair's isolated wallet.")
    ] = None,
    all_wallets: Annotated[bool, typer.Option("--all", help="Every wallet with any trade.")] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="TIME", help=f"Total only fills and interest at or after this time: {TIME_FORMAT}."
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Profit and loss by average cost: entry price, realized and unrealized PnL, fees and interest."""
    from marginctl.services import pnl as pnl_service

    commands.refuse_isolated_with_all(isolated, all_wallets, as_json)

    def render(result: Any) -> None:
        from marginctl.cli import render as views

        views.pnl_view(result)

    run(
        ctx.obj,
        as_json,
        lambda context: pnl_service.pnl(context, isolated, all_wallets, since),
        render,
        write=False,
    )


@app.command()
def history(
    ctx: typer.Context,
    limit: Annotated[
        str,
        typer.Option(
            "--limit", metavar="N", help="At most the newest N entries (with --csv too: an entry is one or more rows)."
        ),
    ] = "20",
    kind: Annotated[
        str | None, typer.Option("--kind", help=f"Only entries of this kind: {', '.join(ENTRY_KINDS)}.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="TIME", help=f"Only entries at or after this time: {TIME_FORMAT}.")
    ] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV, one row per balance change.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The journal, newest first."""
    from marginctl.services import history as history_service

    if as_csv and as_json:
        output.report_error("invalid_input", "--csv and --json cannot be combined", as_json)
        raise Exit(output.EXIT_USAGE)

    def render(result: Any) -> None:
        if as_csv:
            import csv

            writer = csv.DictWriter(sys.stdout, fieldnames=history_service.CSV_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(history_service.history_csv_rows(result))
            return
        from marginctl.cli import render as views

        views.history_table(result)

    run(ctx.obj, as_json, lambda context: history_service.history(context, limit, kind, since), render, write=False)


@app.command()
def report(
    ctx: typer.Context,
    isolated: Annotated[
        str | None, typer.Option("--isolated", metavar="PAIR", help="This pair's isolated wallet (default: cross).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="TIME", help=f"From this time (default: the wallet's first): {TIME_FORMAT}."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="TIME", help=f"Through this time (default: the last event): {TIME_FORMAT}."),
    ] = None,
    png: Annotated[
        str | None, typer.Option("--png", metavar="FILE", help="Also draw the chart as a PNG (the charts extra).")
    ] = None,
    csv_file: Annotated[
        str | None, typer.Option("--csv", metavar="FILE", help="Also write the hourly series as CSV; - for stdout.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """The wallet hour by hour: net asset value, debt, margin level and price, with its fills, margin calls and
    liquidations, as a chart in the terminal."""
    from marginctl.cli import charts
    from marginctl.services import report as report_service

    if as_json and csv_file == charts.STDOUT:
        output.report_error("invalid_input", "--csv - and --json cannot be combined (both write stdout)", as_json)
        raise Exit(output.EXIT_USAGE)

    def action(context: Any) -> Any:
        if png is not None:
            charts.check_matplotlib()
        charts.check_output(png, "--png", csv_file)
        charts.check_output(csv_file, "--csv")
        document = report_service.report(context, isolated, since, until)
        table = charts.csv_text(report_service.csv_columns(document), report_service.csv_rows(document))
        charts.write_outputs(document, png, csv_file, table)
        return {**document, "csvText": table} if csv_file == charts.STDOUT else document

    def render(result: Any) -> None:
        if csv_file == charts.STDOUT:
            sys.stdout.write(result["csvText"])
            return
        _say(charts.summary_line(result))
        if result["series"]:
            # the summary line, the chart and the lines written after it share the screen
            width, height = output.screen_width(), output.screen_height(charts.PIPE_HEIGHT + 4) - 4
            typer.echo(charts.terminal_chart(result, width, height, charts.wants_color()))
        for path in (png, csv_file):
            if path is not None:
                _say(f"Wrote {path}.")

    run(ctx.obj, as_json, action, render, write=False)


@app.command()
def audit(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Verify every ledger invariant; exit 5 on any violation."""
    from marginctl.services import audit as audit_service

    def render(result: Any) -> None:
        from marginctl.cli import render as views

        views.audit_view(result)

    run(
        ctx.obj,
        as_json,
        audit_service.audit,
        render,
        lambda result: 0 if result["ok"] else output.EXIT_AUDIT_FAILED,
        write=False,
    )


@accounts_app.callback()
def accounts(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the accounts (profiles) of the wallet."""
    if ctx.invoked_subcommand is not None:
        return
    from marginctl.services import accounts as accounts_service

    def render(result: Any) -> None:
        from marginctl.cli import render as views

        views.accounts_table(result)

    run(ctx.find_root().obj, as_json, accounts_service.list_accounts, render, write=False)


@accounts_app.command("create")
def accounts_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="1-32 of a-z, 0-9, _ and -.")],
    as_json: JsonFlag = False,
) -> None:
    """Create an account (profile) in the wallet."""
    from marginctl.services import accounts as accounts_service

    run(
        ctx.find_root().obj,
        as_json,
        lambda context: accounts_service.create_account(context, name),
        lambda result: _say(f"Created account {result['name']}."),
    )


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; other than loopback, a warning.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="Port to listen on; 0 takes a free one.")] = 8080,
    weight_limit: Annotated[
        int,
        typer.Option("--weight-limit", help="Request weight per minute per API key before 429 (-1003); 0: no limit."),
    ] = 180_000,
    replay_files: Annotated[
        list[str] | None,
        typer.Option(
            "--replay",
            metavar="FILE",
            help="Kline CSV/ZIP files whose candles set the clock and the prices (repeat for several files).",
        ),
    ] = None,
    pair: Annotated[
        str | None, typer.Option("--pair", help="With --replay: the files' pair; default: their names say it.")
    ] = None,
    interval: Annotated[
        str | None, typer.Option("--interval", help="With --replay: the files' kline interval; default: their names.")
    ] = None,
    speed: Annotated[
        str,
        typer.Option(
            "--speed",
            metavar="N|max",
            help="With --replay: simulated seconds per second, or max: a candle per price request.",
        ),
    ] = "60",
) -> None:
    """Serve Binance's margin API for the wallet's API keys, on the system clock (or a replay's), until Ctrl-C."""
    from marginctl.api.server import Replay
    from marginctl.api.server import serve as run_server

    replay = Replay(replay_files, pair, interval, speed) if replay_files else None
    if replay is None and (pair is not None or interval is not None):
        raise typer.BadParameter("--pair and --interval go with --replay")
    run(
        ctx.obj,
        False,
        lambda context: run_server(context, ctx.obj, host, port, weight_limit, replay),
        lambda result: None,
        write=False,
    )


@apikey_app.command("create")
def apikey_create(
    ctx: typer.Context,
    permissions: Annotated[
        str, typer.Option("--permissions", metavar="read|trade", help="read: reads only; trade: every request.")
    ] = "trade",
    ed25519: Annotated[
        str | None,
        typer.Option(
            "--ed25519",
            metavar="PUBLIC_KEY_PEM",
            help="An Ed25519 public key (a PEM file, or the PEM itself): the wallet keeps no secret.",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an API key for the account; an HMAC key's secret is shown this once only."""
    from marginctl.services import api_keys

    def render(result: Any) -> None:
        _say(
            f"Created an {result['type']} API key for account {result['account']}, "
            f"with {result['permissions']} permission."
        )
        typer.echo(f"API key:\n{result['apiKey']}")
        if result["secretKey"] is not None:
            typer.echo(f"Secret key:\n{result['secretKey']}")
            _say("The secret key is shown only this once: store it now.")

    run(ctx.find_root().obj, as_json, lambda context: api_keys.create_api_key(context, permissions, ed25519), render)


@apikey_app.command("list")
def apikey_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the account's API keys (never their secrets)."""
    from marginctl.services import api_keys

    def render(result: Any) -> None:
        if not result:
            _say("No API keys; create one with: marginctl apikey create")
            return
        from marginctl.cli.render import short_time

        for key in result:
            typer.echo(key["apiKey"])
            revoked = f", revoked {short_time(key['revokedAt'])}" if key["revokedAt"] else ""
            _say(f"  {key['permissions']}, {key['type']}, created {short_time(key['createdAt'])}{revoked}")

    run(ctx.find_root().obj, as_json, api_keys.list_api_keys, render, write=False)


@apikey_app.command("revoke")
def apikey_revoke(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="KEY", help="The API key (64 letters and digits).")],
    as_json: JsonFlag = False,
) -> None:
    """Revoke one of the account's API keys: the server refuses it from the next request on."""
    from marginctl.services import api_keys

    def render(result: Any) -> None:
        from marginctl.cli.render import short_time

        already = "was already revoked" if result["alreadyRevoked"] else "revoked"
        _say(f"API key {result['apiKey'][:8]}… {already} at {short_time(result['revokedAt'])}.")

    run(ctx.find_root().obj, as_json, lambda context: api_keys.revoke_api_key(context, key), render)


@config_app.command("apply")
def config_apply(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE", help="The TOML config whose rules the wallet takes.")],
    yes: YesFlag = False,
    client_id: ClientId = None,
    as_json: JsonFlag = False,
) -> None:
    """Make a config file's rules (margin levels, assets, rates, pairs, fees) the wallet's, from now on."""
    from marginctl.services import config_apply

    def action(context: Any) -> Any:
        preview = config_apply.apply_preview(context, file)
        if preview["refused"]:
            from marginctl.domain.errors import RulesChangeRefused

            raise RulesChangeRefused(f"config apply refused: {preview['refused'][0]}")
        if preview["changes"] and not yes:
            from marginctl.cli import render as views

            text = "\n".join(views.rule_change_lines(preview["changes"]))
            if not _confirm("config apply", f"Changes to the wallet's rules:\n{text}", "Apply them from now on?"):
                from marginctl.domain.errors import ConfirmationRequired

                raise ConfirmationRequired("config apply not confirmed; nothing changed")
        return config_apply.apply_rules(context, file, client_id)

    def render(result: Any) -> None:
        from marginctl.cli import render as views

        if not result["changed"]:
            _say("Nothing to change: the wallet's rules already are the file's.")
            return
        for line in views.rule_change_lines(result["changes"]):
            typer.echo(line)
        _say(f"The wallet's rules changed, effective {result['effectiveAt']}.")

    run(ctx.obj, as_json, action, render, check_rules=False)


@app.command()
def rates(
    ctx: typer.Context,
    asset: Annotated[str | None, typer.Option("--asset", help="Only this asset.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """The daily interest rates over time, newest first, with the fields of Binance's interestRateHistory."""
    from marginctl.services import rates

    def render(result: Any) -> None:
        from marginctl.cli import render as views

        views.rates_table(result)

    run(ctx.obj, as_json, lambda context: rates.rate_history(context, asset), render, write=False)


GLOBAL_OPTIONS_WITH_VALUES = ("--db", "--config", "--account", "--now")


def app_for(arguments: list[str]) -> typer.Typer:
    """The app with only the command asked for: Typer inspects every command (~2 ms each) before running one.

    Help, and anything not naming a command, gets the whole app.
    """
    import copy

    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument in GLOBAL_OPTIONS_WITH_VALUES:
            index += 2
        elif argument.startswith(tuple(f"{option}=" for option in GLOBAL_OPTIONS_WITH_VALUES)):
            index += 1
        else:
            break
    if index >= len(arguments) or arguments[index].startswith("-"):
        return app
    name = arguments[index]
    slim = copy.copy(app)
    slim.registered_commands = [
        info
        for info in app.registered_commands
        if (info.name or (info.callback.__name__ if info.callback else "")).replace("_", "-").split(" ")[0] == name
    ]
    slim.registered_groups = [group for group in app.registered_groups if group.name == name]
    if not slim.registered_commands and not slim.registered_groups:
        return app  # an unknown command: the whole app says so and suggests the nearest one
    return slim


def main() -> None:
    """The Typer door (every command line fast.py leaves to it): usage errors become one `error:` line and
    exit 2, like every other error."""
    from typer._click import exceptions as click_exceptions

    as_json = "--json" in sys.argv[1:]
    try:
        # Without standalone mode Click returns a command's exit code instead of exiting.
        code = app_for(sys.argv[1:])(standalone_mode=False, prog_name="marginctl")
    except click_exceptions.NoArgsIsHelpError as error:
        typer.echo(error.ctx.get_help() if error.ctx else "", err=False)
        sys.exit(output.EXIT_OK)
    except click_exceptions.UsageError as error:
        output.report_error("usage", error.format_message(), as_json)
        sys.exit(output.EXIT_USAGE)
    except Exit as stop:
        sys.exit(stop.code)
    except typer.Exit as stop:
        sys.exit(stop.exit_code)
    except typer.Abort:
        output.report_error("aborted", "aborted", as_json)
        sys.exit(output.EXIT_REFUSED)
    except KeyboardInterrupt:
        sys.exit(output.EXIT_INTERRUPTED)
    except Exception as error:
        sys.exit(output.report_internal_error(error, as_json))
    sys.exit(code if isinstance(code, int) else output.EXIT_OK)
