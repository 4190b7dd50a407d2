"""Delivering outbox messages, a batch at a time: re-read them, render each in its member's
language, send it on each channel that has not succeeded yet, then record every attempt and
mark each message, all in one transaction."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from service import clock, kinds
from service.activities import services as activities
from service.i18n import gettext, language, localtime
from service.reminders import channels, services
from service.reminders.channels import Channel, ChannelError, Outgoing

log = logging.getLogger(__name__)
EARLY = timedelta(minutes=1)  # a job may run this much before the row's due time
# A batch's sends stop in time to be recorded by the job itself: well inside arq's job
# timeout (300 s; a cancelled job records nothing), and before its claim can go stale and
# be taken again (a second job would then send what this one is still sending).
SEND_BUDGET = timedelta(minutes=3)
CLAIM_MARGIN = timedelta(seconds=30)


def _send_deadline(rows: Sequence[dict[str, Any]]) -> float:
    """The event-loop time by which this batch's sends give up."""
    now = clock.now()
    oldest = min((row["claimed_at"] or now for row in rows), default=now)
    left = services.STALE_CLAIM - (now - oldest) - CLAIM_MARGIN
    budget = max(timedelta(0), min(SEND_BUDGET, left))
    return asyncio.get_running_loop().time() + budget.total_seconds()

# English msgids; rendered in the member's language with the activity's details.
TITLE_LABELS: dict[str, str] = {
    "registration_confirmed": "You have a place: %(title)s",
    "registration_waitlisted": "You are on the waitlist: %(title)s",
    "waitlist_promoted": "A place opened up for you: %(title)s",
    "activity_changed": "Changed: %(title)s",
    "activity_cancelled": "Cancelled: %(title)s",
    "reminder_day_before": "Tomorrow: %(title)s",
    "reminder_morning": "Today: %(title)s",
    # An organiser may move these reminders: the title gives the time, not the interval.
    "reminder_1h": "Starts at %(time)s: %(title)s",
    "reminder_10m": "Starting soon, at %(time)s: %(title)s",
}
BODY_LABELS: dict[str, str] = {
    "registration_confirmed": "%(when)s, %(where)s. Show your ticket at the door.",
    "registration_waitlisted": "%(when)s, %(where)s. We will tell you if a place frees up.",
    "waitlist_promoted": "%(when)s, %(where)s. Your ticket is ready in My activities.",
    "activity_changed": "Now %(when)s, %(where)s.",
    "activity_cancelled": "The organiser cancelled it: %(reason)s",
    "reminder_day_before": "%(when)s, %(where)s. Show your ticket at the door.",
    "reminder_morning": "%(when)s, %(where)s.",
    "reminder_1h": "%(when)s, %(where)s. Show your ticket at the door.",
    "reminder_10m": "%(when)s. %(where)s",
}


def render(row: dict[str, Any], lang: str, activity: Any) -> tuple[str, str]:
    """Title and body in the member's language."""

    payload = services.payload(row)
    with language(lang):
        values = {
            "title": activity.title if activity else "",
            "when": localtime(activity.starts_at) if activity else "",
            "time": localtime(activity.starts_at, short=True) if activity else "",
            "where": (activity.venue_name or activity.online_url) if activity else "",
            "reason": payload.get("reason", ""),
        }
        # A kind's own message may carry values of its own (a link) in its payload.
        values |= {k: v for k, v in payload.items() if isinstance(v, str) and k not in values}
        title, body = message_texts(row["kind"])
        return gettext(title, **values), gettext(body, **values)


def message_texts(kind: str) -> tuple[str, str]:
    """A message kind's (title, body) msgids: the core's, or the activity kind's own."""
    if kind in TITLE_LABELS:
        return TITLE_LABELS[kind], BODY_LABELS[kind]
    return kinds.messages()[kind]


