"""Opening hours: the one source of the rule that turns a room's week, seasons, dated
exceptions and the holiday table into the intervals it is open on each local date.

Pure: no database, no clock, no zone lookups beyond what is passed in. Everything that
says whether a room is open (the room page, the "open now" list, the check on a session's
times, the report's hours per month) calls `day_intervals` or `open_intervals`.

Times of day are minutes after local midnight (0..1440); an interval is [opens, closes)
with opens < closes, so nothing runs past midnight: a room open 20:00-02:00 says so with
two intervals, 20:00-24:00 and 00:00-02:00 on the next day.

Precedence for one date, first match wins:
1. the room's own exception for the date (closed, or its special hours);
2. the holiday table: a public holiday closes the room; a make-up working day (调休)
   opens it with the hours of the weekday it stands for;
3. the season whose dates cover the date (its own week);
4. the room's regular week.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.errors import DomainError

MINUTES_PER_DAY = 24 * 60
WEEKDAYS = 7
Interval = tuple[int, int]  # (opens, closes) in minutes after local midnight
Week = Mapping[int, Sequence[Interval]]  # weekday (Monday 0) -> intervals


@dataclass(frozen=True)
class Season:
    starts_on: date
    ends_on: date  # inclusive
    week: Week


@dataclass(frozen=True)
class Holiday:
    day: date
    workday: bool  # a make-up working day (调休) rather than a public holiday
    follows_weekday: int = 0  # on a make-up day: whose hours apply (Monday 0)


@dataclass(frozen=True)
class Schedule:
    """Everything that decides one room's hours."""

    week: Week
    seasons: Sequence[Season] = ()
    exceptions: Mapping[date, Sequence[Interval]] = field(default_factory=dict)  # [] closed
    holidays: Mapping[date, Holiday] = field(default_factory=dict)


def day_intervals(schedule: Schedule, day: date) -> list[Interval]:
    """The intervals the room is open on one local date (the precedence in the module doc)."""
    if day in schedule.exceptions:
        return sorted(schedule.exceptions[day])
    holiday = schedule.holidays.get(day)
    weekday = day.weekday()
    if holiday is not None and not holiday.workday:
        return []
    if holiday is not None:
        weekday = holiday.follows_weekday
    week = schedule.week
    for season in schedule.seasons:
        if season.starts_on <= day <= season.ends_on:
            week = season.week
            break
    return sorted(week.get(weekday, ()))


def days(schedule: Schedule, first: date, last: date) -> list[tuple[date, list[Interval]]]:
    """Each local date from `first` to `last` (inclusive) with its intervals."""
    count = (last - first).days + 1
    return [
        (first + timedelta(days=n), day_intervals(schedule, first + timedelta(days=n)))
        for n in range(max(0, count))
    ]


