"""The livestream room's API contract (msgspec Structs in and out)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

WEEKDAYS: tuple[str, ...] = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# English msgids for the weekday choices.
WEEKDAY_LABELS: dict[str, str] = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
# The nth weekday of a month (English msgids).
NTH_LABELS: dict[int, str] = {1: "First", 2: "Second", 3: "Third", 4: "Fourth", -1: "Last"}
# Each viewer figure with what it means (English msgids): they are reported side by side,
# never added into one another.
FIGURE_LABELS: dict[str, str] = {
    "peak_concurrent": "Peak concurrent viewers",
    "unique_viewers": "Unique viewers",
    "total_views": "Total views",
    "average_watch_minutes": "Average watch minutes",
}
FIGURE_DEFINITION_LABELS: dict[str, str] = {
    "peak_concurrent": "The most viewers watching at the same moment, as the platform reports it.",
    "unique_viewers": "Distinct accounts or devices that watched at least once.",
    "total_views": "Every time playback started, including repeat views by the same viewer.",
    # Per view, so the minutes of several episodes average by their views (the summary).
    "average_watch_minutes": "Total minutes watched divided by total views.",
}
FIGURE_DEFINITIONS: dict[str, tuple[str, str]] = {
    name: (label, FIGURE_DEFINITION_LABELS[name]) for name, label in FIGURE_LABELS.items()
}
# The columns of the summary per column and month (English msgids), in its order: what
# adds up is summed, what does not is the highest of one episode, the average is per view.
SUMMARY_LABELS: dict[str, str] = {
    "month": "Month",
    "column": "Column",
    "episodes": "Episodes with figures",
    "total_views": "Total views (summed)",
    "highest_unique_viewers": "Highest unique viewers of one episode",
    "highest_peak_concurrent": "Highest peak concurrent viewers of one episode",
    "average_watch_minutes": "Average watch minutes per view (weighted by views)",
    "subscribers_reminded": "Subscribers reminded (distinct, reminder sent)",
}


class ChannelIn(msgspec.Struct):
    name: str
    stream_url: str
    default_minutes: int = 60
    node: str | None = None  # node code; default: the organiser's own node


class ChannelOut(msgspec.Struct):
    id: int
    name: str
    node_code: str
    node_name: str
    stream_url: str
    default_minutes: int


class ColumnIn(msgspec.Struct):
    name: str
    description: str = ""
    department: str = ""
    colour: str = "#1f6feb"
    rundown: str = ""  # one segment a line: "title | minutes | who"


class Segment(msgspec.Struct):
    title: str
    minutes: int
    who: str = ""


class ColumnOut(msgspec.Struct):
    id: int
    channel_id: int
    name: str
    description: str
    department: str
    colour: str
    rundown: list[Segment]
    rundown_minutes: int


class RuleIn(msgspec.Struct):
    """A recurrence in RRULE terms: on these weekdays every `interval` weeks, or (with
    `nth`) on the nth of those weekdays of every `interval` months; at a local time."""

    weekdays: list[str]
    start_date: date
    start_time: str  # "19:30"
    interval: int = 1
    nth: int | None = None
    end_date: date | None = None
    minutes: int | None = None  # default: the channel's
    zone: str | None = None  # default: the service's zone


class RuleOut(msgspec.Struct):
    weekdays: list[str]
    start_date: date
    start_time: str
    interval: int
    nth: int | None
    end_date: date | None
    minutes: int
    zone: str
    rrule: str


class PreviewOut(msgspec.Struct):
    rrule: str
    dates: list[datetime]


class GeneratedOut(msgspec.Struct):
    created: int
    kept: int
    cancelled: int


class EpisodeOut(msgspec.Struct):
    activity_id: int
    channel_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    status: str
    occurrence: datetime | None
    column_id: int | None
    column_name: str
    topic: str
    guests: str
    skipped: bool
    moved: bool
    edited: bool
    rundown: list[Segment]
    rundown_minutes: int
    rundown_too_long: bool
    rundown_edited: bool  # the organiser edited this episode's rundown


class MoveIn(msgspec.Struct):
    starts_at: datetime
    minutes: int | None = None


class SkipIn(msgspec.Struct):
    reason: str = ""


class LaterIn(msgspec.Struct):
    """A change to this episode and all later ones of the channel."""

    start_time: str | None = None  # "20:00", local
    minutes: int | None = None
    column_id: int | None = None


class SubscribeIn(msgspec.Struct):
    columns: list[int] | None = None  # none or empty: the whole channel


class SubscriptionOut(msgspec.Struct):
    channel_id: int
    whole_channel: bool
    columns: list[int]
    reminders_scheduled: int


class FiguresIn(msgspec.Struct):
    peak_concurrent: int
    unique_viewers: int
    total_views: int
    average_watch_minutes: float
    source: str = ""


class FiguresOut(msgspec.Struct):
    activity_id: int
    peak_concurrent: int
    unique_viewers: int
    total_views: int
    average_watch_minutes: float
    source: str
    recorded_at: datetime
    definitions: dict[str, str]


# --- crew and rota --------------------------------------------------------------------

# Each role's crew group (English msgids for both).
ROLE_LABELS: dict[str, str] = {
    "host": "Host",
    "planner": "Planner",
    "camera": "Camera",
    "editor": "Editor",
    "technician": "Technician",
}
GROUP_LABELS: dict[str, str] = {
    "planning_hosting": "Planning & hosting",
    "filming_editing": "Filming & editing",
    "technical_support": "Technical support",
}
ROLE_GROUPS: dict[str, str] = {
    "host": "planning_hosting",
    "planner": "planning_hosting",
    "camera": "filming_editing",
    "editor": "filming_editing",
    "technician": "technical_support",
}
# Why a duty was given (English msgids), by rota reason code.
REASON_LABELS: dict[str, str] = {
    "fewest_so_far": "Fewest duties so far",
    "longest_since_last": "Longest since their last duty",
    "only_available": "The only one available",
    "next_department": "Next department in turn",
    "swapped": "Swapped, approved by the organiser",
}
DUTY_STATUS_LABELS: dict[str, str] = {
    "planned": "Waiting for your answer",
    "accepted": "Accepted",
    "declined": "Declined",
}


class CrewIn(msgspec.Struct):
    member_id: int
    role: str
    department: str = ""


class CrewOut(msgspec.Struct):
    id: int
    member_id: int
    name: str
    phone_masked: str
    role: str
    group: str
    department: str


class NeedIn(msgspec.Struct):
    role: str
    needed: int


class BlockoutIn(msgspec.Struct):
    starts_on: date
    ends_on: date | None = None  # none: that one date (or, weekly, for good)
    weekly: bool = False
    reason: str = ""


class BlockoutOut(msgspec.Struct):
    id: int
    crew_id: int
    starts_on: date
    ends_on: date | None
    weekly: bool
    reason: str


class DutyOut(msgspec.Struct):
    id: int
    activity_id: int
    starts_at: datetime
    crew_id: int
    member_id: int
    name: str
    role: str
    status: str
    reason: str  # fewest_so_far | longest_since_last | only_available | swapped
    swap_with: int | None = None  # crew id asked to take it over


class RotaEpisodeOut(msgspec.Struct):
    activity_id: int
    title: str
    starts_at: datetime
    department: str
    department_reason: str  # next_department
    duties: list[DutyOut]


class PlannedOut(msgspec.Struct):
    planned: int  # duties written
    kept: int  # duties kept as they were (the past, accepted)


class SwapIn(msgspec.Struct):
    crew_id: int  # the colleague (their crew id) asked to take the duty over
