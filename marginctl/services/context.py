"""What every use case needs: the config, the wallet, the account, the clock; and the write path.

`run_write` is the one door to a balance change: it takes the write lock, answers a repeated client id
with the first result, takes the event time (on the system clock, read only once the lock is held),
refuses a clock that runs backwards or an event time in the future, and records the result in the same
transaction as the change.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from marginctl.config import Config
from marginctl.domain.errors import (
    ClientIdReused,
    ClockBackwards,
    DatabaseBusy,
    InvalidInput,
    MarginctlError,
    TimeInFuture,
    UnknownAccount,
)
from marginctl.domain.ledger import SYSTEM_ACCOUNTS
from marginctl.domain.names import validate_account_name
from marginctl.domain.times import from_storage, to_display, to_storage
from marginctl.store import book, ledger
from marginctl.store.book import LAST_EVENT_KEY
from marginctl.store.database import Database, Row, Transaction

if TYPE_CHECKING:
    from marginctl.domain.rules import RulesVersion

DEFAULT_ACCOUNT = "main"
CONFLICT_RETRIES = 5


@dataclass
class Context:
    #: The config file as read (or the built-in defaults); `config` is it with the wallet's stored rules.
    file_config: Config
    database: Database
    account_name: str = DEFAULT_ACCOUNT
    #: The clock given by --now / MARGINCTL_NOW; None: the system clock, which a write reads only once it
    #: holds the write lock (DESIGN §6).
    now: datetime | None = None
    #: The client id of a write answered with its first run's result (nothing changed); the CLI says so.
    replayed_client_id: str | None = None
    #: A command that writes creates the wallet on its first transaction; a read-only one never does.
    creates_wallet: bool = True
    #: Compare a config file's rules with the wallet's (`config apply` reads its file on its own).
    check_rules: bool = True
    #: The wallet's stored rules, oldest first, once read; [] for a wallet from before stored rules.
    rules_versions: list[RulesVersion] | None = None
    #: The system accounts' ids, once read (they never change).
    system_ids: dict[str, int] | None = None
    _rules: Config | None = None
    _schema_checked: bool = False
    _opened: bool = False
    _open_tried: bool = False

    @property
    def config(self) -> Config:
        """The rules in force at the command's clock: the wallet's stored ones (DESIGN §9)."""
        if self._rules is None:
            from marginctl.services.rules import resolve_rules

            self.open_quickly()
            self._rules = resolve_rules(self)
        return self._rules

    def open_quickly(self) -> None:
        """One round trip for what every command needs first: the schema revision, the wallet's clock (a
        damaged one is refused), its system accounts and its rules. A wallet at this code's revision, seeded
        and with stored rules, is then open; any other (none yet, older, foreign) takes `open_wallet`'s path."""
        if self._open_tried or self._opened:
            return
        self._open_tried = True
        from marginctl.store.migrate import SCHEMA_REVISION

        path = self.database.sqlite_path
        try:
            if path is not None and not (path.is_file() and path.stat().st_size > 0):
                return
        except OSError:
            return  # a name too long, a folder we may not list: `prepare_sqlite_file` says so
        try:
            opening = book.load_opening(self.database, list(SYSTEM_ACCOUNTS))
        except MarginctlError:
            return  # said again, in its place, by the slow path
        if opening is None or opening.revision != SCHEMA_REVISION:
            return
        ledger.check_time_value(LAST_EVENT_KEY, opening.last_event, self.database.shown)
        self._schema_checked = True
        if len(opening.system_ids) != len(SYSTEM_ACCOUNTS) or not opening.rules:
            return
        self.database.use_wal()
        self.rules_versions = book.rules_versions(opening.rules)
        self.system_ids = opening.system_ids
        self._opened = True

    def ensure_schema_checked(self) -> None:
        """The wallet's schema, checked (an older one upgraded) once per command; never creates a wallet."""
        if not self._schema_checked:
            from marginctl.store.migrate import ensure_schema

            ensure_schema(self.database, create=False)
            self._schema_checked = True

    def clock(self) -> datetime:
        """The command's time at this moment: the given clock, else the system clock now."""
        return self.now if self.now is not None else datetime.now(UTC)

    def clock_under_lock(self, tx: Transaction) -> datetime:
        """The time a write records, read once `tx` holds the write lock: the given clock, else PostgreSQL's
        (one clock for every machine sharing the wallet), else the system clock."""
        return self.now if self.now is not None else (ledger.shared_clock(tx) or datetime.now(UTC))

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        with self.transaction(write=False) as tx:
            yield tx

    @contextmanager
    def transaction(self, write: bool) -> Iterator[Transaction]:
        """A transaction on the wallet, opened (created, upgraded, seeded) at the first one.

        Opening waits for the first transaction, after the command has checked its arguments, so a typo
        never creates a wallet.
        """
        if not self._opened:
            self.open_quickly()
        if not self._opened:
            open_wallet(self)
            self._opened = True
        with self.database.transaction(write=write) as tx:
            yield tx


