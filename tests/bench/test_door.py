"""Door check-in, online (QUALITY.md B3): 20 scanners at once, on PostgreSQL and on the
embedded SQLite default.

Per engine: a fresh database, `unionhall migrate`, seeding (tests/bench/door_seed.py:
the rush seed's organiser and 5,000 members, one published activity whose door is open
now with four gates, 5,000 confirmed registrations, their signed ticket codes, and one
organiser API token). Two servers run side by side, each one uvicorn process as
`unionhall run --no-worker` starts it, wrapped in tests/bench/door_timing.py for the
server's own time per request: Unionhall, and the floor (tests/bench/floor_app.py's
POST /api/v1/checkins: the Ed25519 check with `cryptography`, one SELECT of the ticket,
one INSERT … ON CONFLICT DO NOTHING of the scan, with raw asyncpg / raw sqlite3).

Three rounds, each on its own 1,500 of the 5,000 tickets, alternating Unionhall and the
floor on the same scans: 20 scanner clients (tests/bench/rush_load.py's raw keep-alive
client, one connection each) send POST /api/v1/checkins {activity_id, code, client_id,
gate} with the organiser's bearer token until the scans run out: every ticket of the
round once (→ admitted) in a shuffled order, and every tenth scan after the 200th is a
repeat, at another gate, of the ticket scanned 200 scans earlier (→ already_checked_in):
1,630 scans a round, each with its own client_id. (Rounds of 1,500 keep a run under
three minutes on two cores: Unionhall on SQLite answers ~100 a second here.)

Asserted: correctness only (every answer 200; each ticket admitted exactly once, by the
answers and by the scan log; each repeat already_checked_in). The targets (server p95
< 10 ms, ≥ 2,000 verdicts/s on PostgreSQL) are printed, as medians over the rounds and
as ratios to the floor, and written to tests/bench/results/door-<timestamp>.json.

    make bench      # or: .venv/bin/python -m pytest tests/bench/test_door.py -p no:cacheprovider -s
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import statistics
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.bench import test_rush as bench
from tests.bench.door_timing import TIMING_HEADER
from tests.bench.floor_app import prepare_door

TICKETS = 5_000  # confirmed registrations of the activity
ROUNDS = 3
ROUND_TICKETS = 1_500  # first scans a round, each round its own tickets
SCANNERS = 20
REPEAT_EVERY = 10  # every tenth scan after the first REPEAT_LAG is a repeat
REPEAT_LAG = 200  # of the ticket first scanned this many scans earlier
TARGET_VERDICTS_PER_S = 2_000
TARGET_SERVER_P95_MS = 10.0
LOAD_TIMEOUT = 120.0


# --- results ------------------------------------------------------------------------------


@dataclass
class Round:
    engine: str
    target: str  # "unionhall" | "floor"
    round: int
    scans: int
    wall_s: float
    verdicts_per_s: float
    p50_ms: float  # client side: request written → answer read
    p95_ms: float
    p99_ms: float
    max_ms: float
    server_p50_ms: float  # inside the app (door_timing.py)
    server_p95_ms: float
    server_p99_ms: float
    errors: int
    statuses: dict[str, int]
    outcomes: dict[str, int]
    admitted_in_db: int  # standing admissions in the scan table
    admitted_tickets_in_db: int  # distinct tickets among them
    scan_rows: int  # rows the round wrote to the scan table
    server_cpu_ms_per_verdict: float  # the server process only (not PostgreSQL's)
    machine_busy_share: float
    client_cpu_s: float
    error_samples: list[str] = field(default_factory=list)


MEDIAN_FIELDS = (
    "verdicts_per_s",
    "p50_ms",
    "p95_ms",
    "server_p50_ms",
    "server_p95_ms",
    "server_cpu_ms_per_verdict",
    "machine_busy_share",
)


class DoorReport:
    def __init__(self) -> None:
        self.rows: list[Round] = []
        self.skipped: list[str] = []

    def medians(self) -> dict[tuple[str, str], dict[str, float]]:
        groups: dict[tuple[str, str], list[Round]] = {}
        for row in self.rows:
            groups.setdefault((row.engine, row.target), []).append(row)
        return {
            key: {
                name: statistics.median(getattr(row, name) for row in rows)
                for name in MEDIAN_FIELDS
            }
            | {"rounds": len(rows)}
            for key, rows in groups.items()
        }

    def ratios(self, engine: str) -> dict[str, float] | None:
        """Medians over the rounds of Unionhall ÷ floor within each round."""
        pairs = [
            (mine, floor)
            for mine in self.rows
            for floor in self.rows
            if mine.engine == floor.engine == engine
            and mine.round == floor.round
            and (mine.target, floor.target) == ("unionhall", "floor")
        ]
        if not pairs:
            return None
        return {
            "verdicts_per_s": statistics.median(
                m.verdicts_per_s / f.verdicts_per_s for m, f in pairs
            ),
            "server_p95_ms": statistics.median(m.server_p95_ms / f.server_p95_ms for m, f in pairs),
            "p95_ms": statistics.median(m.p95_ms / f.p95_ms for m, f in pairs),
        }

    def table(self) -> str:
        head = (
            f"{'engine':<9}{'target':<11}{'round':>6}{'verdicts/s':>11}{'p50 ms':>8}"
            f"{'p95 ms':>8}{'srv p50':>8}{'srv p95':>8}{'cpu ms/v':>9}{'errors':>7}"
            f"{'admitted':>9}{'repeats':>8}"
        )
        lines = [head, "-" * len(head)]
        for row in self.rows:
            lines.append(
                f"{row.engine:<9}{row.target:<11}{row.round:>6}{row.verdicts_per_s:>11.0f}"
                f"{row.p50_ms:>8.2f}{row.p95_ms:>8.2f}{row.server_p50_ms:>8.2f}"
                f"{row.server_p95_ms:>8.2f}{row.server_cpu_ms_per_verdict:>9.2f}"
                f"{row.errors:>7}{row.outcomes.get('admitted', 0):>9}"
                f"{row.outcomes.get('already_checked_in', 0):>8}"
            )
        lines += ["", "medians over the rounds:", head.replace("round", "     ")]
        for (engine, target), median in self.medians().items():
            lines.append(
                f"{engine:<9}{target:<11}{'':>6}{median['verdicts_per_s']:>11.0f}"
                f"{median['p50_ms']:>8.2f}{median['p95_ms']:>8.2f}{median['server_p50_ms']:>8.2f}"
                f"{median['server_p95_ms']:>8.2f}{median['server_cpu_ms_per_verdict']:>9.2f}"
            )
        medians = self.medians()
        for engine in dict.fromkeys(row.engine for row in self.rows):
            ratio = self.ratios(engine)
            mine = medians.get((engine, "unionhall"))
            if ratio is None or mine is None:
                continue
            rate, p95 = mine["verdicts_per_s"], mine["server_p95_ms"]
            lines.append(
                f"{engine}: Unionhall ÷ floor: verdicts/s {ratio['verdicts_per_s']:.0%}, "
                f"server p95 ×{ratio['server_p95_ms']:.1f}, client p95 ×{ratio['p95_ms']:.1f}; "
                f"targets: verdicts/s {rate:.0f} vs ≥ {TARGET_VERDICTS_PER_S}: "
                + ("met" if rate >= TARGET_VERDICTS_PER_S else "MISSED")
                + f"; server p95 {p95:.2f} ms vs < {TARGET_SERVER_P95_MS:.0f} ms: "
                + ("met" if p95 < TARGET_SERVER_P95_MS else "MISSED")
            )
        lines.append(
            "verdicts/s = answers ÷ wall time of the round; p50/p95 = client side (load "
            "generator); srv = inside the app;\ncpu ms/v = server process CPU per verdict; "
            "ratios are medians of the per-round ratios; the targets are QUALITY.md B3's "
            "(PostgreSQL)"
        )
        lines += [f"skipped: {reason}" for reason in self.skipped]
        return "\n".join(lines)

    def write(self) -> Path:
        bench.RESULTS.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = bench.RESULTS / f"door-{stamp}.json"
        engines = dict.fromkeys(row.engine for row in self.rows)
        path.write_text(
            json.dumps(
                {
                    "scenario": {
                        "tickets": TICKETS,
                        "round_tickets": ROUND_TICKETS,
                        "scans_per_round": len(scan_plan(list(range(ROUND_TICKETS)))),
                        "scanners": SCANNERS,
                        "rounds": ROUNDS,
                        "repeat_every": REPEAT_EVERY,
                        "repeat_lag": REPEAT_LAG,
                        "cpus": os.cpu_count(),
                    },
                    "targets": {
                        "verdicts_per_s": TARGET_VERDICTS_PER_S,
                        "server_p95_ms": TARGET_SERVER_P95_MS,
                    },
                    "medians": {
                        f"{engine}/{target}": values
                        for (engine, target), values in self.medians().items()
                    },
                    "ratios_to_floor": {engine: self.ratios(engine) for engine in engines},
                    "results": [asdict(row) for row in self.rows],
                    "skipped": self.skipped,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return path


@pytest.fixture(scope="module")
def report() -> Iterator[DoorReport]:
    collected = DoorReport()
    yield collected
    if collected.rows or collected.skipped:
        print(
            f"\n\nDoor check-in: {SCANNERS} scanners, {TICKETS:,} tickets, {ROUNDS} rounds "
            f"of {ROUND_TICKETS:,} tickets\n"
        )
        print(collected.table())
        print(f"\nresults: {collected.write().relative_to(bench.ROOT)}\n")


# --- the scans ----------------------------------------------------------------------------


def scan_plan(tickets: list[Any]) -> list[tuple[Any, bool]]:
    """(ticket, is a repeat) in the order sent: every ticket once, shuffled, and after
    the first REPEAT_LAG scans every REPEAT_EVERY-th is a repeat of the ticket first
    scanned REPEAT_LAG scans earlier (20 in flight: it was answered long before)."""
    order = list(tickets)
    random.Random(4).shuffle(order)
    plan: list[tuple[Any, bool]] = []
    for index, ticket in enumerate(order):
        plan.append((ticket, False))
        if index >= REPEAT_LAG and index % REPEAT_EVERY == 0:
            plan.append((order[index - REPEAT_LAG], True))
    return plan


def bodies(activity_id: int, tickets: list[list[Any]], gates: list[str], tag: str) -> list[Any]:
    out = []
    for number, (ticket, repeat) in enumerate(scan_plan(tickets)):
        gate = gates[(number + (1 if repeat else 0)) % len(gates)]
        out.append(
            {
                "activity_id": activity_id,
                "code": ticket[1],
                "client_id": f"bench-{tag}-{number:05d}",
                "gate": gate,
            }
        )
    return out


# --- the scan tables ----------------------------------------------------------------------


def scan_counts(
    url: str, *, floor: bool, activity_id: int, tickets: list[list[Any]]
) -> tuple[int, int, int]:
    """(standing admissions, distinct tickets among them, rows) of one round's tickets."""
    ids = ", ".join(str(ticket[0]) for ticket in tickets)
    if floor:
        admitted = (
            "SELECT count(*), count(DISTINCT registration_id), count(*) FROM floor_scan "
            f"WHERE activity_id = {activity_id} AND registration_id IN ({ids})"
        )
    else:
        admitted = (
            "SELECT sum(CASE WHEN result = 'admitted' AND undone_at IS NULL THEN 1 ELSE 0 END), "
            "count(DISTINCT CASE WHEN result = 'admitted' AND undone_at IS NULL "
            "THEN registration_id END), count(*) "
            f"FROM checkin_scan WHERE activity_id = {activity_id} AND registration_id IN ({ids})"
        )
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            row = connection.execute(admitted).fetchone()
        finally:
            connection.close()
    else:

        async def read() -> Any:
            import asyncpg

            connection = await asyncpg.connect(url)
            try:
                return await connection.fetchrow(admitted)
            finally:
                await connection.close()

        row = bench.run_sync(read())
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


