"""`unionhall run` (as `make run` starts it) stops everything it started: on Ctrl-C and on
SIGTERM (`docker stop`, systemd), the web server, its job worker and the embedded Redis
all end; nothing is left running."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.browser.conftest import free_port
from tests.cli.test_cli import UNIONHALL

pytestmark = pytest.mark.skipif(
    os.environ.get("UNIONHALL_TEST_ENGINE", "sqlite") != "sqlite",
    reason="the command line runs in the SQLite pass",
)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def answers(socket_path: str) -> bool:
    with socket.socket(socket.AF_UNIX) as client:
        try:
            client.connect(socket_path)
        except OSError:
            return False
        client.sendall(b"PING\r\n")
        return client.recv(16).startswith(b"+PONG")


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_run_stops_its_worker_and_embedded_redis(tmp_path: Path, how: signal.Signals) -> None:
    port = free_port()
    env = {
        **os.environ,
        "UNIONHALL_DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite'}",
        "UNIONHALL_DATA_DIR": str(tmp_path / "data"),
        "UNIONHALL_PORT": str(port),
        "UNIONHALL_DEMO": "1",
    }
    env.pop("UNIONHALL_REDIS_URL", None)  # the embedded server, as `make run` has it
    subprocess.run([UNIONHALL, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen([UNIONHALL, "run"], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        healthy = False
        while time.monotonic() < deadline and not healthy:
            time.sleep(0.5)
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz")
            except httpx.HTTPError:
                continue
            # Up, with the worker's first heartbeat in.
            healthy = health.status_code == 200 and bool(health.json()["worker_heartbeat_age_s"])
        assert healthy, log.read_text()
        (redis_socket,) = re.findall(r"embedded Redis listening on (\S+)", log.read_text())
        workers = children_of(process.pid)
        assert workers and answers(redis_socket)

        process.send_signal(how)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    assert [pid for pid in workers if alive(pid)] == [], log.read_text()[-2000:]
    assert not answers(redis_socket)
