"""The database engine and the one write_transaction() every service uses.

SQLite (the embedded default) is tuned for a busy single process: WAL, a busy timeout,
BEGIN IMMEDIATE for writes, one long-lived writer connection taken under an asyncio lock
(so writers in this process queue instead of failing with "database is locked"), and a
small pool of reader connections instead of a fresh connection per statement.
PostgreSQL uses Piccolo's asyncpg pool; row locks come from conditional UPDATEs.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

T = TypeVar("T")

BUSY_TIMEOUT_SECONDS = 30.0
# Readers are bounded: under a rush, more connections only add threads and open/close
# churn; requests queue for a reader instead.
MAX_READERS = 4


class PooledSQLiteTransaction(SQLiteTransaction):
    """A transaction on the engine's shared writer connection, held under its write lock."""

    engine: TunedSQLiteEngine

    async def __aenter__(self) -> PooledSQLiteTransaction:
        if self._parent is not None:
            return self._parent
        await self.engine.write_lock.acquire()
        try:
            self.connection = await self.engine.writer_connection()
            await self.begin()
        except BaseException:
            self.engine.write_lock.release()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        except BaseException:
            # The connection's state is unknown (a failed commit, a cancelled await):
            # drop it so the next writer starts from a clean connection.
            await self.engine.discard_writer()
            raise
        finally:
            self.engine.current_transaction.reset(self.context)
            self.engine.write_lock.release()
        return exception is None


