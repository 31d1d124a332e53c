"""Where results and errors go: JSON on stdout for scripts, one `error:` line on stderr, stable exit codes."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from marginctl.domain.errors import InvalidInput, MarginctlError, Refused
from marginctl.domain.secrets import mask_secrets

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_MARGIN_CALL = 4
EXIT_AUDIT_FAILED = 5
#: Ctrl-C, by the shell's convention (128 + SIGINT).
EXIT_INTERRUPTED = 130

#: The width for layout when stdout is not a terminal and $COLUMNS is not set.
PIPE_WIDTH = 120


class Interrupted(MarginctlError):
    """Ctrl-C at a prompt: nothing was changed (exit 130)."""

    code = "interrupted"


#: The one table from error families to exit codes (CLI.md).
EXIT_CODES: tuple[tuple[type[MarginctlError], int], ...] = (
    (InvalidInput, EXIT_USAGE),
    (Refused, EXIT_REFUSED),
    (Interrupted, EXIT_INTERRUPTED),
)


def exit_code_for(error: MarginctlError) -> int:
    for family, code in EXIT_CODES:
        if isinstance(error, family):
            return code
    return EXIT_INTERNAL


def screen_width() -> int:
    """Columns to lay text out in: $COLUMNS if set, else the terminal's width, else (piped) 120."""
    return _screen_size("COLUMNS", 0, PIPE_WIDTH)


def screen_height(piped: int) -> int:
    """Lines to lay a frame or a chart out in: $LINES if set, else the terminal's height, else `piped`."""
    return _screen_size("LINES", 1, piped)


def _screen_size(variable: str, index: int, piped: int) -> int:
    value = os.environ.get(variable, "")
    if value.isascii() and value.isdigit() and int(value) > 0:
        return int(value)
    if sys.stdout.isatty():
        import shutil

        return shutil.get_terminal_size()[index]
    return piped


def wrap_text(text: str) -> str:
    """Each line of `text` wrapped at spaces to the screen width; a word or number is never split."""
    import textwrap

    width = screen_width()
    return "\n".join(
        textwrap.fill(line, width=width, break_long_words=False, break_on_hyphens=False) if line else ""
        for line in text.split("\n")
    )


def print_json(document: Any) -> None:
    """One document: indented for a person at a terminal, else on one line (JSON Lines, e.g. a cron log)."""
    sys.stdout.write(json.dumps(document, indent=2 if sys.stdout.isatty() else None) + "\n")


def one_line(text: str) -> str:
    """Errors are one line, whatever a user typed into a name or memo; never with a password in it."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in mask_secrets(text).replace("\n", " "))
    return cleaned if len(cleaned) <= 400 else cleaned[:400] + "…"


def report_error(code: str, message: str, as_json: bool) -> None:
    if as_json:
        sys.stderr.write(json.dumps({"error": {"code": code, "message": one_line(message)}}) + "\n")
    else:
        sys.stderr.write(f"error: {one_line(message)}\n")


def report_internal_error(error: BaseException, as_json: bool) -> int:
    """A bug: a short message, the traceback only with MARGINCTL_DEBUG=1."""
    if os.environ.get("MARGINCTL_DEBUG") == "1":
        import traceback

        sys.stderr.write(mask_secrets("".join(traceback.format_exception(error))))
    message = f"internal error ({type(error).__name__}: {error}); run with MARGINCTL_DEBUG=1 for details"
    report_error("internal_error", message, as_json)
    return EXIT_INTERNAL


def report_risk(result: Any) -> None:
    """One stderr line per wallet in margin call (yellow) or liquidated (red), after the result; cron mails them."""
    if not isinstance(result, dict):
        return
    sys.stdout.flush()  # after the result, in a terminal and in a log taking both streams alike
    color = sys.stderr.isatty()
    for call in result.get("marginCalls", []):
        line = (
            f"warning: margin call: {call['account']} {call['wallet']} margin level {call['marginLevel']} "
            f"({call['marginLevelStatus']}); liquidation at {call['liquidationLevel']}"
        )
        sys.stderr.write(f"\x1b[33m{line}\x1b[0m\n" if color else line + "\n")
    for liquidation in result.get("liquidations", []):
        line = (
            f"LIQUIDATED: {liquidation['account']} {liquidation['wallet']} at margin level "
            f"{liquidation['marginLevel']}: fee {liquidation['liquidationFee']} {liquidation['asset']}, "
            f"insurance fund paid {liquidation['insurancePayout']}, "
            f"left {liquidation['leftOver']} {liquidation['asset']}"
        )
        sys.stderr.write(f"\x1b[1;31m{line}\x1b[0m\n" if color else line + "\n")
