"""How `--help` reads: `ASSET AMOUNT` and `--since TIME` instead of `{asset}` and `<str>`, and command
summaries that are wrapped, never cut with "...".

`Typer` here is typer.Typer whose groups and commands use the two classes below; app.py builds every
command with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import typer
from typer._click import Context, Parameter
from typer.core import TyperArgument, TyperGroup

from marginctl.cli.arguments import NumberFriendlyCommand


def _name_metavars(params: Sequence[Parameter]) -> None:
    """A parameter without a metavar is shown by its name in capitals (asset → ASSET, --kind KIND)."""
    for param in params:
        takes_value = isinstance(param, TyperArgument) or not getattr(param, "is_flag", False)
        if param.metavar is None and takes_value and param.name:
            param.metavar = param.name.upper()


#: Longer than any first sentence: the command list shows it whole and wraps it, instead of cutting it.
_SUMMARY_LIMIT = 10_000


class Command(NumberFriendlyCommand):
    """Every command: help as above, and `-5` read as an argument (see arguments.py)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_metavars(self.params)

    def get_short_help_str(self, limit: int = 45) -> str:
        return super().get_short_help_str(limit=_SUMMARY_LIMIT)

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        """`ASSET AMOUNT`, `[QUANTITY]`, `FILE...`: arguments by their metavar, optional ones in brackets."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if not isinstance(param, TyperArgument):
                pieces.extend(param.get_usage_pieces(ctx))
                continue
            piece = str(param.metavar) + ("..." if param.nargs != 1 else "")
            pieces.append(piece if param.required else f"[{piece}]")
        return pieces


class Group(TyperGroup):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _name_metavars(self.params)

    def resolve_command(self, ctx: Context, args: list[str]) -> tuple[str | None, Any, list[str]]:
        """A command named by two words (`trade oco`) is found before the one-word command (`trade`)."""
        if len(args) >= 2:
            two_words = f"{args[0]} {args[1]}"
            command = self.get_command(ctx, two_words)
            if command is not None:
                return two_words, command, args[2:]
        return super().resolve_command(ctx, args)

    def get_short_help_str(self, limit: int = 45) -> str:
        return super().get_short_help_str(limit=_SUMMARY_LIMIT)


class Typer(typer.Typer):
    def __init__(self, **settings: Any) -> None:
        super().__init__(cls=Group, **settings)

    def command(self, *args: Any, **settings: Any) -> Any:
        settings.setdefault("cls", Command)
        return super().command(*args, **settings)
