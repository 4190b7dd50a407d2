"""Reminders end to end: signups and organiser changes write the outbox, a real arq worker
in burst mode (against the Redis the tests use, on a queue of the test's own) claims what
is due at a frozen moment and delivers it to a loopback SMS gateway and an aiosmtpd server,
and the member's inbox. Each drain runs the worker as `unionhall worker` configures it
(the send_due cron at start-up, deliver_batch jobs), under service.clock.frozen_at."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service import clock, jobs
from service.activities import services as activities
from service.i18n import gettext, language
from service.orgs.tables import Member
from service.reminders import delivery, services, texts
from service.reminders.tables import ChannelPrefs, DeliveryAttempt, Notification, OutboxMessage
from tasks.worker import create_worker
from tests.conftest import Org
from tests.reminder_sinks import SmsSink, SmtpSink, channel_env
from tests.service.test_activities import draft, published, workers

pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
START = NOW + timedelta(days=3)  # Thu 4 June, 10:00 local
DAY_BEFORE = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)  # 18:00 local the evening before
ONE_HOUR = START - timedelta(hours=1)  # 09:00 local
TITLE = "春风行动招聘会"
VENUE = "县人力资源市场"


@pytest.fixture
async def gateways(sms: SmsSink, smtp: SmtpSink) -> AsyncIterator[None]:
    with channel_env(sms.url, smtp.url):
        yield


async def drain(queue: str, at: datetime, **overrides: Any) -> int:
    """One burst worker with the real crons (send_due at start-up), the clock frozen `at`;
    the number of jobs it completed (send_due included). Raises if a job failed."""
    with clock.frozen_at(at):
        worker = create_worker(burst=True, poll_delay=0.02, queue_name=queue, **overrides)
        try:
            return await worker.run_check()
        finally:
            await worker.close()


async def member_with_channels(actor: Any, lang: str, email: str) -> int:
    member_id = actor.member_id
    await Member.update({Member.language: lang}).where(Member.id == member_id).run()
    await ChannelPrefs.insert(
        ChannelPrefs(member_id=member_id, sms=True, push=False, email=email, email_on=True)
    ).run()
    return member_id


async def outbox(member_id: int) -> list[dict[str, Any]]:
    return (
        await OutboxMessage.select()
        .where(OutboxMessage.member == member_id)
        .order_by(OutboxMessage.due_at)
        .order_by(OutboxMessage.id)
        .run()
    )


def text(kind: str, lang: str, starts_at: datetime, **extra: str) -> tuple[str, str]:
    """(title, body) as the labels of service/reminders/delivery.py read in `lang` for the
    test's activity (the labels are the other side's wording; what is checked here is
    that the worker fills them in the member's language with the activity's details)."""
    from service.app import localtime

    with language(lang):
        values = {
            "title": TITLE,
            "when": localtime(starts_at),
            "time": localtime(starts_at, short=True),
            "where": VENUE,
            "reason": "",
            **extra,
        }
        return (
            gettext(texts.TITLE_LABELS[kind], **values),
            gettext(texts.BODY_LABELS[kind], **values),
        )


def sms_text(kind: str, lang: str, starts_at: datetime, **extra: str) -> str:
    return "\n".join(text(kind, lang, starts_at, **extra))


async def test_registration_reminders_at_local_times_in_the_members_language_and_channels(
    org: Org, queue: str, sms: SmsSink, smtp: SmtpSink, gateways: None
) -> None:
    activity_id = await published(org, capacity=5)
    english, chinese = await workers(2)
    en_id = await member_with_channels(english, "en", "wang@example.org")
    zh_id = await member_with_channels(chinese, "zh-CN", "li@example.org")
    with clock.frozen_at(NOW):
        for person in (english, chinese):
            await activities.register(person, activity_id)

    # The schedule: confirmation now, 18:00 local the evening before, an hour before.
    for member_id in (en_id, zh_id):
        assert [(row["kind"], row["due_at"], row["status"]) for row in await outbox(member_id)] == [
            ("registration_confirmed", NOW, "pending"),
            ("reminder_day_before", DAY_BEFORE, "pending"),
            ("reminder_1h", ONE_HOUR, "pending"),
        ]

    phones = {
        row["id"]: row["phone"]
        for row in await Member.select(Member.id, Member.phone)
        .where(Member.id.is_in([en_id, zh_id]))
        .run()
    }
    kinds = {
        "confirmation": "registration_confirmed",
        "day_before": "reminder_day_before",
        "1h": "reminder_1h",
    }
    expected_en = {label: sms_text(kind, "en", START) for label, kind in kinds.items()}
    expected_zh = {label: sms_text(kind, "zh-CN", START) for label, kind in kinds.items()}
    # Independently of the wording: English dates for one, Chinese for the other.
    assert all("Thu 4 Jun 10:00" in message for message in expected_en.values())
    assert all("6月4日" in message for message in expected_zh.values())
    assert not set(expected_en.values()) & set(expected_zh.values())

    moments = [
        ("confirmation", NOW),
        (None, DAY_BEFORE - timedelta(minutes=2)),  # nothing is sent early
        ("day_before", DAY_BEFORE),
        (None, ONE_HOUR - timedelta(minutes=2)),
        ("1h", ONE_HOUR),
        (None, START + timedelta(days=1)),  # nothing left
    ]
    for label, moment in moments:
        before = sms.delivered_count
        await drain(queue, moment)
        new = sms.messages()[before:]
        if label is None:
            assert new == [], moment
            continue
        assert sorted(new) == sorted([expected_en[label], expected_zh[label]]), label

    # Every SMS once, to the member's phone, with the key of its message; no retries.
    assert sms.raw_count == sms.delivered_count == 6
    rows = {row["id"]: row for member_id in (en_id, zh_id) for row in await outbox(member_id)}
    assert set(sms.delivered) == {f"unionhall-{message_id}-sms" for message_id in rows}
    for key, request in sms.delivered.items():
        message_id = int(key.split("-")[1])
        assert request.body_key == key
        assert request.phone == phones[rows[message_id]["member"]]
    # Sent at the due moment (the clock the worker saw), none early, none late.
    assert all(row["status"] == "sent" and row["sent_at"] == row["due_at"] for row in rows.values())

    # Email: one per message, to the member's address, subject in the member's language.
    assert smtp.raw_count == 6
    assert set(smtp.by_message_id()) == {
        f"<unionhall-{message_id}-email@unionhall>" for message_id in rows
    }
    by_address: dict[str, list[str]] = {}
    for mail in smtp.messages:
        by_address.setdefault(str(mail["To"]), []).append(str(mail["Subject"]))
    assert by_address["wang@example.org"] == [text(k, "en", START)[0] for k in kinds.values()]
    assert by_address["li@example.org"] == [text(k, "zh-CN", START)[0] for k in kinds.values()]
    bodies = {mail.get_content().strip() for mail in smtp.messages}
    assert bodies == {text(k, lang, START)[1] for k in kinds.values() for lang in ("en", "zh-CN")}

    # The inbox: one notification per message, in the member's language.
    inbox = await Notification.select().where(Notification.member_id == en_id).run()
    assert sorted(row["title"] for row in inbox) == sorted(
        text(kind, "en", START)[0] for kind in kinds.values()
    )
    assert await Notification.count().run() == 6


async def test_moving_an_activity_recomputes_its_reminders(
    org: Org, queue: str, sms: SmsSink, gateways: None
) -> None:
    activity_id = await published(org, capacity=5)
    (person,) = await workers(1)
    member_id = await member_with_channels(person, "en", "wang@example.org")
    with clock.frozen_at(NOW):
        await activities.register(person, activity_id)
    await drain(queue, NOW)
    assert sms.messages() == [sms_text("registration_confirmed", "en", START)]

    moved_at = NOW + timedelta(hours=1)
    new_start = START + timedelta(days=2)  # Sat 6 June, 10:00 local
    with clock.frozen_at(moved_at):
        await activities.update_activity(
            org.organiser_a,
            activity_id,
            draft(capacity=5, starts_at=new_start, ends_at=new_start + timedelta(hours=3)),
        )
    rows = await outbox(member_id)
    assert [(row["kind"], row["due_at"], row["status"]) for row in rows] == [
        ("registration_confirmed", NOW, "sent"),
        ("activity_changed", moved_at, "pending"),  # urgent: at once
        ("reminder_day_before", DAY_BEFORE, "superseded"),
        ("reminder_1h", ONE_HOUR, "superseded"),
        ("reminder_day_before", DAY_BEFORE + timedelta(days=2), "pending"),
        ("reminder_1h", new_start - timedelta(hours=1), "pending"),
    ]
    superseded = {row["id"] for row in rows if row["status"] == "superseded"}

    sent_at: list[tuple[datetime, list[str]]] = []
    for moment in (
        moved_at,
        DAY_BEFORE,  # the old times: nothing
        ONE_HOUR,
        START + timedelta(hours=2),
        DAY_BEFORE + timedelta(days=2),  # the new ones
        new_start - timedelta(hours=1),
        new_start + timedelta(days=1),
    ):
        before = sms.delivered_count
        await drain(queue, moment)
        sent_at.append((moment, sms.messages()[before:]))
    assert "Sat 6 Jun 10:00" in sms_text("activity_changed", "en", new_start)
    assert sent_at == [
        (moved_at, [sms_text("activity_changed", "en", new_start)]),
        (DAY_BEFORE, []),
        (ONE_HOUR, []),
        (START + timedelta(hours=2), []),
        (
            DAY_BEFORE + timedelta(days=2),
            [sms_text("reminder_day_before", "en", new_start)],
        ),
        (
            new_start - timedelta(hours=1),
            [sms_text("reminder_1h", "en", new_start)],
        ),
        (new_start + timedelta(days=1), []),
    ]
    assert not {f"unionhall-{message_id}-sms" for message_id in superseded} & set(sms.keys())
    assert sms.raw_count == sms.delivered_count == 4
    statuses = [row["status"] for row in await outbox(member_id)]
    assert statuses.count("superseded") == 2 and statuses.count("sent") == 4


async def test_cancelling_sends_one_cancellation_and_no_reminders(
    org: Org, queue: str, sms: SmsSink, smtp: SmtpSink, gateways: None
) -> None:
    activity_id = await published(org, capacity=5)
    people = await workers(2)
    for person in people:
        await member_with_channels(person, "en", f"{person.member_id}@example.org")
    with clock.frozen_at(NOW):
        for person in people:
            await activities.register(person, activity_id)
    await drain(queue, NOW)
    assert sms.delivered_count == 2  # the confirmations

    cancelled_at = NOW + timedelta(hours=2)
    with clock.frozen_at(cancelled_at):
        await activities.cancel(org.organiser_a, activity_id, "暴雨预警")
    for moment in (cancelled_at, DAY_BEFORE, ONE_HOUR, START + timedelta(days=1)):
        await drain(queue, moment)
        await drain(queue, moment)  # a second worker at the same moment adds nothing

    texts = sms.messages()
    cancelled = sms_text("activity_cancelled", "en", START, reason="暴雨预警")
    assert "暴雨预警" in cancelled
    assert [message for message in texts if message == cancelled] == [cancelled] * 2
    confirmed = sms_text("registration_confirmed", "en", START)
    assert sorted(texts) == sorted([confirmed] * 2 + [cancelled] * 2)  # no reminders
    assert sms.raw_count == sms.delivered_count == 4  # 2 confirmations + 2 cancellations
    assert smtp.raw_count == 4
    for person in people:
        kinds = {(row["kind"], row["status"]) for row in await outbox(person.member_id)}
        assert kinds == {
            ("registration_confirmed", "sent"),
            ("activity_cancelled", "sent"),
            ("reminder_day_before", "superseded"),
            ("reminder_1h", "superseded"),
        }
    assert await Notification.count().run() == 4


async def test_the_same_batch_enqueued_twice_is_delivered_once(
    org: Org, queue: str, sms: SmsSink, gateways: None
) -> None:
    activity_id = await published(org, capacity=5)
    people = await workers(2)
    for person in people:
        await member_with_channels(person, "en", f"{person.member_id}@example.org")
    with clock.frozen_at(NOW):
        for person in people:
            await activities.register(person, activity_id)
        (batch,) = await services.claim_batches()
    assert len(batch.message_ids) == 2  # the two confirmations, one job
    job = [("deliver_batch", (batch.claim, list(batch.message_ids)), batch.job_id)]
    assert await jobs.enqueue_many(job) == 1
    assert await jobs.enqueue_many(job) == 0  # the same id: not queued again
    assert await drain(queue, NOW, cron_jobs=[]) == 1  # one job ran
    assert sms.raw_count == sms.delivered_count == 2
    # After it ran, arq keeps its result (an hour): the id is still refused.
    assert await jobs.enqueue_many(job) == 0
    # Past that (or the batch enqueued under another id), the job re-reads its rows, finds
    # them sent and sends nothing.
    other = [("deliver_batch", (batch.claim, list(batch.message_ids)), f"{batch.job_id}:again")]
    assert await jobs.enqueue_many(other) == 1
    assert await drain(queue, NOW, cron_jobs=[]) == 1
    assert sms.raw_count == 2
    assert await Notification.count().run() == 2
    attempts_rows = await DeliveryAttempt.select(DeliveryAttempt.channel).run()
    assert sorted(row["channel"] for row in attempts_rows) == sorted(["email", "inbox", "sms"] * 2)


async def test_a_stale_claim_taken_again_is_delivered_by_the_new_batch_only(
    org: Org, queue: str, sms: SmsSink, gateways: None
) -> None:
    """A batch whose job was lost: its rows stay claimed until the claim goes stale, then
    are claimed again under a new token, so the new batch has a job id the queue has not
    seen. Should the old job turn up after all, even while the new one is still sending,
    it finds its rows held by another claim and sends nothing."""
    activity_id = await published(org, capacity=5)
    people = await workers(3)
    for person in people:
        await member_with_channels(person, "en", f"{person.member_id}@example.org")
    with clock.frozen_at(NOW):
        for person in people:
            await activities.register(person, activity_id)
        (lost,) = await services.claim_batches()
        assert await services.claim_batches() == []  # fresh claims are not taken again
    with clock.frozen_at(NOW + services.STALE_CLAIM + timedelta(seconds=1)):
        (again,) = await services.claim_batches()
        assert again.message_ids == lost.message_ids
        assert again.claim != lost.claim and again.job_id != lost.job_id
        outcomes = await delivery.deliver_batch(lost.message_ids, claim=lost.claim)
        assert set(outcomes.values()) == {"skipped"}
        assert sms.raw_count == 0
        outcomes = await delivery.deliver_batch(again.message_ids, claim=again.claim)
        assert set(outcomes.values()) == {"sent"}
        assert sms.raw_count == sms.delivered_count == 3
        # Once they are sent, neither the old job nor a delivery by id sends them again.
        assert set((await delivery.deliver_batch(lost.message_ids, lost.claim)).values()) == {
            "skipped"
        }
        assert set((await delivery.deliver_batch(lost.message_ids)).values()) == {"skipped"}
    assert sms.raw_count == 3
    assert await Notification.count().run() == 3


async def test_a_hanging_gateway_costs_a_batch_its_time_budget_not_its_record(
    org: Org, sms: SmsSink, gateways: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway never answers in time: the batch gives up at its time budget (before
    arq's job timeout would cancel it and lose everything), records the inbox rows, and
    counts an attempt for each message, retried with backoff."""
    monkeypatch.setattr(delivery, "SEND_BUDGET", timedelta(seconds=0.5))
    sms.delay = 30.0
    activity_id = await published(org, capacity=5)
    people = await workers(3)
    for person in people:
        await member_with_channels(person, "en", f"{person.member_id}@example.org")
    with clock.frozen_at(NOW):
        for person in people:
            await activities.register(person, activity_id)
        (batch,) = await services.claim_batches()
        started = time.monotonic()
        outcomes = await delivery.deliver_batch(batch.message_ids, claim=batch.claim)
        took = time.monotonic() - started
    assert took < 5, took
    assert set(outcomes.values()) == {"pending"}
    assert await Notification.count().run() == 3  # the inbox needs no gateway
    for message_id in batch.message_ids:
        row = await OutboxMessage.select().where(OutboxMessage.id == message_id).first().run()
        assert (row["status"], row["attempts"]) == ("pending", 1)
        assert row["last_error"] == "error: TimeoutError"
        assert row["due_at"] == NOW + timedelta(seconds=30)


