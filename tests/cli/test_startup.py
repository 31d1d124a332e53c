"""Structural checks of what a command imports (timings live in benchmarks/, never here)."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys

import pytest

from marginctl.cli import fast
from tests.conftest import Result

HEAVY = ("sqlalchemy", "sqlalchemy.orm", "alembic", "pydantic", "pydantic_settings", "rich")


def _modules_after(arguments: list[str], env_db: str) -> set[str]:
    script = (
        "import sys\n"
        f"sys.argv = ['marginctl', *{arguments!r}]\n"
        "from marginctl.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"MARGINCTL_DB": env_db, "PATH": "/usr/bin:/bin", "HOME": str(__import__("pathlib").Path(env_db).parent)},
        check=False,
    )
    return set(completed.stderr.split())


def test_help_imports_no_orm_alembic_pydantic_or_rich(tmp_path) -> None:
    loaded = _modules_after(["--help"], str(tmp_path / "w.db"))
    assert "marginctl.cli" in loaded
    assert not loaded.intersection(HEAVY), loaded.intersection(HEAVY)


def test_status_json_on_an_existing_wallet_imports_none_of_the_heavy_modules(tmp_path) -> None:
    db = str(tmp_path / "w.db")
    _modules_after(["deposit", "USDT", "1", "--json"], db)  # creates the wallet (runs Alembic once)
    _modules_after(["status", "--json"], db)  # validates and caches the config once
    loaded = _modules_after(["status", "--json"], db)
    assert "marginctl.services.status" in loaded
    assert not loaded.intersection(HEAVY), loaded.intersection(HEAVY)


def test_status_and_deposit_import_no_typer(tmp_path) -> None:
    """The two commands a script runs most start without Typer (fast.py): it is half of their start."""
    db = str(tmp_path / "w.db")
    deposit = _modules_after(["deposit", "USDT", "1", "--json"], db)
    _modules_after(["status", "--json"], db)  # validates and caches the config once
    status = _modules_after(["status", "--all", "--check", "--json"], db)
    for loaded in (deposit, status):
        assert "marginctl.cli.fast" in loaded
        assert not {name for name in loaded if name.split(".")[0] == "typer"}


def test_help_and_other_commands_still_go_through_typer(tmp_path) -> None:
    loaded = _modules_after(["--help"], str(tmp_path / "w.db"))
    assert "typer" in loaded and "marginctl.cli.app" in loaded


@pytest.mark.parametrize(
    "arguments",
    [
        ["status", "--json"],
        ["status"],
        ["--db", "x.db", "status", "--all", "--check", "--json"],
        ["--db=x.db", "--now", "2026-01-05T10:00:00Z", "status", "--isolated", "BTC/USDT"],
        ["--account", "bob", "--config", "c.toml", "status", "--isolated=BTC/USDT", "--json"],
        ["deposit", "USDT", "1"],
        ["deposit", "--json", "USDT", "1", "--client-id", "a1"],
        ["deposit", "USDT", "--client-id=a1", "1"],
        ["accrue"],
        ["accrue", "--until", "2026-06-01T01:00:00Z", "--json"],
        ["--now", "2026-06-01T00:01:00Z", "price", "set", "BTC/USDT", "59000", "--json"],
        ["price", "set", "BTCUSDT", "60000.5", "--at=2026-06-01T00:00:00Z", "--client-id", "p1"],
    ],
)
def test_the_plain_forms_of_status_and_deposit_are_taken_without_typer(arguments: list[str]) -> None:
    assert fast.parse(arguments, {}) is not None


@pytest.mark.parametrize(
    "arguments",
    [
        [],
        ["--help"],
        ["--version"],
        ["status", "--help"],
        ["status", "-h"],
        ["status", "extra"],
        ["status", "--jsn"],
        ["status", "--json", "--json"],
        ["status", "--isolated"],
        ["status", "--isolated", "--json"],
        ["status", "--isolated="],
        ["status", "--isolated", "BTC/USDT", "--isolated", "ETH/USDT"],
        ["status", "--json=1"],
        ["status", "--", "--json"],
        ["--db", "status"],
        ["--db=", "status"],
        ["--db", "a.db", "--db", "b.db", "status"],
        ["--json", "status"],
        ["deposit", "USDT"],
        ["deposit", "USDT", "1", "2"],
        ["deposit", "USDT", "-5"],
        ["deposit", "USDT", "-"],
        ["deposit", "USDT", "1", "--client-id"],
        ["deposit", "USDT", "1", "--isolated", "BTC/USDT"],
        ["withdraw", "USDT", "1"],
        ["stat", "--json"],
        ["accrue", "--until"],
        ["accrue", "now"],
        ["price"],
        ["price", "set", "BTC/USDT"],
        ["price", "set", "BTC/USDT", "-1"],
        ["price", "--json", "set", "BTC/USDT", "1"],
        ["price", "show", "BTC/USDT"],
        ["price", "set", "--help"],
        ["set", "BTC/USDT", "1"],
    ],
)
def test_anything_else_is_left_to_typer(arguments: list[str]) -> None:
    """Help, typos and missing or extra arguments get Typer's own messages and exit codes."""
    assert fast.parse(arguments, {}) is None


