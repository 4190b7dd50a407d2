"""The outbox: messages recorded inside the transaction of the change that causes them,
then claimed, delivered on each member's channels and marked sent by the worker.

Exactly once in effect: rows are claimed under a claim token and delivered in batches, a
job per batch with an id derived from the claim (enqueued twice, it runs once); the job
re-reads its rows and delivers only those still claimed under its token (superseded, sent
or re-claimed rows are skipped), a channel that succeeded is never tried again, the inbox
row is unique per message, and the gateway receives an idempotency key per (message,
channel) so a resend after a crash mid-request is recognised."""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from service import clock, kinds
from service.db import is_postgres, run_sql, write_transaction
from service.errors import DomainError, Forbidden, NotFound
from service.orgs import services as orgs
from service.orgs.schemas import Actor
from service.reminders import policy
from service.reminders.tables import (
    ActivitySchedule,
    ChannelPrefs,
    DeliveryAttempt,
    Notification,
    OutboxMessage,
    PushSubscription,
)
from service.settings import get_settings

log = logging.getLogger(__name__)

CORE_KINDS = (
    "registration_confirmed",
    "registration_waitlisted",
    "waitlist_promoted",
    "activity_changed",
    "activity_cancelled",
    *policy.REMINDER_KINDS,
)
# Notices about where a registration stands: a later one makes an unsent earlier one moot.
NOTICE_KINDS = ("registration_confirmed", "registration_waitlisted", "waitlist_promoted")
CLAIM_BATCH = 500
# Messages per delivery job: the reads, inbox rows, attempts and final UPDATE of a batch
# are one statement each, instead of one each per message.
BATCH_SIZE = 50
# A claimed message whose job never ran (Redis lost it, the worker died before starting
# it) is claimed again after this long, under a new claim token and so a new job id. It
# is longer than arq's job timeout (300 s), so a slow job is cancelled before its rows
# can be claimed again.
STALE_CLAIM = timedelta(minutes=6)
MAX_ATTEMPTS = 5


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=30 * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class ActivityTimes:
    """What scheduling needs of an activity."""

    id: int
    kind: str
    starts_at: datetime


@dataclass(frozen=True)
class NewMessage:
    """An outbox row yet to be written, without its member, activity and registration."""

    kind: str
    payload: str
    due_at: datetime
    created_at: datetime