@dataclass
class WriteScope:
    """One write transaction on behalf of one user account."""

    tx: Transaction
    context: Context
    account: Row
    request_id: int | None
    system_ids: dict[str, int]
    at: datetime

    @property
    def account_id(self) -> int:
        return int(self.account["id"])

    @property
    def config(self) -> Config:
        return self.context.config

    last_entry_id: int | None = None

    def post(self, kind: str, postings: list[ledger.Posting], memo: str | None = None) -> int:
        self.last_entry_id = ledger.post_entry(
            self.tx,
            account_id=self.account_id,
            kind=kind,
            at=self.at,
            postings=postings,
            memo=memo,
            request_id=self.request_id,
            user_account_ids=[self.account_id],
        )
        return self.last_entry_id


def open_context(
    db: str | None,
    config_path: str | None,
    account: str | None,
    now: datetime | None,
    write: bool = True,
    check_rules: bool = True,
) -> Context:
    """Load the config and locate the wallet; it is opened at the command's first transaction."""
    from marginctl.config import load_config
    from marginctl.store.database import locate

    config = load_config(config_path)
    account_name = validate_account_name(account or DEFAULT_ACCOUNT)
    return Context(
        file_config=config,
        database=locate(db),
        account_name=account_name,
        now=now,
        creates_wallet=write,
        check_rules=check_rules,
    )


def open_wallet(context: Context) -> None:
    """A write creates (or upgrades) and seeds the wallet; a read never creates one (`no_wallet`)."""
    from marginctl.services.rules import adopt_if_missing, load_versions
    from marginctl.store.migrate import ensure_schema

    try:
        if not context._schema_checked:
            ensure_schema(context.database, create=context.creates_wallet)
            context._schema_checked = True
        seed_if_new(context, context.creates_wallet)
    except BaseException:
        context.database.discard_new_file()
        raise
    if context.rules_versions is None:
        with context.database.transaction(write=False) as tx:
            context.rules_versions = load_versions(tx)
    if not context.rules_versions and context.creates_wallet:
        adopt_if_missing(context)
    context.config  # noqa: B018  (a config file's rules are compared before anything changes)


def seed_if_new(context: Context, write: bool = True) -> None:
    """System accounts and the lending pool and insurance fund's starting funds, from the config.

    A wallet exists once its first write seeded it; before that a read finds `no_wallet`.
    """
    from marginctl.store.ledger import Posting, check_time_meta, create_account, post_entry

    with context.database.transaction(write=False) as tx:
        check_time_meta(tx, LAST_EVENT_KEY, context.database.shown)
        if ledger.is_seeded(tx):
            return
    if not write:
        raise context.database.no_wallet()
    with context.database.transaction(write=True) as tx:
        if ledger.is_seeded(tx):
            return
        now = context.clock_under_lock(tx)
        ids = {name: create_account(tx, name, is_system=True, at=now) for name in SYSTEM_ACCOUNTS}
        from marginctl.services.rules import store_created

        store_created(tx, context, now)
        for holder, funds in (
            ("lending-pool", context.file_config.lending_pool),
            ("insurance-fund", context.file_config.insurance_fund),
        ):
            for asset, amount in sorted(funds.items()):
                if amount == 0:
                    continue
                post_entry(
                    tx,
                    account_id=ids[holder],
                    kind="seed",
                    at=now,
                    memo=f"{holder} starting funds from the config",
                    postings=[
                        Posting(ids["external"], "spot", asset, "free", -amount),
                        Posting(ids[holder], "spot", asset, "free", amount),
                    ],
                )