def test_a_shell_asking_for_completions_is_left_to_typer() -> None:
    assert fast.parse(["status", "--json"], {"_MARGINCTL_COMPLETE": "bash_complete"}) is None


def test_the_fast_grammar_is_the_typer_commands_own() -> None:
    """Every option of `status` and `deposit` (and the global ones with their variables) as app.py declares them."""
    import typer.main

    from marginctl.cli.app import app

    group = typer.main.get_command(app)
    global_options = {
        param.opts[0]: (param.name, param.envvar) for param in group.params if param.opts[0] != "--version"
    }
    assert global_options == {name: spec for name, spec in fast.GLOBAL_OPTIONS.items()}
    assert set(fast.COMMANDS) == {"status", "deposit", "accrue", "price set"}
    for name, grammar in fast.COMMANDS.items():
        command = group
        for word in name.split():
            command = command.commands[word]  # type: ignore[attr-defined]
        arguments = tuple(param.name for param in command.params if param.param_type_name == "argument")
        options = {
            param.opts[0]: param.name
            for param in command.params
            if param.param_type_name == "option" and not param.is_flag  # type: ignore[attr-defined]
        }
        flags = {
            param.opts[0]: param.name
            for param in command.params
            if param.param_type_name == "option" and param.is_flag  # type: ignore[attr-defined]
        }
        assert all(len(param.opts) == 1 and not param.secondary_opts for param in command.params)
        assert (arguments, options, flags) == (grammar.arguments, grammar.options, grammar.flags)


#: Command lines run through both doors on twin wallets: same exit code, same stdout, same stderr.
TWIN_RUNS = [
    ["deposit", "USDT", "1000", "--json"],
    ["deposit", "USDT", "250.5"],
    ["deposit", "--json", "USDT", "abc"],
    ["deposit", "DOGE", "1"],
    ["deposit", "USDT", "1", "--client-id", "first", "--json"],
    ["deposit", "USDT", "1", "--client-id", "first"],
    ["deposit", "USDT", "2", "--client-id", "first", "--json"],
    ["deposit", "USDT", "1", "--client-id", "has space", "--json"],
    ["status", "--json"],
    ["status"],
    ["status", "--all", "--json"],
    ["status", "--all", "--check"],
    ["status", "--isolated", "BTC/USDT", "--json"],
    ["status", "--isolated", "NOPE/USDT", "--json"],
    ["status", "--isolated", "BTC/USDT", "--all", "--json"],
    ["--account", "nobody", "status", "--json"],
    ["--account", "Bad Name", "deposit", "USDT", "1", "--json"],
    ["price", "set", "BTC/USDT", "60000", "--json"],
    ["price", "set", "BTCUSDT", "60000.5"],
    ["price", "set", "BTC/USDT", "abc", "--json"],
    ["price", "set", "NOPE/USDT", "1"],
    ["price", "set", "BTC/USDT", "60001", "--at", "2026-01-05T09:00:00Z", "--json"],
    ["accrue", "--json"],
    ["accrue", "--until", "2026-01-05T09:00:00Z"],
    ["accrue", "--until", "yesterday", "--json"],
]


def test_both_doors_answer_alike(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast door and the Typer door, on two wallets given the same commands, print the same bytes."""
    from marginctl.cli import app as typer_door

    monkeypatch.setenv("COLUMNS", "100")
    outputs: dict[str, list[Result]] = {}
    for door, entry in (("fast", fast.main), ("typer", typer_door.main)):
        monkeypatch.setenv("MARGINCTL_DB", str(tmp_path / f"{door}.db"))
        monkeypatch.setenv("MARGINCTL_NOW", "2026-01-05T10:00:00Z")
        outputs[door] = [_run_in_process(entry, arguments) for arguments in TWIN_RUNS]
    assert all(fast.parse(arguments, {}) is not None for arguments in TWIN_RUNS)
    for arguments, by_fast, by_typer in zip(TWIN_RUNS, outputs["fast"], outputs["typer"], strict=True):
        assert by_fast == by_typer, arguments
    # deposits; a bad amount and an unknown asset (2); a client id, its replay, the id reused for another
    # amount (3), a bad id (2); four statuses; an unknown pair, --isolated with --all, an unknown account
    # and a bad account name (2)
    # two prices; a bad price and an unknown pair (2); a price dated before the wallet's last event (2: the
    # clock may not run backwards); accrue; accrue up to that earlier time (2, as well); a bad time (2)
    codes = [result.code for result in outputs["fast"]]
    assert codes[:17] == [0, 0, 2, 2, 0, 0, 3, 2, 0, 0, 0, 0, 0, 2, 2, 2, 2]
    assert codes[17:] == [0, 0, 2, 2, 2, 0, 2, 2]
    assert "was already used" in outputs["fast"][5].err


def _run_in_process(entry, arguments: list[str]) -> Result:  # type: ignore[no-untyped-def]
    out, err = io.StringIO(), io.StringIO()
    old_argv = sys.argv
    sys.argv = ["marginctl", *arguments]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                entry()
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else 1
    finally:
        sys.argv = old_argv
    return Result(code, out.getvalue().replace("typer.db", "fast.db"), err.getvalue().replace("typer.db", "fast.db"))
