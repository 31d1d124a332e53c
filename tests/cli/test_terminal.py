"""What a person sees on a terminal: tables at 50, 80 and 120 columns, prompts, help, --version, Ctrl-C.

Layout rule: at any width no number, id, time or header is split or cut. A view is a table when every
cell fits whole on one line, else one block of `Header: value` lines per row.
"""

from __future__ import annotations

import io
import json
import re
from importlib.metadata import version
from typing import Any

import pytest

from tests.conftest import Result, Wallet, asset_row, run_cli

DAY = "2026-01-05"
WIDTHS = (50, 80, 120)


def at(clock: str) -> str:
    return f"{DAY}T{clock}Z"


def whole_on_a_line(text: str, value: str) -> bool:
    """`value` stands on one line as a word of its own: not split, cut or glued to another number."""
    pattern = re.compile(rf"(?<![\w.:/]){re.escape(value)}(?![\w/-]|[.:]\w)")
    return any(pattern.search(line) for line in text.splitlines())


def assert_whole(result: Result, values: list[str], width: int) -> None:
    assert result.code == 0, result
    missing = [value for value in values if not whole_on_a_line(result.out, value)]
    assert not missing, f"split, cut or missing at {width} columns: {missing}\n{result.out}"
    assert "…" not in result.out
    widest = max(len(line.rstrip()) for line in result.out.splitlines())
    assert widest <= width, result.out