def new_message(kind: str, *, due_at: datetime | None = None, **payload: Any) -> NewMessage:
    """What record() writes for each member: due now unless a time is given. Quiet hours
    are the delivery's to apply (policy.quiet_hold), and only to what buzzes a phone: the
    inbox row is written as soon as the message is sent for."""
    assert kind in CORE_KINDS or kind in kinds.messages(), kind
    due = due_at or clock.now()
    return NewMessage(kind=kind, payload=json.dumps(payload), due_at=due, created_at=clock.now())


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
    A notice about a registration supersedes its earlier notices not yet sent (a waitlist
    notice overtaken by the promotion never arrives after it)."""
    message = new_message(kind, due_at=due_at, **payload)
    if registration_id is not None and kind in NOTICE_KINDS:
        await OutboxMessage.update({OutboxMessage.status: "superseded"}).where(
            (OutboxMessage.registration_id == registration_id)
            & OutboxMessage.kind.is_in(list(NOTICE_KINDS))
            & (OutboxMessage.status == "pending")
        ).run()
    rows = [
        OutboxMessage(
            kind=message.kind,
            member=member_id,
            activity_id=activity_id,
            registration_id=registration_id,
            payload=message.payload,
            due_at=message.due_at,
            created_at=clock.now(),
        )
        for member_id in member_ids
    ]
    if rows:
        await OutboxMessage.insert(*rows).run()
    return len(rows)


# An organiser's own schedule of one activity (its rows, oldest first).
RULES_READ = (
    "SELECT kind, minutes_before FROM reminder_activity_schedule WHERE activity_id = {} ORDER BY id"
)


def rules_from(kind: str, rows: Sequence[dict[str, Any]]) -> tuple[policy.Rule, ...]:
    """The rules given an activity's own schedule rows (RULES_READ): its kind's when
    there are none."""
    if not rows:
        return policy.default_rules(kind)
    return tuple(
        policy.Rule(row["kind"], minutes_before=row["minutes_before"])
        for row in rows
        if row["minutes_before"] is not None
    )


async def rules_for(activity: ActivityTimes) -> tuple[policy.Rule, ...]:
    """The activity's own schedule if an organiser set one, else its kind's."""
    return rules_from(activity.kind, await run_sql(RULES_READ, activity.id))


def reminders_due(activity: ActivityTimes, rules: Sequence[policy.Rule]) -> list[NewMessage]:
    """The reminders one confirmed place gets under these rules; a reminder whose time has
    passed is not sent late."""
    now = clock.now()
    zone = get_settings().zone
    out = []
    for rule in rules:
        planned = rule.due(activity.starts_at, zone)
        due = policy.after_quiet_hours(rule.kind, planned, zone)
        if due >= activity.starts_at:
            due = planned  # held past the start it would be too late: it goes at its time
        if due <= now or due >= activity.starts_at:
            continue
        out.append(NewMessage(kind=rule.kind, payload="{}", due_at=due, created_at=now))
    return out


async def schedule_reminders(
    activity: ActivityTimes, registrations: Sequence[tuple[int, int]]
) -> int:
    """Inside the caller's transaction: the reminders of confirmed places, given as
    (registration id, member id). A reminder whose time has passed is not sent late."""
    rows = [
        OutboxMessage(
            kind=message.kind,
            member=member_id,
            activity_id=activity.id,
            registration_id=registration_id,
            payload=message.payload,
            due_at=message.due_at,
            created_at=message.created_at,
        )
        for message in reminders_due(activity, await rules_for(activity))
        for registration_id, member_id in registrations
    ]
    if rows:
        await OutboxMessage.insert(*rows).run()
    return len(rows)


# A new outbox row in raw SQL, for the signup hot path (service/activities/services.py
# register), which writes a signup's messages in one multi-row INSERT, or on PostgreSQL
# in the same statement as its registration. Every column is named: Piccolo fills the
# defaults in Python, so the table's SQL defaults are not relied on.
OUTBOX_INSERT = (
    "INSERT INTO reminder_outbox (kind, member, activity_id, registration_id, payload, "
    "due_at, created_at, sent_at, status, attempts, claimed_at, claim, last_error) "
)
# The constant tail of each row, after (kind, member, activity_id, registration_id,
# payload, due_at, created_at).
OUTBOX_ROW_TAIL = "NULL, 'pending', 0, NULL, NULL, ''"


def messages_insert(
    messages: Sequence[NewMessage], *, member_id: int, activity_id: int, registration_id: int
) -> tuple[str, list[Any]]:
    """One member's messages as one INSERT (`{}` placeholders) and its parameters."""
    row = "({}, {}, {}, {}, {}, {}, {}, " + OUTBOX_ROW_TAIL + ")"
    params: list[Any] = []
    for message in messages:
        params += [
            message.kind,
            member_id,
            activity_id,
            registration_id,
            message.payload,
            message.due_at,
            message.created_at,
        ]
    return OUTBOX_INSERT + "VALUES " + ", ".join([row] * len(messages)), params


async def supersede_reminders(
    *, activity_id: int | None = None, registration_id: int | None = None
) -> None:
    """Inside the caller's transaction: scheduled reminders of a registration or of a whole
    activity that have not gone out are never sent (a place cancelled, a time moved)."""
    reminder_kinds = [*policy.REMINDER_KINDS, *kinds.start_reminders()]
    where = OutboxMessage.kind.is_in(reminder_kinds) & OutboxMessage.status.is_in(
        ["pending", "claimed"]
    )
    if registration_id is not None:
        where &= OutboxMessage.registration_id == registration_id
    if activity_id is not None:
        where &= OutboxMessage.activity_id == activity_id
    await OutboxMessage.update({OutboxMessage.status: "superseded"}).where(where).run()


