"""README's "Running it for real", followed step by step with the real command line: an
empty PostgreSQL database, `unionhall migrate`, `unionhall init`, `unionhall run` with an
SMS gateway, and an admin who signs in with the code the gateway received."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import free_port
from tests.cli.test_cli import UNIONHALL, problem_lines
from tests.conftest import POSTGRES_ADMIN_URL, _postgres_admin

pytestmark = pytest.mark.skipif(
    os.environ.get("UNIONHALL_TEST_ENGINE", "sqlite") != "sqlite",
    reason="the command line runs in the SQLite pass (this test brings its own PostgreSQL)",
)

ADMIN_PHONE = "13912340001"


def postgres_answers() -> bool:
    try:
        asyncio.run(_postgres_admin("SELECT 1"))
    except Exception:
        return False
    return True


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    if not postgres_answers():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    name = f"unionhall_firstrun_{uuid.uuid4().hex[:8]}"
    asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [UNIONHALL, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def init(env: dict[str, str], federation: str, phone: str = ADMIN_PHONE) -> Any:
    return run(
        env,
        "init",
        "--federation",
        federation,
        "--admin-phone",
        phone,
        "--admin-name",
        "王管理员",
    )


def test_an_empty_postgres_reaches_a_signed_in_admin(
    empty_postgres: str, tmp_path: Path, sms: Any
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "UNIONHALL_DATABASE_URL": empty_postgres,
        "UNIONHALL_DATA_DIR": str(tmp_path / "data"),
        "UNIONHALL_PORT": str(port),
        "UNIONHALL_SMS_GATEWAY_URL": sms.url,
    }
    env.pop("UNIONHALL_DEMO", None)  # for real: codes go by SMS only

    # Before init, there is no way to add anyone (the finding this command answers).
    assert run(env, "migrate").returncode == 0
    refused = run(env, "users", "add", "--phone", ADMIN_PHONE, "--name", "王管理员")
    assert refused.returncode != 0

    first = init(env, "城南县总工会")
    assert first.returncode == 0, first.stderr
    assert "federation 城南县总工会 (federation): created" in first.stdout
    assert "139****0001: created" in first.stdout
    assert ADMIN_PHONE not in first.stdout

    again = init(env, "城南县总工会")
    assert again.returncode == 0, again.stderr
    assert "already there" in again.stdout and "created" not in again.stdout

    other = init(env, "另一个总工会", phone="13912340002")
    assert other.returncode != 0
    lines = problem_lines(other.stderr)
    assert len(lines) == 1 and "城南县总工会" in lines[0], other.stderr

    log = tmp_path / "run.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [UNIONHALL, "run", "--no-worker"], env=env, stdout=out, stderr=out
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz").status_code in (200, 503):
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        with httpx.Client(base_url=base) as browser:
            form = browser.get("/signin")
            token = re.search(r'data-csrf-token="([^"]+)"', form.text)
            assert token, form.text
            csrf = token.group(1)
            asked = browser.post(
                "/signin", data={"phone": ADMIN_PHONE, "next": "/", "_csrf_token": csrf}
            )
            assert asked.status_code == 200, asked.text
            codes = [re.search(r"\b(\d{6})\b", text) for text in sms.messages()]
            assert codes and codes[-1], sms.messages()
            signed_in = browser.post(
                "/signin/verify",
                data={
                    "phone": ADMIN_PHONE,
                    "code": codes[-1].group(1),
                    "next": "/admin/members",
                    "_csrf_token": csrf,
                },
                follow_redirects=True,
            )
            assert signed_in.status_code == 200, signed_in.text
            members = browser.get("/admin/members")
            assert members.status_code == 200
            assert "王管理员" in members.text and "139****0001" in members.text
    finally:
        server.terminate()
        server.wait(timeout=30)
