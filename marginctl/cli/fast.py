"""The entry point: `status`, `deposit`, `accrue` and `price set` in their plain forms run without Typer.

Importing Typer (with its vendored Click) is about 3× `python -c pass`, half of `status --json`; cron
runs `accrue`, and a script or a price feed runs the other three most. A command line is taken here only
when every token is one this grammar knows (the options of app.py's commands of the same name, each at most once, with a
plain value); anything else (help, a typo, a missing argument, `-5`, `--`) goes to the Typer app,
which says what is wrong exactly as before. tests/cli/test_startup.py checks that this grammar is the
Typer commands' own.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from marginctl.cli import commands, output
from marginctl.cli.runner import Exit, GlobalOptions


class Grammar:
    """A command's arguments (in order), its options taking a value and its flags, by parameter name."""

    __slots__ = ("arguments", "flags", "options", "run")

    def __init__(
        self, arguments: tuple[str, ...], options: dict[str, str], flags: dict[str, str], run: Callable[..., None]
    ) -> None:
        self.arguments, self.options, self.flags, self.run = arguments, options, flags, run


#: The options before the command, with the variables that stand in for them (as in app.py's callback).
GLOBAL_OPTIONS = {
    "--db": ("db", "MARGINCTL_DB"),
    "--config": ("config", "MARGINCTL_CONFIG"),
    "--account": ("account", "MARGINCTL_ACCOUNT"),
    "--now": ("now", "MARGINCTL_NOW"),
}

COMMANDS = {
    "status": Grammar(
        arguments=(),
        options={"--isolated": "isolated"},
        flags={"--all": "all_wallets", "--check": "check", "--json": "as_json"},
        run=commands.status,
    ),
    "deposit": Grammar(
        arguments=("asset", "amount"),
        options={"--client-id": "client_id"},
        flags={"--json": "as_json"},
        run=commands.deposit,
    ),
    "accrue": Grammar(
        arguments=(),
        options={"--until": "until", "--client-id": "client_id"},
        flags={"--json": "as_json"},
        run=commands.accrue,
    ),
    # A command of a group is named by its words.
    "price set": Grammar(
        arguments=("pair", "price"),
        options={"--at": "at", "--client-id": "client_id"},
        flags={"--json": "as_json"},
        run=commands.price_set,
    ),
}

#: Set by a shell asking Click for completions: that is Typer's to answer.
COMPLETION_VARIABLE = "_MARGINCTL_COMPLETE"


def _plain(value: str) -> bool:
    """A value Click would take as it is: not empty, and not one that could be read as an option."""
    return bool(value) and not value.startswith("-")


def _option(tokens: Sequence[str], index: int, names: Mapping[str, str]) -> tuple[str, str, int] | None:
    """`--name VALUE` or `--name=VALUE` at `index`: (name, value, next index); None if it is neither."""
    name, equals, value = tokens[index].partition("=")
    if name not in names:
        return None
    if not equals:
        if index + 1 >= len(tokens):
            return None
        value = tokens[index + 1]
        index += 1
    return (name, value, index + 1) if _plain(value) else None


def parse(tokens: Sequence[str], environ: Mapping[str, str]) -> Callable[[], None] | None:
    """The command to run for `tokens` (the arguments after `marginctl`), or None: Typer's to parse."""
    if environ.get(COMPLETION_VARIABLE):
        return None
    given: dict[str, str] = {}
    index = 0
    global_names = {name: name for name in GLOBAL_OPTIONS}
    while index < len(tokens) and tokens[index].startswith("-"):
        found = _option(tokens, index, global_names)
        if found is None or found[0] in given:
            return None
        given[found[0]] = found[1]
        index = found[2]
    grammar = None
    for words in (2, 1):
        if grammar is None and index + words <= len(tokens):
            grammar = COMMANDS.get(" ".join(tokens[index : index + words]))
            if grammar is not None:
                index += words - 1
    if grammar is None:
        return None
    options = GlobalOptions(
        **{
            field: given.get(name) or environ.get(variable) or None
            for name, (field, variable) in GLOBAL_OPTIONS.items()
        }
    )
    values: dict[str, Any] = {parameter: None for parameter in grammar.options.values()}
    values.update({parameter: False for parameter in grammar.flags.values()})
    positional: list[str] = []
    seen: set[str] = set()
    index += 1
    while index < len(tokens):
        token = tokens[index]
        if not token.startswith("-"):
            positional.append(token)
            index += 1
        elif token in grammar.flags and token not in seen:
            seen.add(token)
            values[grammar.flags[token]] = True
            index += 1
        else:
            found = _option(tokens, index, grammar.options)
            if found is None or found[0] in seen:
                return None
            seen.add(found[0])
            values[grammar.options[found[0]]] = found[1]
            index = found[2]
    if len(positional) != len(grammar.arguments):
        return None
    values.update(zip(grammar.arguments, positional, strict=True))
    return lambda: grammar.run(options, **values)


def _quiet_broken_pipe() -> None:
    """The reader went away (`| head`): nothing more can be shown, and flushing at exit must not complain."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, AttributeError):
            continue


def main() -> None:
    """Entry point: usage errors become one `error:` line and exit 2, like every other error."""
    tokens = sys.argv[1:]
    command = parse(tokens, os.environ)
    if command is None:
        from marginctl.cli.app import main as typer_main

        typer_main()
        return
    code = output.EXIT_OK
    try:
        command()
    except Exit as stop:
        code = stop.code
    except KeyboardInterrupt:
        code = output.EXIT_INTERRUPTED
    except OSError as error:
        if error.errno != errno.EPIPE:
            code = output.report_internal_error(error, "--json" in tokens)
        else:
            _quiet_broken_pipe()
            code = output.EXIT_INTERNAL
    except Exception as error:
        code = output.report_internal_error(error, "--json" in tokens)
    sys.exit(code)