async def supersede_member_messages(
    kind: str, *, member_id: int, activity_ids: Sequence[int]
) -> None:
    """Inside the caller's transaction: one member's messages of this kind about these
    activities that have not gone out are never sent (a viewer unsubscribed)."""
    if not activity_ids:
        return
    await OutboxMessage.update({OutboxMessage.status: "superseded"}).where(
        (OutboxMessage.kind == kind)
        & (OutboxMessage.member == member_id)
        & OutboxMessage.activity_id.is_in(list(activity_ids))
        & OutboxMessage.status.is_in(["pending", "claimed"])
    ).run()


async def messages_for(member_id: int, kind: str | None = None) -> list[dict[str, Any]]:
    query = OutboxMessage.select().where(OutboxMessage.member == member_id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return await query.order_by(OutboxMessage.id).run()


async def members_sent(kind: str, activity_ids: Sequence[int]) -> dict[int, set[int]]:
    """Per activity, the members a message of this kind about it was sent to (only sent
    ones: a pending, superseded or failed message reminded nobody)."""
    if not activity_ids:
        return {}
    rows = (
        await OutboxMessage.select(OutboxMessage.activity_id, OutboxMessage.member)
        .where(
            (OutboxMessage.kind == kind)
            & OutboxMessage.activity_id.is_in(list(activity_ids))
            & (OutboxMessage.status == "sent")
        )
        .distinct()
        .run()
    )
    found: dict[int, set[int]] = {}
    for row in rows:
        found.setdefault(row["activity_id"], set()).add(row["member"])
    return found


# --- sending ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    """Messages claimed together and delivered by one job. The job id comes from the claim
    token stored on the rows: enqueuing the same batch twice runs it once, and a re-claim
    (new token) gets a job id the queue has never seen."""

    claim: str
    message_ids: tuple[int, ...]

    @property
    def job_id(self) -> str:
        return batch_job_id(self.claim, self.message_ids[0])


def batch_job_id(claim: str, first_message_id: int) -> str:
    return f"outbox:{claim}:{first_message_id}"


# Repeated outside the sub-select: on PostgreSQL a claimer that waited for another's row
# lock re-checks these on the row as committed, so it cannot take a row claimed meanwhile.
_CLAIMABLE = "(status = 'pending' OR (status = 'claimed' AND claimed_at < {}))"


async def _claim(limit: int) -> tuple[str, list[tuple[int, int]]]:
    now = clock.now()
    stale = now - STALE_CLAIM
    token = secrets.token_hex(8)
    # SKIP LOCKED: concurrent claimers on PostgreSQL take disjoint rows without queueing
    # behind each other (SQLite has one writer, so claims never overlap there).
    skip_locked = " FOR UPDATE SKIP LOCKED" if is_postgres() else ""
    async with write_transaction():
        rows = await OutboxMessage.raw(
            # Only constants and {} placeholders are joined: the values are parameters. The
            # rows are chosen in a CTE: PostgreSQL runs a locking CTE once, whereas a
            # LIMIT … SKIP LOCKED sub-select in the WHERE may be run again and take more.
            "WITH due AS (SELECT id FROM reminder_outbox WHERE due_at <= {} AND "  # noqa: S608
            + _CLAIMABLE
            + " ORDER BY due_at LIMIT {}"
            + skip_locked
            + ") UPDATE reminder_outbox SET status = 'claimed', claimed_at = {}, claim = {} "
            "WHERE id IN (SELECT id FROM due) AND " + _CLAIMABLE + " RETURNING id, attempts",
            now,
            stale,
            limit,
            now,
            token,
            stale,
        ).run()
    return token, sorted((int(row["id"]), int(row["attempts"])) for row in rows)


async def claim_due(limit: int = CLAIM_BATCH) -> list[tuple[int, int]]:
    """Claim due messages: [(id, attempts)], bounded. Stale claims are taken again."""
    return (await _claim(limit))[1]


async def claim_batches(limit: int = CLAIM_BATCH, size: int = BATCH_SIZE) -> list[Batch]:
    """Claim due messages (bounded) and cut them into batches of at most `size`."""
    token, claimed = await _claim(limit)
    ids = [message_id for message_id, _ in claimed]
    return [
        Batch(claim=token, message_ids=tuple(ids[start : start + size]))
        for start in range(0, len(ids), size)
    ]


def _in(values: Sequence[Any]) -> str:
    return "(" + ", ".join("{}" for _ in values) + ")"


async def claimed_messages(
    message_ids: Sequence[int], claim: str | None = None
) -> list[dict[str, Any]]:
    """The rows among these still claimed (by `claim`, if given), with what sending needs
    of each member: phone and language. One read for the whole batch."""
    if not message_ids:
        return []
    where = OutboxMessage.id.is_in(list(message_ids)) & (OutboxMessage.status == "claimed")
    if claim is not None:
        where &= OutboxMessage.claim == claim
    return (
        await OutboxMessage.select(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.member,
            OutboxMessage.activity_id,
            OutboxMessage.payload,
            OutboxMessage.due_at,
            OutboxMessage.attempts,
            OutboxMessage.claimed_at,
            OutboxMessage.member.phone.as_alias("phone"),
            OutboxMessage.member.language.as_alias("language"),
        )
        .where(where)
        .order_by(OutboxMessage.id)
        .run()
    )


async def succeeded_channels(message_ids: Sequence[int]) -> dict[int, set[str]]:
    """The channels each message has already gone out on."""
    done: dict[int, set[str]] = {message_id: set() for message_id in message_ids}
    if not message_ids:
        return done
    rows = (
        await DeliveryAttempt.select(DeliveryAttempt.outbox_id, DeliveryAttempt.channel)
        .where(
            DeliveryAttempt.outbox_id.is_in(list(message_ids)) & (DeliveryAttempt.ok == True)  # noqa: E712
        )
        .run()
    )
    for row in rows:
        done.setdefault(row["outbox_id"], set()).add(row["channel"])
    return done


@dataclass
class Delivered:
    """What one delivery of one message did, for finish_batch to record."""

    message_id: int
    member_id: int
    kind: str
    activity_id: int | None
    attempts: int  # before this delivery
    inbox: tuple[str, str] | None = None  # (title, body) to add to the inbox
    # Sent to the inbox only; the channels that buzz a phone wait until then (quiet hours).
    held_until: datetime | None = None
    tried: dict[str, str | None] = field(default_factory=dict)  # channel: error or None
    error: str | None = None  # the delivery itself broke (not a channel)

    @property
    def failures(self) -> dict[str, str]:
        failed = {channel: error for channel, error in self.tried.items() if error is not None}
        if self.error is not None:
            failed["error"] = self.error
        return failed


async def finish_batch(results: Sequence[Delivered], claim: str | None = None) -> dict[int, str]:
    """After a batch's sends, in one write transaction: the inbox rows (at most one per
    message), every attempt, and each message sent, retried later with backoff, or failed
    for good. A row no longer held by `claim` is left as it is (its attempts still count:
    a later delivery skips what went out)."""
    now = clock.now()
    outcome: dict[int, str] = {}
    # The statements below join only constants and {} placeholders; values are parameters.
    held = " AND status = 'claimed'" + (" AND claim = {}" if claim is not None else "")
    held_args: list[Any] = [claim] if claim is not None else []
    inbox = [result for result in results if result.inbox is not None]
    attempts: list[tuple[int, str, str | None]] = [
        (result.message_id, "inbox", None) for result in inbox
    ] + [
        (result.message_id, channel, error)
        for result in results
        for channel, error in result.tried.items()
    ]
    held_back = [
        result for result in results if result.held_until is not None and not result.failures
    ]
    sent = [
        result.message_id
        for result in results
        if not result.failures and result.held_until is None
    ]
    async with write_transaction():
        if inbox:
            values: list[Any] = []
            for result in inbox:
                assert result.inbox is not None
                title, body = result.inbox
                values += [
                    result.member_id,
                    result.message_id,
                    result.kind,
                    result.activity_id,
                    title[:200],
                    body,
                    now,
                ]
            await Notification.raw(
                "INSERT INTO reminder_inbox (member_id, outbox_id, kind, activity_id, title, "  # noqa: S608
                "body, created_at) VALUES "
                + ", ".join("({}, {}, {}, {}, {}, {}, {})" for _ in inbox)
                + " ON CONFLICT (outbox_id) DO NOTHING",
                *values,
            ).run()
        if attempts:
            values = []
            for message_id, channel, error in attempts:
                values += [message_id, channel, error is None, (error or "")[:1000], now]
            # DO NOTHING: the unique index on successes is the last guard against recording
            # a channel twice (a batch run again after its worker died after sending).
            await DeliveryAttempt.raw(
                "INSERT INTO reminder_delivery (outbox_id, channel, ok, error, attempted_at) "
                "VALUES "
                + ", ".join("({}, {}, {}, {}, {})" for _ in attempts)
                + " ON CONFLICT DO NOTHING",
                *values,
            ).run()
        if sent:
            await OutboxMessage.raw(
                "UPDATE reminder_outbox SET status = 'sent', sent_at = {} WHERE id IN "  # noqa: S608
                + _in(sent)
                + held,
                now,
                *sent,
                *held_args,
            ).run()
            outcome |= dict.fromkeys(sent, "sent")
        for result in held_back:
            # Back in the queue for the morning, its claim released; not an attempt.
            await OutboxMessage.raw(
                "UPDATE reminder_outbox SET status = 'pending', due_at = {}, claim = NULL, "  # noqa: S608
                "claimed_at = NULL WHERE id = {}" + held,
                result.held_until,
                result.message_id,
                *held_args,
            ).run()
            outcome[result.message_id] = "held"
        for result in results:
            failures = result.failures
            if not failures:
                continue
            count = result.attempts + 1
            status = "failed" if count >= MAX_ATTEMPTS else "pending"
            error = "; ".join(f"{channel}: {text}" for channel, text in sorted(failures.items()))
            await OutboxMessage.raw(
                "UPDATE reminder_outbox SET status = {}, attempts = {}, due_at = {}, "  # noqa: S608
                "last_error = {} WHERE id = {}" + held,
                status,
                count,
                now + _backoff(count),
                error[:1000],
                result.message_id,
                *held_args,
            ).run()
            outcome[result.message_id] = status
    return outcome


async def payloads_of(message_ids: Sequence[int]) -> dict[int, str]:
    """The recorded parameters of these messages, by id."""
    if not message_ids:
        return {}
    rows = await OutboxMessage.select(OutboxMessage.id, OutboxMessage.payload).where(
        OutboxMessage.id.is_in(list(message_ids))
    )
    return {row["id"]: row["payload"] for row in rows}


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


DEFAULT_PREFS = Prefs(sms=False, push=True, email="", email_on=False)


async def channel_prefs(member_id: int) -> Prefs:
    return (await channel_prefs_of([member_id]))[member_id]


async def channel_prefs_of(member_ids: Sequence[int]) -> dict[int, Prefs]:
    """Each member's channels; a member who never chose gets the defaults."""
    prefs = dict.fromkeys(member_ids, DEFAULT_PREFS)
    if not member_ids:
        return prefs
    rows = (
        await ChannelPrefs.select(
            ChannelPrefs.member_id,
            ChannelPrefs.sms,
            ChannelPrefs.push,
            ChannelPrefs.email,
            ChannelPrefs.email_on,
        )
        .where(ChannelPrefs.member_id.is_in(list(set(member_ids))))
        .run()
    )
    for row in rows:
        prefs[row["member_id"]] = Prefs(
            sms=row["sms"], push=row["push"], email=row["email"], email_on=row["email_on"]
        )
    return prefs


