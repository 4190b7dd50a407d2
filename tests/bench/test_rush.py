"""Hot-event rush over HTTP (QUALITY.md B1 on PostgreSQL, B2 on the embedded SQLite).

Per engine: a fresh database (a SQLite file in a temp dir; a fresh PostgreSQL database
dropped afterwards), `unionhall migrate`, seeding (tests/bench/rush_seed.py: 5,000 workers
with one API token each, one published job_fair with capacity 1,000), the real server
(`unionhall run --no-worker`, uvicorn, one process), then 500 concurrent clients making
5,000 signup attempts, each as a distinct member, from a separate load-generator process
(tests/bench/rush_load.py). The floor (tests/bench/floor_app.py: the same conditional
UPDATE + INSERT with raw asyncpg / raw sqlite3) runs under uvicorn with the same load
generator in the same run.

The load generator's default client is a minimal HTTP/1.1 keep-alive client on asyncio
(one connection per client): httpx costs ~1 ms of client CPU per request, which on this
2-core machine capped the floor (see rush_load.py); UNIONHALL_BENCH_CLIENT=httpx runs the
same load with one httpx.AsyncClient per client instead.

Asserted: correctness only (exactly 1,000 confirmed, taken = 1,000, one registration per
member, 0 errors, 0 "database is locked"). The performance targets (≥ 1,000 confirmed/s on
PostgreSQL, ≥ 500/s on SQLite, ≥ 50 % of the floor) are printed and written to
tests/bench/results/rush-<timestamp>.json, not asserted.

    make bench      # or: .venv/bin/python -m pytest tests/bench -p no:cacheprovider -s
    .venv/bin/python -m tests.bench.rush_medians    # medians over the saved runs
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.bench.floor_app import prepare as prepare_floor

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
PYTHON = str(BIN / "python") if (BIN / "python").exists() else sys.executable
UNIONHALL = str(BIN / "unionhall")
RESULTS = Path(__file__).resolve().parent / "results"

MEMBERS = 5_000
CAPACITY = 1_000
CLIENTS = 500
ATTEMPTS = 5_000
TARGET_CONFIRMED_PER_S = {"postgres": 1_000, "sqlite": 500}
TARGET_FLOOR_SHARE = 0.5
POSTGRES_ADMIN_URL = os.environ.get(
    "UNIONHALL_BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test"
)
CLIENT = os.environ.get("UNIONHALL_BENCH_CLIENT", "raw")  # or "httpx": see rush_load.py
REDIS_URL = os.environ.get("UNIONHALL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SERVER_START_TIMEOUT = 60.0
LOAD_TIMEOUT = 240.0


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on its own loop in a worker thread (pytest-asyncio owns this one)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_answers() -> bool:
    from urllib.parse import urlparse

    parsed = urlparse(REDIS_URL)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- results ------------------------------------------------------------------------------


@dataclass
class Outcome:
    engine: str
    target: str  # "unionhall" | "floor"
    wall_s: float
    attempts: int
    confirmed_per_s: float
    attempts_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    statuses: dict[str, int]
    confirmed: int  # from the database
    taken: int  # activity.taken, from the database
    waitlisted: int
    duplicate_registrations: int
    locked: int | None  # "database is locked" lines in the server log (SQLite)
    client: str
    client_cpu_s: float
    server_cpu_ms_per_attempt: float  # the server process only (not PostgreSQL's backends)
    machine_busy_share: float  # both cores, whole machine, over the timed run
    sold_out_s: float | None  # from the start until the 1,000th confirmed answer
    error_samples: list[str] = field(default_factory=list)
    ratio_to_floor: float | None = None


class Report:
    def __init__(self) -> None:
        self.rows: list[Outcome] = []
        self.skipped: list[str] = []

    def add(self, outcome: Outcome) -> None:
        self.rows.append(outcome)

    def table(self) -> str:
        head = (
            f"{'engine':<9}{'target':<11}{'confirmed/s':>12}{'attempts/s':>11}{'p50 ms':>9}"
            f"{'p95 ms':>9}{'errors':>7}{'confirmed':>10}{'waitlist':>9}{'locked':>7}"
            f"{'vs floor':>9}{'sold out s':>11}"
        )
        lines = [head, "-" * len(head)]
        for row in self.rows:
            ratio = f"{row.ratio_to_floor:.0%}" if row.ratio_to_floor is not None else "-"
            locked = str(row.locked) if row.locked is not None else "-"
            sold_out = f"{row.sold_out_s:.2f}" if row.sold_out_s is not None else "-"
            lines.append(
                f"{row.engine:<9}{row.target:<11}{row.confirmed_per_s:>12.0f}"
                f"{row.attempts_per_s:>11.0f}{row.p50_ms:>9.0f}{row.p95_ms:>9.0f}"
                f"{row.errors:>7}{row.confirmed:>10}{row.waitlisted:>9}{locked:>7}{ratio:>9}"
                f"{sold_out:>11}"
            )
        for engine in dict.fromkeys(row.engine for row in self.rows):
            mine = [r for r in self.rows if r.engine == engine and r.target == "unionhall"]
            if not mine:
                continue
            row = mine[0]
            goal = TARGET_CONFIRMED_PER_S[engine]
            verdicts = [
                f"confirmed/s {row.confirmed_per_s:.0f} vs ≥ {goal}: "
                + ("met" if row.confirmed_per_s >= goal else "MISSED"),
            ]
            if row.ratio_to_floor is not None:
                verdicts.append(
                    f"floor share {row.ratio_to_floor:.0%} vs ≥ {TARGET_FLOOR_SHARE:.0%}: "
                    + ("met" if row.ratio_to_floor >= TARGET_FLOOR_SHARE else "MISSED")
                )
            lines.append(f"{engine} targets: " + "; ".join(verdicts))
        lines.append(
            "confirmed/s = confirmed rows ÷ wall time of all 5,000 attempts; attempts/s and "
            "p50/p95 over all attempts;\nsold out s = start → the 1,000th 'confirmed' answer; "
            "vs floor = Unionhall attempts/s ÷ floor attempts/s"
        )
        lines += [f"skipped: {reason}" for reason in self.skipped]
        return "\n".join(lines)

    def write(self) -> Path:
        RESULTS.mkdir(exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = RESULTS / f"rush-{stamp}.json"
        path.write_text(
            json.dumps(
                {
                    "scenario": {
                        "members": MEMBERS,
                        "capacity": CAPACITY,
                        "clients": CLIENTS,
                        "attempts": ATTEMPTS,
                        "load_client": CLIENT,
                        "cpus": os.cpu_count(),
                        "ratio": "Unionhall attempts/s ÷ floor attempts/s",
                    },
                    "targets": {
                        "confirmed_per_s": TARGET_CONFIRMED_PER_S,
                        "floor_share": TARGET_FLOOR_SHARE,
                    },
                    "results": [asdict(row) for row in self.rows],
                    "skipped": self.skipped,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return path


@pytest.fixture(scope="module")
def report() -> Iterator[Report]:
    collected = Report()
    yield collected
    if collected.rows or collected.skipped:
        print("\n\nHot-event rush: 500 clients, 5,000 signup attempts, capacity 1,000\n")
        print(collected.table())
        print(f"\nresults: {collected.write().relative_to(ROOT)}\n")


# --- databases ----------------------------------------------------------------------------


@dataclass
class Databases:
    engine: str
    unionhall_url: str
    floor_url: str


async def _postgres_admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def databases(engine: str, tmp: Path, report: Report) -> Iterator[Databases]:
    if engine == "sqlite":
        yield Databases(
            engine, f"sqlite:///{tmp / 'unionhall.sqlite'}", f"sqlite:///{tmp / 'floor.sqlite'}"
        )
        return
    name = f"unionhall_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        run_sync(_postgres_admin(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        reason = f"PostgreSQL at {POSTGRES_ADMIN_URL} does not answer: {error!r}"
        report.skipped.append(f"{engine}: {reason}")
        pytest.skip(reason)
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield Databases(engine, url, url)  # the floor's tables are floor_*
    finally:
        run_sync(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def service_env(database_url: str, data_dir: Path, port: int | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONHALL_")}
    env.update(
        {
            "UNIONHALL_DATABASE_URL": database_url,
            "UNIONHALL_DATA_DIR": str(data_dir),
            "UNIONHALL_DEMO": "0",
        }
    )
    if redis_answers():
        env["UNIONHALL_REDIS_URL"] = REDIS_URL
    if port is not None:
        env["UNIONHALL_PORT"] = str(port)
    return env


def run_checked(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(
        command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"{what} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def counts(url: str, *, floor: bool, activity_id: int) -> dict[str, int]:
    if floor:
        registration, activity, column = "floor_registration", "floor_activity", "activity_id"
        member = "member_id"
    else:
        registration, activity, column = "activity_registration", "activity", "activity"
        member = "member"
    by_status = (
        f"SELECT status, count(*) AS n FROM {registration} WHERE {column} = {activity_id} "
        "GROUP BY status"
    )
    taken = f"SELECT taken FROM {activity} WHERE id = {activity_id}"
    duplicates = (
        f"SELECT count(*) - count(DISTINCT {member}) AS n FROM {registration} "
        f"WHERE {column} = {activity_id}"
    )
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            statuses = dict(connection.execute(by_status).fetchall())
            (taken_value,) = connection.execute(taken).fetchone()
            (duplicate_count,) = connection.execute(duplicates).fetchone()
        finally:
            connection.close()
    else:

        async def read() -> tuple[dict[str, int], int, int]:
            import asyncpg

            connection = await asyncpg.connect(url)
            try:
                rows = await connection.fetch(by_status)
                return (
                    {row["status"]: row["n"] for row in rows},
                    await connection.fetchval(taken),
                    await connection.fetchval(duplicates),
                )
            finally:
                await connection.close()

        statuses, taken_value, duplicate_count = run_sync(read())
    return {
        "confirmed": int(statuses.get("confirmed", 0)),
        "waitlisted": int(statuses.get("waitlisted", 0)),
        "taken": int(taken_value),
        "duplicates": int(duplicate_count),
    }


# --- servers and load ---------------------------------------------------------------------


@contextmanager
def server(
    command: list[str], env: dict[str, str], log: Path, port: int, stop_timeout: float = 20.0
) -> Iterator[tuple[str, int]]:
    base_url = f"http://127.0.0.1:{port}"
    with log.open("w") as sink:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT
            while True:
                if process.poll() is not None:
                    pytest.fail(f"{command[0]} exited early:\n{log.read_text()[-3000:]}")
                try:
                    if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"no /healthz within {SERVER_START_TIMEOUT}s:\n{log.read_text()}")
                time.sleep(0.2)
            yield base_url, process.pid
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def load(
    target: tuple[str, int],
    path: str,
    header: str,
    values: list[str],
    work: Path,
    timeout: float = LOAD_TIMEOUT,
    concurrency: int = CLIENTS,
    **extra: Any,
) -> dict[str, Any]:
    """Run the load generator against a server; adds the server's CPU seconds and the
    machine's busy share over the run (other processes on the box show up there).
    `extra` goes into the load spec as it is (see rush_load.py: bodies, headers, …)."""
    base_url, pid = target
    spec, out = work / "load-spec.json", work / "load-out.json"
    spec.write_text(
        json.dumps(
            {
                "base_url": base_url,
                "path": path,
                "header": header,
                "values": values,
                "concurrency": concurrency,
                "client": CLIENT,
                **extra,
            }
        )
    )
    server_before, machine_before = process_cpu_s(pid), machine_cpu()
    done = subprocess.run(
        [PYTHON, "-m", "tests.bench.rush_load", str(spec), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    server_after, machine_after = process_cpu_s(pid), machine_cpu()
    if done.returncode != 0:
        pytest.fail(f"load generator failed:\n{done.stdout}\n{done.stderr}")
    measured: dict[str, Any] = json.loads(out.read_text())
    measured["server_cpu_s"] = server_after - server_before
    busy = machine_after[0] - machine_before[0]
    total = machine_after[1] - machine_before[1]
    measured["machine_busy_share"] = busy / total if total else 0.0
    return measured


def outcome(
    engine: str, target: str, measured: dict[str, Any], db: dict[str, int], locked: int | None
) -> Outcome:
    wall = measured["finished"] - measured["started"]
    latencies = measured["latencies_ms"]
    statuses = measured["statuses"]
    attempts = sum(statuses.values())
    errors = sum(n for code, n in statuses.items() if not code.startswith("2"))
    return Outcome(
        engine=engine,
        target=target,
        wall_s=round(wall, 3),
        attempts=attempts,
        confirmed_per_s=db["confirmed"] / wall,
        attempts_per_s=attempts / wall,
        p50_ms=percentile(latencies, 0.50),
        p95_ms=percentile(latencies, 0.95),
        p99_ms=percentile(latencies, 0.99),
        max_ms=max(latencies),
        errors=errors,
        statuses=statuses,
        confirmed=db["confirmed"],
        taken=db["taken"],
        waitlisted=db["waitlisted"],
        duplicate_registrations=db["duplicates"],
        locked=locked,
        client=measured["client"],
        client_cpu_s=round(measured["cpu_s"], 2),
        server_cpu_ms_per_attempt=round(measured["server_cpu_s"] * 1000 / max(1, attempts), 2),
        machine_busy_share=round(measured["machine_busy_share"], 3),
        sold_out_s=measured.get("sold_out_s"),
        error_samples=measured["error_samples"],
    )


def locked_lines(log: Path) -> int:
    return sum("database is locked" in line for line in log.read_text().splitlines())


# --- the benchmark ------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_hot_event_rush(engine: str, report: Report, tmp_path: Path) -> None:
    with databases(engine, tmp_path, report) as dbs:
        unionhall, floor = rush(dbs, tmp_path)
    report.add(unionhall)
    report.add(floor)

    # Correctness only; the figures are reported, not asserted.
    assert floor.confirmed == CAPACITY and floor.errors == 0, "the floor itself is wrong"
    assert unionhall.errors == 0, f"{unionhall.errors} errors: {unionhall.error_samples}"
    assert unionhall.confirmed == CAPACITY, f"{unionhall.confirmed} confirmed"
    assert unionhall.taken == CAPACITY, f"activity.taken = {unionhall.taken}"
    assert unionhall.confirmed + unionhall.waitlisted == ATTEMPTS
    assert unionhall.duplicate_registrations == 0
    if engine == "sqlite":
        assert unionhall.locked == 0, f"{unionhall.locked} 'database is locked' in the log"


def rush(dbs: Databases, tmp: Path) -> tuple[Outcome, Outcome]:
    engine = dbs.engine
    data_dir = tmp / "data"
    env = service_env(dbs.unionhall_url, data_dir)
    run_checked([UNIONHALL, "migrate"], env, "unionhall migrate")
    seeded_file = tmp / "seeded.json"
    seed = [PYTHON, "-m", "tests.bench.rush_seed", str(seeded_file)]
    seed += ["--members", str(MEMBERS), "--capacity", str(CAPACITY)]
    run_checked(seed, env, "seeding")
    seeded = json.loads(seeded_file.read_text())
    activity_id = seeded["activity_id"]
    members = seeded["members"][:ATTEMPTS]

    # Unionhall: the real server, one uvicorn process.
    port = free_port()
    log = tmp / "unionhall.log"
    command = [UNIONHALL, "run", "--no-worker"]
    with server(command, service_env(dbs.unionhall_url, data_dir, port), log, port) as target:
        measured = load(
            target,
            f"/api/v1/activities/{activity_id}/registrations",
            "Authorization",
            [f"Bearer {token}" for _, token in members],
            tmp,
        )
    unionhall = outcome(
        engine,
        "unionhall",
        measured,
        counts(dbs.unionhall_url, floor=False, activity_id=activity_id),
        locked_lines(log) if engine == "sqlite" else None,
    )

    # The floor: the same route, load generator and uvicorn settings (access log on).
    floor_activity = run_sync(prepare_floor(dbs.floor_url, CAPACITY))
    port = free_port()
    floor_log = tmp / "floor.log"
    floor_env = {**os.environ, "FLOOR_DATABASE_URL": dbs.floor_url}
    command = [PYTHON, "-m", "uvicorn", "tests.bench.floor_app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "info"]
    with server(command, floor_env, floor_log, port) as target:
        measured = load(
            target,
            f"/api/v1/activities/{floor_activity}/registrations",
            "X-Member-Id",
            [str(member_id) for member_id, _ in members],
            tmp,
        )
    floor = outcome(
        engine,
        "floor",
        measured,
        counts(dbs.floor_url, floor=True, activity_id=floor_activity),
        locked_lines(floor_log) if engine == "sqlite" else None,
    )
    unionhall.ratio_to_floor = unionhall.attempts_per_s / floor.attempts_per_s
    return unionhall, floor