def at(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The aware moment of a minute on a local date (24:00 is the next midnight)."""
    return datetime.combine(day, time(0), tzinfo=zone) + timedelta(minutes=minute)


def open_intervals(
    schedule: Schedule, start: datetime, end: datetime, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """The open intervals as aware moments overlapping [start, end), with intervals that
    meet at midnight (a 24:00 close and a 00:00 open) joined into one."""
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date()
    moments: list[tuple[datetime, datetime]] = []
    for day, intervals in days(schedule, first, last):
        for opens, closes in intervals:
            begin, finish = at(day, opens, zone), at(day, closes, zone)
            if moments and moments[-1][1] == begin:
                moments[-1] = (moments[-1][0], finish)
            else:
                moments.append((begin, finish))
    return [(begin, finish) for begin, finish in moments if finish > start and begin < end]


def covers(schedule: Schedule, start: datetime, end: datetime, zone: ZoneInfo) -> bool:
    """True when the room is open without a break from `start` to `end` (bounds may touch
    the opening and closing times)."""
    return any(
        begin <= start and end <= finish
        for begin, finish in open_intervals(schedule, start, end, zone)
    )


def is_open(schedule: Schedule, moment: datetime, zone: ZoneInfo) -> bool:
    found = timeline(open_intervals(schedule, moment, moment + timedelta(minutes=1), zone))
    return open_at(found, moment.timestamp())


def next_change(
    schedule: Schedule, moment: datetime, zone: ZoneInfo, horizon_days: int = 14
) -> datetime | None:
    """When the room next opens (if closed) or closes (if open), within the horizon."""
    horizon = moment + timedelta(days=horizon_days)
    found = timeline(open_intervals(schedule, moment, horizon, zone))
    change = change_after(found, moment.timestamp(), horizon.timestamp())
    return None if change is None else datetime.fromtimestamp(change, UTC)


# The two answers above, from a timeline: open intervals already worked out (sorted,
# never overlapping) as POSIX seconds, so a question is a binary search. The "open now"
# list keeps each room's timeline for the coming days and asks these per request.
Timeline = tuple[list[float], list[float]]  # opening moments, closing moments


def timeline(moments: Sequence[tuple[datetime, datetime]]) -> Timeline:
    return [begin.timestamp() for begin, _ in moments], [end.timestamp() for _, end in moments]


def open_at(found: Timeline, moment: float) -> bool:
    starts, ends = found
    index = bisect_right(starts, moment) - 1
    return index >= 0 and moment < ends[index]


def change_after(found: Timeline, moment: float, horizon: float) -> float | None:
    starts, ends = found
    index = bisect_right(starts, moment) - 1
    if index >= 0 and moment < ends[index]:
        change = ends[index]
    elif index + 1 < len(starts):
        change = starts[index + 1]
    else:
        return None
    return change if change <= horizon else None


def open_between(schedule: Schedule, day: date, from_minute: int, to_minute: int) -> bool:
    """True when the room is open at some time between two minutes of a local date."""
    return any(
        opens < to_minute and closes > from_minute for opens, closes in day_intervals(schedule, day)
    )


def open_minutes(schedule: Schedule, first: date, last: date) -> int:
    return sum(
        closes - opens
        for _, intervals in days(schedule, first, last)
        for opens, closes in intervals
    )


# --- reading and checking intervals typed by people ---------------------------------------


def parse_time(raw: str, *, field: str) -> int:
    """ "08:30" -> 510; "24:00" is the end of the day."""
    text = raw.strip()
    hours, sep, minutes = text.partition(":")
    if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise DomainError("validation_error", "Write times as HH:MM, such as 08:30.", field=field)
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_PER_DAY:
        raise DomainError("validation_error", "Write times as HH:MM, such as 08:30.", field=field)
    return value


def format_minute(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def checked(intervals: Sequence[tuple[str, str]], *, field: str) -> list[Interval]:
    """A day's intervals typed as ("08:00", "11:00") pairs: each closes after it opens, none
    runs past midnight, none overlaps another. Sorted."""
    parsed: list[Interval] = []
    for opens_raw, closes_raw in intervals:
        opens, closes = parse_time(opens_raw, field=field), parse_time(closes_raw, field=field)
        if opens == MINUTES_PER_DAY:
            raise DomainError("validation_error", "An interval cannot open at 24:00.", field=field)
        if closes < opens:
            raise DomainError(
                "validation_error",
                "%(closes)s is before %(opens)s. An interval past midnight is two intervals: "
                "until 24:00, and from 00:00 on the next day.",
                field=field,
                opens=opens_raw.strip(),
                closes=closes_raw.strip(),
            )
        if closes == opens:
            raise DomainError(
                "validation_error", "An interval must close after it opens.", field=field
            )
        parsed.append((opens, closes))
    parsed.sort()
    for (_, earlier_close), (later_open, _) in itertools.pairwise(parsed):
        if later_open < earlier_close:
            raise DomainError("validation_error", "Two intervals overlap.", field=field)
    if len(parsed) > 8:
        raise DomainError("validation_error", "Give at most 8 intervals a day.", field=field)
    return parsed


def parse_day_line(raw: str, *, field: str) -> list[Interval]:
    """A form line such as "08:00-11:00, 14:00-18:00" (empty: closed)."""
    pairs: list[tuple[str, str]] = []
    for part in raw.replace("，", ",").replace("–", "-").replace("—", "-").split(","):
        if not part.strip():
            continue
        opens, sep, closes = part.partition("-")
        if not sep:
            raise DomainError(
                "validation_error",
                "Write each interval as 08:00-11:00, separated by commas.",
                field=field,
            )
        pairs.append((opens, closes))
    return checked(pairs, field=field)


def day_line(intervals: Sequence[Interval]) -> str:
    return ", ".join(f"{format_minute(o)}-{format_minute(c)}" for o, c in intervals)
