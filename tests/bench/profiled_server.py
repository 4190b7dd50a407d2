"""Unionhall's web server as `unionhall run --no-worker` starts it, but under pyinstrument
and with every Piccolo query counted and timed (wrappers installed at run time; no
service code changes). Used by tests/bench/profile_rush.py.

    UNIONHALL_… python -m tests.bench.profiled_server OUT_DIR

On shutdown (SIGINT) writes OUT_DIR/profile.txt, OUT_DIR/profile.html and
OUT_DIR/queries.json: per statement shape (verb + table), its count, the mean and total
wall time from the call to the answer (the await, so it includes waiting for the event
loop and, on SQLite, the aiosqlite thread); and per write transaction, the time spent
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

SHAPE = re.compile(
    r'^\s*(?P<verb>\w+).*?(?:\bFROM|\bINTO|^\s*UPDATE)\s+"?(?P<table>\w+)"?', re.I | re.S
)


class Stats:
    def __init__(self) -> None:
        self.queries: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        self.transactions = {"count": 0, "wait_s": 0.0, "hold_s": 0.0}

    def query(self, sql: str, seconds: float, in_transaction: bool) -> None:
        match = SHAPE.match(sql)
        shape = f"{match['verb'].upper()} {match['table']}" if match else sql[:40]
        if match and match["verb"].upper() == "UPDATE":
            shape += " SET " + sql.split(" SET ", 1)[1].split("=", 1)[0].strip()
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
    from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
    from piccolo.engine.sqlite import SQLiteEngine

    from service.db import PooledSQLiteTransaction

    for engine_class in (PostgresEngine, SQLiteEngine):
        original = engine_class.run_querystring

        async def run_querystring(
            self: Any, querystring: Any, in_pool: bool = False, _original: Any = original
        ) -> Any:
            began = time.perf_counter()
            in_transaction = self.current_transaction.get() is not None
            try:
                return await _original(self, querystring, in_pool)
            finally:
                sql = querystring.compile_string(engine_type=self.engine_type)[0]
                stats.query(sql, time.perf_counter() - began, in_transaction)

        engine_class.run_querystring = run_querystring  # type: ignore[method-assign]

    for transaction_class in (PooledSQLiteTransaction, PostgresTransaction):
        enter, leave = transaction_class.__aenter__, transaction_class.__aexit__

        async def aenter(self: Any, _enter: Any = enter) -> Any:
            began = time.perf_counter()
            result = await _enter(self)
            if self._parent is None:
                self._bench_began = time.perf_counter()
                stats.transactions["count"] += 1
                stats.transactions["wait_s"] += self._bench_began - began
            return result

        async def aexit(self: Any, *args: Any, _leave: Any = leave) -> Any:
            try:
                return await _leave(self, *args)
            finally:
                if self._parent is None and hasattr(self, "_bench_began"):
                    stats.transactions["hold_s"] += time.perf_counter() - self._bench_began

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
    profiler = Profiler(interval=0.001, async_mode="disabled")
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
        (out / "queries.json").write_text(json.dumps(stats.dump(), indent=2))


if __name__ == "__main__":
    main()
