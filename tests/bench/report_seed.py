"""B6 seed and measurements, run as subprocesses with UNIONHALL_DATABASE_URL set to a
migrated benchmark database (PostgreSQL; `seed-sqlite` and `xlsx` also on a SQLite
file), so the service binds to that database.

    python -m tests.bench.report_seed seed OUT.json      # raw COPY, not the services
    python -m tests.bench.report_seed seed-sqlite OUT.json  # the same rows, SQLite file
    python -m tests.bench.report_seed report OUT.json [--runs 25]
    python -m tests.bench.report_seed xlsx OUT.json      # its own process: peak RSS
    python -m tests.bench.report_seed explain OUT.json

Seed: a federation, 10 unions, 100 enterprises; 100,000 members (one admin among them);
one published job fair owned by the federation with 100,000 registrations (90,000
confirmed, 6,000 waitlisted, 4,000 cancelled) and 60,000 admissions (standing
`admitted` scans over four gates in two hours, 1,200 of them walk-ins) plus 3,000
`already_checked_in` repeat scans.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MEMBERS = 100_000
CONFIRMED = 90_000
WAITLISTED = 6_000
ADMITTED = 60_000
REPEATS = 3_000
WALK_IN_EVERY = 50  # every 50th admission is a walk-in: 1,200
GATES = ["A", "B", "C", "D"]
GROUPS = ["courier", "food_delivery", "truck_driver", "security_guard", "sanitation", "other"]
ADMIN_PHONE = "13000000000"
RAW_AGGREGATE = (
    "SELECT status, COUNT(*) AS n FROM activity_registration WHERE activity = $1 GROUP BY status"
)


def _pg_url() -> str:
    return os.environ["UNIONHALL_DATABASE_URL"]


ACTIVITY_COLUMNS = [
    "kind", "title", "description", "owner", "venue_name", "venue_address", "online_url",
    "starts_at", "ends_at", "capacity", "taken", "queue_counter", "status", "cancel_reason",
    "created_at", "published_at",
]  # fmt: skip
TABLE_COLUMNS: dict[str, list[str]] = {
    "org_node": ["id", "code", "name", "kind", "parent", "path", "depth"],
    "org_member": [
        "id", "phone", "name", "node", "worker_group", "roles", "language", "created_at",
    ],
    "activity_registration": [
        "id", "activity", "member", "status", "queue_no", "created_at", "updated_at",
    ],
    "checkin_scan": [
        "activity_id", "registration_id", "result", "gate", "scanner_id", "scanner_name",
        "client_id", "scanned_at", "recorded_at", "walk_in",
    ],
}  # fmt: skip


def _activity_row(now: datetime) -> tuple[Any, ...]:
    return (
        "job_fair", "B6 招聘会", "", 1, "", "", "", now - timedelta(hours=2),
        now + timedelta(hours=1), CONFIRMED, CONFIRMED, WAITLISTED, "published", "",
        now - timedelta(days=7), now - timedelta(days=7),
    )  # fmt: skip


def _records(now: datetime) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of the organisation tree and the members, in TABLE_COLUMNS' order."""
    nodes: list[tuple[Any, ...]] = [(1, "fed", "测试市总工会", "federation", None, "/1/", 0)]
    next_id = 2
    enterprises = []
    for u in range(10):
        union_id = next_id
        next_id += 1
        nodes.append((union_id, f"u{u}", f"工会{u}", "union", 1, f"/1/{union_id}/", 1))
        for e in range(10):
            eid = next_id
            next_id += 1
            nodes.append(
                (
                    eid,
                    f"e{u}-{e}",
                    f"企业{u}-{e}",
                    "enterprise",
                    union_id,
                    f"/1/{union_id}/{eid}/",
                    2,
                )
            )
            enterprises.append(eid)
    members = [
        (
            i + 1,
            f"{13000000000 + i}",
            f"职工{i}",
            1 if i == 0 else enterprises[i % len(enterprises)],
            GROUPS[i % len(GROUPS)],
            "admin" if i == 0 else "worker",
            "zh-CN",
            now,
        )
        for i in range(MEMBERS)
    ]
    return {"org_node": nodes, "org_member": members}


