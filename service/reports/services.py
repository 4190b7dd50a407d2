"""Attendance reports: what organisers send upward. Every figure is an aggregate computed
in the database and scoped to the caller's subtree here, in the service.

Reports are the read side across rooms: they read the activity, registration, member,
node and scan tables with aggregate SQL (never writing them), because a report built
from each room's row-by-row services would be neither fast nor consistent."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from service import clock
from service import kinds as kind_registry
from service.activities import services as activities
from service.activities.schemas import DoorActivity
from service.checkin.tables import standing_admission_sql
from service.db import engine, is_postgres, run_sql
from service.errors import DomainError, Forbidden, NotFound
from service.orgs import services as orgs
from service.orgs.schemas import WORKER_GROUPS, Actor, NodeOut
from service.reports.schemas import (
    ActivityReport,
    ArrivalBucket,
    GateCount,
    GroupCount,
    HistoryItem,
    KindCount,
    LiveCounts,
    MemberHistory,
    MonthCount,
    NodeCount,
    NodeReach,
    ReportSection,
    SummaryReport,
)
from service.settings import get_settings
from service.text import plain_text

BUCKET_SECONDS = 15 * 60
MAX_RANGE = timedelta(days=5 * 366)
# With no dates, a summary covers the last 90 days and the next 30: what was held lately
# and what is coming, so it opens on activities rather than on a range of zeros.
DEFAULT_PAST = timedelta(days=90)
DEFAULT_AHEAD = timedelta(days=30)
TOP_NODES = 5
HISTORY_LIMIT = 500


ADMITTED = standing_admission_sql("s")


async def _rows(sql: str, *params: Any) -> list[dict[str, Any]]:
    """A read-only aggregate query; `{}` marks each parameter (both engines)."""
    return await run_sql(sql, *params)


def _epoch(column: str) -> str:
    if is_postgres():
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    return f"CAST(strftime('%s', {column}) AS INTEGER)"


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _require_organiser(actor: Actor) -> None:
    if not actor.has("organiser", "admin"):
        raise Forbidden("Reports are for organisers.")


async def _reported_activity(actor: Actor, activity_id: int) -> DoorActivity:
    _require_organiser(actor)
    activity = await activities.door_activity(activity_id)
    if not actor.reaches(activity.owner_path):
        raise NotFound("There is no such activity.")
    return activity


# --- one activity -------------------------------------------------------------------------


async def activity_report(actor: Actor, activity_id: int) -> ActivityReport:
    activity = await _reported_activity(actor, activity_id)
    (kind, status), by_status, scans, (by_node, by_group) = await _together(
        lambda: _activity_kind(activity_id),
        lambda: _status_counts(activity_id),
        lambda: _scan_counts(activity_id),
        lambda: _attendee_breakdown(activity_id),
    )
    confirmed = by_status.get("confirmed", 0)
    ended = activity.ends_at <= clock.now()
    held = status in ("published", "closed")
    unknown = held and ended and confirmed > 0 and scans.scans == 0
    no_shows = max(0, confirmed - scans.checked_in)
    registered = kind_registry.find(kind)
    builder = registered.report_section if registered else None
    return ActivityReport(
        activity_id=activity_id,
        title=activity.title,
        kind=kind,
        status=status,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        registered=sum(by_status.values()),
        confirmed=confirmed,
        waitlisted=by_status.get("waitlisted", 0),
        cancelled=by_status.get("cancelled", 0),
        checked_in=scans.checked_in,
        walk_ins=scans.walk_ins,
        no_shows=0 if unknown else no_shows,
        no_show_rate=None if unknown else _rate(no_shows, confirmed),
        provisional=not ended,
        attendance_unknown=unknown,
        by_gate=[
            GateCount(gate=gate or "", checked_in=count)
            for gate, count in scans.by_gate.items()
            if count
        ],
        arrivals=_arrival_curve(scans.by_bucket),
        by_node=by_node,
        by_group=by_group,
        sections=await builder(activity_id) if builder else [],
    )


async def _together(*calls: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Independent reads of one report. On PostgreSQL's pool each runs on its own
    connection at the same time, so the server works on them in parallel and the report
    takes as long as its slowest query, not their sum. On SQLite (one file, a few reader
    threads), without a pool, or inside a transaction (one connection runs one statement
    at a time) they run one after another."""
    db = engine()
    if (
        isinstance(db, PostgresEngine)
        and db.pool is not None
        and db.current_transaction.get() is None
    ):
        async with asyncio.TaskGroup() as group:  # one failing cancels the others
            tasks = [group.create_task(call()) for call in calls]
        return [task.result() for task in tasks]
    return [await call() for call in calls]


