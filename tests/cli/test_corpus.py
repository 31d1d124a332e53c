"""The bad-input corpus (tests/corpus/*.toml): every case is one error line, its exit code, and no change.

Each case runs twice on a fresh wallet, in-process: with `--json` (stderr is one JSON object with the case's
error code) and without (stderr is one `error: …` line). Stdout stays empty, nothing prints a traceback, and
the wallet file (or the foreign file given as `--db`) is byte-identical afterwards.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import json
import os
import re
import shutil
import sqlite3
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Result, run_cli

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
#: cases.toml and every other file beside it (one file per family of cases), in name order.
CASES: list[dict[str, Any]] = [
    case for file in sorted(CORPUS.glob("*.toml")) for case in tomllib.loads(file.read_text(encoding="utf-8"))["case"]
]

CASE_KEYS = {"name", "args", "exit", "code", "config", "db", "setup", "files", "human", "bug"}
DB_KINDS = {
    "truncated",
    "png",
    "text",
    "directory",
    "foreign_sqlite",
    "newer_schema",
    "read_only",
    "missing_folder",
    "bad_meta",
}
LONG = 10 * 1024
_PLACEHOLDER = re.compile(r"\{dir\}|\{10k:([^}]+)\}")


def expand(text: str, folder: Path) -> str:
    """`{dir}` is the test's folder; `{10k:X}` is X repeated to 10 KiB."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return str(folder)
        unit = match.group(1)
        return (unit * (LONG // len(unit) + 1))[:LONG]

    return _PLACEHOLDER.sub(replace, text)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(path: Path) -> dict[str, Any]:
    """What must not change: the file and its -wal (when present); a folder's listing; or its absence."""
    if path.is_dir():
        return {"folder": sorted(os.listdir(path))}
    if not path.exists():
        return {"missing": str(path), "parent exists": path.parent.exists()}
    state = {"file": sha256(path)}
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        state["wal"] = sha256(wal)
    return state


def settled_snapshot(path: Path, before: dict[str, Any]) -> dict[str, Any]:
    """The snapshot after a run.

    A write-ahead log that was not there before may appear when a failed command leaves its connection
    open (it is closed at exit); it must hold nothing: a committed or pending write would be in it.
    """
    after = snapshot(path)
    wal = path.with_name(path.name + "-wal")
    if "wal" not in before and "wal" in after and wal.stat().st_size == 0:
        del after["wal"]
    return after


# ---------------------------------------------------------------------------------------------------------
# Wallets


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wallet made by `deposit USDT 100 --json`; each case gets a byte copy (creating one costs ~0.5 s)."""
    folder = tmp_path_factory.mktemp("corpus-template")
    with pytest.MonkeyPatch.context() as patch:  # the autouse isolation fixture is per test, this runs before
        for name in ("MARGINCTL_DB", "MARGINCTL_CONFIG", "MARGINCTL_ACCOUNT", "MARGINCTL_NOW", "MARGINCTL_DEBUG"):
            patch.delenv(name, raising=False)
        for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            patch.setenv(name, str(folder / name.lower()))
        wallet = folder / "wallet.db"
        result = run_cli(["--db", str(wallet), "deposit", "USDT", "100", "--json"])
        assert result.code == 0, result
    gc.collect()
    assert not wallet.with_name("wallet.db-wal").exists(), "the template must be checkpointed"
    return wallet


def fresh_wallet(template: Path, folder: Path) -> Path:
    wallet = folder / "wallet.db"
    shutil.copyfile(template, wallet)
    return wallet


def made_under(wallet: Path, config: Path) -> None:
    """The copied wallet as if it had been created under the case's config: its stored rules are the
    config's, so a case about the config's names meets them, not `rules_differ` (a config that does
    not load keeps the template's rules: its case expects the config's own error)."""
    from marginctl.config import canonical_json, load_config, rules_document
    from marginctl.domain.errors import ConfigError

    try:
        document = rules_document(load_config(config))
    except ConfigError:
        return
    connection = sqlite3.connect(wallet)
    connection.execute("UPDATE wallet_rules SET document = ?", (canonical_json(document),))
    connection.commit()
    connection.close()


def edited_wallet(template: Path, folder: Path, sql: str) -> Path:
    """A real wallet with one statement run on it behind marginctl's back (a damaged or foreign wallet)."""
    wallet = fresh_wallet(template, folder)
    connection = sqlite3.connect(wallet)
    connection.execute(sql)
    connection.commit()
    connection.close()
    return wallet


def build_db(kind: str, template: Path, folder: Path) -> Path:
    """The `--db` target of a database case."""
    if kind == "truncated":
        wallet = fresh_wallet(template, folder)
        data = wallet.read_bytes()
        wallet.write_bytes(data[: len(data) // 2])
        return wallet
    if kind == "png":
        target = folder / "picture.png"
        target.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
        return target
    if kind == "text":
        target = folder / "notes.txt"
        target.write_text("shopping list\n- milk\n- bread\n", encoding="utf-8")
        return target
    if kind == "directory":
        target = folder / "empty-folder"
        target.mkdir()
        return target
    if kind == "foreign_sqlite":
        target = folder / "other-program.db"
        connection = sqlite3.connect(target)
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        connection.execute("INSERT INTO notes (body) VALUES ('not a wallet')")
        connection.commit()
        connection.close()
        return target
    if kind == "newer_schema":
        return edited_wallet(template, folder, "UPDATE alembic_version SET version_num = '9999'")
    if kind == "read_only":
        wallet = fresh_wallet(template, folder)
        wallet.chmod(0o444)
        return wallet
    if kind == "missing_folder":
        return folder / "no-such-folder" / "wallet.db"
    if kind == "bad_meta":
        return edited_wallet(template, folder, "UPDATE meta SET value = 'garbage' WHERE key = 'last_event_at'")
    raise AssertionError(f"unknown db kind {kind!r}")


# ---------------------------------------------------------------------------------------------------------
# Root and read-only files

_CAPABILITY_VERSION_3 = 0x20080522
#: CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER: what lets root ignore a file's mode.
_FILE_MODE_OVERRIDES = (1 << 1) | (1 << 2) | (1 << 3)


class _CapHeader(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _CapData(ctypes.Structure):
    _fields_ = (("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32))


@contextmanager
def file_modes_enforced(probe: Path) -> Iterator[None]:
    """Make a 0444 file read-only for this thread even as root: drop the effective DAC override capabilities.

    They stay in the permitted set and are raised again afterwards. Where that is impossible, skip: root
    ignores a file's mode, so the case would prove nothing.
    """
    if os.geteuid() != 0:
        yield
        return
    reason = "running as root, and CAP_DAC_OVERRIDE cannot be dropped here: a 0444 file does not stop root's writes"
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        capget, capset = libc.capget, libc.capset
    except (OSError, AttributeError):
        pytest.skip(reason)
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    saved = (_CapData * 2)()
    if capget(ctypes.byref(header), saved) != 0:
        pytest.skip(reason)
    lowered = (_CapData * 2)()
    ctypes.memmove(lowered, saved, ctypes.sizeof(saved))
    lowered[0].effective &= ~_FILE_MODE_OVERRIDES
    if capset(ctypes.byref(_CapHeader(_CAPABILITY_VERSION_3, 0)), lowered) != 0:
        pytest.skip(reason)
    try:
        try:
            probe.open("r+b").close()
        except PermissionError:
            pass
        else:
            pytest.skip(reason)
        yield
    finally:
        assert capset(ctypes.byref(_CapHeader(_CAPABILITY_VERSION_3, 0)), saved) == 0


# ---------------------------------------------------------------------------------------------------------
# Running a case


@dataclass
class Prepared:
    target: Path
    config: Path | None
    args: list[str]


def prepare(case: dict[str, Any], template: Path, folder: Path) -> Prepared:
    for name, content in case.get("files", {}).items():
        (folder / expand(name, folder)).write_text(expand(content, folder), encoding="utf-8")
    config = None
    if "config" in case:
        config = folder / "config.toml"
        config.write_text(expand(case["config"], folder), encoding="utf-8")
    if "db" in case:
        target = build_db(case["db"], template, folder)
    else:
        target = fresh_wallet(template, folder)
        if config is not None:
            made_under(target, config)
        for step in case.get("setup", []):
            result = run_cli(["--db", str(target), *(expand(argument, folder) for argument in step), "--json"])
            assert result.code == 0, (step, result)
    return Prepared(target, config, [expand(argument, folder) for argument in case["args"]])


def run_case(case: dict[str, Any], prepared: Prepared, as_json: bool) -> Result:
    options = ["--db", str(prepared.target)]
    if prepared.config is not None:
        options += ["--config", str(prepared.config)]
    args = list(prepared.args)
    if as_json:
        # Before a `--`, so that it stays an option.
        args.insert(args.index("--") if "--" in args else len(args), "--json")
    if case.get("db") == "read_only":
        with file_modes_enforced(prepared.target):
            return run_cli([*options, *args])
    return run_cli([*options, *args])


def one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def params(human: bool) -> list[Any]:
    chosen = []
    for case in CASES:
        if human and not case.get("human", True):
            continue
        marks = [pytest.mark.xfail(raises=AssertionError, strict=True, reason=case["bug"])] if "bug" in case else []
        chosen.append(pytest.param(case, id=case["name"], marks=marks))
    return chosen


@pytest.mark.parametrize("case", params(human=False))
def test_case_with_json(case: dict[str, Any], template: Path, tmp_path: Path) -> None:
    prepared = prepare(case, template, tmp_path)
    before = snapshot(prepared.target)

    result = run_case(case, prepared, as_json=True)

    assert "Traceback" not in result.out + result.err
    assert result.out == ""
    document = json.loads(one_line(result.err))
    assert list(document) == ["error"], document
    assert set(document["error"]) == {"code", "message"}, document
    assert document["error"]["message"], document
    assert (result.code, document["error"]["code"]) == (case["exit"], case["code"]), document
    assert settled_snapshot(prepared.target, before) == before


@pytest.mark.parametrize("case", params(human=True))
def test_case_for_people(case: dict[str, Any], template: Path, tmp_path: Path) -> None:
    prepared = prepare(case, template, tmp_path)
    before = snapshot(prepared.target)

    result = run_case(case, prepared, as_json=False)

    assert "Traceback" not in result.out + result.err
    assert result.out == ""
    assert one_line(result.err).startswith("error: "), result.err
    assert result.code == case["exit"], result.err
    assert settled_snapshot(prepared.target, before) == before


def test_the_corpus_is_large_and_well_formed() -> None:
    assert len(CASES) >= 110
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    for case in CASES:
        assert set(case) <= CASE_KEYS, (case["name"], set(case) - CASE_KEYS)
        assert {"name", "args", "exit", "code"} <= set(case), case["name"]
        assert all(isinstance(argument, str) for argument in case["args"]), case["name"]
        assert case["exit"] in (2, 3), case["name"]  # the corpus is bad input and refusals; 1 would be a bug
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", case["code"]), case["name"]
        assert case.get("db", "truncated") in DB_KINDS, case["name"]
        assert not ("db" in case and "setup" in case), case["name"]
