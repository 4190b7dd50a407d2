"""Delivering one outbox message: re-read it, render it in the member's language, send it
on each channel that has not succeeded yet, record every attempt, then mark it."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from service import clock
from service.activities import services as activities
from service.i18n import gettext, language
from service.orgs import services as orgs
from service.reminders import channels, services
from service.reminders.channels import Channel, ChannelError, Outgoing

log = logging.getLogger(__name__)
EARLY = timedelta(minutes=1)  # a job may run this much before the row's due time

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
    from service.app import localtime  # the one way times are shown to people

    payload = services.payload(row)
    with language(lang):
        values = {
            "title": activity.title if activity else "",
            "when": localtime(activity.starts_at) if activity else "",
            "time": localtime(activity.starts_at, short=True) if activity else "",
            "where": (activity.venue_name or activity.online_url) if activity else "",
            "reason": payload.get("reason", ""),
        }
        kind = row["kind"]
        return gettext(TITLE_LABELS[kind], **values), gettext(BODY_LABELS[kind], **values)


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
    """Send one claimed message; returns what became of it."""
    row = await services.message(message_id)
    if row is None or row["status"] != "claimed":
        return "skipped"  # sent, superseded or taken back meanwhile
    if row["due_at"] > clock.now() + EARLY:
        return "not_due"
    member = await orgs.member_contact(row["member"])
    activity = await activities.message_activity(row["activity_id"]) if row["activity_id"] else None
    title, body = render(row, member["language"], activity)
    done = await services.succeeded_channels(message_id)
    if "inbox" not in done:
        await services.add_to_inbox(row, title, body)
        await services.record_attempt(message_id, "inbox", None)
    prefs = await services.channel_prefs(row["member"])
    outgoing = Outgoing(
        message_id=message_id,
        member_id=row["member"],
        phone=member["phone"],
        email=prefs.email,
        title=title,
        body=body,
    )
    failures: dict[str, str] = {}
    has_push = prefs.push and await services.has_push_subscription(row["member"])
    for channel in _channels(prefs, has_push=has_push):
        if channel.name in done:
            continue
        try:
            await channel.send(outgoing)
        except ChannelError as error:
            failures[channel.name] = str(error)
            log.warning("message %s on %s failed: %s", message_id, channel.name, error)
        await services.record_attempt(message_id, channel.name, failures.get(channel.name))
    return await services.finish(message_id, failures)