async def _activity_kind(activity_id: int) -> tuple[str, str]:
    rows = await _rows("SELECT kind, status FROM activity WHERE id = {}", activity_id)
    return rows[0]["kind"], rows[0]["status"]


async def _status_counts(activity_id: int) -> dict[str, int]:
    return {
        row["status"]: int(row["n"])
        for row in await _rows(
            "SELECT status, COUNT(*) AS n FROM activity_registration "
            "WHERE activity = {} GROUP BY status",
            activity_id,
        )
    }


@dataclasses.dataclass
class _ScanCounts:
    checked_in: int = 0
    walk_ins: int = 0
    scans: int = 0  # every scan, whatever its result: was the door scanned at all
    # Admissions per gate (in gate order; gates without one are dropped by the report)
    # and per 15-minute bucket.
    by_gate: dict[str | None, int] = dataclasses.field(default_factory=dict)
    by_bucket: dict[int, int] = dataclasses.field(default_factory=dict)


def scan_counts_sql() -> str:
    """_scan_counts' query; one parameter, the activity."""
    bucket = f"{_epoch('s.scanned_at')} / {BUCKET_SECONDS}"
    return (
        f"SELECT s.gate AS gate, {bucket} AS bucket, "
        f"SUM(CASE WHEN {ADMITTED} THEN 1 ELSE 0 END) AS n, "
        f"SUM(CASE WHEN {ADMITTED} AND s.walk_in THEN 1 ELSE 0 END) AS walk_ins, "
        "COUNT(*) AS scans "
        f"FROM checkin_scan s WHERE s.activity_id = {{}} GROUP BY s.gate, {bucket} "
        "ORDER BY s.gate"
    )


async def _scan_counts(activity_id: int) -> _ScanCounts:
    """Admissions by gate and by 15 minutes, walk-ins, and whether anything was scanned:
    one pass over the activity's scans (grouped by gate and bucket) instead of a pass
    for each figure."""
    rows = await _rows(scan_counts_sql(), activity_id)
    counts = _ScanCounts()
    for row in rows:
        admitted = int(row["n"] or 0)
        counts.scans += int(row["scans"])
        counts.by_gate[row["gate"]] = counts.by_gate.get(row["gate"], 0) + admitted
        if admitted:
            counts.checked_in += admitted
            counts.walk_ins += int(row["walk_ins"] or 0)
            index = int(row["bucket"])
            counts.by_bucket[index] = counts.by_bucket.get(index, 0) + admitted
    return counts


async def _arrivals(activity_id: int) -> list[ArrivalBucket]:
    """The arrival curve: check-ins per 15 minutes, gaps filled with zeros."""
    bucket = f"{_epoch('s.scanned_at')} / {BUCKET_SECONDS}"
    rows = await _rows(
        f"SELECT {bucket} AS bucket, COUNT(*) AS n FROM checkin_scan s "
        f"WHERE s.activity_id = {{}} AND {ADMITTED} GROUP BY {bucket} ORDER BY 1",
        activity_id,
    )
    return _arrival_curve({int(row["bucket"]): int(row["n"]) for row in rows})


def _arrival_curve(counts: dict[int, int]) -> list[ArrivalBucket]:
    if not counts:
        return []
    return [
        ArrivalBucket(
            start=datetime.fromtimestamp(index * BUCKET_SECONDS, UTC),
            checked_in=counts.get(index, 0),
        )
        for index in range(min(counts), max(counts) + 1)
    ]


