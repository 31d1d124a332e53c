"""How every command runs once its arguments are parsed: open the wallet, call one service, print, exit.

Typer-free, so that the commands fast.py parses itself (`status`, `deposit`) start without importing
Typer; app.py's Typer commands run through the same `run`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from marginctl.cli import output


class GlobalOptions:
    """The options given before the command (or their MARGINCTL_* variables).

    A plain class: a dataclass or NamedTuple is built by exec at import (0.3-1 ms, on every start).
    """

    __slots__ = ("account", "config", "db", "now")

    def __init__(self, db: str | None, config: str | None, account: str | None, now: str | None) -> None:
        self.db, self.config, self.account, self.now = db, config, account, now


class Exit(Exception):
    """End the command with this exit code (what was to be said has been said)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def run(
    options: GlobalOptions,
    as_json: bool,
    action: Callable[[Any], Any],
    render: Callable[[Any], None] | None = None,
    exit_code: Callable[[Any], int] | None = None,
    risk_lines: bool = False,
    write: bool = True,
    check_rules: bool = True,
) -> None:
    """Open the wallet, run `action(context)`, print the result; every failure becomes an exit code (`Exit`).

    `write=False` for a read-only command: it never creates a wallet (`no_wallet`).
    """
    from marginctl.domain.errors import MarginctlError

    try:
        from marginctl.domain.times import parse_time
        from marginctl.services.context import open_context

        context = open_context(
            options.db,
            options.config,
            options.account,
            parse_time(options.now) if options.now else None,
            write,
            check_rules,
        )
        try:
            result = action(context)
        finally:
            context.database.close()
    except MarginctlError as error:
        output.report_error(error.code, error.message, as_json)
        raise Exit(output.exit_code_for(error)) from None
    except Exit:
        raise
    except Exception as error:
        raise Exit(output.report_internal_error(error, as_json)) from None
    if as_json or render is None:
        output.print_json(result)
    else:
        render(result)
    if context.replayed_client_id is not None:
        sys.stdout.flush()
        sys.stderr.write(
            f"note: client id {context.replayed_client_id!r} was already used; this is the first run's result, "
            "nothing changed\n"
        )
    if risk_lines:
        output.report_risk(result)
    if exit_code is not None:
        code = exit_code(result)
        if code:
            raise Exit(code)


def say(text: str) -> None:
    """A message for people: wrapped at spaces on a terminal (never inside a word or number), whole when piped.

    For ASCII lines (a deposit's, a transfer's): app.py's commands say theirs through typer.echo, which also
    writes "→" to a stdout set to ASCII.
    """
    sys.stdout.write((output.wrap_text(text) if sys.stdout.isatty() else text) + "\n")
    sys.stdout.flush()