def _channels(prefs: services.Prefs, *, has_push: bool = False) -> list[Channel]:
    """The member's channels besides the inbox, among those this service has set up.
    Push needs the member's consent (prefs.push) and at least one subscribed browser."""
    chosen: list[Channel] = []
    if prefs.push and has_push:
        chosen.append(channels.push_channel())
    if prefs.sms and (sms := channels.sms_channel()):
        chosen.append(sms)
    if prefs.email_on and prefs.email and (email := channels.email_channel()):
        chosen.append(email)
    return chosen


async def deliver(message_id: int) -> str:
    """Send one claimed message (whatever its claim); returns what became of it."""
    return (await deliver_batch([message_id]))[message_id]


async def deliver_batch(message_ids: Sequence[int], claim: str | None = None) -> dict[int, str]:
    """Send a batch of claimed messages; returns what became of each: sent, pending (to be
    retried), failed, skipped (sent, superseded or claimed by another claim meanwhile) or
    not_due. One read each for the rows with their members, the channels already done,
    the preferences and the push subscriptions; the sends run concurrently (bounded); one
    write transaction records everything (services.finish_batch). A message whose channel
    fails is retried on its own: the others of the batch are not sent again."""
    outcome = dict.fromkeys(message_ids, "skipped")
    rows = await services.claimed_messages(message_ids, claim)
    late = clock.now() + EARLY
    for row in rows:
        if row["due_at"] > late:
            outcome[row["id"]] = "not_due"
    rows = [row for row in rows if row["due_at"] <= late]
    if not rows:
        return outcome
    members = [row["member"] for row in rows]
    activity_ids = sorted({row["activity_id"] for row in rows if row["activity_id"]})
    done, prefs, with_push, *found = await asyncio.gather(
        services.succeeded_channels([row["id"] for row in rows]),
        services.channel_prefs_of(members),
        services.members_with_push(members),
        *(activities.message_activity(activity_id) for activity_id in activity_ids),
    )
    described = dict(zip(activity_ids, found, strict=True))
    rendered: dict[tuple[str, str, int | None, str], tuple[str, str]] = {}
    slots = channels.send_slots()
    deadline = _send_deadline(rows)

    async def one(row: dict[str, Any]) -> services.Delivered:
        result = services.Delivered(
            message_id=row["id"],
            member_id=row["member"],
            kind=row["kind"],
            activity_id=row["activity_id"],
            attempts=int(row["attempts"]),
        )
        try:
            # A batch usually holds one kind of reminder for one activity: render once.
            key = (row["kind"], row["language"], row["activity_id"], row["payload"] or "")
            if key not in rendered:
                rendered[key] = render(row, row["language"], described.get(row["activity_id"]))
            title, body = rendered[key]
            already = done[row["id"]]
            if "inbox" not in already:
                result.inbox = (title, body)
            member_prefs = prefs[row["member"]]
            outgoing = Outgoing(
                message_id=row["id"],
                member_id=row["member"],
                phone=row["phone"],
                email=member_prefs.email,
                title=title,
                body=body,
            )
            chosen = _channels(member_prefs, has_push=row["member"] in with_push)
            async with asyncio.timeout_at(deadline), slots:
                for channel in chosen:
                    if channel.name in already:
                        continue
                    try:
                        await channel.send(outgoing)
                    except ChannelError as error:
                        result.tried[channel.name] = str(error)
                        log.warning("message %s on %s failed: %s", row["id"], channel.name, error)
                    else:
                        result.tried[channel.name] = None
        except TimeoutError:
            # Out of the batch's time (a hanging gateway, a long queue for a send slot):
            # recorded now with what it did send, the rest retried with backoff. A request
            # cut off mid-way is repeated with the same idempotency key.
            log.warning("message %s ran out of the batch's time", row["id"])
            result.error = "TimeoutError"
        except Exception as error:
            # Whatever broke is this message's alone: the batch records the others, and
            # this one is retried with backoff like a channel failure.
            log.exception("delivering message %s broke", row["id"])
            result.error = type(error).__name__
        return result

    results = await asyncio.gather(*(one(row) for row in rows))
    return outcome | await services.finish_batch(results, claim)