# --- the member's side: inbox, channels, push subscriptions -------------------------------

INBOX_LIMIT = 100
MAX_PUSH_SUBSCRIPTIONS = 10  # devices per member; the oldest goes when an 11th subscribes
EMAIL_MAX = 254
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"^[^@\s<>\"',;:()\[\]\\]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")


def _own_member(actor: Actor) -> int:
    if actor.member_id is None:
        raise Forbidden()
    return actor.member_id


async def notifications(actor: Actor, limit: int = INBOX_LIMIT) -> list[dict[str, Any]]:
    """The member's inbox, newest first, bounded."""
    return (
        await Notification.select(
            Notification.id,
            Notification.outbox_id,
            Notification.kind,
            Notification.activity_id,
            Notification.title,
            Notification.body,
            Notification.created_at,
            Notification.read_at,
        )
        .where(Notification.member_id == _own_member(actor))
        .order_by(Notification.id, ascending=False)
        .limit(min(max(limit, 1), INBOX_LIMIT))
        .run()
    )


async def open_inbox(actor: Actor) -> list[dict[str, Any]]:
    """The inbox page: the list as it was (unread ones still marked), then all read."""
    rows = await notifications(actor)
    if any(row["read_at"] is None for row in rows):
        await mark_all_read(actor)
    return rows


