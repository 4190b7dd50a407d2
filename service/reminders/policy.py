"""When reminders go: the schedule each activity kind declares (an organiser may replace it
for one activity), quiet hours that hold what can wait, and which messages are urgent."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from service import kinds

MAX_OFFSET = timedelta(days=30)
QUIET_START = time(22, 0)
QUIET_END = time(7, 0)

# Messages that cannot wait for the morning.
URGENT = frozenset(
    {
        "reminder_1h",
        "reminder_10m",
        "waitlist_promoted",
        "activity_changed",
        "activity_cancelled",
    }
)
# What an organiser may schedule for one activity, by message kind (kinds.py's vocabulary).
REMINDER_KINDS = tuple(rule.kind for rule in kinds.REMINDER_RULES)
Rule = kinds.ReminderRule


def default_rules(kind: str) -> tuple[Rule, ...]:
    """The kind's own schedule (each kind declares it in its room's kind.py)."""
    found = kinds.find(kind)
    return found.reminder_rules if found else (kinds.DAY_BEFORE, kinds.ONE_HOUR)


def quiet_hold(
    kind: str, now: datetime, zone: ZoneInfo, starts_at: datetime | None
) -> datetime | None:
    """Until when what buzzes a phone waits (the end of quiet hours), or None to send it
    now: an urgent message, outside quiet hours, or when the wait would end after the
    activity has started (a message held past the start would be too late)."""
    held = after_quiet_hours(kind, now, zone)
    if held <= now or (starts_at is not None and held >= starts_at):
        return None
    return held


def after_quiet_hours(kind: str, due: datetime, zone: ZoneInfo) -> datetime:
    """A message that can wait, due in quiet hours (22:00–07:00 local), waits for 07:00."""
    if kind in URGENT:
        return due
    local = due.astimezone(zone)
    if local.time() >= QUIET_START:
        return datetime.combine(local.date() + timedelta(days=1), QUIET_END, tzinfo=zone)
    if local.time() < QUIET_END:
        return datetime.combine(local.date(), QUIET_END, tzinfo=zone)
    return due
