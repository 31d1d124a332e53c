"""The `marginctl` command: parse, call one service, render. Heavy modules load inside commands.

`main` is fast.py's: it runs `status` and `deposit` without importing Typer and hands every other
command line to the Typer app (`marginctl.cli.app.app`), imported only then.
"""

from marginctl.cli.fast import main

__all__ = ["main"]