@pytest.fixture
def busy_wallet(wallet: Wallet) -> Wallet:
    """Cross with a BTC position, a USDT loan, a short, open and stop orders; an isolated loan; a set price."""
    wallet.ok("deposit", "USDT", "2000", now=at("10:00:00"))
    wallet.ok("deposit", "BTC", "0.05", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:00:01"))
    wallet.ok("borrow", "USDT", "500", "--yes", now=at("10:01:00"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.01", now=at("10:02:00"))
    wallet.ok("trade", "sell", "BTC/USDT", "0.012", "--side-effect", "auto-borrow", now=at("10:03:00"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.001", "--price", "50000", now=at("10:04:00"))
    wallet.ok("trade", "buy", "BTC/USDT", "0.001", "--price", "65000", "--stop", "64500", now=at("10:04:30"))
    wallet.ok("transfer", "USDT", "100", "--to", "BTC/USDT", now=at("10:05:00"))
    wallet.ok("transfer", "BTC", "0.05", "--to", "BTC/USDT", now=at("10:05:01"))
    wallet.ok("borrow", "USDT", "2000", "--isolated", "BTC/USDT", "--yes", now=at("10:06:00"))
    wallet.ok("price", "set", "BTC/USDT", "60123.45", now=at("10:07:00"))
    wallet.ok("accrue", now=at("12:30:00"))
    return wallet


def status_values(document: dict[str, Any]) -> list[str]:
    """What `status` shows of its JSON: each held asset's non-zero amounts, the totals and the levels."""
    values = [document["totalAssetValue"], document["totalLiabilityValue"], document["totalNetAssetValue"]]
    values += [document.get("totalNetAssetOfBtc", "")]
    for key in ("marginLevel", "marginCallLevel", "liquidationLevel", "agreementAcceptedAt"):
        values.append(document.get(key) or "")
    for row in document["userAssets"]:
        amounts = [row[key] for key in ("free", "locked", "borrowed", "interest")]
        if all(float(amount) == 0 for amount in amounts) and row["asset"] != document["valuationAsset"]:
            continue
        values.append(row["asset"])
        for key in ("free", "locked", "borrowed", "interest", "netAsset", "maxBorrowable", "liquidationPrice"):
            if row.get(key) and float(row[key]) != 0:
                values.append(row[key])
    return [value for value in values if value]


def shown(wallet: Wallet, width: int, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[Result, Any]:
    """The view for people at `width` columns, and the same view's JSON."""
    monkeypatch.setenv("COLUMNS", str(width))
    return wallet.run(*args, now=at("12:31:00")), wallet.ok(*args, now=at("12:31:00"))


@pytest.mark.parametrize("width", WIDTHS)
def test_cross_status_with_a_position_and_a_loan_keeps_every_number_whole(
    busy_wallet: Wallet, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, document = shown(busy_wallet, width, monkeypatch, "status")
    assert asset_row(document, "USDT")["borrowed"] == "500.00000000"
    assert float(asset_row(document, "BTC")["borrowed"]) > 0  # sold 0.012 BTC holding 0.01: a short
    assert_whole(result, status_values(document), width)
    for header in ("Free", "Locked", "Borrowed", "Interest", "Net asset", "Max borrowable"):
        assert whole_on_a_line(result.out, header)


@pytest.mark.parametrize("width", WIDTHS)
def test_isolated_status_keeps_every_number_whole(
    busy_wallet: Wallet, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, document = shown(busy_wallet, width, monkeypatch, "status", "--isolated", "BTC/USDT")
    assert document["wallet"] == "BTC/USDT"
    assert_whole(result, status_values(document), width)


@pytest.mark.parametrize("width", WIDTHS)
def test_status_of_every_wallet_keeps_every_number_whole(
    busy_wallet: Wallet, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, documents = shown(busy_wallet, width, monkeypatch, "status", "--all")
    assert [document["wallet"] for document in documents] == ["spot", "cross", "BTC/USDT"]
    assert_whole(result, [value for document in documents for value in status_values(document)], width)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_order_keeps_its_id_time_prices_and_quantities_whole(
    busy_wallet: Wallet, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, orders = shown(busy_wallet, width, monkeypatch, "orders", "--all")
    assert len(orders) == 4
    values = []
    for order in orders:
        values += [
            str(order["orderId"]),
            order["transactTime"],
            order["origQty"],
            order["executedQty"],
            order["status"],
        ]
        values += [order[key] for key in ("price", "stopPrice") if order[key]]
    assert_whole(result, values, width)
    for header in ("orderId", "Time", "Wallet", "Executed", "Status", "Effect"):
        assert whole_on_a_line(result.out, header)


@pytest.mark.parametrize("width", WIDTHS)
def test_interest_charges_keep_their_time_and_amounts_whole(
    busy_wallet: Wallet, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, history = shown(busy_wallet, width, monkeypatch, "interest")
    values = []
    for row in history["rows"]:
        values += [row["interestAccuredTime"], row["principal"], row["interest"], row["interestRate"], row["wallet"]]
    assert_whole(result, values, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_history_keeps_ids_times_and_amounts_whole(
    busy_wallet: Wallet, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, entries = shown(busy_wallet, width, monkeypatch, "history", "--limit", "50")
    values = []
    for entry in entries:
        values += [str(entry["tranId"]), entry["time"], entry["kind"]]
        values += [change["amount"] for change in entry["changes"]]
    assert_whole(result, values, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_prices_accounts_and_audit_keep_their_values_whole(
    busy_wallet: Wallet, width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, prices = shown(busy_wallet, width, monkeypatch, "price", "show")
    assert_whole(
        result, [value for row in prices for value in (row["pair"], row["price"], row["time"]) if value], width
    )
    result, accounts = shown(busy_wallet, width, monkeypatch, "accounts")
    values = [row[key] for row in accounts for key in ("name", "createdAt", "agreementAcceptedAt") if row[key]]
    assert_whole(result, values, width)
    result, audit = shown(busy_wallet, width, monkeypatch, "audit")
    values = [str(audit["entries"]), str(audit["postings"]), *[check["name"] for check in audit["checks"]]]
    assert_whole(result, values, width)


def test_a_wide_screen_shows_a_table_and_a_narrow_one_a_block_per_asset(
    busy_wallet: Wallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    wide, _ = shown(busy_wallet, 120, monkeypatch, "status", "--isolated", "BTC/USDT")
    header = next(line for line in wide.out.splitlines() if line.startswith("Asset"))
    assert header.split()[:3] == ["Asset", "Free", "Borrowed"]
    narrow, document = shown(busy_wallet, 50, monkeypatch, "status", "--isolated", "BTC/USDT")
    usdt = asset_row(document, "USDT")
    lines = [line.rstrip() for line in narrow.out.splitlines()]
    start = lines.index("Asset:          USDT")
    assert lines[start + 1] == f"Free:           {usdt['free']}"
    assert lines[start + 2] == f"Borrowed:       {usdt['borrowed']}"


def test_without_a_terminal_or_columns_the_width_is_120(busy_wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    piped = busy_wallet.run("status", now=at("12:31:00")).out
    # cross needs 5 + 13 + 12 + 12 + 10 + 13 + 14 + 15 = 94 columns and 7 gaps of 2: 108, a table at 120
    header = next(line for line in piped.splitlines() if line.startswith("Asset"))
    assert header == (
        "Asset           Free        Locked      Borrowed    Interest      Net asset  Max borrowable       Liq. price"
    )
    assert max(len(line.rstrip()) for line in piped.splitlines()) <= 120
    monkeypatch.setenv("COLUMNS", "80")
    assert "Max borrowable: " in busy_wallet.run("status", now=at("12:31:00")).out


def test_the_interest_table_names_an_isolated_wallet_by_its_pair(
    busy_wallet: Wallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    result = busy_wallet.run("interest", "--limit", "1", now=at("12:31:00"))
    # 12:00 charges both loans; the newest row is the isolated one (charged after cross)
    rows = busy_wallet.ok("interest", "--limit", "1", now=at("12:31:00"))["rows"]
    assert rows[0]["wallet"] == "BTC/USDT" and rows[0]["isolatedSymbol"] == "BTCUSDT"
    assert "BTC/USDT" in result.out and "BTCUSDT" not in result.out


# --- interest --limit and history --limit --csv ---------------------------------------------------------


def test_interest_limit_shows_the_newest_charges_and_total_counts_them_all(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:00:01"))
    wallet.ok("borrow", "USDT", "500", "--yes", now=at("10:20:00"))
    wallet.ok("accrue", now=at("12:30:00"))
    # ON_BORROW at 10:20, PERIODIC at 11:00 and 12:00: three charges
    newest = wallet.ok("interest", "--limit", "2", now=at("12:31:00"))
    assert [row["interestAccuredTime"] for row in newest["rows"]] == [at("12:00:00"), at("11:00:00")]
    assert newest["total"] == 3


def test_interest_shows_at_most_20_charges_by_default_like_history(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:00:01"))
    wallet.ok("borrow", "USDT", "500", "--yes", now=at("10:20:00"))
    wallet.ok("accrue", now="2026-01-06T10:30:00Z")
    # 1 ON_BORROW + 24 hours (11:00 … next day 10:00) = 25 charges; the newest 20 are shown
    result = wallet.ok("interest", now="2026-01-06T10:31:00Z")
    assert (len(result["rows"]), result["total"]) == (20, 25)
    assert result["rows"][0]["interestAccuredTime"] == "2026-01-06T10:00:00Z"


@pytest.mark.parametrize("limit", ["0", "1000001"])
def test_interest_limit_out_of_range_is_refused(wallet: Wallet, limit: str) -> None:
    result = wallet.run("interest", "--limit", limit, "--json", now=at("10:00:00"))
    assert result.code == 2
    assert result.error() == {
        "code": "invalid_input",
        "message": f"--limit must be a whole number from 1 to 1000000, got '{limit}'",
    }


def test_history_limit_with_csv_counts_entries_not_rows(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "100", "--yes", now=at("10:01:00"))
    # the newest entry, the transfer, is two rows: spot free −100 and cross free +100
    rows = wallet.run("history", "--limit", "1", "--csv", now=at("10:02:00")).out.splitlines()
    assert len(rows) == 1 + 2
    assert [row.split(",")[3] for row in rows[1:]] == ["spot", "cross"]


# --- help and --version ----------------------------------------------------------------------------------


def test_version_prints_the_package_version() -> None:
    result = run_cli(["--version"])
    assert result.code == 0
    assert result.out == f"marginctl {version('marginctl')}\n"
    assert re.fullmatch(r"marginctl \d+\.\d+\.\d+\n", result.out)


def test_help_names_arguments_and_values_in_capitals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    deposit = run_cli(["deposit", "--help"]).out
    assert "Usage: marginctl deposit [OPTIONS] ASSET AMOUNT" in deposit
    assert "--client-id ID" in deposit
    trade = run_cli(["trade", "--help"]).out
    assert "Usage: marginctl trade [OPTIONS] SIDE PAIR [QUANTITY]" in trade
    history = run_cli(["history", "--help"]).out
    for text in (deposit, trade, history, run_cli(["--help"]).out, run_cli(["price", "import", "--help"]).out):
        assert "<str>" not in text and "<int>" not in text and "{" not in text
    assert "--limit N" in history and "--since TIME" in history and "--kind KIND" in history


def test_help_lists_every_command_summary_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    from marginctl.cli.app import accounts_app, app, price_app

    monkeypatch.setenv("COLUMNS", "80")
    listing = " ".join(run_cli(["--help"]).out.split("Commands:")[1].split())
    assert "..." not in listing and "…" not in listing
    for info in app.registered_commands:
        assert info.callback is not None and info.callback.__doc__ is not None
        first_sentence = info.callback.__doc__.split(". ")[0].rstrip(".")
        assert " ".join(first_sentence.split()) in listing
    for group in (price_app, accounts_app):
        assert str(group.info.help).rstrip(".") in listing


def test_history_help_lists_the_kinds_and_the_time_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    text = " ".join(run_cli(["history", "--help"]).out.split())
    assert (
        "Only entries of this kind: seed, deposit, withdraw, transfer, borrow, repay, interest, order, cancel, trade,"
        " fee, liquidation, insurance." in text
    )
    assert "Only entries at or after this time: ISO 8601 UTC, e.g. 2026-01-05T10:20:00Z." in text
    assert "At most the newest N entries (with --csv too: an entry is one or more rows)." in text
    interest = " ".join(run_cli(["interest", "--help"]).out.split())
    assert "Only charges at or after this time: ISO 8601 UTC, e.g. 2026-01-05T10:20:00Z." in interest
    assert "--limit N" in interest


def test_an_unknown_history_kind_lists_the_kinds(wallet: Wallet) -> None:
    result = wallet.run("history", "--kind", "gift", now=at("10:00:00"))
    assert result.code == 2
    assert result.err == (
        "error: unknown kind 'gift'; known: seed, deposit, withdraw, transfer, borrow, repay, interest, order, "
        "cancel, trade, fee, liquidation, insurance\n"
    )


# --- prompts ---------------------------------------------------------------------------------------------


def on_terminal(wallet: Wallet, *args: str, typed: str, now: str) -> Result:
    return run_cli(["--db", wallet.target, "--now", now, *args], stdin=typed, terminal=True)


AGREEMENT_PROMPT = "Type I understand to accept, or press Enter to cancel: "


def test_typing_yes_at_the_agreement_says_what_to_type_and_asks_again(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    result = on_terminal(wallet, "transfer", "USDT", "10", typed="yes\nI understand\n", now=at("10:01:00"))
    assert result.code == 0, result
    assert result.out == (
        "Margin trading is risky: borrowed funds can be liquidated and you can lose all you transfer.\n"
        f"{AGREEMENT_PROMPT}To accept, type exactly: I understand\n"
        f"{AGREEMENT_PROMPT}Transferred 10.00000000 USDT from spot to cross. tranId 8\n"
    )
    assert wallet.ok("status", now=at("10:02:00"))["agreementAcceptedAt"] == at("10:01:00")


def test_three_wrong_answers_refuse_saying_what_was_expected(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    result = on_terminal(wallet, "transfer", "USDT", "10", typed="y\nyes\nok\n", now=at("10:01:00"))
    assert result.code == 3
    assert result.out.count("To accept, type exactly: I understand") == 3
    assert result.err == (
        "error: risk agreement not accepted: type exactly I understand at the prompt, or pass --yes; "
        "nothing was transferred\n"
    )
    assert wallet.ok("status", now=at("10:02:00"))["agreementAcceptedAt"] is None


def test_enter_at_the_agreement_cancels(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    result = on_terminal(wallet, "transfer", "USDT", "10", typed="\n", now=at("10:01:00"))
    assert result.code == 3
    assert "To accept" not in result.out
    assert result.err.startswith("error: risk agreement not accepted")


def test_the_borrow_prompt_shows_the_rate_as_binance_does(wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:00:01"))
    result = on_terminal(wallet, "borrow", "USDT", "500", typed="y\n", now=at("10:01:00"))
    assert result.code == 0, result
    # daily 0.00024 = 0.024 %; a year 0.024 × 365 = 8.76 %; the first hour 500 × 0.00024 / 24 = 0.005
    assert result.out.startswith(
        "Borrow 500.00000000 USDT into cross at 0.024 % a day (about 8.76 % a year), charged every hour; "
        "the first hour, 0.00500000 USDT, is charged now.\nBorrow? [y/N]: Borrowed 500.00000000 USDT"
    )


@pytest.mark.parametrize("width", [50, 80])
def test_prompts_wrap_at_spaces_to_the_screen(wallet: Wallet, monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    transfer = on_terminal(wallet, "transfer", "USDT", "1000", typed="I understand\n", now=at("10:00:01"))
    borrow = on_terminal(wallet, "borrow", "USDT", "500", typed="n\n", now=at("10:01:00"))
    cooloff = on_terminal(wallet, "cooloff", "1w", typed="n\n", now=at("10:02:00"))
    for result, words in (
        (transfer, ["liquidated", "understand"]),
        (borrow, ["500.00000000", "0.024", "8.76", "0.00500000", "[y/N]:"]),
        (cooloff, ["2026-01-12T23:59:59Z:", "auto-repay", "[y/N]:"]),
    ):
        lines = result.out.split("Transferred")[0].splitlines()  # the prompts, not the result line
        assert all(len(line) <= width for line in lines), result.out
        for word in words:
            assert any(word in line.split() for line in lines), (word, result.out)


def test_cooloff_asks_saying_until_when(wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    wallet.ok("deposit", "USDT", "10", now=at("10:00:00"))
    result = on_terminal(wallet, "cooloff", "1w", typed="y\n", now=at("10:00:00"))
    assert result.code == 0, result
    # 1w: 23:59:59 UTC of day + 7, 2026-01-05 + 7 = 2026-01-12
    assert result.out == (
        "Cooling-off until 2026-01-12T23:59:59Z: until then no transfers into margin wallets, no borrowing and no "
        "new orders except auto-repay ones; repay, cancel and transfers out stay allowed. It cannot be shortened "
        "or undone.\nStart the cooling-off? [y/N]: Cooling-off until 2026-01-12T23:59:59Z.\n"
    )


def test_cooloff_that_would_shorten_the_current_one_is_refused_before_asking(wallet: Wallet) -> None:
    wallet.ok("cooloff", "1w", "--yes", now=at("10:00:00"))
    result = on_terminal(wallet, "cooloff", "1d", typed="y\n", now=at("10:01:00"))
    assert result.code == 3
    assert result.out == ""
    assert result.err == (
        "error: cooling-off already runs until 2026-01-12T23:59:59Z; it cannot be shortened, only extended\n"
    )


def test_end_of_input_at_a_yes_no_prompt_is_no(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:00:01"))
    result = on_terminal(wallet, "borrow", "USDT", "500", typed="", now=at("10:01:00"))
    assert result.code == 3
    assert result.out.endswith("Borrow? [y/N]: \n")
    assert result.err == "error: borrow not confirmed; nothing borrowed\n"


class _CtrlC(io.StringIO):
    """A terminal on which the user presses Ctrl-C at the first prompt."""

    def isatty(self) -> bool:
        return True

    def readline(self, size: int | None = -1) -> str:
        raise KeyboardInterrupt


def test_ctrl_c_at_a_prompt_ends_the_line_says_interrupted_and_exits_130(wallet: Wallet) -> None:
    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    result = run_cli(["--db", wallet.target, "--now", at("10:01:00"), "transfer", "USDT", "10"], stdin=_CtrlC())
    as_json = run_cli(
        ["--db", wallet.target, "--now", at("10:01:00"), "transfer", "USDT", "10", "--json"], stdin=_CtrlC()
    )
    assert result.code == 130
    assert result.out.endswith(AGREEMENT_PROMPT + "\n")
    assert result.err == "error: interrupted\n"
    assert as_json.code == 130
    assert json.loads(as_json.err) == {"error": {"code": "interrupted", "message": "interrupted"}}
    assert wallet.ok("status", now=at("10:02:00"))["agreementAcceptedAt"] is None


def test_ctrl_c_elsewhere_exits_130(wallet: Wallet, monkeypatch: pytest.MonkeyPatch) -> None:
    from marginctl.services import status

    def interrupted(*args: Any) -> None:
        raise KeyboardInterrupt

    wallet.ok("deposit", "USDT", "100", now=at("10:00:00"))
    monkeypatch.setattr(status, "status", interrupted)
    assert wallet.run("status", "--json", now=at("10:01:00")).code == 130


def test_version_costs_other_commands_nothing(tmp_path: Any) -> None:
    from tests.cli.test_startup import _modules_after

    db = str(tmp_path / "w.db")
    _modules_after(["deposit", "USDT", "1", "--json"], db)
    assert "importlib.metadata" not in _modules_after(["status", "--json"], db)


# --- the warning panel -----------------------------------------------------------------------------------


def long_btc_on_borrowed_usdt(wallet: Wallet, cooloff: bool = False) -> None:
    """0.1 BTC collateral, 12000 USDT borrowed (the max, (3 − 1) × 6000) and spent on BTC: no USDT is free."""
    wallet.ok("deposit", "BTC", "0.1", now=at("10:00:00"))
    wallet.ok("transfer", "BTC", "0.1", "--yes", now=at("10:01:00"))
    wallet.ok("borrow", "USDT", "max", "--yes", now=at("10:20:00"))
    # 12000 / 60000 = 0.2 BTC, less the 0.1 % fee 0.0002: 0.1998; with the collateral 0.2998 BTC
    wallet.ok("trade", "buy", "BTC/USDT", "--quote", "12000", now=at("10:21:00"))
    if cooloff:
        wallet.ok("cooloff", "1d", "--yes", now=at("10:25:00"))
    # 0.2998 × 44900 = 13461.02 against 12000 + 0.12 interest: 13461.02 / 12000.12 = 1.1217…, within 1.1 + 0.05
    wallet.ok("price", "set", "BTC/USDT", "44900", now=at("10:30:00"))


def test_pre_liquidation_is_titled_so_and_advises_only_what_works(
    wallet: Wallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    long_btc_on_borrowed_usdt(wallet)
    document = wallet.ok("status", now=at("10:31:00"))
    assert (document["marginLevel"], document["marginLevelStatus"]) == ("1.12174044", "PRE_LIQUIDATION")
    # nothing USDT is free, so no repay; sell the 0.2998 BTC (on the 0.00001 step) or bring USDT in
    assert document["riskActions"] == [
        "marginctl trade sell BTC/USDT 0.29980000 --side-effect auto-repay",
        "marginctl transfer USDT AMOUNT --to cross",
    ]
    text = wallet.run("status", now=at("10:31:00")).out
    assert "Pre-liquidation: liquidation at 1.1" in text
    assert "Margin call" not in text and "repay USDT" not in text
    assert "  marginctl trade sell BTC/USDT 0.29980000 --side-effect auto-repay" in text


@pytest.mark.parametrize("width", ["50", "80"])
def test_a_suggested_command_is_never_broken_across_lines(
    wallet: Wallet, monkeypatch: pytest.MonkeyPatch, width: str
) -> None:
    """The advice "  marginctl trade sell BTC/USDT 0.29980000 --side-effect auto-repay" is 67 characters; with
    the panel's 4 columns of border it needs 71, so at 50 columns the warning drops its border, and each
    command is still one line of output (a narrow terminal folds it, a copy of it stays one command)."""
    monkeypatch.setenv("COLUMNS", width)
    long_btc_on_borrowed_usdt(wallet)
    lines = wallet.run("status", now=at("10:31:00")).out.splitlines()
    command = "marginctl trade sell BTC/USDT 0.29980000 --side-effect auto-repay"
    assert command in [line.strip("│ ") for line in lines]
    assert any("Pre-liquidation: liquidation at 1.1" in line for line in lines)


def test_during_a_cooling_off_the_panel_does_not_advise_a_transfer_in(wallet: Wallet) -> None:
    long_btc_on_borrowed_usdt(wallet, cooloff=True)
    document = wallet.ok("status", now=at("10:31:00"))
    assert document["riskActions"] == ["marginctl trade sell BTC/USDT 0.29980000 --side-effect auto-repay"]
    # and it works during the cooling-off: 0.2998 × 44900 = 13461.02 less the 0.1 % fee repays 12000.12
    wallet.ok(*document["riskActions"][0].split()[1:], now=at("10:32:00"))
    after = wallet.ok("status", now=at("10:33:00"))
    assert (after["totalLiabilityValue"], after["marginLevelStatus"]) == ("0.00000000", "EXCESSIVE")


def test_at_a_margin_call_repay_is_advised_for_what_is_free(wallet: Wallet) -> None:
    wallet.ok("deposit", "BTC", "0.1", now=at("10:00:00"))
    wallet.ok("transfer", "BTC", "0.1", "--yes", now=at("10:01:00"))
    wallet.ok("borrow", "USDT", "max", "--yes", now=at("10:20:00"))
    # (0.1 × 35000 + 12000) / 12000.12 = 1.2917: a margin call; 12000 free of the 12000.12 owed
    wallet.ok("price", "set", "BTC/USDT", "35000", now=at("10:30:00"))
    document = wallet.ok("status", now=at("10:31:00"))
    assert document["marginLevelStatus"] == "MARGIN_CALL"
    assert document["riskActions"] == [
        "marginctl repay USDT 12000.00000000",
        "marginctl trade sell BTC/USDT 0.10000000 --side-effect auto-repay",
        "marginctl transfer USDT AMOUNT --to cross",
    ]
    assert "Margin call: liquidation at 1.1" in wallet.run("status", now=at("10:31:00")).out


def test_force_liquidation_panel_says_the_next_price_update_liquidates() -> None:
    from rich.console import Console

    from marginctl.cli.render import _print_warning

    document = {
        "marginLevelStatus": "FORCE_LIQUIDATION",
        "marginLevel": "1.09000000",
        "marginCallLevel": "1.3",
        "liquidationLevel": "1.1",
        "userAssets": [],
        "riskActions": ["marginctl transfer USDT AMOUNT --to cross"],
    }
    console = Console(width=120, record=True)
    _print_warning(console, document)
    text = console.export_text()
    assert "Liquidation: margin level at or below 1.1" in text
    assert "Margin level 1.09000000 is at or below the liquidation level 1.1" in text


def test_a_summary_line_too_long_for_the_screen_breaks_between_its_parts(
    wallet: Wallet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1000 USDT in cross, 500 borrowed: assets 1500, liability 500 + 500 × 0.00024 / 24 = 500.005. The line
    "Total asset value 1500.00000000 USDT · liability 500.00500000 USDT · net 999.99500000 USDT" is 87
    characters: at 80 columns each label stays beside its figure."""
    monkeypatch.setenv("COLUMNS", "80")
    wallet.ok("deposit", "USDT", "1000", now=at("10:00:00"))
    wallet.ok("transfer", "USDT", "1000", "--yes", now=at("10:00:01"))
    wallet.ok("borrow", "USDT", "500", "--yes", now=at("10:00:02"))
    lines = wallet.run("status", now=at("10:01:00")).out.splitlines()
    assert "Total asset value 1500.00000000 USDT" in lines
    assert "  liability 500.00500000 USDT" in lines
    assert "  net 999.99500000 USDT" in lines