def lookup_account(tx: Transaction, context: Context) -> Row | None:
    """The command's user account; `main` exists implicitly until first written."""
    return _checked_account(ledger.find_account(tx, context.account_name), context)


def validate_client_id(client_id: str | None) -> str | None:
    if client_id is None:
        return None
    if not 1 <= len(client_id) <= 64 or not all(ch.isprintable() and not ch.isspace() for ch in client_id):
        raise InvalidInput("--client-id must be 1-64 printable characters without spaces")
    return client_id


def run_write(
    context: Context,
    command: str,
    arguments: dict[str, Any],
    client_id: str | None,
    action: Callable[[WriteScope], Any],
    *,
    at: datetime | None = None,
    catch_up: bool = True,
    market_data: bool = False,
) -> Any:
    """Run `action` in one write transaction, idempotently when a client id is given.

    `at` is an event time the user gave (`--at`, `--until`), or with `market_data` a replay's first
    candle; without it the write happens at the command's clock (see `take_event_time`). A repeated
    client id is answered with the first run's stored result, marked `"replayed": true`.

    On PostgreSQL a transaction the server aborted (serialization failure, deadlock) is run again, a
    bounded number of times; nothing of an aborted attempt remains.
    """
    from marginctl.store.database import TransactionConflict

    client_id = validate_client_id(client_id)
    if at is not None and not market_data:
        refuse_future_time(at, context.clock())
    fingerprint = json.dumps({"command": command, **arguments}, sort_keys=True, default=str)
    for attempt in range(CONFLICT_RETRIES):
        try:
            return _write_once(context, command, fingerprint, client_id, action, at, catch_up)
        except TransactionConflict:
            time.sleep(0.05 * (attempt + 1))
    raise DatabaseBusy(f"the wallet {context.database.shown} stayed too busy; try again")


def _write_once(
    context: Context,
    command: str,
    fingerprint: str,
    client_id: str | None,
    action: Callable[[WriteScope], Any],
    at: datetime | None,
    catch_up: bool,
) -> Any:
    """Load (one round trip, under the write lock), decide, write: the writes and the COMMIT go together."""
    with context.transaction(write=True) as tx:
        loaded = book.load_write(
            tx,
            context.account_name,
            client_id,
            server_clock=context.now is None and tx.dialect == "postgresql",
            system_names=None if context.system_ids is not None else list(SYSTEM_ACCOUNTS),
        )
        if context.system_ids is None:
            context.system_ids = loaded.system_ids
        account = _checked_account(loaded.account, context)
        if loaded.request is not None:
            previous = loaded.request
            if previous["fingerprint"] != fingerprint:
                raise ClientIdReused(f"client id {client_id!r} was used for a different {previous['command']} request")
            context.replayed_client_id = client_id
            return _marked_replayed(json.loads(previous["result"]))
        if at is None:
            event_time = context.now if context.now is not None else (loaded.server_clock or datetime.now(UTC))
            _refuse_backwards(loaded.last_event, event_time, system_clock=context.now is None)
        else:
            event_time = at
            _refuse_backwards(loaded.last_event, event_time)
        ledger.set_meta(tx, LAST_EVENT_KEY, to_storage(event_time))
        if account is None:
            account_id = ledger.create_account(tx, context.account_name, is_system=False, at=event_time)
            account = {
                "id": account_id,
                "name": context.account_name,
                "is_system": False,
                "created_at": to_storage(event_time),
                "agreement_accepted_at": None,
                "cooling_off_until": None,
            }
        if catch_up and loaded.loans_due(event_time):
            from marginctl.services.catch_up import catch_up_account

            # Interest hours this account's loans have passed are charged before anything changes them.
            catch_up_account(tx, context.config, int(account["id"]), event_time)
        request_id = None
        if client_id is not None:
            request_id = ledger.start_request(tx, int(account["id"]), client_id, command, fingerprint, event_time)
        scope = WriteScope(
            tx=tx,
            context=context,
            account=account,
            request_id=request_id,
            system_ids=dict(context.system_ids),
            at=event_time,
        )
        result = action(scope)
        if request_id is not None:
            ledger.finish_request(tx, request_id, result)
        return result


