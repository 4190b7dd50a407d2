"""The floor for the hot-event rush (QUALITY.md B1/B2): a bare Litestar app with the same
route as Unionhall's signup, doing only the conditional seat write and the insert.

    FLOOR_DATABASE_URL=postgresql://…|sqlite:///path \
        uvicorn tests.bench.floor_app:create_app --factory

POST /api/v1/activities/{id}/registrations with `X-Member-Id: <member id>` (no real auth)
runs, in one transaction,
    UPDATE floor_activity SET taken = taken + 1 WHERE id = $1 AND taken < capacity RETURNING id
    INSERT INTO floor_registration (activity_id, member_id, status) … RETURNING id
(status "confirmed" when the UPDATE returned a row, else "waitlisted") and answers 201
{"id", "status"}. PostgreSQL: raw asyncpg with a pool of the size Unionhall uses (20).
SQLite: raw sqlite3 in WAL, synchronous=NORMAL (as Unionhall), one writer connection on
one writer thread, BEGIN IMMEDIATE per signup.

`prepare(url, capacity)` creates the two tables and the activity row (id 1).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response, get, post

POOL_SIZE = 20  # Unionhall's asyncpg pool (service/db.py open_pool)
TAKE_SEAT = (
    "UPDATE floor_activity SET taken = taken + 1 WHERE id = {p1} AND taken < capacity RETURNING id"
)
INSERT = (
    "INSERT INTO floor_registration (activity_id, member_id, status) "
    "VALUES ({p1}, {p2}, {p3}) RETURNING id"
)
PG_SCHEMA = (
    "CREATE TABLE floor_activity (id serial PRIMARY KEY, capacity integer NOT NULL, "
    "taken integer NOT NULL DEFAULT 0)",
    "CREATE TABLE floor_registration (id serial PRIMARY KEY, "
    "activity_id integer NOT NULL REFERENCES floor_activity(id), member_id integer NOT NULL, "
    "status varchar(12) NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), "
    "UNIQUE (activity_id, member_id))",
)
SQLITE_SCHEMA = (
    "CREATE TABLE floor_activity (id integer PRIMARY KEY, capacity integer NOT NULL, "
    "taken integer NOT NULL DEFAULT 0)",
    "CREATE TABLE floor_registration (id integer PRIMARY KEY, "
    "activity_id integer NOT NULL REFERENCES floor_activity(id), member_id integer NOT NULL, "
    "status varchar(12) NOT NULL, created_at text NOT NULL DEFAULT CURRENT_TIMESTAMP, "
    "UNIQUE (activity_id, member_id))",
)


class PostgresFloor:
    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: Any = None
        self.take = TAKE_SEAT.format(p1="$1")
        self.insert = INSERT.format(p1="$1", p2="$2", p3="$3")

    async def open(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(self.url, min_size=2, max_size=POOL_SIZE)

    async def close(self) -> None:
        await self.pool.close()

    async def signup(self, activity_id: int, member_id: int) -> tuple[int, str]:
        async with self.pool.acquire() as connection, connection.transaction():
            seat = await connection.fetchval(self.take, activity_id)
            status = "confirmed" if seat is not None else "waitlisted"
            registration_id = await connection.fetchval(self.insert, activity_id, member_id, status)
        return registration_id, status

    async def ping(self) -> None:
        await self.pool.fetchval("SELECT 1")


class SQLiteFloor:
    def __init__(self, path: str) -> None:
        self.path = path
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="floor-writer")
        self.connection: sqlite3.Connection | None = None
        self.take = TAKE_SEAT.format(p1="?")
        self.insert = INSERT.format(p1="?", p2="?", p3="?")

    def _connect(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA busy_timeout = 30000")
        connection.execute("PRAGMA foreign_keys = 1")
        self.connection = connection

    def _signup(self, activity_id: int, member_id: int) -> tuple[int, str]:
        connection = self.connection
        assert connection is not None
        connection.execute("BEGIN IMMEDIATE")
        try:
            seat = connection.execute(self.take, (activity_id,)).fetchone()
            status = "confirmed" if seat is not None else "waitlisted"
            (registration_id,) = connection.execute(
                self.insert, (activity_id, member_id, status)
            ).fetchone()
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return registration_id, status

    async def _run(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.writer, function, *args)

    async def open(self) -> None:
        await self._run(self._connect)

    async def close(self) -> None:
        if self.connection is not None:
            await self._run(self.connection.close)
        self.writer.shutdown()

    async def signup(self, activity_id: int, member_id: int) -> tuple[int, str]:
        return await self._run(self._signup, activity_id, member_id)

    async def ping(self) -> None:
        await self._run(lambda: self.connection.execute("SELECT 1").fetchone())  # type: ignore[union-attr]


def make_floor(url: str) -> PostgresFloor | SQLiteFloor:
    if url.startswith("sqlite:///"):
        return SQLiteFloor(url.removeprefix("sqlite:///"))
    return PostgresFloor(url)


async def prepare(url: str, capacity: int) -> int:
    """Create the floor's tables and one activity; returns its id."""
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            for statement in SQLITE_SCHEMA:
                connection.execute(statement)
            (activity_id,) = connection.execute(
                "INSERT INTO floor_activity (capacity) VALUES (?) RETURNING id", (capacity,)
            ).fetchone()
        finally:
            connection.close()
        return int(activity_id)
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        for statement in PG_SCHEMA:
            await connection.execute(statement)
        return int(
            await connection.fetchval(
                "INSERT INTO floor_activity (capacity) VALUES ($1) RETURNING id", capacity
            )
        )
    finally:
        await connection.close()


def create_app() -> Litestar:
    floor = make_floor(os.environ["FLOOR_DATABASE_URL"])

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await floor.open()
        try:
            yield
        finally:
            await floor.close()

    @post("/api/v1/activities/{activity_id:int}/registrations")
    async def register(request: Request[Any, Any, Any], activity_id: int) -> Response[Any]:
        member_id = int(request.headers["x-member-id"])
        registration_id, status = await floor.signup(activity_id, member_id)
        return Response({"id": registration_id, "status": status}, status_code=201)

    @get("/healthz")
    async def healthz() -> dict[str, str]:
        await floor.ping()
        return {"database": "ok"}

    return Litestar(route_handlers=[register, healthz], lifespan=[lifespan])