async def unread_count(member_id: int) -> int:
    """One indexed COUNT, run once per page render for the nav badge."""
    return int(
        await Notification.count()
        .where((Notification.member_id == member_id) & Notification.read_at.is_null())
        .run()
    )


async def mark_read(actor: Actor, notification_id: int) -> None:
    """Another member's notification looks the same as a missing one."""
    member_id = _own_member(actor)
    async with write_transaction():
        row = (
            await Notification.select(Notification.id, Notification.read_at)
            .where((Notification.id == notification_id) & (Notification.member_id == member_id))
            .first()
            .run()
        )
        if row is None:
            raise NotFound("There is no such message.")
        if row["read_at"] is None:
            await (
                Notification.update({Notification.read_at: clock.now()})
                .where(Notification.id == notification_id)
                .run()
            )


async def mark_all_read(actor: Actor) -> int:
    member_id = _own_member(actor)
    async with write_transaction():
        rows = (
            await Notification.update({Notification.read_at: clock.now()})
            .where((Notification.member_id == member_id) & Notification.read_at.is_null())
            .returning(Notification.id)
            .run()
        )
    return len(rows)


def clean_email(raw: str) -> str:
    email = (raw or "").strip()
    if not email:
        return ""
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
        raise DomainError(
            "validation_error", "Enter an email address such as name@example.cn.", field="email"
        )
    return email


