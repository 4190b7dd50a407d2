"""The outbox: messages recorded inside the transaction of the change that causes them,
then claimed, delivered on each member's channels and marked sent by the worker.

Exactly once in effect: a job per (message, attempt) with a deterministic id, a re-read
before sending (superseded or sent rows are skipped), a channel that succeeded is never
tried again, the inbox row is unique per message, and the gateway receives an idempotency
key per (message, channel) so a resend after a crash mid-request is recognised."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from service import clock
from service.db import write_transaction
from service.reminders import policy
from service.reminders.tables import (
    ActivitySchedule,
    ChannelPrefs,
    DeliveryAttempt,
    Notification,
    OutboxMessage,
)
from service.settings import get_settings

KINDS = (
    "registration_confirmed",
    "registration_waitlisted",
    "waitlist_promoted",
    "activity_changed",
    "activity_cancelled",
    *policy.REMINDER_KINDS,
)
CLAIM_BATCH = 500
# A claimed message whose job never ran (Redis lost it, the worker died before starting
# it) is claimed again after this long; its job id changes with the attempt number.
STALE_CLAIM = timedelta(minutes=5)
MAX_ATTEMPTS = 5


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=30 * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class ActivityTimes:
    """What scheduling needs of an activity."""

    id: int
    kind: str
    starts_at: datetime


async def record(
    kind: str,
    member_ids: Iterable[int],
    *,
    activity_id: int | None = None,
    registration_id: int | None = None,
    due_at: datetime | None = None,
    **payload: Any,
) -> int:
    """Write one outbox row per member; call inside the caller's write_transaction().
    What can wait is held until quiet hours end."""
    assert kind in KINDS, kind
    zone = get_settings().zone
    due = policy.after_quiet_hours(kind, due_at or clock.now(), zone)
    rows = [
        OutboxMessage(
            kind=kind,
            member=member_id,
            activity_id=activity_id,
            registration_id=registration_id,
            payload=json.dumps(payload),
            due_at=due,
            created_at=clock.now(),
        )
        for member_id in member_ids
    ]
    if rows:
        await OutboxMessage.insert(*rows).run()
    return len(rows)


async def rules_for(activity: ActivityTimes) -> tuple[policy.Rule, ...]:
    """The activity's own schedule if an organiser set one, else its kind's."""
    rows = await ActivitySchedule.select().where(ActivitySchedule.activity_id == activity.id).run()
    if not rows:
        return policy.default_rules(activity.kind)
    return tuple(
        policy.Rule(row["kind"], minutes_before=row["minutes_before"])
        for row in rows
        if row["minutes_before"] is not None
    )


async def schedule_reminders(
    activity: ActivityTimes, registrations: Sequence[tuple[int, int]]
) -> int:
    """Inside the caller's transaction: the reminders of confirmed places, given as
    (registration id, member id). A reminder whose time has passed is not sent late."""
    now = clock.now()
    zone = get_settings().zone
    rows = []
    for rule in await rules_for(activity):
        due = policy.after_quiet_hours(rule.kind, rule.due(activity.starts_at, zone), zone)
        if due <= now or due >= activity.starts_at:
            continue
        rows += [
            OutboxMessage(
                kind=rule.kind,
                member=member_id,
                activity_id=activity.id,
                registration_id=registration_id,
                payload="{}",
                due_at=due,
                created_at=now,
            )
            for registration_id, member_id in registrations
        ]
    if rows:
        await OutboxMessage.insert(*rows).run()
    return len(rows)


async def supersede_reminders(
    *, activity_id: int | None = None, registration_id: int | None = None
) -> None:
    """Inside the caller's transaction: scheduled reminders of a registration or of a whole
    activity that have not gone out are never sent (a place cancelled, a time moved)."""
    where = OutboxMessage.kind.is_in(list(policy.REMINDER_KINDS)) & OutboxMessage.status.is_in(
        ["pending", "claimed"]
    )
    if registration_id is not None:
        where &= OutboxMessage.registration_id == registration_id
    if activity_id is not None:
        where &= OutboxMessage.activity_id == activity_id
    await OutboxMessage.update({OutboxMessage.status: "superseded"}).where(where).run()


async def messages_for(member_id: int, kind: str | None = None) -> list[dict[str, Any]]:
    query = OutboxMessage.select().where(OutboxMessage.member == member_id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return await query.order_by(OutboxMessage.id).run()


# --- sending ------------------------------------------------------------------------------


async def claim_due(limit: int = CLAIM_BATCH) -> list[tuple[int, int]]:
    """Claim due messages: [(id, attempts)], bounded. Stale claims are taken again."""
    now = clock.now()
    async with write_transaction():
        rows = await OutboxMessage.raw(
            "UPDATE reminder_outbox SET status = 'claimed', claimed_at = {} "
            "WHERE id IN (SELECT id FROM reminder_outbox WHERE due_at <= {} AND "
            "(status = 'pending' OR (status = 'claimed' AND claimed_at < {})) "
            "ORDER BY due_at LIMIT {}) RETURNING id, attempts",
            now,
            now,
            now - STALE_CLAIM,
            limit,
        ).run()
    return [(int(row["id"]), int(row["attempts"])) for row in rows]


def job_id(message_id: int, attempts: int) -> str:
    """One job per message and attempt: enqueuing the same one twice runs it once."""
    return f"outbox:{message_id}:{attempts}"


async def message(message_id: int) -> dict[str, Any] | None:
    return await OutboxMessage.select().where(OutboxMessage.id == message_id).first().run()


async def succeeded_channels(message_id: int) -> set[str]:
    rows = (
        await DeliveryAttempt.select(DeliveryAttempt.channel)
        .where((DeliveryAttempt.outbox_id == message_id) & (DeliveryAttempt.ok == True))  # noqa: E712
        .run()
    )
    return {row["channel"] for row in rows}


async def record_attempt(message_id: int, channel: str, error: str | None) -> None:
    async with write_transaction():
        await DeliveryAttempt.insert(
            DeliveryAttempt(
                outbox_id=message_id,
                channel=channel,
                ok=error is None,
                error=(error or "")[:1000],
                attempted_at=clock.now(),
            )
        ).run()


async def add_to_inbox(row: dict[str, Any], title: str, body: str) -> None:
    """The inbox channel: at most one notification per message."""
    async with write_transaction():
        await Notification.raw(
            "INSERT INTO reminder_inbox (member_id, outbox_id, kind, activity_id, title, body, "
            "created_at, read_at) VALUES ({}, {}, {}, {}, {}, {}, {}, NULL) "
            "ON CONFLICT (outbox_id) DO NOTHING",
            row["member"],
            row["id"],
            row["kind"],
            row["activity_id"],
            title[:200],
            body,
            clock.now(),
        ).run()


async def finish(message_id: int, failures: dict[str, str]) -> str:
    """After a delivery attempt: sent, retried later with backoff, or failed for good."""
    now = clock.now()
    async with write_transaction():
        if not failures:
            await (
                OutboxMessage.update({OutboxMessage.status: "sent", OutboxMessage.sent_at: now})
                .where((OutboxMessage.id == message_id) & (OutboxMessage.status == "claimed"))
                .run()
            )
            return "sent"
        row = await message(message_id)
        assert row is not None
        attempts = int(row["attempts"]) + 1
        status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
        error = "; ".join(f"{channel}: {text}" for channel, text in sorted(failures.items()))
        await (
            OutboxMessage.update(
                {
                    OutboxMessage.status: status,
                    OutboxMessage.attempts: attempts,
                    OutboxMessage.due_at: now + _backoff(attempts),
                    OutboxMessage.last_error: error[:1000],
                }
            )
            .where((OutboxMessage.id == message_id) & (OutboxMessage.status == "claimed"))
            .run()
        )
        return status


def payload(row: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(row["payload"] or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Prefs:
    sms: bool
    push: bool
    email: str
    email_on: bool


async def channel_prefs(member_id: int) -> Prefs:
    row = await ChannelPrefs.select().where(ChannelPrefs.member_id == member_id).first().run()
    if row is None:
        return Prefs(sms=False, push=True, email="", email_on=False)
    return Prefs(sms=row["sms"], push=row["push"], email=row["email"], email_on=row["email_on"])