# Confirmed registrations and their admissions by the member's organisation and worker
# group; two parameters, both the activity. A registration has at most one standing
# admission (the partial unique index checkin_one_admission), so the LEFT JOIN never
# multiplies rows and COUNT(s.id) counts attendees. An admission is always recorded for its
# registration's activity (checkin.services judges the ticket first), so bounding the scan
# side to the activity changes no figure; it makes the join read this activity's scans
# instead of every admission ever recorded.
BREAKDOWN_SQL = (
    "SELECT m.node AS node, m.worker_group AS grp, COUNT(*) AS confirmed, "
    "COUNT(s.id) AS checked_in "
    "FROM activity_registration r JOIN org_member m ON m.id = r.member "
    "LEFT JOIN checkin_scan s ON s.registration_id = r.id "
    f"AND s.activity_id = {{}} AND {ADMITTED} "
    "WHERE r.activity = {} AND r.status = 'confirmed' "
    "GROUP BY m.node, m.worker_group"
)


async def _attendee_breakdown(activity_id: int) -> tuple[list[NodeCount], list[GroupCount]]:
    rows, nodes = await _together(
        lambda: _rows(BREAKDOWN_SQL, activity_id, activity_id), orgs.list_nodes
    )
    per_node: dict[int, list[int]] = {}
    per_group: dict[str, list[int]] = {}
    for row in rows:
        for key, table in ((row["node"], per_node), (row["grp"], per_group)):
            counts = table.setdefault(key, [0, 0])
            counts[0] += int(row["confirmed"])
            counts[1] += int(row["checked_in"])
    groups = [
        GroupCount(group=group, confirmed=counts[0], checked_in=counts[1])
        for group, counts in sorted(
            per_group.items(),
            key=lambda item: WORKER_GROUPS.index(item[0]) if item[0] in WORKER_GROUPS else 99,
        )
    ]
    return _rolled_up(per_node, nodes), groups


def _rolled_up(per_node: dict[int, list[int]], tree: list[NodeOut]) -> list[NodeCount]:
    """Per-node counts summed into every ancestor, in tree order."""
    if not per_node:
        return []
    nodes = {node.id: node for node in tree}
    totals: dict[int, list[int]] = {}
    for node_id, counts in per_node.items():
        node = nodes.get(node_id)
        if node is None:
            continue
        for ancestor in (int(part) for part in node.path.strip("/").split("/") if part):
            total = totals.setdefault(ancestor, [0, 0])
            total[0] += counts[0]
            total[1] += counts[1]
    ordered = sorted((nodes[i] for i in totals if i in nodes), key=lambda node: node.path)
    return [
        NodeCount(
            code=node.code,
            name=node.name,
            depth=node.depth,
            confirmed=totals[node.id][0],
            checked_in=totals[node.id][1],
        )
        for node in ordered
    ]


# --- across activities --------------------------------------------------------------------


def _range(date_from: datetime | None, date_to: datetime | None) -> tuple[datetime, datetime]:
    to = date_to or clock.now() + DEFAULT_AHEAD
    start = date_from or to - DEFAULT_AHEAD - DEFAULT_PAST
    for moment, field in ((start, "from"), (to, "to")):
        if moment.tzinfo is None:
            raise DomainError("validation_error", "Give dates with their time zone.", field=field)
    if to <= start:
        raise DomainError(
            "validation_error", "The end of the range must be after its start.", field="to"
        )
    if to - start > MAX_RANGE:
        raise DomainError("validation_error", "Choose a range of at most 5 years.", field="from")
    return start, to