async def update_channel_prefs(
    actor: Actor, sms: bool, push: bool, email: str, email_on: bool
) -> Prefs:
    """The member's own channels besides the inbox; email needs an address to be on."""
    member_id = _own_member(actor)
    address = clean_email(email)
    if email_on and not address:
        raise DomainError(
            "validation_error", "Enter an email address to get messages by email.", field="email"
        )
    values = {"sms": bool(sms), "push": bool(push), "email": address, "email_on": bool(email_on)}
    async with write_transaction():
        await ChannelPrefs.raw(
            "INSERT INTO reminder_channel_prefs (member_id, sms, push, email, email_on) "
            "VALUES ({}, {}, {}, {}, {}) ON CONFLICT (member_id) DO UPDATE SET "
            "sms = EXCLUDED.sms, push = EXCLUDED.push, email = EXCLUDED.email, "
            "email_on = EXCLUDED.email_on",
            member_id,
            values["sms"],
            values["push"],
            values["email"],
            values["email_on"],
        ).run()
    return Prefs(**values)


ENDPOINT_MAX = 1000
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def clean_push_subscription(endpoint: str, p256dh: str, auth: str) -> tuple[str, str, str]:
    """What a browser's PushManager hands over, checked before the server ever POSTs to it.
    The endpoint must be https. Plain http is allowed only to a loopback host, and only in
    demo mode (UNIONHALL_DEMO, which the tests set): that is where a test push service
    listens. Production never posts to an http or loopback push endpoint."""
    endpoint = (endpoint or "").strip()
    parts = urlsplit(endpoint) if len(endpoint) <= ENDPOINT_MAX else None
    host = (parts.hostname or "") if parts else ""
    loopback = host in LOOPBACK_HOSTS
    allowed = (
        parts is not None
        and bool(host)
        and (loopback or not _internal_address(host))
        and (
            (parts.scheme == "https" and (not loopback or get_settings().demo))
            or (parts.scheme == "http" and loopback and get_settings().demo)
        )
    )
    if not allowed or any(ord(c) < 33 or ord(c) > 126 for c in endpoint):
        raise DomainError(
            "validation_error", "This push subscription has no usable address.", field="endpoint"
        )
    key = _decoded(p256dh, 200)
    secret = _decoded(auth, 100)
    if len(key) != 65 or key[0] != 4 or not _on_curve(key):
        raise DomainError(
            "validation_error", "This push subscription's key is not valid.", field="p256dh"
        )
    if len(secret) != 16:
        raise DomainError(
            "validation_error", "This push subscription's key is not valid.", field="auth"
        )
    return endpoint, p256dh.rstrip("="), auth.rstrip("=")


