"""The arq worker against the Redis the tests use, and /healthz reporting on it."""

from __future__ import annotations

import socket
import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from arq import create_pool
from arq.connections import RedisSettings
from redis.asyncio import Redis

from service import clock
from service.health import WORKER_HEARTBEAT_KEY
from service.livestreams import services as livestreams
from service.livestreams.schemas import ChannelIn, RuleIn
from service.redis_client import get_redis, redis_url
from service.reminders import services as outbox
from tasks.worker import HEARTBEAT_TTL_SECONDS, create_worker
from tests.conftest import Org


def closed_port() -> int:
    """A loopback port nobody listens on: bound once by the OS, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def healthz(client: Any) -> tuple[int, dict[str, Any]]:
    response = await client.get("/healthz")
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, response.json()


async def test_healthz_reports_no_worker_before_any_ran(client: Any) -> None:
    status, body = await healthz(client)
    assert status == 200
    assert body == {"database": "ok", "redis": "ok", "worker_heartbeat_age_s": None}


@pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")  # arq's
async def test_burst_worker_runs_the_heartbeat_job_and_healthz_sees_it(client: Any) -> None:
    _, before = await healthz(client)
    assert before["worker_heartbeat_age_s"] is None

    # A queue of its own: test sessions sharing one Redis database do not take its job.
    queue = f"unionhall-test:{uuid.uuid4().hex}"
    pool = await create_pool(RedisSettings.from_dsn(redis_url()), default_queue_name=queue)
    try:
        job = await pool.enqueue_job("heartbeat")
        assert job is not None
        worker = create_worker(burst=True, poll_delay=0.05, queue_name=queue, cron_jobs=[])
        try:
            assert await worker.run_check() == 1  # raises FailedJobs if the job failed
        finally:
            await worker.close()

        status, after = await healthz(client)
        assert status == 200
        assert after["database"] == "ok" and after["redis"] == "ok"
        age = after["worker_heartbeat_age_s"]
        assert isinstance(age, int | float)
        assert 0 <= age < 5

        # The heartbeat expires, so a dead worker shows; the job returned the time it wrote.
        assert 0 < await get_redis().ttl(WORKER_HEARTBEAT_KEY) <= HEARTBEAT_TTL_SECONDS
        beat_at = await job.result(timeout=5)
        assert float(await get_redis().get(WORKER_HEARTBEAT_KEY)) >= beat_at
    finally:
        await pool.aclose()


async def test_healthz_is_503_when_redis_is_unreachable(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable = Redis(host="127.0.0.1", port=closed_port(), socket_connect_timeout=0.5)
    monkeypatch.setattr("service.health.get_redis", lambda: unreachable)
    try:
        status, body = await healthz(client)
    finally:
        await unreachable.aclose()
    assert status == 503
    assert body == {"database": "ok", "redis": "down", "worker_heartbeat_age_s": None}


@pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")  # arq's
async def test_the_worker_runs_each_kinds_upkeep(org: Org) -> None:
    """The hourly upkeep job, run by a real worker, calls the kinds' upkeep hooks: a
    livestream subscriber's reminder of an episode that came into the coming week is
    recorded by it, not by the subscription."""
    channel = await livestreams.create_channel(
        org.organiser_a,
        ChannelIn(name="职工课堂", node="union-a", stream_url="https://live.example.cn/k"),
    )
    start = clock.now().astimezone(ZoneInfo("Asia/Shanghai")) + timedelta(days=9)
    await livestreams.save_schedule(
        org.organiser_a,
        channel.id,
        RuleIn(
            weekdays=[("MO", "TU", "WE", "TH", "FR", "SA", "SU")[start.weekday()]],
            start_date=start.date(),
            start_time="12:00",
            end_date=start.date() + timedelta(days=1),
            minutes=60,
        ),
    )
    assert (await livestreams.subscribe(org.worker_a1, channel.id, None)).reminders_scheduled == 0
    queue = f"unionhall-test:{uuid.uuid4().hex}"
    pool = await create_pool(RedisSettings.from_dsn(redis_url()), default_queue_name=queue)
    try:
        job = await pool.enqueue_job("kinds_upkeep")
        assert job is not None
        with clock.frozen_at(clock.now() + timedelta(days=3)):
            worker = create_worker(burst=True, poll_delay=0.05, queue_name=queue, cron_jobs=[])
            try:
                assert await worker.run_check() == 1
            finally:
                await worker.close()
        assert (await job.result(timeout=5))["livestream"] == 1
    finally:
        await pool.aclose()
    reminders = await outbox.messages_for(org.worker_a1.member_id or 0, "livestream_reminder")
    assert len(reminders) == 1
