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

The door check-in floor (QUALITY.md B3, tests/bench/test_door.py) is one more route:
POST /api/v1/checkins {activity_id, code, client_id, gate} (no auth) verifies the code's
Ed25519 signature with `cryptography` against FLOOR_TICKET_KEY (the raw public key in
hex), reads its three varints (ticket id, activity id, reissue), then runs
    SELECT activity_id, status, name, phone FROM floor_ticket WHERE id = $1
    INSERT INTO floor_scan (…) VALUES (…) ON CONFLICT DO NOTHING RETURNING registration_id
(one admission per ticket: floor_scan's key is the ticket; client_id is unique) and
answers {"result": "admitted" | "already_checked_in" | …, "registration_id", "attendee"}.
PostgreSQL: one pooled connection for both statements, autocommit. SQLite: both on the
writer thread, autocommit. `prepare_door(url, tickets)` creates the two tables and loads
the tickets [(ticket id, activity id, name, phone)], ids as Unionhall's registrations.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import sqlite3
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
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
DOOR_TICKET = "SELECT activity_id, status, name, phone FROM floor_ticket WHERE id = {p1}"
DOOR_SCAN = (
    "INSERT INTO floor_scan (registration_id, activity_id, client_id, gate) "
    "VALUES ({p1}, {p2}, {p3}, {p4}) ON CONFLICT DO NOTHING RETURNING registration_id"
)
DOOR_SCHEMA = (
    "CREATE TABLE floor_ticket (id integer PRIMARY KEY, activity_id integer NOT NULL, "
    "status varchar(12) NOT NULL, name varchar(50) NOT NULL, phone varchar(20) NOT NULL)",
    "CREATE TABLE floor_scan (registration_id integer PRIMARY KEY, "
    "activity_id integer NOT NULL, client_id varchar(64) UNIQUE, gate varchar(40) NOT NULL, "
    "scanned_at {moment} NOT NULL DEFAULT {now})",
)
SIGNATURE_BYTES = 64
TicketRow = tuple[int, str, str, str]  # activity id, status, name, phone


class PostgresFloor:
    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: Any = None
        self.take = TAKE_SEAT.format(p1="$1")
        self.insert = INSERT.format(p1="$1", p2="$2", p3="$3")
        self.door_ticket = DOOR_TICKET.format(p1="$1")
        self.door_scan = DOOR_SCAN.format(p1="$1", p2="$2", p3="$3", p4="$4")

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

    async def check_in(
        self, ticket_id: int, activity_id: int, client_id: str, gate: str
    ) -> tuple[TicketRow | None, bool]:
        """(the ticket, whether this scan is its admission); no insert for a ticket that
        is not a confirmed one of this activity."""
        async with self.pool.acquire() as connection:
            row = await connection.fetchrow(self.door_ticket, ticket_id)
            if row is None or row[0] != activity_id or row[1] != "confirmed":
                return (tuple(row) if row else None), False  # type: ignore[return-value]
            scan = await connection.fetchval(
                self.door_scan, ticket_id, activity_id, client_id, gate
            )
        return tuple(row), scan is not None  # type: ignore[return-value]

    async def ping(self) -> None:
        await self.pool.fetchval("SELECT 1")


class SQLiteFloor:
    def __init__(self, path: str) -> None:
        self.path = path
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="floor-writer")
        self.connection: sqlite3.Connection | None = None
        self.take = TAKE_SEAT.format(p1="?")
        self.insert = INSERT.format(p1="?", p2="?", p3="?")
        self.door_ticket = DOOR_TICKET.format(p1="?")
        self.door_scan = DOOR_SCAN.format(p1="?", p2="?", p3="?", p4="?")

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

    def _check_in(
        self, ticket_id: int, activity_id: int, client_id: str, gate: str
    ) -> tuple[TicketRow | None, bool]:
        connection = self.connection
        assert connection is not None
        row = connection.execute(self.door_ticket, (ticket_id,)).fetchone()
        if row is None or row[0] != activity_id or row[1] != "confirmed":
            return row, False
        scan = connection.execute(
            self.door_scan, (ticket_id, activity_id, client_id, gate)
        ).fetchone()
        return row, scan is not None

    async def check_in(
        self, ticket_id: int, activity_id: int, client_id: str, gate: str
    ) -> tuple[TicketRow | None, bool]:
        return await self._run(self._check_in, ticket_id, activity_id, client_id, gate)

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


async def prepare_door(url: str, tickets: list[tuple[int, int, str, str]]) -> None:
    """Create the door floor's tables and load its tickets (id, activity id, name, phone),
    all confirmed."""
    rows = [
        (ticket_id, activity_id, "confirmed", name, phone)
        for ticket_id, activity_id, name, phone in tickets
    ]
    insert = "INSERT INTO floor_ticket (id, activity_id, status, name, phone) VALUES "
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            for statement in DOOR_SCHEMA:
                connection.execute(statement.format(moment="text", now="CURRENT_TIMESTAMP"))
            connection.execute("BEGIN")
            connection.executemany(insert + "(?, ?, ?, ?, ?)", rows)
            connection.execute("COMMIT")
        finally:
            connection.close()
        return
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        for statement in DOOR_SCHEMA:
            await connection.execute(statement.format(moment="timestamptz", now="now()"))
        await connection.copy_records_to_table(
            "floor_ticket", records=rows, columns=["id", "activity_id", "status", "name", "phone"]
        )
    finally:
        await connection.close()


def _varints(data: bytes, offset: int, count: int) -> list[int]:
    values = []
    for _ in range(count):
        value, shift = 0, 0
        while True:
            byte = data[offset]
            offset += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        values.append(value)
    return values


def verified_ticket(public: Ed25519PublicKey, code: str) -> tuple[int, int, int] | None:
    """(ticket id, activity id, reissue) of a code with a good signature, else None."""
    text = code.strip().upper()
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
        body, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
        public.verify(signature, body)
        ticket_id, activity_id, reissue = _varints(body, 2, 3)
    except (binascii.Error, ValueError, IndexError, InvalidSignature):
        return None
    return ticket_id, activity_id, reissue


def create_app() -> Litestar:
    floor = make_floor(os.environ["FLOOR_DATABASE_URL"])
    key = os.environ.get("FLOOR_TICKET_KEY")  # only the door route needs it
    public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key)) if key else None

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

    @post("/api/v1/checkins", status_code=200)
    async def check_in(data: dict[str, Any]) -> dict[str, Any]:
        assert public is not None, "FLOOR_TICKET_KEY is not set"
        token = verified_ticket(public, str(data.get("code", "")))
        if token is None:
            return {"result": "invalid"}
        ticket_id, activity_id, _ = token
        if activity_id != data["activity_id"]:
            return {"result": "wrong_activity"}
        row, admitted = await floor.check_in(
            ticket_id, activity_id, str(data["client_id"]), str(data.get("gate", ""))
        )
        if row is None or row[0] != activity_id:
            return {"result": "invalid"}
        if row[1] != "confirmed":
            result = row[1]
        else:
            result = "admitted" if admitted else "already_checked_in"
        phone = row[3]
        return {
            "result": result,
            "registration_id": ticket_id,
            "attendee": {"name": row[2], "phone_masked": f"{phone[:3]}****{phone[-4:]}"},
        }

    @get("/healthz")
    async def healthz() -> dict[str, str]:
        await floor.ping()
        return {"database": "ok"}

    return Litestar(route_handlers=[register, check_in, healthz], lifespan=[lifespan])
