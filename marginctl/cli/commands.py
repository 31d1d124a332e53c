"""The bodies of the commands that also run without Typer (see fast.py): `status`, `deposit`, `accrue` and
`price set`.

app.py's Typer commands of the same name call these functions, so both doors run the same code.
"""

from __future__ import annotations

from typing import Any

from marginctl.cli import output
from marginctl.cli.runner import Exit, GlobalOptions, run, say
from marginctl.domain.margin import IN_DANGER


def refuse_isolated_with_all(isolated: str | None, all_wallets: bool, as_json: bool) -> None:
    """`status` and `pnl` show one wallet or every wallet, not both (exit 2)."""
    if isolated and all_wallets:
        output.report_error("invalid_input", "--isolated and --all cannot be combined", as_json)
        raise Exit(output.EXIT_USAGE)


def status(options: GlobalOptions, isolated: str | None, all_wallets: bool, check: bool, as_json: bool) -> None:
    from marginctl.services import status as status_service

    refuse_isolated_with_all(isolated, all_wallets, as_json)

    def render(result: Any) -> None:
        from marginctl.cli import render as views

        views.status_view(result)

    def exit_code(result: Any) -> int:
        documents = result if isinstance(result, list) else [result]
        in_danger = check and any(document.get("marginLevelStatus") in IN_DANGER for document in documents)
        return output.EXIT_MARGIN_CALL if in_danger else 0

    run(
        options,
        as_json,
        lambda context: status_service.status(context, isolated, all_wallets),
        render,
        exit_code,
        write=False,
    )


def deposit(options: GlobalOptions, asset: str, amount: str, client_id: str | None, as_json: bool) -> None:
    from marginctl.services import funds

    run(options, as_json, lambda context: funds.deposit(context, asset, amount, client_id), render_move)


def accrue(options: GlobalOptions, until: str | None, client_id: str | None, as_json: bool) -> None:
    from marginctl.services import accrual

    def render(result: Any) -> None:
        totals = ", ".join(f"{amount} {asset}" for asset, amount in result["interest"].items()) or "nothing"
        say(
            f"Accrued {result['hoursProcessed']} hour(s) up to {result['until']}: "
            f"{result['charges']} charge(s), {totals}."
        )

    run(options, as_json, lambda context: accrual.accrue(context, until, client_id), render, risk_lines=True)


def price_set(
    options: GlobalOptions, pair: str, price: str, at: str | None, client_id: str | None, as_json: bool
) -> None:
    from marginctl.services import prices

    def render(result: Any) -> None:
        say(f"{result['pair']} {result['price']} at {result['time']} ({result['source']})")
        if result["triggered"] or result["filled"]:
            say(f"Stops triggered: {result['triggered']}; orders filled: {result['filled']}.")

    run(
        options, as_json, lambda context: prices.set_price(context, pair, price, at, client_id), render, risk_lines=True
    )


def render_move(result: dict[str, Any]) -> None:
    """The one line of a deposit, withdrawal or transfer."""
    kind = result["kind"]
    if kind == "transfer":
        line = f"Transferred {result['amount']} {result['asset']} from {result['from']} to {result['to']}"
    elif kind == "deposit":
        line = f"Deposited {result['amount']} {result['asset']} into spot (free {result['free']})"
    else:
        line = f"Withdrew {result['amount']} {result['asset']} from spot (free {result['free']})"
    say(f"{line}. tranId {result['tranId']}")