# --- the benchmark ------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_door_checkin(engine: str, report: DoorReport, tmp_path: Path) -> None:
    skips = bench.Report()
    try:
        with bench.databases(engine, tmp_path, skips) as dbs:
            rounds = door(dbs, tmp_path)
    finally:
        report.skipped += skips.skipped
    report.rows += rounds

    # Correctness only; the figures are reported, not asserted.
    for row in rounds:
        what = f"{row.engine} {row.target} round {row.round}"
        repeats = row.scans - ROUND_TICKETS
        assert row.errors == 0, f"{what}: {row.errors} errors: {row.error_samples}"
        assert row.outcomes == {"admitted": ROUND_TICKETS, "already_checked_in": repeats}, what
        assert row.admitted_in_db == ROUND_TICKETS, f"{what}: {row.admitted_in_db} admissions"
        assert row.admitted_tickets_in_db == ROUND_TICKETS, f"{what}: a ticket admitted twice"
        if row.target == "unionhall":  # every verdict is in the scan log, once
            assert row.scan_rows == row.scans, f"{what}: {row.scan_rows} scan rows"


def prepare(dbs: bench.Databases, tmp: Path) -> dict[str, Any]:
    """Migrate and seed Unionhall's database and the floor's."""
    env = bench.service_env(dbs.unionhall_url, tmp / "data")
    bench.run_checked([bench.UNIONHALL, "migrate"], env, "unionhall migrate")
    seeded_file = tmp / "seeded.json"
    seed = [bench.PYTHON, "-m", "tests.bench.door_seed", str(seeded_file)]
    seed += ["--tickets", str(TICKETS), "--activities", "1"]
    bench.run_checked(seed, env, "seeding")
    seeded: dict[str, Any] = json.loads(seeded_file.read_text())
    doors = seeded["activities"]
    bench.run_sync(
        prepare_door(
            dbs.floor_url,
            [(t[0], door["id"], t[2], t[3]) for door in doors for t in door["tickets"]],
        )
    )
    return seeded