def _activity_records(now: datetime, activity_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """The registrations and scans of the activity, in TABLE_COLUMNS' order."""
    starts = now - timedelta(hours=2)

    def status(i: int) -> str:
        if i < CONFIRMED:
            return "confirmed"
        return "waitlisted" if i < CONFIRMED + WAITLISTED else "cancelled"

    registrations = [
        (
            i + 1,
            activity_id,
            i + 1,
            status(i),
            i - CONFIRMED + 1 if status(i) == "waitlisted" else None,
            now - timedelta(days=6, seconds=-i),
            now - timedelta(days=6, seconds=-i),
        )
        for i in range(MEMBERS)
    ]
    scans = [
        (
            activity_id,
            i + 1,
            "admitted",
            GATES[i % 4],
            1,
            "管理员",
            f"b6-{i}",
            starts - timedelta(minutes=30) + timedelta(seconds=i * 7200 // ADMITTED),
            now,
            i % WALK_IN_EVERY == 0,
        )
        for i in range(ADMITTED)
    ] + [
        (
            activity_id,
            i + 1,
            "already_checked_in",
            GATES[(i + 1) % 4],
            1,
            "管理员",
            f"b6-repeat-{i}",
            starts + timedelta(minutes=45),
            now,
            False,
        )
        for i in range(REPEATS)
    ]
    return {"activity_registration": registrations, "checkin_scan": scans}


async def seed(out: Path) -> None:
    import asyncpg

    now = datetime.now(UTC).replace(microsecond=0)
    conn = await asyncpg.connect(_pg_url())
    started = time.perf_counter()
    try:
        async with conn.transaction():
            for table, records in _records(now).items():
                await conn.copy_records_to_table(
                    table, records=records, columns=TABLE_COLUMNS[table]
                )
            placeholders = ", ".join(f"${n}" for n in range(1, len(ACTIVITY_COLUMNS) + 1))
            activity_id = await conn.fetchval(
                f"INSERT INTO activity ({', '.join(ACTIVITY_COLUMNS)}) "
                f"VALUES ({placeholders}) RETURNING id",
                *_activity_row(now),
            )
            for table, records in _activity_records(now, activity_id).items():
                await conn.copy_records_to_table(
                    table, records=records, columns=TABLE_COLUMNS[table]
                )
            for table in ("org_node", "org_member", "activity_registration", "checkin_scan"):
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    out.write_text(  # noqa: ASYNC240 - once, at the end of this subprocess
        json.dumps({"activity_id": activity_id, "seed_s": round(time.perf_counter() - started, 2)})
    )


def seed_sqlite(out: Path) -> None:
    """The same rows into the SQLite file of UNIONHALL_DATABASE_URL (executemany in one
    transaction; timestamps as the UTC ISO text Piccolo writes)."""
    import sqlite3

    def cell(value: Any) -> Any:
        return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value

    def insert(table: str, columns: list[str], records: list[tuple[Any, ...]]) -> int:
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})"
        )
        cursor = conn.executemany(sql, ([cell(value) for value in row] for row in records))
        return int(cursor.lastrowid or 0)

    now = datetime.now(UTC).replace(microsecond=0)
    conn = sqlite3.connect(os.environ["UNIONHALL_DATABASE_URL"].removeprefix("sqlite:///"))
    started = time.perf_counter()
    try:
        with conn:
            for table, records in _records(now).items():
                insert(table, TABLE_COLUMNS[table], records)
            insert("activity", ACTIVITY_COLUMNS, [_activity_row(now)])
            activity_id = conn.execute("SELECT MAX(id) FROM activity").fetchone()[0]
            for table, records in _activity_records(now, activity_id).items():
                insert(table, TABLE_COLUMNS[table], records)
        conn.execute("ANALYZE")
    finally:
        conn.close()
    out.write_text(
        json.dumps({"activity_id": activity_id, "seed_s": round(time.perf_counter() - started, 2)})
    )


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _admin() -> Any:
    from service.orgs import services as orgs

    member_id = await orgs.member_id_for_phone(ADMIN_PHONE)
    assert member_id is not None
    return await orgs.actor_for_member(member_id)


