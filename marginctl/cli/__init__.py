"""The `marginctl` command: parse, call one service, render. Heavy modules load inside commands."""

from marginctl.cli.app import app, main

__all__ = ["app", "main"]
