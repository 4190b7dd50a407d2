"""The activity core: create, publish, sign up, waitlist, cancel. Capacity is taken with
one conditional UPDATE, in a transaction with the writes that depend on it; nothing here
reads then writes a seat. A first signup (register) takes a hot path in raw SQL: one read,
then on SQLite one transaction run whole on the writer's thread, on PostgreSQL one
statement (QUALITY.md B1/B2)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from service import clock, kinds, ratelimit
from service.activities.schemas import (
    ActivityIn,
    ActivityOut,
    DoorActivity,
    DoorRegistration,
    KindOut,
    MessageActivity,
    MyPlace,
    MyRegistrationOut,
    RegistrationOut,
    RosterEntry,
    VenueIn,
    has_room,
)
from service.activities.tables import Activity, EligibleGroup, EligibleNode, Registration
from service.db import (
    TunedSQLiteEngine,
    engine,
    is_postgres,
    is_unique_violation,
    qmark,
    run_sql,
    write_transaction,
)
from service.errors import DomainError, Forbidden, NotFound
from service.i18n import translated
from service.orgs import access
from service.orgs import services as orgs
from service.orgs.schemas import WORKER_GROUPS, Actor
from service.reminders import services as outbox
from service.reminders.services import ActivityTimes
from service.seams import SEAMS
from service.text import plain_text
from service.tickets import services as tickets

TITLE_MAX = 200
CAMPAIGN_MAX = 60
DESCRIPTION_MAX = 5000
MAX_CAPACITY = 100_000
REISSUES_PER_TICKET = (5, 60 * 60)  # (limit, window seconds)
# A re-issue refused because the limit's store (Redis) cannot be reached: the ticket the
# member holds still works, only a new code must wait.
REISSUE_UNAVAILABLE_REFUSAL = (
    "A new ticket code cannot be made just now. Your current ticket still works; "
    "try again in a minute."
)
MAX_DURATION = timedelta(days=31)
MAX_LIST = 200


def _require_organiser(actor: Actor) -> None:
    if not actor.has("organiser", "admin"):
        raise Forbidden()


def _minute(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise DomainError(
            "validation_error", "Give times with their time zone, such as 2026-05-01T09:00+08:00."
        )
    return moment.replace(second=0, microsecond=0)


# --- reading ------------------------------------------------------------------------------


def kinds_offered() -> list[KindOut]:
    return [
        KindOut(
            code=kind.code,
            label_zh=translated("zh-CN", kind.label),
            label_en=kind.label,
            **kind.offers(),
        )
        for kind in kinds.all_kinds()
    ]


ACTIVITY_COLUMNS = (
    Activity.all_columns(),
    Activity.owner.code.as_alias("owner_code"),
    Activity.owner.name.as_alias("owner_name"),
    Activity.owner.path.as_alias("owner_path"),
)


@dataclass(frozen=True)
class Eligibility:
    """Who may join: members under any of `paths` (default: the owner's subtree) and, when
    `groups` is not empty, only those worker groups."""

    codes: list[str]
    paths: list[str]
    groups: list[str]

    def admits(self, actor: Actor, owner_path: str) -> bool:
        paths = self.paths or [owner_path]
        if not any(actor.node_path.startswith(path) for path in paths):
            return False
        return not self.groups or actor.group in self.groups


async def _eligibility(activity_ids: Sequence[int]) -> dict[int, Eligibility]:
    """Eligibility of many activities in two queries."""
    found = {i: Eligibility(codes=[], paths=[], groups=[]) for i in activity_ids}
    if not found:
        return found
    for row in (
        await EligibleNode.select(
            EligibleNode.activity,
            EligibleNode.node.code.as_alias("code"),
            EligibleNode.node.path.as_alias("path"),
        )
        .where(EligibleNode.activity.is_in(list(found)))
        .run()
    ):
        found[row["activity"]].codes.append(row["code"])
        found[row["activity"]].paths.append(row["path"])
    for row in await EligibleGroup.select().where(EligibleGroup.activity.is_in(list(found))).run():
        found[row["activity"]].groups.append(row["worker_group"])
    return found


def _activity_out(
    row: dict[str, Any], eligibility: Eligibility, details: dict[str, Any] | None = None
) -> ActivityOut:
    return ActivityOut(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        description=row["description"],
        owner_code=row["owner_code"],
        owner_name=row["owner_name"],
        venue_name=row["venue_name"],
        venue_address=row["venue_address"],
        online_url=row["online_url"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        capacity=row["capacity"],
        confirmed=row["taken"],
        registration_opens_at=row["registration_opens_at"],
        registration_closes_at=row["registration_closes_at"],
        status=row["status"],
        cancel_reason=row["cancel_reason"],
        eligible_nodes=sorted(eligibility.codes),
        eligible_groups=sorted(eligibility.groups),
        campaign=row["campaign"],
        details=details,
    )


async def _rows_to_out(rows: list[dict[str, Any]]) -> list[ActivityOut]:
    eligibility = await _eligibility([row["id"] for row in rows])
    details = await _details([(row["id"], row["kind"]) for row in rows])
    return [
        _activity_out(row, eligibility[row["id"]], details.get(row["id"])) for row in rows
    ]


async def _details(activities: Sequence[tuple[int, str]]) -> dict[int, dict[str, Any]]:
    """Each activity's kind details, one read per kind that keeps any."""
    by_kind: dict[str, list[int]] = {}
    for activity_id, code in activities:
        by_kind.setdefault(code, []).append(activity_id)
    found: dict[int, dict[str, Any]] = {}
    for code, ids in by_kind.items():
        kind = kinds.find(code)
        if kind is not None and kind.details is not None:
            found.update(await kind.details.read(ids))
    return found


def _clean_details(kind: kinds.Kind, raw: dict[str, Any] | None) -> Any:
    """The kind's own details, validated by its room; None when there is nothing to write."""
    if kind.details is None:
        if raw:
            raise DomainError(
                "validation_error", "This kind of activity has no details.", field="details"
            )
        return None
    return None if raw is None else kind.details.validate(raw)


async def _activity_row(activity_id: int) -> dict[str, Any]:
    row = await Activity.select(*ACTIVITY_COLUMNS).where(Activity.id == activity_id).first().run()
    if row is None:
        raise NotFound("There is no such activity.")
    return row


async def _is_eligible(actor: Actor, row: dict[str, Any]) -> bool:
    return (await _eligibility([row["id"]]))[row["id"]].admits(actor, row["owner_path"])


async def get_activity(actor: Actor, activity_id: int) -> ActivityOut:
    """Organisers see every activity of their subtree; members see the published, closed
    and cancelled ones they may join or have joined."""
    row = await _activity_row(activity_id)
    if not await _may_see(actor, row):
        raise NotFound("There is no such activity.")
    return (await _rows_to_out([row]))[0]


async def _may_see(actor: Actor, row: dict[str, Any]) -> bool:
    if _visible(actor, row) or await _has_registration(actor, row["id"]):
        return True
    return row["status"] != "draft" and await _is_eligible(actor, row)


def _visible(actor: Actor, row: dict[str, Any]) -> bool:
    return actor.has("organiser", "admin") and actor.reaches(row["owner_path"])


async def _has_registration(actor: Actor, activity_id: int) -> bool:
    return (
        await Registration.exists()
        .where((Registration.activity == activity_id) & (Registration.member == actor.member_id))
        .run()
    )


async def list_activities(
    actor: Actor,
    *,
    kind: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    include_past: bool = False,
) -> list[ActivityOut]:
    """Upcoming first. Members: the published activities they may join. Organisers: also
    every draft, closed and cancelled activity of their subtree."""
    if kind:
        kinds.get(kind)
    where = Activity.id > 0
    if kind:
        where &= Activity.kind == kind
    if date_from:
        where &= Activity.ends_at >= date_from
    elif not include_past:
        where &= Activity.ends_at >= clock.now()
    if date_to:
        where &= Activity.starts_at <= date_to
    public = where & (Activity.status == "published")
    rows = (
        await Activity.select(*ACTIVITY_COLUMNS)
        .where(public)
        .order_by(Activity.starts_at)
        .limit(MAX_LIST)
        .run()
    )
    eligibility = await _eligibility([row["id"] for row in rows])
    keep = [row for row in rows if eligibility[row["id"]].admits(actor, row["owner_path"])]
    if actor.has("organiser", "admin"):
        own = (
            await Activity.select(*ACTIVITY_COLUMNS)
            .where(where & Activity.owner.path.like(f"{actor.node_path}%"))
            .order_by(Activity.starts_at)
            .limit(MAX_LIST)
            .run()
        )
        seen = {row["id"] for row in keep}
        keep += [row for row in own if row["id"] not in seen]
        keep.sort(key=lambda row: row["starts_at"])
    return await _rows_to_out(keep)


# --- organiser writes ---------------------------------------------------------------------


def _clean(data: ActivityIn) -> dict[str, Any]:
    kind = kinds.get(data.kind)
    title = plain_text(data.title, field="title")
    if not title:
        raise DomainError("validation_error", "Give the activity a title.", field="title")
    if len(title) > TITLE_MAX:
        raise DomainError(
            "validation_error",
            "Keep the title to %(limit)s characters or fewer.",
            field="title",
            limit=TITLE_MAX,
        )
    description = plain_text(data.description, field="description", multiline=True)
    if len(description) > DESCRIPTION_MAX:
        raise DomainError(
            "validation_error",
            "Keep the description to %(limit)s characters or fewer.",
            field="description",
            limit=DESCRIPTION_MAX,
        )
    starts_at, ends_at = _minute(data.starts_at), _minute(data.ends_at)
    if ends_at <= starts_at:
        raise DomainError("validation_error", "The end must be after the start.", field="ends_at")
    if ends_at - starts_at > MAX_DURATION:
        raise DomainError(
            "validation_error", "An activity can last at most 31 days.", field="ends_at"
        )
    capacity = data.capacity
    if capacity is None and kind.places:
        raise DomainError("validation_error", "Give the number of places.", field="capacity")
    if capacity is not None and not kind.places:
        raise DomainError(
            "validation_error", "This kind of activity has no places.", field="capacity"
        )
    if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
        raise DomainError(
            "validation_error",
            "The number of places must be between 1 and %(limit)s.",
            field="capacity",
            limit=MAX_CAPACITY,
        )
    opens = _minute(data.registration_opens_at) if data.registration_opens_at else None
    closes = _minute(data.registration_closes_at) if data.registration_closes_at else None
    if opens and closes and closes <= opens:
        raise DomainError(
            "validation_error",
            "Registration must close after it opens.",
            field="registration_closes_at",
        )
    if closes and closes > ends_at:
        raise DomainError(
            "validation_error",
            "Registration must close before the activity ends.",
            field="registration_closes_at",
        )
    bad_groups = [group for group in data.eligible_groups if group not in WORKER_GROUPS]
    if bad_groups:
        raise DomainError(
            "validation_error", "Choose a worker group from the list.", field="eligible_groups"
        )
    venue = data.venue or VenueIn()
    url = plain_text(data.online_url, field="online_url", limit=500)
    if url and not url.startswith(("https://", "http://")):
        raise DomainError(
            "validation_error", "The online link must start with https://.", field="online_url"
        )
    return {
        "kind": data.kind,
        "title": title,
        "description": description,
        "venue_name": plain_text(venue.name, field="venue_name", limit=200),
        "venue_address": plain_text(venue.address, field="venue_address", limit=300),
        "online_url": url,
        "campaign": plain_text(data.campaign, field="campaign", limit=CAMPAIGN_MAX),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "capacity": capacity,
        "registration_opens_at": opens,
        "registration_closes_at": closes,
    }


async def campaigns(actor: Actor) -> list[str]:
    """Campaign names already used by activities of the organiser's subtree and of the
    nodes above it (a federation-wide drive): offered on the forms so that one campaign
    keeps one spelling."""
    _require_organiser(actor)
    parts = actor.node_path.strip("/").split("/")
    above = ["/" + "/".join(parts[:depth]) + "/" for depth in range(1, len(parts))]
    in_scope = Activity.owner.path.like(f"{actor.node_path}%")
    if above:
        in_scope = in_scope | Activity.owner.path.is_in(above)
    rows = (
        await Activity.select(Activity.campaign)
        .where((Activity.campaign != "") & in_scope)
        .distinct()
        .order_by(Activity.campaign)
        .limit(MAX_LIST)
        .run()
    )
    return [row["campaign"] for row in rows]


async def _owned_row(actor: Actor, activity_id: int) -> dict[str, Any]:
    _require_organiser(actor)
    row = await _activity_row(activity_id)
    if not actor.reaches(row["owner_path"]):
        raise NotFound("There is no such activity.")
    return row


async def _write_eligibility(activity_id: int, actor: Actor, data: ActivityIn) -> None:
    await EligibleNode.delete().where(EligibleNode.activity == activity_id).run()
    await EligibleGroup.delete().where(EligibleGroup.activity == activity_id).run()
    for code in dict.fromkeys(data.eligible_nodes):
        node = await orgs.node_by_code(code)
        await EligibleNode.insert(EligibleNode(activity=activity_id, node=node.id)).run()
    for group in dict.fromkeys(data.eligible_groups):
        await EligibleGroup.insert(EligibleGroup(activity=activity_id, worker_group=group)).run()


async def create_activity(actor: Actor, data: ActivityIn) -> ActivityOut:
    return await _create(actor, data)


async def _create(actor: Actor, data: ActivityIn, *, copy_of: int | None = None) -> ActivityOut:
    """A new draft; its kind details are validated and written, or copied from `copy_of`."""
    _require_organiser(actor)
    values = _clean(data)
    kind = kinds.get(data.kind)
    details = None
    if copy_of is None:
        details = _clean_details(kind, data.details if kind.details is None else data.details or {})
    owner = await orgs.node_by_code(data.owner) if data.owner else None
    owner_id = owner.id if owner else actor.node_id
    if owner is not None and not actor.reaches(owner.path):
        raise Forbidden("You can only create activities for your own organisations.")
    if owner_id is None:
        owner_id = (await orgs.root_node()).id
    async with write_transaction():
        # Inside the transaction: what the check reads (a room's hours, say) cannot change
        # between the check and the write when the kind's writes lock the same thing.
        if kind.check is not None:
            await kind.check(values, details, copy_of)
        inserted = (
            await Activity.insert(
                Activity(**values, owner=owner_id, created_by=actor.member_id, status="draft")
            )
            .returning(Activity.id)
            .run()
        )
        activity_id = inserted[0]["id"]
        await _write_eligibility(activity_id, actor, data)
        if kind.details is not None and copy_of is not None:
            await kind.details.copy(copy_of, activity_id)
        elif kind.details is not None:
            await kind.details.write(activity_id, details)
    return await get_activity(actor, activity_id)


async def update_activity(actor: Actor, activity_id: int, data: ActivityIn) -> ActivityOut:
    row = await _owned_row(actor, activity_id)
    if row["status"] in {"closed", "cancelled"}:
        raise DomainError(
            "activity_not_editable", "A closed or cancelled activity cannot be changed."
        )
    values = _clean(data)
    if values["kind"] != row["kind"]:
        raise DomainError(
            "kind_not_editable",
            "The kind of an activity cannot change. Create a new activity instead.",
            field="kind",
        )
    kind = kinds.get(data.kind)
    details = _clean_details(kind, data.details)
    new_capacity = values["capacity"]
    async with write_transaction():
        if kind.check is not None:
            await kind.check(values, details, activity_id)
        values.pop("capacity")
        await Activity.update(values).where(Activity.id == activity_id).run()
        await _write_eligibility(activity_id, actor, data)
        if kind.details is not None and details is not None:
            await kind.details.write(activity_id, details)
        if new_capacity != row["capacity"]:
            await _apply_capacity(activity_id, new_capacity)
        if row["status"] == "published" and (
            values["starts_at"] != row["starts_at"]
            or values["venue_name"] != row["venue_name"]
            or values["venue_address"] != row["venue_address"]
        ):
            await outbox.record(
                "activity_changed",
                await _registered_member_ids(activity_id),
                activity_id=activity_id,
            )
        if row["status"] == "published" and values["starts_at"] != row["starts_at"]:
            # Reminders follow the new time: the old ones are never sent.
            await outbox.supersede_reminders(activity_id=activity_id)
            await outbox.schedule_reminders(
                await _times(activity_id), await _confirmed_places(activity_id)
            )
    return await get_activity(actor, activity_id)


async def publish(actor: Actor, activity_id: int) -> ActivityOut:
    row = await _owned_row(actor, activity_id)
    if row["status"] != "draft":
        raise DomainError("invalid_status", "Only a draft can be published.")
    now = clock.now()
    if row["starts_at"] <= now:
        raise DomainError(
            "validation_error",
            "The start time has passed. Move it later before publishing.",
            field="starts_at",
        )
    async with write_transaction():
        published = (
            await Activity.update(
                {
                    Activity.status: "published",
                    Activity.published_at: now,
                }
            )
            .where((Activity.id == activity_id) & (Activity.status == "draft"))
            .returning(Activity.id)
            .run()
        )
        if not published:
            raise DomainError("invalid_status", "Only a draft can be published.")
    return await get_activity(actor, activity_id)


async def close(actor: Actor, activity_id: int) -> ActivityOut:
    await _owned_row(actor, activity_id)
    async with write_transaction():
        closed = (
            await Activity.update({Activity.status: "closed"})
            .where((Activity.id == activity_id) & (Activity.status == "published"))
            .returning(Activity.id)
            .run()
        )
        if not closed:
            raise DomainError("invalid_status", "Only a published activity can be closed.")
    return await get_activity(actor, activity_id)


def check_cancel_reason(reason: str) -> str:
    """The reason everyone registered will read: required, plain text, at most 500."""
    reason = plain_text(reason, field="reason")
    if not reason:
        raise DomainError("validation_error", "Say why the activity is cancelled.", field="reason")
    if len(reason) > 500:
        raise DomainError(
            "validation_error",
            "Keep the reason to %(limit)s characters or fewer.",
            field="reason",
            limit=500,
        )
    return reason


async def cancel(actor: Actor, activity_id: int, reason: str) -> ActivityOut:
    await _owned_row(actor, activity_id)
    reason = check_cancel_reason(reason)
    async with write_transaction():
        cancelled = (
            await Activity.update(
                {
                    Activity.status: "cancelled",
                    Activity.cancel_reason: reason,
                }
            )
            .where((Activity.id == activity_id) & Activity.status.is_in(["draft", "published"]))
            .returning(Activity.id)
            .run()
        )
        if not cancelled:
            raise DomainError("invalid_status", "This activity is already closed or cancelled.")
        await outbox.supersede_reminders(activity_id=activity_id)
        await outbox.record(
            "activity_cancelled",
            await _registered_member_ids(activity_id),
            activity_id=activity_id,
            reason=reason,
        )
    return await get_activity(actor, activity_id)


async def duplicate(actor: Actor, activity_id: int) -> ActivityOut:
    source = await get_activity(actor, activity_id)
    await _owned_row(actor, activity_id)

    copy = ActivityIn(
        kind=source.kind,
        title=source.title,
        starts_at=source.starts_at,
        ends_at=source.ends_at,
        capacity=source.capacity,
        description=source.description,
        venue=VenueIn(name=source.venue_name, address=source.venue_address),
        online_url=source.online_url,
        owner=source.owner_code,
        eligible_nodes=source.eligible_nodes,
        eligible_groups=source.eligible_groups,
        campaign=source.campaign,
    )
    return await _create(actor, copy, copy_of=activity_id)


async def set_capacity(actor: Actor, activity_id: int, capacity: int) -> ActivityOut:
    row = await _owned_row(actor, activity_id)
    if row["status"] in {"closed", "cancelled"}:
        raise DomainError(
            "activity_not_editable", "A closed or cancelled activity cannot be changed."
        )
    if not 1 <= capacity <= MAX_CAPACITY:
        raise DomainError(
            "validation_error",
            "The number of places must be between 1 and %(limit)s.",
            field="capacity",
            limit=MAX_CAPACITY,
        )
    kind = kinds.find(row["kind"])
    async with write_transaction():
        if kind is not None and kind.check is not None:
            # The kind refuses places it cannot hold, as it does on an edit.
            await kind.check(_stored_values(row, capacity=capacity), None, activity_id)
        await _apply_capacity(activity_id, capacity)
    return await get_activity(actor, activity_id)


def _stored_values(row: Mapping[str, Any], **changed: Any) -> dict[str, Any]:
    """An activity's stored values in the shape `_clean` gives a kind's check."""
    keys = (
        "kind",
        "title",
        "description",
        "venue_name",
        "venue_address",
        "online_url",
        "campaign",
        "starts_at",
        "ends_at",
        "capacity",
        "registration_opens_at",
        "registration_closes_at",
    )
    return {**{key: row.get(key) for key in keys}, **changed}


async def _apply_capacity(activity_id: int, capacity: int | None) -> None:
    """Inside a transaction: lower only down to the confirmed count, promote on a raise."""
    if capacity is None:
        await Activity.update({Activity.capacity: None}).where(Activity.id == activity_id).run()
        await _promote_waiting(activity_id)
        return
    changed = (
        await Activity.update({Activity.capacity: capacity})
        .where((Activity.id == activity_id) & (Activity.taken <= capacity))
        .returning(Activity.taken)
        .run()
    )
    if not changed:
        row = await Activity.select(Activity.taken).where(Activity.id == activity_id).first().run()
        raise DomainError(
            "capacity_below_confirmed",
            "%(confirmed)s people are already confirmed: the capacity cannot go below that.",
            field="capacity",
            confirmed=row["taken"] if row else 0,
        )
    await _promote_waiting(activity_id)


# --- signing up ---------------------------------------------------------------------------


async def _take_seat(activity_id: int, room_seen_earlier: bool | None = None) -> bool:
    """The one conditional write that guards capacity."""
    if room_seen_earlier is not None:
        # Control run only (SEAMS.conditional_seat_write off): trust a read made before the
        # transaction and write unconditionally, the classic oversell.
        if room_seen_earlier:
            await (
                Activity.update({Activity.taken: Activity.taken + 1})
                .where(Activity.id == activity_id)
                .run()
            )
        return room_seen_earlier
    return bool(await run_sql(SEAT_UPDATE, activity_id))


async def _next_queue_no(activity_id: int) -> int:
    rows = (
        await Activity.update({Activity.queue_counter: Activity.queue_counter + 1})
        .where(Activity.id == activity_id)
        .returning(Activity.queue_counter)
        .run()
    )
    return int(rows[0]["queue_counter"])


def _check_open(row: dict[str, Any], now: datetime) -> None:
    status = row["status"]
    if status == "draft":
        raise DomainError("activity_not_published", "This activity is not open yet.")
    if status == "cancelled":
        raise DomainError("activity_cancelled", "This activity has been cancelled.")
    if status == "closed":
        raise DomainError("registration_closed", "Registration for this activity has closed.")
    opens = row["registration_opens_at"] or row["published_at"]
    closes = row["registration_closes_at"] or row["starts_at"]
    if opens and now < opens:
        raise DomainError(
            "registration_not_open",
            "Registration opens at %(opens)s.",
            opens=opens.isoformat(timespec="minutes"),
        )
    if now >= closes:
        raise DomainError("registration_closed", "Registration for this activity has closed.")


# Everything a signup is decided on, in one statement: the activity, whether the member may
# join it (Eligibility.admits, in SQL: their node path starts with an eligible node's path,
# or with the owner's when none is named, and their group is listed when groups are), their
# registration if any, and the activity's own reminder schedule (one row per schedule row;
# at most one registration per member). It reads the orgs' and reminders' tables itself,
# where ARCHITECTURE.md has rooms ask each other's services: in a rush every statement
# costs more CPU than its query (QUALITY.md B1/B2), and the look-ups it replaces were most
# of a signup. Nothing is cached: a closed activity or a changed eligibility counts from
# the very next signup, and the seat itself is decided by the conditional UPDATE.
SIGNUP_READ = (
    "SELECT a.id, a.kind, a.status, a.starts_at, a.published_at, a.registration_opens_at, "
    "a.registration_closes_at, a.capacity, a.taken, "
    "CASE WHEN EXISTS (SELECT 1 FROM activity_eligible_node e WHERE e.activity = a.id) "
    "THEN EXISTS (SELECT 1 FROM activity_eligible_node e JOIN org_node n ON n.id = e.node "
    "WHERE e.activity = a.id AND substr(CAST({} AS TEXT), 1, length(n.path)) = n.path) "
    "ELSE substr(CAST({} AS TEXT), 1, length(o.path)) = o.path END AS in_reach, "
    "(NOT EXISTS (SELECT 1 FROM activity_eligible_group g WHERE g.activity = a.id) "
    "OR EXISTS (SELECT 1 FROM activity_eligible_group g WHERE g.activity = a.id "
    "AND g.worker_group = {})) AS in_group, "
    "r.id AS registration_id, r.status AS registration_status, "
    "r.queue_no AS registration_queue_no, r.created_at AS registration_created_at, "
    "s.kind AS schedule_kind, s.minutes_before AS schedule_minutes "
    "FROM activity a JOIN org_node o ON o.id = a.owner "
    "LEFT JOIN activity_registration r ON r.activity = a.id AND r.member = {} "
    "LEFT JOIN reminder_activity_schedule s ON s.activity_id = a.id "
    "WHERE a.id = {} ORDER BY s.id"
)


async def register(actor: Actor, activity_id: int) -> tuple[RegistrationOut, bool]:
    """Sign the member up: (registration, created). Signing up again returns the same one."""
    if actor.member_id is None:
        raise DomainError("not_signed_in", "Sign in to continue.")
    rows = await run_sql(
        SIGNUP_READ, actor.node_path, actor.node_path, actor.group, actor.member_id, activity_id
    )
    if not rows:
        raise NotFound("There is no such activity.")
    row = rows[0]
    existing = (
        None
        if row["registration_id"] is None
        else {
            "id": row["registration_id"],
            "activity": row["id"],
            "status": row["registration_status"],
            "queue_no": row["registration_queue_no"],
            "created_at": row["registration_created_at"],
        }
    )
    if existing is not None and existing["status"] != "cancelled":
        return await _registration_out(existing), False
    kind = kinds.find(row["kind"])
    if kind is None or not kind.signup:
        raise DomainError("signup_not_offered", "This activity takes no sign-ups.")
    _check_open(row, clock.now())
    if not (row["in_reach"] and row["in_group"]):
        raise DomainError(
            "not_eligible", "This activity is not open to your organisation or work group."
        )
    times = ActivityTimes(id=row["id"], kind=row["kind"], starts_at=row["starts_at"])
    if existing is None and SEAMS.conditional_seat_write:
        schedule = [
            {"kind": one["schedule_kind"], "minutes_before": one["schedule_minutes"]}
            for one in rows
            if one["schedule_kind"] is not None
        ]
        try:
            written = await _sign_up(times, actor.member_id, schedule)
        except Exception as error:
            # Two signups of one member racing: the unique index lets one in, and the
            # loser's write (its seat or waitlist number with it) is undone.
            if not is_unique_violation(error):
                raise
        else:
            return await _registration_out(written), True
        created = False
    else:
        # Signing up again after cancelling (the row exists and is updated), and the
        # control run of the race tests: the general path.
        room_seen_earlier = (
            None if SEAMS.conditional_seat_write else has_room(row["capacity"], row["taken"])
        )
        try:
            created = await _write_registration(times, actor.member_id, room_seen_earlier)
        except Exception as error:
            # Two signups of one member racing on PostgreSQL: the unique constraint lets one in.
            if not is_unique_violation(error):
                raise
            created = False
    fresh = await _registration_row(activity_id, actor.member_id)
    assert fresh is not None
    return await _registration_out(fresh), created


# The seat rule, written once: an activity has room while it has no capacity or fewer
# seats taken than it has. Every seat write quotes it: _take_seat and the SQLite signup
# run SEAT_UPDATE, the PostgreSQL signup statement embeds it; has_room() is its Python
# form for reading, tied to it by tests/service/test_seat_rule.py.
HAS_ROOM = "(capacity IS NULL OR taken < capacity)"
# The conditional write that guards capacity, the next waitlist number (as
# _next_queue_no) and the new registration, in raw SQL for the signup hot path.
SEAT_UPDATE = (
    "UPDATE activity SET taken = taken + 1 WHERE id = {} AND " + HAS_ROOM + " RETURNING id"  # noqa: S608
)
QUEUE_UPDATE = (
    "UPDATE activity SET queue_counter = queue_counter + 1 WHERE id = {} RETURNING queue_counter"
)
REGISTRATION_INSERT = (
    "INSERT INTO activity_registration (activity, member, status, queue_no, created_at, "
    "updated_at) VALUES ({}, {}, {}, {}, {}, {}) RETURNING id"
)


async def _sign_up(
    times: ActivityTimes, member_id: int, schedule: list[dict[str, Any]]
) -> dict[str, Any]:
    """A first signup: take a seat, else a waitlist number, and record the registration
    with its messages (the confirmation or waitlist notice, and a seat's reminders) in one
    atomic write. Returns the registration's row. A concurrent signup of the same member
    fails on the unique index, and its whole write is undone. `schedule` is the activity's
    own reminder schedule as read before the write (RULES_READ rows)."""
    now = clock.now()
    if is_postgres():
        return await _sign_up_postgres(times, member_id, schedule, now)
    activity_id = times.id
    confirmed = outbox.new_message("registration_confirmed")
    waitlisted = outbox.new_message("registration_waitlisted")

    def write(connection: sqlite3.Connection) -> dict[str, Any]:
        # On the writer's thread, inside BEGIN IMMEDIATE … COMMIT (db.write_in_thread).
        seat = bool(connection.execute(qmark(SEAT_UPDATE), (activity_id,)).fetchall())
        queue_no = None
        if not seat:
            (counter,) = connection.execute(qmark(QUEUE_UPDATE), (activity_id,)).fetchall()
            queue_no = int(counter["queue_counter"])
        status = "confirmed" if seat else "waitlisted"
        ((inserted,)) = connection.execute(
            qmark(REGISTRATION_INSERT), (activity_id, member_id, status, queue_no, now, now)
        ).fetchall()
        messages = [confirmed if seat else waitlisted]
        if seat:
            # Read here, inside the transaction: SQLite serialises writers, so the
            # schedule is exactly the one an organiser's change would have to wait for.
            rules = connection.execute(qmark(outbox.RULES_READ), (activity_id,)).fetchall()
            messages += outbox.reminders_due(times, outbox.rules_from(times.kind, rules))
        sql, params = outbox.messages_insert(
            messages,
            member_id=member_id,
            activity_id=activity_id,
            registration_id=int(inserted["id"]),
        )
        connection.execute(qmark(sql), params).fetchall()
        written = _new_registration(int(inserted["id"]), activity_id, status, queue_no, now)
        # What the answer shows (the waitlist position, the ticket's counter), read here
        # rather than by two more statements after the commit: on this thread they are
        # two index look-ups, where a statement of its own costs the event loop a hand-off
        # to a reader (QUALITY.md B2). Read as of this commit.
        if seat:
            found = connection.execute(qmark(tickets.REISSUE_READ), (written["id"],)).fetchall()
            written["reissue"] = int(found[0]["reissue"]) if found else 0
        else:
            (counted,) = connection.execute(
                qmark(WAITLIST_POSITION), (activity_id, queue_no)
            ).fetchall()
            written["position"] = int(counted["ahead"])
        return written

    db = engine()
    assert isinstance(db, TunedSQLiteEngine)
    return await db.write_in_thread(write)


def _new_registration(
    registration_id: int, activity_id: int, status: str, queue_no: int | None, now: datetime
) -> dict[str, Any]:
    return {
        "id": registration_id,
        "activity": activity_id,
        "status": status,
        "queue_no": queue_no,
        "created_at": now,
    }


# PostgreSQL: a whole signup in one statement. `seat` is the conditional write that guards
# capacity; `queue` takes the next waitlist number only when `seat` took nothing (its
# condition is evaluated once, after `seat` has run), so at most one of them changes the
# activity row. The registration is inserted with the status of whichever claimed, and
# the messages meant for that status with it. Params: activity (twice), member,
# created_at, updated_at, then each message's status, kind, payload, due_at, created_at.
SIGNUP_STATEMENT = (
    "WITH seat AS (UPDATE activity SET taken = taken + 1 "  # noqa: S608
    "WHERE id = {} AND " + HAS_ROOM + " RETURNING id), "
    "queue AS (UPDATE activity SET queue_counter = queue_counter + 1 "
    "WHERE id = {} AND NOT EXISTS (SELECT 1 FROM seat) RETURNING id, queue_counter), "
    "claimed AS (SELECT id, 'confirmed'::varchar AS status, NULL::integer AS queue_no "
    "FROM seat UNION ALL SELECT id, 'waitlisted'::varchar, queue_counter FROM queue), "
    "reg AS (INSERT INTO activity_registration (activity, member, status, queue_no, "
    "created_at, updated_at) SELECT claimed.id, {}::integer, claimed.status, "
    "claimed.queue_no, {}::timestamptz, {}::timestamptz FROM claimed "
    "RETURNING id, activity, member, status, queue_no), "
    "msg AS (" + outbox.OUTBOX_INSERT + "SELECT v.kind, reg.member, reg.activity, reg.id, "
    "v.payload, v.due_at, v.created_at, " + outbox.OUTBOX_ROW_TAIL + " FROM reg "
    "JOIN (VALUES {values}) AS v (status, kind, payload, due_at, created_at) "
    "ON v.status = reg.status) "
    "SELECT id, status, queue_no FROM reg"
)
SIGNUP_MESSAGE = "({}::varchar, {}::varchar, {}::text, {}::timestamptz, {}::timestamptz)"


async def _sign_up_postgres(
    times: ActivityTimes, member_id: int, schedule: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    """The activity's row lock is what every signup of a rush queues on. Here it is taken
    by SIGNUP_STATEMENT, which also writes the registration and its messages, run on its
    own: its own transaction, atomic like any statement, so the lock is held while it
    runs and released by its commit on the server, with no round trip to this process in
    between. Inside a caller's transaction it joins that instead."""
    activity_id = times.id
    by_status = [
        ("confirmed", outbox.new_message("registration_confirmed")),
        *(
            ("confirmed", reminder)
            for reminder in outbox.reminders_due(times, outbox.rules_from(times.kind, schedule))
        ),
        ("waitlisted", outbox.new_message("registration_waitlisted")),
    ]
    params: list[Any] = [activity_id, activity_id, member_id, now, now]
    for status, message in by_status:
        params += [status, message.kind, message.payload, message.due_at, message.created_at]
    # Only constants and placeholders are joined here; every value is a parameter.
    values = ", ".join([SIGNUP_MESSAGE] * len(by_status))
    rows = await run_sql(SIGNUP_STATEMENT.replace("{values}", values), *params)
    if not rows:
        raise NotFound("There is no such activity.")
    (row,) = rows
    queue_no = None if row["queue_no"] is None else int(row["queue_no"])
    return _new_registration(int(row["id"]), activity_id, row["status"], queue_no, now)


async def _write_registration(
    times: ActivityTimes, member_id: int, room_seen_earlier: bool | None = None
) -> bool:
    """Take a seat or a waitlist number and record the registration with its messages;
    False if a concurrent signup of the same member got there first."""
    activity_id = times.id
    now = clock.now()
    async with write_transaction():
        current = await _registration_row(activity_id, member_id)
        if current is not None and current["status"] != "cancelled":
            return False
        seat = await _take_seat(activity_id, room_seen_earlier)
        status = "confirmed" if seat else "waitlisted"
        queue_no = None if seat else await _next_queue_no(activity_id)
        if current is None:
            inserted = (
                await Registration.insert(
                    Registration(
                        activity=activity_id,
                        member=member_id,
                        status=status,
                        queue_no=queue_no,
                        created_at=now,
                        updated_at=now,
                    )
                )
                .returning(Registration.id)
                .run()
            )
            registration_id = inserted[0]["id"]
        else:
            registration_id = current["id"]
            await (
                Registration.update(
                    {
                        Registration.status: status,
                        Registration.queue_no: queue_no,
                        Registration.updated_at: now,
                    }
                )
                .where(Registration.id == registration_id)
                .run()
            )
        await outbox.record(
            "registration_confirmed" if seat else "registration_waitlisted",
            [member_id],
            activity_id=activity_id,
            registration_id=registration_id,
        )
        if seat:
            await outbox.schedule_reminders(times, [(registration_id, member_id)])
    return True


async def _registration_row(activity_id: int, member_id: int) -> dict[str, Any] | None:
    return (
        await Registration.select()
        .where((Registration.activity == activity_id) & (Registration.member == member_id))
        .first()
        .run()
    )


# Raw SQL: counted for every signup that is waitlisted (QUALITY.md B1/B2); a range of the
# activity_registration_waitlist index.
WAITLIST_POSITION = (
    "SELECT count(*) AS ahead FROM activity_registration WHERE activity = {} "
    "AND status = 'waitlisted' AND queue_no <= {}"
)


async def _waitlist_position(row: dict[str, Any]) -> int | None:
    if row["status"] != "waitlisted":
        return None
    if "position" in row:  # read by the signup's own transaction
        return int(row["position"])
    (counted,) = await run_sql(WAITLIST_POSITION, row["activity"], row["queue_no"])
    return int(counted["ahead"])


async def _registration_out(row: dict[str, Any], *, with_code: bool = True) -> RegistrationOut:
    """A registration; its ticket code only for its holder (`with_code`): an organiser who
    saw the code could walk in with it. `row` may carry its waitlist position and ticket
    counter already ("position", "reissue"), as the signup hot path reads them."""
    return RegistrationOut(
        id=row["id"],
        activity_id=row["activity"],
        status=row["status"],
        waitlist_position=await _waitlist_position(row),
        ticket_code=(
            await tickets.code_for(row["id"], row["activity"], row.get("reissue"))
            if row["status"] == "confirmed" and with_code
            else None
        ),
        created_at=row["created_at"],
    )


async def _owned_registration(actor: Actor, registration_id: int) -> tuple[dict[str, Any], bool]:
    """The registration and whether the actor acts as its organiser (not its owner)."""
    row = await Registration.select().where(Registration.id == registration_id).first().run()
    if row is None:
        raise NotFound("There is no such registration.")
    if row["member"] == actor.member_id:
        return row, False
    if actor.has("organiser", "admin"):
        activity = await _activity_row(row["activity"])
        if actor.reaches(activity["owner_path"]):
            return row, True
    raise NotFound("There is no such registration.")


async def my_registration(actor: Actor, activity_id: int) -> RegistrationOut | None:
    """The member's own registration for one activity, if any."""
    if actor.member_id is None:
        return None
    row = await _registration_row(activity_id, actor.member_id)
    return await _registration_out(row) if row else None


async def my_ticket(actor: Actor, registration_id: int) -> MyRegistrationOut:
    """The member's own registration with its activity: a ticket is shown to its holder
    only (an organiser seeing the code could walk in with it)."""
    row, as_organiser = await _owned_registration(actor, registration_id)
    if as_organiser:
        raise NotFound("There is no such registration.")
    activity = (await _rows_to_out([await _activity_row(row["activity"])]))[0]
    return MyRegistrationOut(registration=await _registration_out(row), activity=activity)


async def get_registration(actor: Actor, registration_id: int) -> RegistrationOut:
    row, as_organiser = await _owned_registration(actor, registration_id)
    return await _registration_out(row, with_code=not as_organiser)


async def cancel_registration(actor: Actor, registration_id: int) -> RegistrationOut:
    """The member (or an organiser of the activity) cancels; a freed seat goes to the first
    person waiting, in the same transaction."""
    row, _ = await _owned_registration(actor, registration_id)
    async with write_transaction():
        # Decide on the status the row has now, not the one read before: a waiting person
        # may have been promoted in between, and then their seat must be given back.
        await outbox.supersede_reminders(registration_id=registration_id)
        if await _cancel_if(registration_id, "confirmed"):
            await tickets.revoke(registration_id, row["activity"], "cancelled")
            await (
                Activity.update({Activity.taken: Activity.taken - 1})
                .where((Activity.id == row["activity"]) & (Activity.taken > 0))
                .run()
            )
            await _promote_waiting(row["activity"])
        else:
            await _cancel_if(registration_id, "waitlisted")
    fresh = await Registration.select().where(Registration.id == registration_id).first().run()
    return await _registration_out(fresh)


async def _cancel_if(registration_id: int, status: str) -> bool:
    """Cancel the registration only if it still has `status` (a conditional write)."""
    cancelled = (
        await Registration.update(
            {
                Registration.status: "cancelled",
                Registration.queue_no: None,
                Registration.updated_at: clock.now(),
            }
        )
        .where((Registration.id == registration_id) & (Registration.status == status))
        .returning(Registration.id)
        .run()
    )
    return bool(cancelled)


async def promote_by_hand(actor: Actor, registration_id: int) -> RegistrationOut:
    """An organiser moves one person off the waitlist, out of turn; when the activity is
    full, its capacity grows by one to make the place (said on the page)."""
    row, as_organiser = await _owned_registration(actor, registration_id)
    if not as_organiser:
        raise Forbidden()
    not_waiting = DomainError("invalid_status", "Only someone on the waitlist can be moved up.")
    if row["status"] != "waitlisted":
        raise not_waiting
    async with write_transaction():
        # Confirm first (conditionally): if they cancelled meanwhile, no seat is taken.
        if not await _confirm(row["id"], row["member"], row["activity"]):
            raise not_waiting
        if not await _take_seat(row["activity"]):
            await (
                Activity.update(
                    {
                        Activity.capacity: Activity.capacity + 1,
                        Activity.taken: Activity.taken + 1,
                    }
                )
                .where(Activity.id == row["activity"])
                .run()
            )
    fresh = await Registration.select().where(Registration.id == registration_id).first().run()
    return await _registration_out(fresh)


async def _confirm(registration_id: int, member_id: int, activity_id: int) -> bool:
    promoted = (
        await Registration.update(
            {
                Registration.status: "confirmed",
                Registration.queue_no: None,
                Registration.updated_at: clock.now(),
            }
        )
        .where((Registration.id == registration_id) & (Registration.status == "waitlisted"))
        .returning(Registration.id)
        .run()
    )
    if promoted:
        await outbox.record(
            "waitlist_promoted",
            [member_id],
            activity_id=activity_id,
            registration_id=registration_id,
        )
        await outbox.schedule_reminders(await _times(activity_id), [(registration_id, member_id)])
    return bool(promoted)


async def _promote_waiting(activity_id: int) -> int:
    """Inside a transaction: give free seats to the waitlist, first come first served."""
    promoted = 0
    while True:
        first = (
            await Registration.select(Registration.id, Registration.member)
            .where((Registration.activity == activity_id) & (Registration.status == "waitlisted"))
            .order_by(Registration.queue_no)
            .first()
            .run()
        )
        if first is None or not await _take_seat(activity_id):
            return promoted
        if await _confirm(first["id"], first["member"], activity_id):
            promoted += 1
        else:  # pragma: no cover - only under a concurrent promotion of the same person
            await (
                Activity.update({Activity.taken: Activity.taken - 1})
                .where(Activity.id == activity_id)
                .run()
            )


async def _confirmed_places(activity_id: int) -> list[tuple[int, int]]:
    """(registration id, member id) of the confirmed places."""
    rows = (
        await Registration.select(Registration.id, Registration.member)
        .where((Registration.activity == activity_id) & (Registration.status == "confirmed"))
        .run()
    )
    return [(row["id"], row["member"]) for row in rows]


async def _registered_member_ids(activity_id: int) -> list[int]:
    rows = (
        await Registration.select(Registration.member)
        .where((Registration.activity == activity_id) & (Registration.status != "cancelled"))
        .run()
    )
    return [row["member"] for row in rows]


# --- lists --------------------------------------------------------------------------------


async def roster(actor: Actor, activity_id: int) -> list[RosterEntry]:
    await _owned_row(actor, activity_id)
    rows = (
        await Registration.select(
            Registration.id,
            Registration.member,
            Registration.status,
            Registration.queue_no,
            Registration.created_at,
            Registration.member.name.as_alias("name"),
            Registration.member.phone.as_alias("phone"),
            Registration.member.worker_group.as_alias("group"),
            Registration.member.node.name.as_alias("node_name"),
        )
        .where(Registration.activity == activity_id)
        .order_by(Registration.id)
        .run()
    )
    waiting = sorted((row["queue_no"], row["id"]) for row in rows if row["status"] == "waitlisted")
    positions = {
        registration_id: index for index, (_, registration_id) in enumerate(waiting, start=1)
    }
    order = {"confirmed": 0, "waitlisted": 1, "cancelled": 2}
    rows.sort(key=lambda row: (order[row["status"]], positions.get(row["id"], 0), row["id"]))
    return [
        RosterEntry(
            id=row["id"],
            member_id=row["member"],
            name=row["name"],
            phone_masked=orgs.mask_phone(row["phone"]),
            node_name=row["node_name"],
            group=row["group"],
            status=row["status"],
            waitlist_position=positions.get(row["id"]),
            created_at=row["created_at"],
        )
        for row in rows
    ]


async def my_places(actor: Actor, activity_ids: Sequence[int]) -> dict[int, MyPlace]:
    """The member's standing places among these activities (for marking a list): one
    read, plus one indexed count per waitlisted place."""
    if actor.member_id is None or not activity_ids:
        return {}
    rows = (
        await Registration.select(Registration.activity, Registration.status, Registration.queue_no)
        .where(
            (Registration.member == actor.member_id)
            & Registration.activity.is_in(list(activity_ids))
            & Registration.status.is_in(["confirmed", "waitlisted"])
        )
        .run()
    )
    return {
        row["activity"]: MyPlace(
            status=row["status"], waitlist_position=await _waitlist_position(row)
        )
        for row in rows
    }


async def my_registrations(actor: Actor) -> list[MyRegistrationOut]:
    rows = (
        await Registration.select()
        .where(Registration.member == actor.member_id)
        .order_by(Registration.id, ascending=False)
        .limit(MAX_LIST)
        .run()
    )
    activities = {
        activity.id: activity
        for activity in await _rows_to_out(
            await Activity.select(*ACTIVITY_COLUMNS)
            .where(Activity.id.is_in([row["activity"] for row in rows] or [0]))
            .run()
        )
    }
    out = [
        MyRegistrationOut(
            registration=await _registration_out(row), activity=activities[row["activity"]]
        )
        for row in rows
    ]
    out.sort(key=lambda item: item.activity.starts_at)
    return out


async def reissue_ticket(actor: Actor, registration_id: int) -> RegistrationOut:
    """A new code for a confirmed registration (a lost phone, a shared screenshot): every
    code handed out before stops working at the door."""
    row, as_organiser = await _owned_registration(actor, registration_id)
    if row["status"] != "confirmed":
        raise DomainError("invalid_status", "Only a confirmed place has a ticket.")
    # A few new codes an hour cover a lost phone or a leaked screenshot; more is a loop
    # or abuse, and each one makes every door re-download the ticket's revocation.
    await ratelimit.hit(
        "ticket-reissue",
        str(registration_id),
        limit=REISSUES_PER_TICKET[0],
        window_seconds=REISSUES_PER_TICKET[1],
        unavailable=REISSUE_UNAVAILABLE_REFUSAL,
    )
    async with write_transaction():
        await tickets.revoke(registration_id, row["activity"], "reissued")
    return await _registration_out(row, with_code=not as_organiser)


# --- reminder schedule (an organiser replaces the kind's default for one activity) -------


async def reminder_schedule(actor: Actor, activity_id: int) -> dict[str, int | None] | None:
    """The activity's own schedule ({kind: minutes before, None = off}), or None when it
    follows its kind's default."""
    await _owned_row(actor, activity_id)
    return await outbox.activity_schedule(activity_id)


async def set_schedule(
    actor: Actor, activity_id: int, schedule: dict[str, int | None] | None
) -> None:
    """Replace the activity's reminder schedule (None: back to its kind's default) and
    recompute the reminders not yet sent for every confirmed place."""
    row = await _owned_row(actor, activity_id)
    if row["status"] == "cancelled":
        raise DomainError("activity_not_editable", "A cancelled activity sends no reminders.")
    clean = outbox.clean_schedule(schedule) if schedule is not None else None
    async with write_transaction():
        await outbox.replace_schedule(activity_id, clean)
        await outbox.supersede_reminders(activity_id=activity_id)
        await outbox.schedule_reminders(
            await _times(activity_id), await _confirmed_places(activity_id)
        )


# --- messages (called by service/reminders when rendering) --------------------------------


async def message_activity(activity_id: int) -> MessageActivity | None:
    """An activity as a message describes it (whatever its status). Raw SQL and only these
    columns: it is read once per message sent (tests/bench/test_reminder_b5.py)."""
    rows = await Activity.raw(
        "SELECT title, starts_at, venue_name, online_url, status FROM activity WHERE id = {}",
        activity_id,
    ).run()
    return MessageActivity(**rows[0]) if rows else None


async def _times(activity_id: int) -> ActivityTimes:
    row = (
        await Activity.select(Activity.id, Activity.kind, Activity.starts_at)
        .where(Activity.id == activity_id)
        .first()
        .run()
    )
    assert row is not None
    return ActivityTimes(id=row["id"], kind=row["kind"], starts_at=row["starts_at"])


# --- the door (called by service/checkin, which decides who may scan) ---------------------


async def door_activity(activity_id: int) -> DoorActivity:
    # Raw SQL and only the door's columns: read on every scan.
    rows = await Activity.raw(
        "SELECT a.id, a.kind, a.title, a.status, a.starts_at, a.ends_at, a.venue_name, "
        "a.capacity, a.taken, o.path AS owner_path FROM activity a "
        "JOIN org_node o ON o.id = a.owner "
        "WHERE a.id = {}",
        activity_id,
    ).run()
    if not rows:
        raise NotFound("There is no such activity.")
    return door_activity_of(rows[0])


async def activity_owner_path(activity_id: int) -> str | None:
    """The path of the node that owns an activity (None: no such activity); an activity
    is a scope people are assigned to (door staff)."""
    rows = await Activity.raw(
        "SELECT o.path FROM activity a JOIN org_node o ON o.id = a.owner WHERE a.id = {}",
        activity_id,
    ).run()
    return rows[0]["path"] if rows else None


access.register_scope_kind("activity", activity_owner_path)


def door_activity_of(row: dict[str, Any]) -> DoorActivity:
    """A DoorActivity from a row with these columns (the door's own one-statement read
    selects them too)."""
    return DoorActivity(
        id=row["id"],
        kind=row["kind"],
        title=row["title"],
        status=row["status"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        owner_path=row["owner_path"],
        venue_name=row["venue_name"],
        capacity=row["capacity"],
        confirmed=row["taken"],
    )


async def activities_by_id(ids: Sequence[int]) -> list[DoorActivity]:
    """Activities by id, with the few columns a kind's room reads of them (title, status,
    times, places taken); missing ids are left out."""
    if not ids:
        return []
    rows = (
        await Activity.select(*ACTIVITY_COLUMNS)
        .where(Activity.id.is_in(list(ids)))
        .order_by(Activity.starts_at)
        .run()
    )
    return [door_activity_of(row) for row in rows]


async def door_activities(
    ids: Sequence[int], subtree: str | None, *, ending_after: datetime
) -> list[DoorActivity]:
    """Published or closed activities with a door that end after a moment: those with the
    given ids, and those owned within a subtree path."""
    with_door = [kind.code for kind in kinds.all_kinds() if kind.door]
    match = Activity.id.is_in(list(ids) or [0])
    if subtree is not None:
        match |= Activity.owner.path.like(f"{subtree}%")
    rows = (
        await Activity.select(*ACTIVITY_COLUMNS)
        .where(
            match
            & Activity.kind.is_in(with_door or [""])
            & Activity.status.is_in(["published", "closed"])
            & (Activity.ends_at > ending_after)
        )
        .order_by(Activity.starts_at)
        .limit(MAX_LIST)
        .run()
    )
    return [door_activity_of(row) for row in rows]


DOOR_COLUMNS = (
    Registration.id,
    Registration.activity,
    Registration.member,
    Registration.status,
    Registration.updated_at,
    Registration.member.name.as_alias("name"),
    Registration.member.phone.as_alias("phone"),
)


def _door_registration(row: dict[str, Any]) -> DoorRegistration:
    return DoorRegistration(
        id=row["id"],
        activity_id=row["activity"],
        member_id=row["member"],
        status=row["status"],
        name=row["name"],
        phone_masked=orgs.mask_phone(row["phone"]),
        updated_at=row["updated_at"],
    )


async def door_registration(registration_id: int) -> DoorRegistration | None:
    # Raw SQL: this runs on every scan at the door, and building the joined select in
    # Piccolo costs more than the query (tests/bench/test_door.py).
    rows = await Registration.raw(
        "SELECT r.id, r.activity, r.member, r.status, r.updated_at, m.name, m.phone "
        "FROM activity_registration r JOIN org_member m ON m.id = r.member WHERE r.id = {}",
        registration_id,
    ).run()
    return _door_registration(rows[0]) if rows else None


async def door_registrations(
    activity_id: int, *, ids: Sequence[int] | None = None, changed_since: datetime | None = None
) -> list[DoorRegistration]:
    """An activity's registrations as a door needs them: all, some ids, or those changed
    since a moment (either condition matches when both are given)."""
    where = Registration.activity == activity_id
    if ids is not None or changed_since is not None:
        match = Registration.id.is_in(list(ids) or [0]) if ids is not None else None
        if changed_since is not None:
            recent = Registration.updated_at >= changed_since
            match = recent if match is None else (match | recent)
        where &= match
    rows = await Registration.select(*DOOR_COLUMNS).where(where).order_by(Registration.id).run()
    return [_door_registration(row) for row in rows]


async def door_search(activity_id: int, query: str, limit: int = 20) -> list[DoorRegistration]:
    """Registrations whose name contains the query, or whose phone ends with its digits."""
    query = plain_text(query, field="q", limit=50)
    if not query:
        return []
    # Only the last four digits: door staff may not confirm whose a full number is.
    match = orgs.member_match(
        query,
        phone=Registration.member.phone,
        name=Registration.member.name,
        phone_prefix=False,
    )
    if match is None:
        return []
    rows = (
        await Registration.select(*DOOR_COLUMNS)
        .where((Registration.activity == activity_id) & match)
        .order_by(Registration.id)
        .limit(limit)
        .run()
    )
    return [_door_registration(row) for row in rows]


async def door_member_status(activity_id: int, member_id: int) -> str | None:
    row = await _registration_row(activity_id, member_id)
    return row["status"] if row else None


async def admit_walk_in(activity_id: int, member_id: int, *, over_capacity: bool) -> int:
    """Confirm a member at the door; returns the registration id. A seat is taken when one
    is free; a full activity takes the walk-in only when `over_capacity` allows it."""
    now = clock.now()
    async with write_transaction():
        current = await _registration_row(activity_id, member_id)
        if current is not None and current["status"] == "confirmed":
            return int(current["id"])
        if not await _take_seat(activity_id):
            if not over_capacity:
                raise DomainError(
                    "activity_full",
                    "The activity is full. An organiser can allow walk-ins beyond the places.",
                )
            await (
                Activity.update({Activity.taken: Activity.taken + 1})
                .where(Activity.id == activity_id)
                .run()
            )
        if current is None:
            inserted = (
                await Registration.insert(
                    Registration(
                        activity=activity_id,
                        member=member_id,
                        status="confirmed",
                        created_at=now,
                        updated_at=now,
                    )
                )
                .returning(Registration.id)
                .run()
            )
            registration_id = int(inserted[0]["id"])
        else:
            registration_id = int(current["id"])
            await (
                Registration.update(
                    {
                        Registration.status: "confirmed",
                        Registration.queue_no: None,
                        Registration.updated_at: now,
                    }
                )
                .where(Registration.id == registration_id)
                .run()
            )
        await outbox.record(
            "registration_confirmed",
            [member_id],
            activity_id=activity_id,
            registration_id=registration_id,
        )
        await outbox.schedule_reminders(await _times(activity_id), [(registration_id, member_id)])
    return registration_id