async def report(out: Path, activity_id: int, runs: int) -> None:
    import asyncpg

    from service import db
    from service.reports import services as reports

    await db.open_pool()
    raw = await asyncpg.connect(_pg_url())
    try:
        actor = await _admin()
        await reports.activity_report(actor, activity_id)  # warm-up: pools, plans, cache
        await raw.fetch(RAW_AGGREGATE, activity_id)
        report_ms, raw_ms = [], []
        for _ in range(runs):
            started = time.perf_counter()
            result = await reports.activity_report(actor, activity_id)
            report_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            rows = await raw.fetch(RAW_AGGREGATE, activity_id)
            raw_ms.append((time.perf_counter() - started) * 1000)
        figures = {
            "registered": result.registered,
            "confirmed": result.confirmed,
            "waitlisted": result.waitlisted,
            "cancelled": result.cancelled,
            "checked_in": result.checked_in,
            "walk_ins": result.walk_ins,
            "no_shows": result.no_shows,
            "gates": len(result.by_gate),
            "by_node": len(result.by_node),
        }
        raw_counts = {row["status"]: row["n"] for row in rows}
    finally:
        await raw.close()
        await db.close_pool()
    out.write_text(  # noqa: ASYNC240 - once, at the end of this subprocess
        json.dumps(
            {
                "runs": runs,
                "report_p50_ms": round(_percentile(report_ms, 0.5), 1),
                "report_p95_ms": round(_percentile(report_ms, 0.95), 1),
                "report_max_ms": round(max(report_ms), 1),
                "raw_p50_ms": round(_percentile(raw_ms, 0.5), 2),
                "raw_p95_ms": round(_percentile(raw_ms, 0.95), 2),
                "figures": figures,
                "raw_counts": raw_counts,
            }
        )
    )


def _rss_mb(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not getrusage's ru_maxrss: Linux carries that over
    exec from the forked parent, so a subprocess started by a large pytest process reported
    the parent's size (B6 read 122 MB, or 288 MB after the other benchmarks had grown the
    parent, whatever the export did)."""
    return _rss_mb("VmHWM")


async def xlsx(out: Path, activity_id: int) -> None:
    from openpyxl import load_workbook

    from service import db
    from service.reports import exports

    await db.open_pool()
    try:
        actor = await _admin()
        baseline_mb = _rss_mb()
        # The peak so far (start-up, imports, the pool), beside the peak after the export.
        peak_before_mb = _peak_rss_mb()
        started = time.perf_counter()
        export = await exports.registrations_export(actor, activity_id, "xlsx")
        wall_s = time.perf_counter() - started
        peak_mb = _peak_rss_mb()
        inherited_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        assert export.path is not None
        size = export.path.stat().st_size
        book = load_workbook(export.path, read_only=True)
        rows = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True)) - 1
        book.close()
        export.path.unlink()
    finally:
        await db.close_pool()
    out.write_text(  # noqa: ASYNC240 - once, at the end of this subprocess
        json.dumps(
            {
                "wall_s": round(wall_s, 2),
                "peak_rss_mb": round(peak_mb, 1),
                "rss_before_mb": round(baseline_mb, 1),
                "peak_before_mb": round(peak_before_mb, 1),
                "ru_maxrss_mb": round(inherited_mb, 1),  # what B6 reported before
                "file_mb": round(size / 1e6, 1),
                "rows": rows,
                "batch": exports.BATCH,
            }
        )
    )


def _numbered(sql: str) -> str:
    """The service's `{}` placeholders as asyncpg's $1, $2, … in order."""
    parts = sql.split("{}")
    return "".join(
        part + (f"${index}" if index < len(parts) else "")
        for index, part in enumerate(parts, start=1)
    )


async def explain(out: Path, activity_id: int) -> None:
    """EXPLAIN ANALYZE of the report's queries and of one export batch."""
    import asyncpg

    from service.reports import exports
    from service.reports import services as reports

    queries: dict[str, tuple[str, tuple[Any, ...]]] = {
        "by_status": (
            "SELECT status, COUNT(*) AS n FROM activity_registration "
            "WHERE activity = {} GROUP BY status",
            (activity_id,),
        ),
        "scans": (reports.scan_counts_sql(), (activity_id,)),
        "breakdown": (reports.BREAKDOWN_SQL, (activity_id, activity_id)),
        "export_batch_last": (
            exports.REGISTRATIONS_SQL,
            exports.registrations_params(activity_id, MEMBERS - exports.BATCH, exports.BATCH),
        ),
    }
    conn = await asyncpg.connect(_pg_url())
    plans = {}
    try:
        for name, (sql, args) in queries.items():
            lines = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {_numbered(sql)}", *args)
            plans[name] = [line[0] for line in lines]
    finally:
        await conn.close()
    out.write_text(json.dumps(plans, ensure_ascii=False))  # noqa: ASYNC240


def main() -> None:
    mode, out = sys.argv[1], Path(sys.argv[2])
    if mode == "seed":
        asyncio.run(seed(out))
        return
    if mode == "seed-sqlite":
        seed_sqlite(out)
        return
    activity_id = int(sys.argv[3])
    if mode == "report":
        asyncio.run(report(out, activity_id, int(sys.argv[4]) if len(sys.argv) > 4 else 25))
    elif mode == "xlsx":
        asyncio.run(xlsx(out, activity_id))
    elif mode == "explain":
        asyncio.run(explain(out, activity_id))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
