from __future__ import annotations

from datetime import datetime

import msgspec


class GateCount(msgspec.Struct):
    gate: str
    checked_in: int


class ArrivalBucket(msgspec.Struct):
    """Check-ins in the 15 minutes from `start`."""

    start: datetime
    checked_in: int


class NodeCount(msgspec.Struct):
    """Figures of a node and everything under it (rolled up the tree)."""

    code: str
    name: str
    depth: int
    confirmed: int
    checked_in: int


class GroupCount(msgspec.Struct):
    group: str
    confirmed: int
    checked_in: int


class ReportSection(msgspec.Struct):
    """A kind's own part of the report (job-fair intents, deliveries, viewers…)."""

    kind: str
    title: str
    rows: list[list[str]]


class ActivityReport(msgspec.Struct):
    activity_id: int
    title: str
    kind: str
    status: str
    starts_at: datetime
    ends_at: datetime
    registered: int  # every sign-up made, whatever became of it
    confirmed: int  # holding a seat, checked in or not (walk-ins included)
    waitlisted: int
    cancelled: int
    checked_in: int
    walk_ins: int
    no_shows: int
    no_show_rate: float | None  # no-shows over confirmed; None when nobody is confirmed
    provisional: bool  # the activity has not ended: no-shows may still arrive
    attendance_unknown: bool  # ended with people confirmed but nobody scanned
    by_gate: list[GateCount]
    arrivals: list[ArrivalBucket]
    by_node: list[NodeCount]
    by_group: list[GroupCount]
    sections: list[ReportSection]


class KindCount(msgspec.Struct):
    kind: str
    held: int
    confirmed: int
    checked_in: int


class MonthCount(msgspec.Struct):
    month: str  # YYYY-MM, local time
    activities: int
    confirmed: int
    checked_in: int
    no_shows: int
    no_show_rate: float | None


class NodeReach(msgspec.Struct):
    code: str
    name: str
    members: int
    reached: int
    share: float | None


class SummaryReport(msgspec.Struct):
    node_code: str
    node_name: str
    date_from: datetime
    date_to: datetime
    kind: str | None
    group: str | None
    activities_held: int
    by_kind: list[KindCount]
    confirmed: int
    checked_in: int
    no_shows: int  # of ended activities that were scanned
    no_show_rate: float | None
    attendance_unknown: int  # ended activities held without scanning
    members_in_scope: int
    members_reached: int
    reach_share: float | None
    repeat_attendees: int  # members with two or more attendances
    by_month: list[MonthCount]
    top_nodes: list[NodeReach]
    bottom_nodes: list[NodeReach]
    campaign: str | None = None  # the campaign filter, when one was given
    sections: list[ReportSection] = msgspec.field(default_factory=list)  # kinds' own parts


class HistoryItem(msgspec.Struct):
    activity_id: int
    title: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    status: str  # the registration's
    checked_in_at: datetime | None
    activity_status: str = "published"
    attendance_known: bool = True  # False: cancelled, or held without scanning


class MemberHistory(msgspec.Struct):
    member_id: int
    name: str
    phone_masked: str
    items: list[HistoryItem]
    attended: int
    confirmed_ended: int  # confirmed places at activities that have ended
    attendance_rate: float | None


class LiveCounts(msgspec.Struct):
    """The live dashboard's figures during an activity (a short-lived cached read)."""

    activity_id: int
    registered: int
    confirmed: int
    waitlisted: int
    cancelled: int
    checked_in: int
    walk_ins: int
    no_shows: int
    no_show_rate: float | None
    provisional: bool
    attendance_unknown: bool
    arrivals: list[ArrivalBucket]
    as_of: datetime