async def summary(
    actor: Actor,
    *,
    node_code: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    kind: str | None = None,
    group: str | None = None,
    campaign: str | None = None,
) -> SummaryReport:
    """Activities owned within a subtree and started within a range: what was held, who
    came, what share of the subtree's membership was reached, and who came back."""
    _require_organiser(actor)
    start, to = _range(date_from, date_to)
    if kind:
        kind_registry.get(kind)
    if group and group not in WORKER_GROUPS:
        raise DomainError("validation_error", "Choose a worker group from the list.", field="group")
    campaign = plain_text(campaign, field="campaign", limit=activities.CAMPAIGN_MAX) or None
    if node_code:
        node = await orgs.node_by_code(node_code)
        if not actor.reaches(node.path):
            raise Forbidden("This organisation is outside your area.")
    else:
        node = (
            await orgs.node_for_path(actor.node_path)
            if actor.node_path != "/"
            else (await orgs.root_node())
        )
    scope = f"{node.path}%"
    # The activities of the report, as a subquery reused by every figure.
    chosen = (
        "SELECT a.id FROM activity a JOIN org_node o ON o.id = a.owner "
        "WHERE o.path LIKE {} AND a.starts_at >= {} AND a.starts_at < {} "
        "AND a.status IN ('published', 'closed')"
        + (" AND a.kind = {}" if kind else "")
        + (" AND a.campaign = {}" if campaign else "")
    )
    chosen_params: list[Any] = [scope, start, to, *([kind] if kind else [])]
    chosen_params += [campaign] if campaign else []
    member_filter = " AND m.worker_group = {}" if group else ""
    group_params: list[Any] = [group] if group else []

    per_activity = await _rows(
        "SELECT a.id AS id, a.kind AS kind, "
        f"{_epoch('a.starts_at')} AS starts, {_epoch('a.ends_at')} AS ends, "
        "(SELECT COUNT(*) FROM activity_registration r JOIN org_member m ON m.id = r.member "
        f"WHERE r.activity = a.id AND r.status = 'confirmed'{member_filter}) AS confirmed, "
        "(SELECT COUNT(*) FROM checkin_scan s JOIN activity_registration r "
        "ON r.id = s.registration_id JOIN org_member m ON m.id = r.member "
        f"WHERE s.activity_id = a.id AND {ADMITTED}{member_filter}) AS checked_in, "
        "(SELECT COUNT(*) FROM checkin_scan s WHERE s.activity_id = a.id) AS scans "
        f"FROM activity a WHERE a.id IN ({chosen})",
        *group_params,
        *group_params,
        *chosen_params,
    )
    now = clock.now().timestamp()
    zone = get_settings().zone
    kinds: dict[str, KindCount] = {}
    months: dict[str, MonthCount] = {}
    totals = {"confirmed": 0, "checked_in": 0, "no_shows": 0, "scanned_confirmed": 0}
    unknown = 0
    for row in per_activity:
        confirmed, checked_in = int(row["confirmed"]), int(row["checked_in"])
        count = kinds.setdefault(row["kind"], KindCount(row["kind"], 0, 0, 0))
        count.held += 1
        count.confirmed += confirmed
        count.checked_in += checked_in
        totals["confirmed"] += confirmed
        totals["checked_in"] += checked_in
        month = datetime.fromtimestamp(int(row["starts"]), zone).strftime("%Y-%m")
        bucket = months.setdefault(month, MonthCount(month, 0, 0, 0, 0, None))
        bucket.activities += 1
        if int(row["ends"]) > now:
            continue  # no-shows are counted once an activity has ended
        if int(row["scans"]) == 0 and confirmed > 0:
            unknown += 1  # held without scanning: attendance unknown, not zero
            continue
        no_shows = max(0, confirmed - checked_in)
        bucket.confirmed += confirmed
        bucket.checked_in += checked_in
        bucket.no_shows += no_shows
        totals["no_shows"] += no_shows
        totals["scanned_confirmed"] += confirmed
    for bucket in months.values():
        bucket.no_show_rate = _rate(bucket.no_shows, bucket.confirmed)

    in_scope = f" AND o.path LIKE {{}}{member_filter}"
    attendance = (
        "FROM checkin_scan s JOIN activity_registration r ON r.id = s.registration_id "
        "JOIN org_member m ON m.id = r.member JOIN org_node o ON o.id = m.node "
        f"WHERE {ADMITTED} AND s.activity_id IN ({chosen}){in_scope}"
    )
    reach_params = [*chosen_params, scope, *group_params]
    reached_by_node = await _rows(
        f"SELECT m.node AS node, COUNT(DISTINCT m.id) AS n {attendance} GROUP BY m.node",
        *reach_params,
    )
    repeat = await _rows(
        f"SELECT COUNT(*) AS n FROM (SELECT m.id {attendance} "
        "GROUP BY m.id HAVING COUNT(*) >= 2) repeaters",
        *reach_params,
    )
    members_by_node = await _rows(
        "SELECT m.node AS node, COUNT(*) AS n FROM org_member m JOIN org_node o ON o.id = m.node "
        f"WHERE o.path LIKE {{}}{member_filter} GROUP BY m.node",
        scope,
        *group_params,
    )
    reached = {int(row["node"]): int(row["n"]) for row in reached_by_node}
    members = {int(row["node"]): int(row["n"]) for row in members_by_node}
    children = await _child_reach(node.id, members, reached)
    ranked = sorted(
        (child for child in children if child.members),
        key=lambda child: (-(child.share or 0.0), child.code),
    )
    members_total, reached_total = sum(members.values()), sum(reached.values())
    return SummaryReport(
        node_code=node.code,
        node_name=node.name,
        date_from=start,
        date_to=to,
        kind=kind or None,
        group=group or None,
        campaign=campaign,
        activities_held=len(per_activity),
        by_kind=sorted(kinds.values(), key=lambda count: _kind_order(count.kind)),
        confirmed=totals["confirmed"],
        checked_in=totals["checked_in"],
        no_shows=totals["no_shows"],
        no_show_rate=_rate(totals["no_shows"], totals["scanned_confirmed"]),
        attendance_unknown=unknown,
        members_in_scope=members_total,
        members_reached=reached_total,
        reach_share=_rate(reached_total, members_total),
        repeat_attendees=int(repeat[0]["n"]),
        by_month=[months[month] for month in sorted(months)],
        top_nodes=ranked[:TOP_NODES],
        bottom_nodes=ranked[::-1][:TOP_NODES] if len(ranked) > TOP_NODES else [],
        sections=await _summary_sections(actor, start, to, kind),
    )