def _internal_address(host: str) -> bool:
    """An IP literal in a private, loopback, link-local or reserved range: the server must
    not be made to post there. (A name that resolves to such an address is refused when
    the push is sent: outbound.post(public_only=True).)"""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def _decoded(text: str, limit: int) -> bytes:
    from service.reminders.vapid import b64url_decode

    try:
        return b64url_decode(text) if len(text or "") <= limit else b""
    except ValueError:
        return b""


def _on_curve(point: bytes) -> bool:
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return False
    return True


async def add_push_subscription(actor: Actor, endpoint: str, p256dh: str, auth: str) -> None:
    """A browser's push subscription. An endpoint belongs to one browser: subscribing it
    again moves it to this member."""
    member_id = _own_member(actor)
    endpoint, p256dh, auth = clean_push_subscription(endpoint, p256dh, auth)
    async with write_transaction():
        await PushSubscription.delete().where(PushSubscription.endpoint == endpoint).run()
        await PushSubscription.insert(
            PushSubscription(
                member_id=member_id,
                endpoint=endpoint,
                p256dh=p256dh,
                auth=auth,
                created_at=clock.now(),
            )
        ).run()
        rows = (
            await PushSubscription.select(PushSubscription.id)
            .where(PushSubscription.member_id == member_id)
            .order_by(PushSubscription.id, ascending=False)
            .offset(MAX_PUSH_SUBSCRIPTIONS)
            .limit(1000)
            .run()
        )
        if rows:
            await (
                PushSubscription.delete()
                .where(PushSubscription.id.is_in([row["id"] for row in rows]))
                .run()
            )


async def remove_push_subscription(actor: Actor, endpoint: str) -> bool:
    member_id = _own_member(actor)
    async with write_transaction():
        rows = (
            await PushSubscription.delete()
            .where(
                (PushSubscription.endpoint == endpoint) & (PushSubscription.member_id == member_id)
            )
            .returning(PushSubscription.id)
            .run()
        )
    return bool(rows)


async def push_subscriptions(member_id: int) -> list[dict[str, Any]]:
    return (
        await PushSubscription.select(
            PushSubscription.id,
            PushSubscription.endpoint,
            PushSubscription.p256dh,
            PushSubscription.auth,
        )
        .where(PushSubscription.member_id == member_id)
        .order_by(PushSubscription.id)
        .run()
    )


async def has_push_subscription(member_id: int) -> bool:
    return await PushSubscription.exists().where(PushSubscription.member_id == member_id).run()


async def members_with_push(member_ids: Sequence[int]) -> set[int]:
    """Those of these members with at least one subscribed browser."""
    if not member_ids:
        return set()
    rows = (
        await PushSubscription.select(PushSubscription.member_id)
        .where(PushSubscription.member_id.is_in(list(set(member_ids))))
        .distinct()
        .run()
    )
    return {row["member_id"] for row in rows}


async def drop_push_subscription(subscription_id: int) -> None:
    """The push service said the subscription is gone (404/410): forget it."""
    async with write_transaction():
        await PushSubscription.delete().where(PushSubscription.id == subscription_id).run()


# --- admins: failed messages --------------------------------------------------------------

FAILED_LIMIT = 200


def _require_admin(actor: Actor) -> None:
    if not actor.has("admin"):
        raise Forbidden()


def _in_reach(actor: Actor) -> Any:
    """Messages to members of the admin's own subtree: a union's admin sees its members'."""
    return OutboxMessage.member.node.path.like(f"{actor.node_path}%")


