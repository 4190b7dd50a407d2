"""Unionhall's web server as `unionhall run --no-worker` starts it, but under pyinstrument
and with every Piccolo query counted and timed (wrappers installed at run time; no
service code changes). Used by tests/bench/profile_rush.py.

    UNIONHALL_… python -m tests.bench.profiled_server OUT_DIR

On shutdown (SIGINT) writes OUT_DIR/profile.txt, OUT_DIR/profile.html,
OUT_DIR/profile-all.txt (every frame, the libraries' too) and
OUT_DIR/queries.json: per statement shape (verb + table), its count, the mean and total
wall time from the call to the answer (the await, so it includes waiting for the event
loop and, on SQLite, the aiosqlite thread; not Piccolo's own Python work, which the
profile shows); "(in tx)" marks statements run inside a transaction, which on SQLite
includes the one TunedSQLiteEngine opens around any statement it takes for a write; and
per write transaction, the time spent
waiting to start it (SQLite: the engine's write lock) and holding it (BEGIN → COMMIT).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

SHAPE = re.compile(r'^\s*(?P<verb>\w+).*?\b(?:FROM|INTO)\s+"?(?P<table>\w+)"?', re.I | re.S)
UPDATE_SHAPE = re.compile(r'^\s*UPDATE\s+"?(?P<table>\w+)"?\s+SET\s+"?(?P<column>\w+)"?', re.I)


class Stats:
    def __init__(self) -> None:
        self.queries: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        self.transactions = {"count": 0, "wait_s": 0.0, "hold_s": 0.0}

    def query(self, sql: str, seconds: float, in_transaction: bool) -> None:
        update = UPDATE_SHAPE.match(sql)
        match = SHAPE.match(sql)
        if update:
            shape = f"UPDATE {update['table']} SET {update['column']}"
        elif match:
            shape = f"{match['verb'].upper()} {match['table']}"
        else:
            shape = sql[:40]
        aggregate = re.match(r"\s*SELECT\s+(?:ALL\s+)?(COUNT|EXISTS)\(", sql, re.I)
        if aggregate:
            shape = shape.replace("SELECT", f"SELECT {aggregate[1].upper()}")
        key = f"{shape} {'(in tx)' if in_transaction else ''}".strip()
        entry = self.queries[key]
        entry[0] += 1
        entry[1] += seconds

    def dump(self) -> dict[str, Any]:
        rows = sorted(self.queries.items(), key=lambda item: -item[1][1])
        return {
            "queries": [
                {"shape": k, "count": int(n), "total_s": round(t, 3), "mean_ms": t * 1000 / n}
                for k, (n, t) in rows
            ],
            "transactions": self.transactions,
        }


def install(stats: Stats) -> None:
    """Count at the driver boundary, where the compiled SQL is at hand: asyncpg's
    Connection.fetch (every Piccolo query on PostgreSQL, in a transaction or from the
    pool) and TunedSQLiteEngine._run_in_existing_connection (every one on SQLite)."""
    import asyncpg
    from piccolo.engine.postgres import PostgresTransaction

    from service.db import PooledSQLiteTransaction, TunedSQLiteEngine

    original_fetch = asyncpg.connection.Connection.fetch

    async def fetch(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return await original_fetch(self, query, *args, **kwargs)
        finally:
            in_transaction = self.is_in_transaction()
            stats.query(query, time.perf_counter() - began, in_transaction)

    asyncpg.connection.Connection.fetch = fetch  # type: ignore[method-assign]

    original_run = TunedSQLiteEngine._run_in_existing_connection

    async def run_in_existing(
        self: Any, connection: Any, query: str, *args: Any, **kwargs: Any
    ) -> Any:
        began = time.perf_counter()
        try:
            return await original_run(self, connection, query, *args, **kwargs)
        finally:
            in_transaction = self.current_transaction.get() is not None
            stats.query(query, time.perf_counter() - began, in_transaction)

    TunedSQLiteEngine._run_in_existing_connection = run_in_existing  # type: ignore[method-assign]

    opened: dict[int, float] = {}  # id(transaction) → when BEGIN returned (it has slots)

    for transaction_class in (PooledSQLiteTransaction, PostgresTransaction):
        enter, leave = transaction_class.__aenter__, transaction_class.__aexit__

        async def aenter(self: Any, _enter: Any = enter) -> Any:
            began = time.perf_counter()
            result = await _enter(self)
            if self._parent is None:
                opened[id(self)] = time.perf_counter()
                stats.transactions["count"] += 1
                stats.transactions["wait_s"] += opened[id(self)] - began
            return result

        async def aexit(self: Any, *args: Any, _leave: Any = leave) -> Any:
            try:
                return await _leave(self, *args)
            finally:
                if self._parent is None and id(self) in opened:
                    stats.transactions["hold_s"] += time.perf_counter() - opened.pop(id(self))

        transaction_class.__aenter__ = aenter  # type: ignore[method-assign]
        transaction_class.__aexit__ = aexit  # type: ignore[method-assign]


def main() -> None:
    import uvicorn
    from pyinstrument import Profiler

    from service.settings import get_settings

    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    stats = Stats()
    install(stats)
    settings = get_settings()
    assert settings.redis_url, "give UNIONHALL_REDIS_URL (the profile skips embedded Redis)"
    profiler = Profiler(interval=0.005, async_mode="disabled")
    profiler.start()
    try:
        uvicorn.run(
            "service.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            proxy_headers=True,
            log_level="info",
        )
    finally:
        profiler.stop()
        (out / "profile.txt").write_text(profiler.output_text(color=False, unicode=True))
        (out / "profile.html").write_text(profiler.output_html())
        # Every frame, the libraries' too: what the framework and the driver cost a request
        # (pool acquire/release, response encoding), which the short profile folds away.
        (out / "profile-all.txt").write_text(
            profiler.output_text(color=False, unicode=True, show_all=True)
        )
        (out / "queries.json").write_text(json.dumps(stats.dump(), indent=2))


if __name__ == "__main__":
    main()