def _kind_order(code: str) -> tuple[int, str]:
    """Registered kinds in their rooms' order; a kind no longer registered goes last."""
    order = kind_registry.codes()
    return (order.index(code), code) if code in order else (len(order), code)


async def _summary_sections(
    actor: Actor, start: datetime, to: datetime, kind: str | None
) -> list[ReportSection]:
    """Each kind's own part of the summary (all kinds, or the one filtered on)."""
    sections: list[ReportSection] = []
    for one in kind_registry.all_kinds():
        if one.summary_section is not None and kind in (None, one.code):
            sections.extend(await one.summary_section(actor, start, to))
    return sections


async def _child_reach(
    parent_id: int, members: dict[int, int], reached: dict[int, int]
) -> list[NodeReach]:
    """Members and reached members of each child of a node, with everything under it."""
    nodes = await orgs.list_nodes()
    children = [node for node in nodes if node.parent_id == parent_id]
    out = []
    for child in children:
        inside = [node.id for node in nodes if node.path.startswith(child.path)]
        total = sum(members.get(node_id, 0) for node_id in inside)
        came = sum(reached.get(node_id, 0) for node_id in inside)
        out.append(
            NodeReach(
                code=child.code,
                name=child.name,
                members=total,
                reached=came,
                share=_rate(came, total),
            )
        )
    return out


# --- one member ---------------------------------------------------------------------------


async def member_history(actor: Actor, member_id: int | None = None) -> MemberHistory:
    """A member's activities and attendance rate: their own, or, for an organiser, any
    member within their subtree."""
    target = actor.member_id if member_id is None else member_id
    if target is None:
        raise DomainError("not_signed_in", "Sign in to continue.")
    if target == actor.member_id:
        card = (await orgs.member_cards([target]))[0]
    else:
        member = await orgs.get_member(actor, target)  # scope-checked: out of scope is 404
        card = {"id": member.id, "name": member.name, "phone_masked": member.phone_masked}
    rows = await _rows(
        "SELECT a.id AS id, a.title AS title, a.kind AS kind, a.starts_at AS starts_at, "
        "a.ends_at AS ends_at, r.status AS status, s.scanned_at AS checked_in_at, "
        "a.status AS activity_status, "
        "(SELECT COUNT(*) FROM checkin_scan x WHERE x.activity_id = a.id) AS scans "
        "FROM activity_registration r JOIN activity a ON a.id = r.activity "
        f"LEFT JOIN checkin_scan s ON s.registration_id = r.id AND {ADMITTED} "
        "WHERE r.member = {} ORDER BY a.starts_at DESC LIMIT {}",
        target,
        HISTORY_LIMIT,
    )
    now = clock.now()
    items = [
        HistoryItem(
            activity_id=row["id"],
            title=row["title"],
            kind=row["kind"],
            starts_at=_as_datetime(row["starts_at"]),
            ends_at=_as_datetime(row["ends_at"]),
            status=row["status"],
            checked_in_at=_as_datetime(row["checked_in_at"]) if row["checked_in_at"] else None,
            activity_status=row["activity_status"],
            attendance_known=row["activity_status"] in ("published", "closed")
            and int(row["scans"]) > 0,
        )
        for row in rows
    ]
    # Only places at activities that were held and scanned say whether the member came: a
    # cancelled activity, or one held without scanning (attendance unknown), does not.
    ended = [
        item
        for item in items
        if item.status == "confirmed" and item.ends_at <= now and item.attendance_known
    ]
    attended = sum(1 for item in ended if item.checked_in_at is not None)
    return MemberHistory(
        member_id=target,
        name=card["name"],
        phone_masked=card["phone_masked"],
        items=items,
        attended=attended,
        confirmed_ended=len(ended),
        attendance_rate=_rate(attended, len(ended)),
    )