async def test_a_batch_stops_sending_before_its_claim_can_go_stale() -> None:
    """Claimed long ago (its job waited in the queue): the budget is what is left before
    the claim goes stale, less a margin, so no second job can be sending the same rows."""
    loop = asyncio.get_running_loop()

    def budget(claimed_ago: timedelta) -> float:
        with clock.frozen_at(NOW):
            return delivery._send_deadline([{"claimed_at": NOW - claimed_ago}]) - loop.time()

    assert abs(budget(timedelta(0)) - delivery.SEND_BUDGET.total_seconds()) < 0.5
    # One minute left before it goes stale, less the 30 s margin.
    assert abs(budget(services.STALE_CLAIM - timedelta(minutes=1)) - 30) < 0.5
    assert budget(services.STALE_CLAIM) <= 0.01


async def test_one_failing_member_of_a_batch_is_retried_alone(
    org: Org,
    queue: str,
    sms: SmsSink,
    smtp: SmtpSink,
    gateways: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five members in one batch: the gateway refuses one's phone, and rendering breaks for
    another's message. The other three are sent once; the two are retried with backoff on
    their own, and the retry sends only what had not gone out (the email and inbox of the
    member whose SMS failed are not repeated)."""
    activity_id = await published(org, capacity=10)
    people = await workers(5)
    for person in people:
        await member_with_channels(person, "en", f"{person.member_id}@example.org")
    with clock.frozen_at(NOW):
        for person in people:
            await activities.register(person, activity_id)
    phones = {
        row["id"]: row["phone"]
        for row in await Member.select(Member.id, Member.phone)
        .where(Member.id.is_in([person.member_id for person in people]))
        .run()
    }
    refused, broken = people[1].member_id, people[3].member_id
    sms.failing_phones = {phones[refused]}
    broken_message = (await outbox(broken))[0]["id"]
    # Its own payload: messages alike are rendered once per batch, this one on its own.
    await (
        OutboxMessage.update({OutboxMessage.payload: '{"note": "its own"}'})
        .where(OutboxMessage.id == broken_message)
        .run()
    )
    real_render = delivery.render

    def render(row: dict[str, Any], lang: str, activity: Any) -> tuple[str, str]:
        if row["id"] == broken_message:
            raise RuntimeError("a template that breaks for this one message")
        return real_render(row, lang, activity)

    monkeypatch.setattr(delivery, "render", render)
    # One message's failure does not fail its batch's job (run_check raises if a job
    # failed). The job count is no measure: a burst worker that lives across a cron
    # second runs heartbeat or send_due once more.
    await drain(queue, NOW)

    confirmations = {person.member_id: (await outbox(person.member_id))[0] for person in people}
    assert {m: row["kind"] for m, row in confirmations.items()} == dict.fromkeys(
        confirmations, "registration_confirmed"
    )
    for member_id, row in confirmations.items():
        if member_id == refused:
            assert (row["status"], row["attempts"]) == ("pending", 1)
            assert row["last_error"] == "sms: gateway answered 500"
            assert row["due_at"] == NOW + timedelta(seconds=30)
        elif member_id == broken:
            assert (row["status"], row["attempts"]) == ("pending", 1)
            assert row["last_error"] == "error: RuntimeError"
        else:
            assert (row["status"], row["attempts"], row["sent_at"]) == ("sent", 0, NOW)
    assert sms.delivered_count == 3 and sms.raw_count == 4
    assert smtp.raw_count == 4  # everyone's but the broken message's
    assert await Notification.count().run() == 4

    sms.failing_phones = set()
    monkeypatch.setattr(delivery, "render", real_render)
    await drain(queue, NOW + timedelta(seconds=30))  # the two, due again
    for person in people:
        row = (await outbox(person.member_id))[0]
        assert row["status"] == "sent"
        assert row["attempts"] == (1 if person.member_id in (refused, broken) else 0)
    keys = sms.keys()
    assert sms.delivered_count == 5
    assert keys[f"unionhall-{confirmations[refused]['id']}-sms"] == 2
    assert sorted(keys.values()) == [1, 1, 1, 1, 2]
    assert smtp.raw_count == 5 and len(smtp.by_message_id()) == 5
    assert await Notification.count().run() == 5
    ok = (
        await DeliveryAttempt.select(DeliveryAttempt.outbox_id, DeliveryAttempt.channel)
        .where(
            DeliveryAttempt.ok == True  # noqa: E712
        )
        .run()
    )
    assert sorted((row["outbox_id"], row["channel"]) for row in ok) == sorted(
        (row["id"], channel)
        for row in confirmations.values()
        for channel in ("email", "inbox", "sms")
    )


@pytest.mark.parametrize(
    "prefs",
    [
        None,  # never chose: inbox only
        {"sms": False, "push": False, "email": "wang@example.org", "email_on": False},
        {"sms": False, "push": True, "email": "", "email_on": True},  # no address, no push
    ],
    ids=["no-prefs", "all-off", "email-on-without-address"],
)
async def test_a_member_with_no_channel_but_the_inbox_gets_only_the_inbox(
    org: Org,
    queue: str,
    sms: SmsSink,
    smtp: SmtpSink,
    gateways: None,
    prefs: dict[str, Any] | None,
) -> None:
    activity_id = await published(org, capacity=5)
    (person,) = await workers(1)
    if prefs is not None:
        await ChannelPrefs.insert(ChannelPrefs(member_id=person.member_id, **prefs)).run()
    with clock.frozen_at(NOW):
        await activities.register(person, activity_id)
    await drain(queue, NOW)
    await drain(queue, START + timedelta(days=1))
    assert sms.raw_count == 0 and smtp.raw_count == 0
    rows = await outbox(person.member_id)
    assert [row["status"] for row in rows] == ["sent"] * 3
    assert all(row["attempts"] == 0 and row["last_error"] == "" for row in rows)
    inbox = await Notification.select().where(Notification.member_id == person.member_id).run()
    assert sorted(row["outbox_id"] for row in inbox) == sorted(row["id"] for row in rows)
    channels = await DeliveryAttempt.select(DeliveryAttempt.channel, DeliveryAttempt.ok).run()
    assert channels == [{"channel": "inbox", "ok": True}] * 3
