"""When reminders go: a schedule per activity kind (an organiser may replace it for one
activity), quiet hours that hold what can wait, and which messages are urgent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

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
REMINDER_KINDS = ("reminder_day_before", "reminder_morning", "reminder_1h", "reminder_10m")


@dataclass(frozen=True)
class Rule:
    """One reminder: `minutes_before` the start, or at a local time `days_before` it."""

    kind: str
    minutes_before: int | None = None
    days_before: int = 0
    at_local: time | None = None

    def due(self, starts_at: datetime, zone: ZoneInfo) -> datetime:
        if self.minutes_before is not None:
            return starts_at - timedelta(minutes=self.minutes_before)
        assert self.at_local is not None
        day = starts_at.astimezone(zone).date() - timedelta(days=self.days_before)
        return datetime.combine(day, self.at_local, tzinfo=zone)


DAY_BEFORE = Rule("reminder_day_before", days_before=1, at_local=time(18, 0))
ONE_HOUR = Rule("reminder_1h", minutes_before=60)
TEN_MINUTES = Rule("reminder_10m", minutes_before=10)
MORNING_OF = Rule("reminder_morning", days_before=0, at_local=time(7, 0))

# Per activity kind (ROADMAP.md): in-person kinds the evening before and an hour before;
# livestream episodes ten minutes before; heat-relief teams the morning of the delivery.
POLICIES: dict[str, tuple[Rule, ...]] = {
    "job_fair": (DAY_BEFORE, ONE_HOUR),
    "reading_session": (DAY_BEFORE, ONE_HOUR),
    "livestream": (TEN_MINUTES,),
    "heat_relief": (MORNING_OF,),
}


def default_rules(kind: str) -> tuple[Rule, ...]:
    return POLICIES.get(kind, (DAY_BEFORE, ONE_HOUR))


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