def _checked_account(account: Row | None, context: Context) -> Row | None:
    """The command's user account as loaded; `main` exists implicitly until first written."""
    if account is not None and account["is_system"]:
        raise UnknownAccount(f"{context.account_name!r} is a system account; choose a user account")
    if account is None and context.account_name != DEFAULT_ACCOUNT:
        raise UnknownAccount(
            f"no account {context.account_name!r} in this wallet; "
            f"create it with: marginctl accounts create {context.account_name}"
        )
    return account


def _marked_replayed(result: Any) -> Any:
    """A stored result as a repeat returns it: each document says it is the first run's (nothing changed)."""
    if isinstance(result, dict):
        return {**result, "replayed": True}
    if isinstance(result, list):
        return [_marked_replayed(item) for item in result]
    return result


def take_event_time(tx: Transaction, context: Context, at: datetime | None = None) -> datetime:
    """A write's event time, taken once `tx` holds the write lock, with the wallet's clock moved to it.

    On the system clock the time is read here, under the lock: every writer before this one has committed
    and read its time earlier, so writers that queue never refuse each other (DESIGN §6). On PostgreSQL the
    server's clock is read, so machines sharing the wallet agree on one clock. A given event time (`--at`,
    `--until`, a replay's first candle) is taken as it is; run_write has refused one in the future.
    """
    if at is None:
        clock = context.clock_under_lock(tx)
        advance_clock(tx, clock, system_clock=context.now is None)
        return clock
    advance_clock(tx, at)
    return at


def refuse_future_time(at: datetime, clock: datetime) -> None:
    """A given event time (`--at`, `--until`) later than the command's clock would hold back every later write
    on the real clock. Checked before the wallet is opened (a refused command creates none); the clock only
    moves forward, so a time refused now would be refused under the lock too."""
    if at > clock:
        raise TimeInFuture(
            f"time {to_display(at)} is in the future: the clock says {to_display(clock)}; give a time at or before it"
        )


def wallet_clock(tx: Transaction) -> datetime | None:
    """The time of the wallet's last event (None: a wallet with none yet)."""
    last = ledger.get_meta(tx, LAST_EVENT_KEY)
    return from_storage(last) if last is not None else None


def advance_clock(tx: Transaction, moment: datetime, *, system_clock: bool = False) -> None:
    """A ledger's time never runs backwards (CLI.md `--now`)."""
    _refuse_backwards(ledger.get_meta(tx, LAST_EVENT_KEY), moment, system_clock=system_clock)
    ledger.set_meta(tx, LAST_EVENT_KEY, to_storage(moment))


def _refuse_backwards(last: str | None, moment: datetime, *, system_clock: bool = False) -> None:
    if last is not None and to_storage(moment) < last:
        shown_last = to_display(from_storage(last))
        if system_clock:
            raise ClockBackwards(
                f"the system clock ({to_display(moment)}) is before the wallet's last event at {shown_last} "
                "(recorded with a later --now, or the clock was set back); use --now at or after that time"
            )
        raise ClockBackwards(f"time {to_display(moment)} is before the wallet's last event at {shown_last}")


def refuse_while_cooling_off(scope: WriteScope, what: str) -> None:
    """Cooling-off blocks new margin exposure; unwinding (repay, cancel, transfer out) stays allowed."""
    from marginctl.domain.errors import CoolingOffActive

    until = scope.account["cooling_off_until"]
    if until and to_storage(scope.at) <= until:
        raise CoolingOffActive(f"cooling-off is active until {to_display(from_storage(until))}: {what} is blocked")
