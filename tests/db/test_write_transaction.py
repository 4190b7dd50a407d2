"""write_transaction() under concurrency, on whichever engine this run uses.

The control test shows the fault the tuning prevents: Piccolo's stock SQLite transactions
(DEFERRED, a new connection each) fail or lose updates under the same load.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import pytest
from piccolo.engine.sqlite import SQLiteEngine

from service import db
from service.orgs.tables import Node
from tests.conftest import ENGINE

CONCURRENT = 200


@pytest.fixture
async def counter() -> AsyncIterator[None]:
    await Node.raw(
        "CREATE TABLE IF NOT EXISTS scratch_counter (id INTEGER PRIMARY KEY, v INTEGER)"
    ).run()
    await Node.raw("DELETE FROM scratch_counter").run()
    await Node.raw("INSERT INTO scratch_counter (id, v) VALUES (1, 0)").run()
    yield
    await Node.raw("DROP TABLE scratch_counter").run()


async def counter_value() -> int:
    rows = await Node.raw("SELECT v FROM scratch_counter WHERE id = 1").run()
    return int(rows[0]["v"])


async def test_conditional_increment_never_passes_its_limit(counter: None) -> None:
    limit = 150

    async def take() -> bool:
        async with db.write_transaction():
            rows = await Node.raw(
                "UPDATE scratch_counter SET v = v + 1 WHERE id = 1 AND v < {} RETURNING v", limit
            ).run()
        return bool(rows)

    results = await asyncio.gather(*(take() for _ in range(CONCURRENT)))
    assert sum(results) == limit
    assert await counter_value() == limit


@pytest.mark.skipif(ENGINE != "sqlite", reason="read-then-write is serialised only on SQLite")
async def test_sqlite_write_transactions_serialise_read_then_write(counter: None) -> None:
    async def bump() -> None:
        async with db.write_transaction():
            value = await counter_value_in_transaction()
            await Node.raw("UPDATE scratch_counter SET v = {} WHERE id = 1", value + 1).run()

    await asyncio.gather(*(bump() for _ in range(CONCURRENT)))
    assert await counter_value() == CONCURRENT


async def counter_value_in_transaction() -> int:
    rows = await Node.raw("SELECT v FROM scratch_counter WHERE id = 1").run()
    return int(rows[0]["v"])


@pytest.mark.skipif(ENGINE != "sqlite", reason="control for the SQLite tuning")
async def test_control_stock_sqlite_engine_fails_under_the_same_load(counter: None) -> None:
    stock = SQLiteEngine(path=str(db.engine().path))  # type: ignore[attr-defined]
    errors = 0

    async def bump() -> None:
        nonlocal errors
        try:
            async with stock.transaction():
                rows = await stock.run_querystring(
                    Node.raw("SELECT v FROM scratch_counter WHERE id = 1").querystrings[0]
                )
                await stock.run_querystring(
                    Node.raw(
                        "UPDATE scratch_counter SET v = {} WHERE id = 1", rows[0]["v"] + 1
                    ).querystrings[0]
                )
        except Exception as error:  # "database is locked" and friends
            assert "locked" in str(error).lower()
            errors += 1

    await asyncio.gather(*(bump() for _ in range(CONCURRENT)))
    assert errors > 0 or await counter_value() < CONCURRENT, (
        "the stock engine survived: this control no longer shows the fault"
    )


async def test_failed_transaction_writes_nothing(counter: None) -> None:
    with pytest.raises(RuntimeError):
        async with db.write_transaction():
            await Node.raw("UPDATE scratch_counter SET v = 99 WHERE id = 1").run()
            raise RuntimeError("boom")
    assert await counter_value() == 0


sqlite_only = pytest.mark.skipif(ENGINE != "sqlite", reason="write_in_thread is SQLite's")


@sqlite_only
async def test_a_write_in_thread_commits_or_leaves_nothing(counter: None) -> None:
    """The signup hot path's transaction on the writer's thread: all of it or none, and
    the writer is usable again after a failure (not left inside a transaction)."""
    engine = db.engine()
    assert isinstance(engine, db.TunedSQLiteEngine)

    def add(connection: sqlite3.Connection, amount: int, then_fail: bool) -> int:
        connection.execute("UPDATE scratch_counter SET v = v + ? WHERE id = 1", (amount,))
        if then_fail:
            raise ValueError("a rule refused it after the first statement")
        return amount

    assert await engine.write_in_thread(lambda c: add(c, 5, False)) == 5
    with pytest.raises(ValueError):
        await engine.write_in_thread(lambda c: add(c, 100, True))
    assert await counter_value() == 5  # the failed one's UPDATE was rolled back
    # Many at once, interleaved with ordinary write transactions: every one counted.
    async def ordinary() -> None:
        async with db.write_transaction():
            await Node.raw("UPDATE scratch_counter SET v = v + 1 WHERE id = 1").run()

    await asyncio.gather(
        *(engine.write_in_thread(lambda c: add(c, 1, False)) for _ in range(50)),
        *(ordinary() for _ in range(50)),
    )
    assert await counter_value() == 105