def scan_round(
    target: tuple[str, int],
    seeded: dict[str, Any],
    number: int,
    tag: str,
    tmp: Path,
    timeout: float = LOAD_TIMEOUT,
) -> dict[str, Any]:
    """One round's scans (round `number`, from 1: its own slice of the tickets)."""
    activity = seeded["activities"][0]
    return bench.load(
        target,
        "/api/v1/checkins",
        "",
        [],
        tmp,
        timeout=timeout,
        concurrency=SCANNERS,
        bodies=bodies(activity["id"], round_tickets(seeded, number), seeded["gates"], tag),
        headers={"Authorization": f"Bearer {seeded['organiser_token']}"},
        outcome_field="result",
        timing_header=TIMING_HEADER,
    )


def round_tickets(seeded: dict[str, Any], number: int) -> list[list[Any]]:
    tickets: list[list[Any]] = seeded["activities"][0]["tickets"]
    return tickets[(number - 1) * ROUND_TICKETS : number * ROUND_TICKETS]


def door(dbs: bench.Databases, tmp: Path) -> list[Round]:
    engine = dbs.engine
    data_dir = tmp / "data"
    seeded = prepare(dbs, tmp)
    activity_id = seeded["activities"][0]["id"]

    uvicorn = [bench.PYTHON, "-m", "uvicorn", "--factory", "--host", "127.0.0.1"]
    uvicorn += ["--proxy-headers", "--log-level", "info"]  # as `unionhall run`
    port, floor_port = bench.free_port(), bench.free_port()
    mine_env = bench.service_env(dbs.unionhall_url, data_dir, port)
    floor_env = {
        **os.environ,
        "FLOOR_DATABASE_URL": dbs.floor_url,
        "FLOOR_TICKET_KEY": seeded["public_key"],
    }
    mine_command = [*uvicorn, "--port", str(port), "tests.bench.door_timing:unionhall"]
    floor_command = [*uvicorn, "--port", str(floor_port), "tests.bench.door_timing:floor"]
    rows: list[Round] = []
    with (
        bench.server(mine_command, mine_env, tmp / "unionhall.log", port) as mine,
        bench.server(floor_command, floor_env, tmp / "floor.log", floor_port) as floor,
    ):
        for number in range(1, ROUNDS + 1):
            for target, server in (("unionhall", mine), ("floor", floor)):
                tag = f"{engine}-{target}-{number}-{uuid.uuid4().hex[:6]}"
                measured = scan_round(server, seeded, number, tag, tmp)
                counted = scan_counts(
                    dbs.floor_url if target == "floor" else dbs.unionhall_url,
                    floor=target == "floor",
                    activity_id=activity_id,
                    tickets=round_tickets(seeded, number),
                )
                rows.append(outcome(engine, target, number, measured, counted))
    return rows


