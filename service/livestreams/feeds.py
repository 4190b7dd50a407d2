"""The public calendar feed of a channel (RFC 5545): one recurring event for the rule,
EXDATE for each of its dates without a live episode (skipped, cancelled), an override
with RECURRENCE-ID for each moved one, and a plain event for an episode outside the rule.
Calendar apps then show exactly the episodes the service knows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from service import clock
from service.livestreams import services
from service.livestreams.schemas import EpisodeOut

LIVE = ("published", "closed")
HOST = "unionhall"


def _event(uid: str, episode: EpisodeOut, zone: object, title: str) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", clock.now().astimezone(UTC))
    event.add("dtstart", episode.starts_at.astimezone(zone))  # type: ignore[arg-type]
    event.add("dtend", episode.ends_at.astimezone(zone))  # type: ignore[arg-type]
    event.add("summary", title)
    return event


async def channel_feed(channel_id: int) -> bytes:
    channel = await services.get_channel(channel_id)
    rule = await services.channel_rule(channel_id)
    listed = await services.episodes(channel_id)
    calendar = Calendar()
    calendar.add("prodid", "-//Unionhall//Livestreams//ZH")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", channel.name)
    covered: set[int] = set()
    if rule is not None:
        zone = rule.zone
        in_slots = [one for one in listed if one.occurrence is not None]
        first_guess = min((one.occurrence for one in in_slots), default=None)  # type: ignore[type-var]
        last_guess = max((one.occurrence for one in in_slots), default=None)  # type: ignore[type-var]
        slots: list[datetime] = []
        if first_guess is not None and last_guess is not None:
            slots = rule.occurrences(
                first_guess - timedelta(seconds=1), last_guess + timedelta(seconds=1)
            )
        slot_keys = {services._key(moment) for moment in slots}
        by_slot = {
            services._key(one.occurrence): one
            for one in in_slots
            if one.occurrence is not None and services._key(one.occurrence) in slot_keys
        }
        if slots:
            master_uid = f"channel-{channel_id}-rule@{HOST}"
            master = Event()
            master.add("uid", master_uid)
            master.add("dtstamp", clock.now().astimezone(UTC))
            master.add("dtstart", slots[0].astimezone(zone))
            master.add("duration", timedelta(minutes=rule.minutes))
            master.add("summary", channel.name)
            recur: dict[str, object] = {
                "freq": "monthly" if rule.nth is not None else "weekly",
                "interval": rule.interval,
                "byday": [
                    f"{rule.nth}{day}" if rule.nth is not None else day for day in rule.weekdays
                ],
                "until": slots[-1].astimezone(UTC),
            }
            master.add("rrule", recur)
            for moment in slots:
                found = by_slot.get(services._key(moment))
                if found is None or found.status not in LIVE:
                    master.add("exdate", moment.astimezone(zone))
            calendar.add_component(master)
            for key, found in by_slot.items():
                if found.status not in LIVE:
                    covered.add(found.activity_id)
                    continue
                covered.add(found.activity_id)
                assert found.occurrence is not None
                length = found.ends_at - found.starts_at
                if found.starts_at == found.occurrence and length == timedelta(
                    minutes=rule.minutes
                ):
                    continue
                override = _event(master_uid, found, zone, _title(channel.name, found))
                override.add("recurrence-id", found.occurrence.astimezone(zone))
                calendar.add_component(override)
                del key
    zone_for_plain = rule.zone if rule is not None else UTC
    for found in listed:
        if found.activity_id in covered or found.status not in LIVE:
            continue
        calendar.add_component(
            _event(
                f"episode-{found.activity_id}@{HOST}",
                found,
                zone_for_plain,
                _title(channel.name, found),
            )
        )
    if hasattr(calendar, "add_missing_timezones"):
        calendar.add_missing_timezones()
    return calendar.to_ical()


def _title(channel_name: str, episode: EpisodeOut) -> str:
    return episode.title or channel_name


async def duty_feed(token: str) -> bytes | None:
    """One crew member's duties as plain events, behind their private link; None for a
    revoked or unknown link. Declined duties and skipped or cancelled episodes are not
    in it, so the calendar shows exactly what they are on for."""
    found = await services.duties_for_feed(token)
    if found is None:
        return None
    channel_name, duties = found
    calendar = Calendar()
    calendar.add("prodid", "-//Unionhall//Livestream duties//ZH")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", channel_name)
    for duty in duties:
        event = Event()
        event.add("uid", f"duty-{duty['id']}@{HOST}")
        event.add("dtstamp", clock.now().astimezone(UTC))
        event.add("dtstart", duty["starts_at"].astimezone(UTC))
        event.add("dtend", duty["ends_at"].astimezone(UTC))
        event.add("summary", f"{duty['title']} · {duty['role']}")
        calendar.add_component(event)
    return calendar.to_ical()