def _as_datetime(value: Any) -> datetime:
    """A timestamp from a raw query: PostgreSQL gives datetimes, SQLite text."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


# --- the live dashboard -------------------------------------------------------------------

LIVE_TTL_SECONDS = 3.0
# activity id → (monotonic expiry, figures): one computation per activity every few seconds,
# however many organisers are watching (per process).
_live_cache: dict[int, tuple[float, LiveCounts]] = {}
LIVE_CACHE_MAX = 1000


def clear_live_cache() -> None:
    _live_cache.clear()


async def live_counts(actor: Actor, activity_id: int) -> LiveCounts:
    """The figures that move during an activity: registrations by status, check-ins,
    walk-ins, no-shows so far and the arrival curve. Scope is checked on every call; the
    aggregates are shared for LIVE_TTL_SECONDS by everyone watching the same activity."""
    activity = await _reported_activity(actor, activity_id)
    cached = _live_cache.get(activity_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    counts = await _rows(
        "SELECT "
        "(SELECT COUNT(*) FROM activity_registration WHERE activity = {}) AS registered, "
        "(SELECT COUNT(*) FROM activity_registration WHERE activity = {} "
        "AND status = 'confirmed') AS confirmed, "
        "(SELECT COUNT(*) FROM activity_registration WHERE activity = {} "
        "AND status = 'waitlisted') AS waitlisted, "
        "(SELECT COUNT(*) FROM activity_registration WHERE activity = {} "
        "AND status = 'cancelled') AS cancelled, "
        f"(SELECT COUNT(*) FROM checkin_scan s WHERE s.activity_id = {{}} AND {ADMITTED}) "
        "AS checked_in, "
        f"(SELECT COUNT(*) FROM checkin_scan s WHERE s.activity_id = {{}} AND {ADMITTED} "
        "AND s.walk_in) AS walk_ins, "
        "(SELECT COUNT(*) FROM checkin_scan WHERE activity_id = {}) AS scans",
        *([activity_id] * 7),
    )
    row = counts[0]
    confirmed, checked_in = int(row["confirmed"]), int(row["checked_in"])
    now = clock.now()
    ended = activity.ends_at <= now
    unknown = ended and confirmed > 0 and int(row["scans"]) == 0
    no_shows = max(0, confirmed - checked_in)
    live = LiveCounts(
        activity_id=activity_id,
        registered=int(row["registered"]),
        confirmed=confirmed,
        waitlisted=int(row["waitlisted"]),
        cancelled=int(row["cancelled"]),
        checked_in=checked_in,
        walk_ins=int(row["walk_ins"]),
        no_shows=0 if unknown else no_shows,
        no_show_rate=None if unknown else _rate(no_shows, confirmed),
        provisional=not ended,
        attendance_unknown=unknown,
        arrivals=await _arrivals(activity_id),
        as_of=now,
    )
    if len(_live_cache) >= LIVE_CACHE_MAX:
        _live_cache.clear()
    _live_cache[activity_id] = (time.monotonic() + LIVE_TTL_SECONDS, live)
    return live