def outcome(
    engine: str, target: str, number: int, measured: dict[str, Any], counted: tuple[int, int, int]
) -> Round:
    wall = measured["finished"] - measured["started"]
    latencies, server = measured["latencies_ms"], measured["server_ms"]
    statuses = measured["statuses"]
    scans = sum(statuses.values())
    return Round(
        engine=engine,
        target=target,
        round=number,
        scans=scans,
        wall_s=round(wall, 3),
        verdicts_per_s=scans / wall,
        p50_ms=bench.percentile(latencies, 0.50),
        p95_ms=bench.percentile(latencies, 0.95),
        p99_ms=bench.percentile(latencies, 0.99),
        max_ms=max(latencies),
        server_p50_ms=bench.percentile(server, 0.50),
        server_p95_ms=bench.percentile(server, 0.95),
        server_p99_ms=bench.percentile(server, 0.99),
        errors=sum(n for code, n in statuses.items() if code != "200"),
        statuses=statuses,
        outcomes=measured["outcomes"],
        admitted_in_db=counted[0],
        admitted_tickets_in_db=counted[1],
        scan_rows=counted[2],
        server_cpu_ms_per_verdict=round(measured["server_cpu_s"] * 1000 / max(1, scans), 3),
        machine_busy_share=round(measured["machine_busy_share"], 3),
        client_cpu_s=round(measured["cpu_s"], 2),
        error_samples=measured["error_samples"],
    )