class TunedSQLiteEngine(SQLiteEngine):
    def __init__(self, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        super().__init__(path=path, timeout=BUSY_TIMEOUT_SECONDS)
        self._writer: aiosqlite.Connection | None = None
        self._write_lock: asyncio.Lock | None = None
        self._reader_slots: asyncio.Semaphore | None = None
        self._idle_readers: list[aiosqlite.Connection] = []

    @property
    def write_lock(self) -> asyncio.Lock:
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        return self._write_lock

    async def get_connection(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(**self.connection_kwargs)
        connection.row_factory = dict_factory
        await connection.execute("PRAGMA journal_mode = WAL")
        await connection.execute("PRAGMA synchronous = NORMAL")
        await connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
        await connection.execute("PRAGMA foreign_keys = 1")
        return connection

    async def writer_connection(self) -> aiosqlite.Connection:
        if self._writer is None:
            self._writer = await self.get_connection()
        return self._writer

    async def write_in_thread(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` as one IMMEDIATE transaction on the writer connection, in a single
        hand-off to its thread: BEGIN, the statements and COMMIT run back to back, so the
        write lock is not held across the event loop's turns between statements (under a
        rush, hundreds of requests run between two awaits of one transaction). For hot
        paths only (the signup rush, QUALITY.md B2); `work` must not await anything.

        aiosqlite has no public call for running a function on its thread; `_execute`
        is what its own execute() uses."""
        assert self.current_transaction.get() is None, "not inside a Piccolo transaction"
        async with self.write_lock:
            writer = await self.writer_connection()
            try:
                return await writer._execute(_in_transaction, writer._conn, work)
            except sqlite3.OperationalError:
                # Not a rule refusing the write but the connection failing (a lock not
                # obtained, a full disk): start the next writer on a fresh connection.
                await self.discard_writer()
                raise

    async def discard_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            # Already broken: dropping it is the point, whatever close() says.
            with contextlib.suppress(Exception):
                await writer.close()

    async def close(self) -> None:
        """Close every pooled connection (end of the app's lifespan, or of a CLI command)."""
        await self.discard_writer()
        readers, self._idle_readers = self._idle_readers, []
        for reader in readers:
            await reader.close()
        self._write_lock = None
        self._reader_slots = None

    @property
    def reader_slots(self) -> asyncio.Semaphore:
        if self._reader_slots is None:
            self._reader_slots = asyncio.Semaphore(MAX_READERS)
        return self._reader_slots

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.immediate,
        allow_nested: bool = True,
    ) -> PooledSQLiteTransaction:
        return PooledSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )

    async def _run_in_existing_connection(
        self,
        connection: aiosqlite.Connection,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> list[dict[str, Any]]:
        # One hop to aiosqlite's thread per statement: `async with execute()` then
        # fetchall() takes three (execute, fetch, close), and on the single writer those
        # hand-offs are time every other writer waits (QUALITY.md B2).
        return list(await connection.execute_fetchall(query, args or []))

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> list[dict[str, Any]]:
        # Piccolo labels most reads "generic", so read the statement itself.
        if query.lstrip()[:6].upper() != "SELECT":
            # A write outside a transaction still goes through the one writer.
            async with self.transaction():
                return await self._run_in_existing_connection(self._writer_or_fail(), query, args)
        async with self.reader_slots:
            reader = self._idle_readers.pop() if self._idle_readers else await self.get_connection()
            try:
                rows = await self._run_in_existing_connection(reader, query, args)
            except BaseException:
                await reader.close()
                raise
            self._idle_readers.append(reader)
        return rows

    def _writer_or_fail(self) -> aiosqlite.Connection:
        assert self._writer is not None, "the writer connection is opened by transaction()"
        return self._writer


def _in_transaction(connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """On the writer's thread: `work` between BEGIN IMMEDIATE and COMMIT, rolled back if
    it raises. The thread finishes it even if the awaiting request is cancelled, so the
    connection is never left inside a transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        result = work(connection)
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return result


def create_engine(database_url: str) -> Engine:  # type: ignore[type-arg]
    if database_url.startswith("sqlite:///"):
        from service.settings import PROJECT_ROOT

        raw = Path(database_url.removeprefix("sqlite:///"))
        return TunedSQLiteEngine(path=str(raw if raw.is_absolute() else PROJECT_ROOT / raw))
    return PostgresEngine(config={"dsn": database_url})


def engine() -> Engine:  # type: ignore[type-arg]
    from service.piccolo_conf import DB

    return DB


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """The one way services write: IMMEDIATE on SQLite, a pooled transaction on PostgreSQL.

    Nested calls join the outer transaction.
    """
    async with engine().transaction():
        yield


_pool_users = 0


async def _skip_session_reset(connection: Any) -> None:
    """asyncpg still rolls back an open transaction on release; its default reset also
    sends `RESET ALL`, `UNLISTEN *` and `pg_advisory_unlock_all()`, a round trip on every
    request for state this app never leaves behind (no SET, no LISTEN, and only
    transaction-scoped advisory locks: lock_key). About 8 % of a door verdict's CPU."""


async def open_pool() -> None:
    """Open the connection pool; calls nest (the app's lifespan inside a test session)."""
    global _pool_users
    _pool_users += 1
    db = engine()
    if _pool_users == 1 and isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=2, max_size=20, reset=_skip_session_reset)


async def close_pool() -> None:
    global _pool_users
    _pool_users = max(0, _pool_users - 1)
    if _pool_users:
        return
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()
    elif isinstance(db, TunedSQLiteEngine):
        await db.close()


async def run_sql(sql: str, *params: Any) -> list[dict[str, Any]]:
    """Raw SQL (`{}` marks each parameter), joining the current transaction if there is
    one. For hot paths only, where building the statement in Piccolo costs more CPU than
    running it (QUALITY.md B1-B3); everything else uses the tables' query builder."""
    from piccolo.querystring import QueryString

    return list(await engine().run_querystring(QueryString(sql, *params)))


def qmark(sql: str) -> str:
    """A `{}` statement (run_sql's placeholders) in sqlite3's own `?` placeholders, for
    work run on the SQLite writer's thread (TunedSQLiteEngine.write_in_thread), which
    bypasses Piccolo's QueryString."""
    return sql.replace("{}", "?")


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


def is_unique_violation(error: BaseException) -> bool:
    """A unique constraint refused the write (the last guard behind a service's checks)."""
    import sqlite3

    import asyncpg

    if isinstance(error, asyncpg.UniqueViolationError):
        return True
    return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)


async def lock_key(key: str) -> None:
    """Inside write_transaction(): serialise every transaction that locks the same key
    until it ends. SQLite's writes are serialised already; PostgreSQL takes an advisory
    transaction lock on the key's hash."""
    db = engine()
    if isinstance(db, PostgresEngine):
        from piccolo.querystring import QueryString

        await db.run_querystring(QueryString("SELECT pg_advisory_xact_lock(hashtext({}))", key))
