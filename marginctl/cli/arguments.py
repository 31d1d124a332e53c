"""How a command line is split: a token like `-5` or `-0.1` is an argument, not an unknown option.

Click reads every token that starts with `-` as an option, so `deposit USDT -5` said "No such option: -5"
instead of the amount's own error. Like argparse (when no option looks like a negative number), a `-`
followed by a digit or a point is kept as an argument; no option of marginctl starts that way, and a
misspelt option (`--jsno`) is still "No such option" with the nearest match.
"""

from __future__ import annotations

from typing import Any

from typer._click.parser import _OptionParser, _ParsingState
from typer.core import TyperCommand


def looks_like_a_number(token: str) -> bool:
    return len(token) > 1 and token[0] == "-" and token[1] in "0123456789."


class _NumbersAsArguments(_OptionParser):
    def _process_opts(self, arg: str, state: _ParsingState) -> None:
        if looks_like_a_number(arg):
            state.largs.append(arg)
            return
        super()._process_opts(arg, state)


class NumberFriendlyCommand(TyperCommand):
    """A Typer command whose parser keeps number-like tokens (`-5`, `-0.1`, `-1e3`) as arguments."""

    def make_parser(self, ctx: Any) -> _OptionParser:
        parser = _NumbersAsArguments(ctx)
        for param in self.get_params(ctx):
            param.add_to_parser(parser, ctx)
        return parser
