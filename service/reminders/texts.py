"""What a message says: its title and body rendered from its kind, its parameters and its
activity, in a given language. The delivery renders in the member's language when it
sends; the inbox renders again in the reader's current language when it is read, so a
message is never stuck in the language it was sent in."""

from __future__ import annotations

from typing import Any

from service import kinds
from service.activities import services as activities
from service.i18n import current_language, gettext, language, localtime
from service.orgs.schemas import Actor
from service.reminders import services

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


# For an activity held online only: the same messages without a door to show a ticket at.
ONLINE_BODY_LABELS: dict[str, str] = {
    "registration_confirmed": "%(when)s, online: %(where)s",
    "reminder_day_before": "%(when)s, online: %(where)s",
    "reminder_1h": "%(when)s, online: %(where)s",
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
        if activity is not None and not activity.venue_name and activity.online_url:
            # Online only: nothing to show at a door.
            body = ONLINE_BODY_LABELS.get(row["kind"], body)
        return gettext(title, **values), gettext(body, **values)


def message_texts(kind: str) -> tuple[str, str]:
    """A message kind's (title, body) msgids: the core's, or the activity kind's own."""
    if kind in TITLE_LABELS:
        return TITLE_LABELS[kind], BODY_LABELS[kind]
    return kinds.messages()[kind]


async def render_inbox(rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Inbox rows (with outbox_id) with title and body in `lang`, from each message's kind,
    its parameters and its activity as it is now; the text stored at delivery is kept for
    a message whose record is gone."""
    payloads = await services.payloads_of([row["outbox_id"] for row in rows])
    described: dict[int, Any] = {}
    for activity_id in {row["activity_id"] for row in rows if row["activity_id"]}:
        described[activity_id] = await activities.message_activity(activity_id)
    out = []
    for row in rows:
        if row["outbox_id"] not in payloads:
            out.append(row)
            continue
        message = {"kind": row["kind"], "payload": payloads[row["outbox_id"]]}
        try:
            title, body = render(message, lang, described.get(row["activity_id"]))
        except KeyError:  # a kind whose room no longer registers its texts
            out.append(row)
            continue
        out.append({**row, "title": title, "body": body})
    return out


async def notifications(actor: Actor) -> list[dict[str, Any]]:
    """The member's inbox, newest first, in the language they read it in now."""
    rows = await render_inbox(await services.notifications(actor), current_language.get())
    return [_without_outbox_id(row) for row in rows]


async def open_inbox(actor: Actor) -> list[dict[str, Any]]:
    """The inbox page (opening it reads them all), in the reader's language."""
    rows = await render_inbox(await services.open_inbox(actor), current_language.get())
    return [_without_outbox_id(row) for row in rows]


def _without_outbox_id(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != "outbox_id"}