async def failed_messages(actor: Actor) -> list[dict[str, Any]]:
    """Messages to the admin's members that ran out of tries, newest first, with the
    member's masked phone."""
    _require_admin(actor)
    rows = (
        await OutboxMessage.select(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.activity_id,
            OutboxMessage.attempts,
            OutboxMessage.last_error,
            OutboxMessage.due_at,
            OutboxMessage.member.name.as_alias("member_name"),
            OutboxMessage.member.phone.as_alias("phone"),
        )
        .where((OutboxMessage.status == "failed") & _in_reach(actor))
        .order_by(OutboxMessage.id, ascending=False)
        .limit(FAILED_LIMIT)
        .run()
    )
    for row in rows:
        row["phone_masked"] = orgs.mask_phone(row.pop("phone") or "")
    return rows


async def retry_failed(actor: Actor, message_id: int) -> None:
    """An admin sends a failed message again, due now, for one more try (another failure
    marks it failed again). The attempt count keeps counting, so the new job's id is one
    the queue has not seen: arq refuses an id whose earlier result it still holds. Channels
    that already succeeded are not tried again."""
    _require_admin(actor)
    async with write_transaction():
        rows = (
            await OutboxMessage.update(
                {
                    OutboxMessage.status: "pending",
                    OutboxMessage.due_at: clock.now(),
                    OutboxMessage.claimed_at: None,
                }
            )
            .where(
                (OutboxMessage.id == message_id)
                & (OutboxMessage.status == "failed")
                & OutboxMessage.id.is_in(
                    OutboxMessage.select(OutboxMessage.id).where(
                        (OutboxMessage.id == message_id) & _in_reach(actor)
                    )
                )
            )
            .returning(OutboxMessage.id)
            .run()
        )
    if not rows:
        raise NotFound("There is no such failed message.")
    log.info("admin %s retried outbox message %s", actor.member_id, message_id)


# --- organisers: one activity's schedule --------------------------------------------------


def clean_schedule(schedule: dict[str, int | None]) -> dict[str, int | None]:
    """Minutes before the start per reminder kind; None switches that reminder off."""
    limit = int(policy.MAX_OFFSET.total_seconds() // 60)
    clean: dict[str, int | None] = {}
    for kind, minutes in schedule.items():
        if kind not in policy.REMINDER_KINDS:
            raise DomainError(
                "validation_error", "There is no reminder called %(kind)s.", field=kind, kind=kind
            )
        if minutes is not None:
            if isinstance(minutes, bool) or not isinstance(minutes, int):
                raise DomainError(
                    "validation_error", "Give the minutes as a whole number.", field=kind
                )
            if minutes < 0:
                raise DomainError(
                    "validation_error",
                    "A reminder cannot come after the start. Give 0 or more minutes.",
                    field=kind,
                )
            if minutes > limit:
                raise DomainError(
                    "validation_error",
                    "A reminder can be at most 30 days (%(limit)s minutes) before the start.",
                    field=kind,
                    limit=limit,
                )
        clean[kind] = minutes
    return clean


async def activity_schedule(activity_id: int) -> dict[str, int | None] | None:
    """The organiser's own schedule of an activity, or None when it follows its kind's."""
    rows = await ActivitySchedule.select().where(ActivitySchedule.activity_id == activity_id).run()
    if not rows:
        return None
    return {row["kind"]: row["minutes_before"] for row in rows}


async def replace_schedule(activity_id: int, schedule: dict[str, int | None] | None) -> None:
    """Inside the caller's transaction: the activity's own schedule (None: back to the
    default of its kind). Validate with clean_schedule first."""
    await ActivitySchedule.delete().where(ActivitySchedule.activity_id == activity_id).run()
    if schedule is None:
        return
    rows = [
        ActivitySchedule(activity_id=activity_id, kind=kind, minutes_before=minutes)
        for kind, minutes in schedule.items()
    ]
    if not rows:
        # Every reminder off: one row that says so, so the kind's default does not return.
        rows = [ActivitySchedule(activity_id=activity_id, kind=policy.REMINDER_KINDS[0])]
    await ActivitySchedule.insert(*rows).run()
