"""The livestream room's rules: channels and columns, the schedule rule and the episodes it
generates (activities of the livestream kind, created and published through the activity
core so its rules hold), viewers' subscriptions and their reminders, viewer figures.

Episodes are found by their rule occurrence (a unique index on channel + occurrence), so
generating again never duplicates one, and a moved, edited or skipped episode keeps its
occurrence and so its place."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from dateutil import rrule

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn, ActivityOut, VenueIn
from service.db import is_postgres, is_unique_violation, run_sql, write_transaction
from service.errors import DomainError, Forbidden, NotFound
from service.i18n import gettext
from service.livestreams import rota as rota_rule
from service.livestreams.schemas import (
    FIGURE_DEFINITIONS,
    ROLE_GROUPS,
    ROLE_LABELS,
    WEEKDAYS,
    BlockoutIn,
    BlockoutOut,
    ChannelIn,
    ChannelOut,
    ColumnIn,
    ColumnOut,
    CrewIn,
    CrewOut,
    DutyOut,
    EpisodeOut,
    FiguresIn,
    FiguresOut,
    GeneratedOut,
    NeedIn,
    PlannedOut,
    PreviewOut,
    RotaEpisodeOut,
    RuleIn,
    RuleOut,
    Segment,
    SubscriptionOut,
)
from service.livestreams.tables import (
    Blockout,
    Channel,
    ChannelColumn,
    CrewMember,
    Duty,
    Episode,
    EpisodeDepartment,
    ReminderKey,
    RoleNeed,
    Schedule,
    Subscription,
    ViewerFigures,
)
from service.orgs import services as orgs
from service.orgs.schemas import Actor
from service.reminders import services as outbox
from service.settings import get_settings
from service.text import plain_text

KIND = "livestream"
REMINDER_MESSAGE = "livestream_reminder"
REMINDER_BEFORE = timedelta(minutes=10)
WATCH_FROM = timedelta(minutes=15)  # the link is shown from this long before the start
# Viewers' reminders are recorded for the episodes of the coming week only (and the
# worker's hourly upkeep records them as episodes come into it): a subscription to a
# weekly channel is a handful of rows, not one per episode of the year ahead.
REMINDER_HORIZON = timedelta(days=8)
HORIZON = timedelta(days=365)
PREVIEW_COUNT = 20
MAX_MINUTES = 12 * 60
MAX_INTERVAL = 12
MAX_COLUMNS = 30
MAX_SEGMENTS = 30
MAX_SEGMENT_MINUTES = 600
SEGMENT_TEXT_MAX = 100
RUNDOWN_TEXT_MAX = MAX_SEGMENTS * (2 * SEGMENT_TEXT_MAX + 12)
MAX_FIGURE = 100_000_000
NAME_MAX = 100
COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
CLOCK_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
NTH_ALLOWED = (1, 2, 3, 4, -1)

# Set while the schedule creates an episode: the details hook stores its occurrence. Kept
# out of the public details so no form or API call can claim a rule's slot.
_occurrence: ContextVar[datetime | None] = ContextVar("livestream_occurrence", default=None)


def _require_organiser(actor: Actor) -> None:
    if not actor.has("organiser", "admin"):
        raise Forbidden()


def _url(raw: str, field: str) -> str:
    url = plain_text(raw, field=field, limit=500)
    if not url.startswith(("https://", "http://")):
        raise DomainError(
            "validation_error", "The stream link must start with https://.", field=field
        )
    return url


def _minutes(value: int, field: str = "minutes") -> int:
    if not 1 <= value <= MAX_MINUTES:
        raise DomainError(
            "validation_error",
            "The length must be between 1 and %(limit)s minutes.",
            field=field,
            limit=MAX_MINUTES,
        )
    return value


# --- channels -----------------------------------------------------------------------------


def _channel_out(row: dict[str, Any]) -> ChannelOut:
    return ChannelOut(
        id=row["id"],
        name=row["name"],
        node_code=row["node.code"],
        node_name=row["node.name"],
        stream_url=row["stream_url"],
        default_minutes=row["default_minutes"],
    )


CHANNEL_COLUMNS = (
    Channel.id,
    Channel.name,
    Channel.stream_url,
    Channel.default_minutes,
    Channel.node.code,
    Channel.node.name,
    Channel.node.path,
)


async def _channel_row(channel_id: int) -> dict[str, Any]:
    row = await Channel.select(*CHANNEL_COLUMNS).where(Channel.id == channel_id).first().run()
    if row is None:
        raise NotFound("There is no such channel.")
    return row


async def get_channel(channel_id: int) -> ChannelOut:
    """Any member may see a channel (its schedule is public, like its feed)."""
    return _channel_out(await _channel_row(channel_id))


async def _owned_channel(actor: Actor, channel_id: int) -> dict[str, Any]:
    _require_organiser(actor)
    row = await _channel_row(channel_id)
    if not actor.reaches(row["node.path"]):
        raise NotFound("There is no such channel.")
    return row


async def may_manage(actor: Actor, channel_id: int) -> bool:
    if not actor.has("organiser", "admin"):
        return False
    return actor.reaches((await _channel_row(channel_id))["node.path"])


async def managed_channel(actor: Actor, channel_id: int) -> ChannelOut:
    """The channel, for its organisers only."""
    return _channel_out(await _owned_channel(actor, channel_id))


async def list_channels() -> list[ChannelOut]:
    rows = await Channel.select(*CHANNEL_COLUMNS).order_by(Channel.id).limit(200).run()
    return [_channel_out(row) for row in rows]


async def _clean_channel(actor: Actor, data: ChannelIn) -> dict[str, Any]:
    name = plain_text(data.name, field="name", limit=NAME_MAX)
    if not name:
        raise DomainError("validation_error", "Give the channel a name.", field="name")
    node_id = actor.node_id
    if data.node:
        node = await orgs.node_by_code(data.node)
        if not actor.reaches(node.path):
            raise Forbidden("You can only create activities for your own organisations.")
        node_id = node.id
    if node_id is None:
        node_id = (await orgs.root_node()).id
    return {
        "name": name,
        "stream_url": _url(data.stream_url, "stream_url"),
        "default_minutes": _minutes(data.default_minutes, "default_minutes"),
        "node": node_id,
    }


async def create_channel(actor: Actor, data: ChannelIn) -> ChannelOut:
    _require_organiser(actor)
    values = await _clean_channel(actor, data)
    async with write_transaction():
        inserted = await Channel.insert(Channel(**values)).returning(Channel.id).run()
    return await get_channel(inserted[0]["id"])


async def update_channel(actor: Actor, channel_id: int, data: ChannelIn) -> ChannelOut:
    await _owned_channel(actor, channel_id)
    values = await _clean_channel(actor, data)
    async with write_transaction():
        await Channel.update(values).where(Channel.id == channel_id).run()
    return await get_channel(channel_id)


# --- columns ------------------------------------------------------------------------------


def _segment(title: Any, minutes: Any, who: Any) -> Segment:
    """One segment of a rundown (a column's template or an episode's own), checked one way
    for both: a title, 1 to MAX_SEGMENT_MINUTES minutes, an optional who."""
    if (
        not isinstance(title, str)
        or not isinstance(who, str)
        or isinstance(minutes, bool)
        or not isinstance(minutes, int)
    ):
        raise DomainError(
            "validation_error", "Write each segment as: title | minutes | who.", field="rundown"
        )
    clean_title = plain_text(title, field="rundown", limit=SEGMENT_TEXT_MAX)
    clean_who = plain_text(who, field="rundown", limit=SEGMENT_TEXT_MAX)
    if not clean_title:
        raise DomainError("validation_error", "Give each segment a title.", field="rundown")
    if "|" in clean_title or "|" in clean_who:
        # "|" separates a segment's parts in the rundown's text form.
        raise DomainError(
            "validation_error", "A segment's title and who cannot contain |.", field="rundown"
        )
    if not 1 <= minutes <= MAX_SEGMENT_MINUTES:
        raise DomainError(
            "validation_error",
            "A segment lasts 1 to %(limit)s minutes.",
            field="rundown",
            limit=MAX_SEGMENT_MINUTES,
        )
    return Segment(title=clean_title, minutes=minutes, who=clean_who)


def _too_many_segments(count: int) -> None:
    if count > MAX_SEGMENTS:
        raise DomainError(
            "validation_error",
            "A rundown has at most %(limit)s segments.",
            field="rundown",
            limit=MAX_SEGMENTS,
        )


def parse_rundown(raw: str) -> list[Segment]:
    """One segment a line, "title | minutes | who" (who may be left out)."""
    text = plain_text(raw, field="rundown", limit=RUNDOWN_TEXT_MAX, multiline=True)
    lines = [line for line in text.splitlines() if line.strip()]
    _too_many_segments(len(lines))
    segments: list[Segment] = []
    for line in lines:
        parts = [part.strip() for part in line.split("|")]
        if len(parts) < 2 or not parts[0] or not parts[1].isdigit() or len(parts[1]) > 4:
            raise DomainError(
                "validation_error",
                "Write each segment as: title | minutes | who.",
                field="rundown",
            )
        segments.append(_segment(parts[0], int(parts[1]), " ".join(parts[2:])))
    return segments


def clean_rundown(raw: Any) -> list[Segment]:
    """An episode's rundown as given: the form's text (one segment a line) or the API's
    list of {title, minutes, who}."""
    if isinstance(raw, str):
        return parse_rundown(raw)
    if not isinstance(raw, list):
        raise DomainError(
            "validation_error", "Give the rundown as a list of segments.", field="rundown"
        )
    _too_many_segments(len(raw))
    segments: list[Segment] = []
    for item in raw:
        if not isinstance(item, dict) or set(item) - {"title", "minutes", "who"}:
            raise DomainError(
                "validation_error",
                "Give each segment a title, minutes and who.",
                field="rundown",
            )
        segments.append(_segment(item.get("title"), item.get("minutes"), item.get("who", "")))
    return segments


def rundown_json(segments: Sequence[Segment]) -> str:
    return json.dumps([msgspec.structs.asdict(one) for one in segments], ensure_ascii=False)


def stored_rundown(stored: Any) -> list[Segment]:
    """An episode's stored rundown (JSON text on SQLite; text or a list on PostgreSQL)."""
    items = json.loads(stored) if isinstance(stored, str) else (stored or [])
    return [Segment(**item) for item in items]


def _rundown_text(segments: Sequence[Segment]) -> str:
    return "\n".join(f"{s.title} | {s.minutes} | {s.who}".rstrip(" |") for s in segments)


async def _template(column_id: int | None) -> list[Segment]:
    """A column's rundown template (none without a column)."""
    if column_id is None:
        return []
    row = (
        await ChannelColumn.select(ChannelColumn.rundown)
        .where(ChannelColumn.id == column_id)
        .first()
        .run()
    )
    return parse_rundown(row["rundown"]) if row else []


def _column_out(row: dict[str, Any]) -> ColumnOut:
    segments = parse_rundown(row["rundown"])
    return ColumnOut(
        id=row["id"],
        channel_id=row["channel"],
        name=row["name"],
        description=row["description"],
        department=row["department"],
        colour=row["colour"],
        rundown=segments,
        rundown_minutes=sum(s.minutes for s in segments),
    )


def _clean_column(data: ColumnIn) -> dict[str, Any]:
    name = plain_text(data.name, field="name", limit=60)
    if not name:
        raise DomainError("validation_error", "Give the column a name.", field="name")
    colour = data.colour.strip() or "#1f6feb"
    if not COLOUR.match(colour):
        raise DomainError("validation_error", "Give the colour as #RRGGBB.", field="colour")
    return {
        "name": name,
        "description": plain_text(
            data.description, field="description", limit=1000, multiline=True
        ),
        "department": plain_text(data.department, field="department", limit=60),
        "colour": colour.lower(),
        "rundown": _rundown_text(parse_rundown(data.rundown)),
    }


async def list_columns(channel_id: int) -> list[ColumnOut]:
    rows = (
        await ChannelColumn.select()
        .where(ChannelColumn.channel == channel_id)
        .order_by(ChannelColumn.position)
        .order_by(ChannelColumn.id)
        .run()
    )
    return [_column_out(row) for row in rows]


async def create_column(actor: Actor, channel_id: int, data: ColumnIn) -> ColumnOut:
    await _owned_channel(actor, channel_id)
    values = _clean_column(data)
    async with write_transaction():
        count = await ChannelColumn.count().where(ChannelColumn.channel == channel_id).run()
        if count >= MAX_COLUMNS:
            raise DomainError(
                "validation_error",
                "A channel has at most %(limit)s columns.",
                field="name",
                limit=MAX_COLUMNS,
            )
        inserted = (
            await ChannelColumn.insert(ChannelColumn(channel=channel_id, position=count, **values))
            .returning(ChannelColumn.id)
            .run()
        )
    return await get_column(channel_id, inserted[0]["id"])


async def get_column(channel_id: int, column_id: int) -> ColumnOut:
    row = (
        await ChannelColumn.select()
        .where((ChannelColumn.id == column_id) & (ChannelColumn.channel == channel_id))
        .first()
        .run()
    )
    if row is None:
        raise NotFound("There is no such column.")
    return _column_out(row)


async def update_column(actor: Actor, channel_id: int, column_id: int, data: ColumnIn) -> ColumnOut:
    await _owned_channel(actor, channel_id)
    await get_column(channel_id, column_id)
    values = _clean_column(data)
    async with write_transaction():
        await ChannelColumn.update(values).where(ChannelColumn.id == column_id).run()
    return await get_column(channel_id, column_id)


# --- the schedule rule --------------------------------------------------------------------

_RRULE_DAYS = dict(zip(WEEKDAYS, rrule.weekdays, strict=True))


@dataclass(frozen=True)
class Rule:
    weekdays: tuple[str, ...]
    start_date: date
    start_time: time
    interval: int
    nth: int | None
    end_date: date | None
    minutes: int
    zone: ZoneInfo

    def expander(self) -> rrule.rrule:
        """dateutil's rrule over naive local wall-clock times (the zone is applied to each
        occurrence, so 19:30 stays 19:30 across a daylight-saving change)."""
        days = [_RRULE_DAYS[day] for day in self.weekdays]
        until = datetime.combine(self.end_date, time(23, 59)) if self.end_date else None
        start = datetime.combine(self.start_date, self.start_time)
        if self.nth is not None:
            return rrule.rrule(
                rrule.MONTHLY,
                dtstart=start,
                interval=self.interval,
                byweekday=[day(self.nth) for day in days],
                until=until,
            )
        return rrule.rrule(
            rrule.WEEKLY, dtstart=start, interval=self.interval, byweekday=days, until=until
        )

    def rrule_text(self) -> str:
        """The rule as RFC 5545 RRULE text (without UNTIL, which the feed sets)."""
        if self.nth is not None:
            days = ",".join(f"{self.nth}{day}" for day in self.weekdays)
            return f"FREQ=MONTHLY;INTERVAL={self.interval};BYDAY={days}"
        return f"FREQ=WEEKLY;INTERVAL={self.interval};BYDAY={','.join(self.weekdays)}"

    def occurrences(
        self, after: datetime, before: datetime, limit: int | None = None
    ) -> list[datetime]:
        """The rule's starts (UTC) strictly after `after` and before `before`."""
        out: list[datetime] = []
        for naive in self.expander():
            moment = naive.replace(tzinfo=self.zone).astimezone(ZoneInfo("UTC"))
            if moment >= before:
                break
            if moment <= after:
                continue
            out.append(moment)
            if limit is not None and len(out) >= limit:
                break
        return out


def _zone(raw: str | None) -> ZoneInfo:
    if not raw:
        return get_settings().zone
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise DomainError(
            "validation_error", "Give a time zone such as Asia/Shanghai.", field="zone"
        ) from error


def clean_rule(data: RuleIn, default_minutes: int) -> Rule:
    weekdays = tuple(dict.fromkeys(day.strip().upper() for day in data.weekdays))
    if not weekdays:
        raise DomainError("validation_error", "Choose at least one weekday.", field="weekdays")
    if any(day not in WEEKDAYS for day in weekdays):
        raise DomainError("validation_error", "Choose weekdays from the list.", field="weekdays")
    weekdays = tuple(day for day in WEEKDAYS if day in weekdays)
    if not 1 <= data.interval <= MAX_INTERVAL:
        raise DomainError(
            "validation_error",
            "Repeat every 1 to %(limit)s weeks.",
            field="interval",
            limit=MAX_INTERVAL,
        )
    if data.nth is not None and data.nth not in NTH_ALLOWED:
        raise DomainError(
            "validation_error", "Choose the first to fourth, or the last, weekday.", field="nth"
        )
    found = CLOCK_TIME.match(data.start_time.strip())
    if not found:
        raise DomainError("validation_error", "Give the start time as HH:MM.", field="start_time")
    if data.end_date is not None and data.end_date < data.start_date:
        raise DomainError(
            "validation_error", "The end date must be on or after the start date.", field="end_date"
        )
    minutes = _minutes(data.minutes if data.minutes is not None else default_minutes)
    return Rule(
        weekdays=weekdays,
        start_date=data.start_date,
        start_time=time(int(found.group(1)), int(found.group(2))),
        interval=data.interval,
        nth=data.nth,
        end_date=data.end_date,
        minutes=minutes,
        zone=_zone(data.zone),
    )


def _rule_out(rule: Rule) -> RuleOut:
    return RuleOut(
        weekdays=list(rule.weekdays),
        start_date=rule.start_date,
        start_time=rule.start_time.strftime("%H:%M"),
        interval=rule.interval,
        nth=rule.nth,
        end_date=rule.end_date,
        minutes=rule.minutes,
        zone=rule.zone.key,
        rrule=rule.rrule_text(),
    )


def _check_no_overlap(rule: Rule) -> None:
    """Episodes of one channel never overlap: each must end before the next starts."""
    starts = rule.occurrences(clock.now(), clock.now() + HORIZON, limit=200)
    for first, second in pairwise(starts):
        if first + timedelta(minutes=rule.minutes) > second:
            raise DomainError(
                "validation_error",
                "Episodes would overlap: make them shorter or further apart.",
                field="minutes",
            )


async def preview(actor: Actor, channel_id: int, data: RuleIn) -> PreviewOut:
    """The next 20 starts of a rule, before it is saved."""
    row = await _owned_channel(actor, channel_id)
    rule = clean_rule(data, row["default_minutes"])
    _check_no_overlap(rule)
    after = max(clock.now(), datetime.combine(rule.start_date, time(0), tzinfo=rule.zone))
    dates = rule.occurrences(
        after - timedelta(seconds=1), clock.now() + timedelta(days=3660), PREVIEW_COUNT
    )
    return PreviewOut(rrule=rule.rrule_text(), dates=dates)


def _rule_from_row(row: dict[str, Any]) -> Rule:
    hours, minutes = (int(part) for part in row["start_time"].split(":"))
    return Rule(
        weekdays=tuple(row["weekdays"].split(",")),
        start_date=row["start_date"],
        start_time=time(hours, minutes),
        interval=row["interval"],
        nth=row["nth"],
        end_date=row["end_date"],
        minutes=row["minutes"],
        zone=ZoneInfo(row["zone"]),
    )


async def channel_rule(channel_id: int) -> Rule | None:
    row = await Schedule.select().where(Schedule.channel == channel_id).first().run()
    return _rule_from_row(row) if row else None


async def get_schedule(channel_id: int) -> RuleOut | None:
    await _channel_row(channel_id)
    rule = await channel_rule(channel_id)
    return _rule_out(rule) if rule else None


async def save_schedule(
    actor: Actor, channel_id: int, data: RuleIn
) -> tuple[RuleOut, GeneratedOut]:
    """Save the channel's rule and generate its episodes for the next 12 months."""
    row = await _owned_channel(actor, channel_id)
    rule = clean_rule(data, row["default_minutes"])
    _check_no_overlap(rule)
    values = {
        "weekdays": ",".join(rule.weekdays),
        "interval": rule.interval,
        "nth": rule.nth,
        "start_date": rule.start_date,
        "end_date": rule.end_date,
        "start_time": rule.start_time.strftime("%H:%M"),
        "minutes": rule.minutes,
        "zone": rule.zone.key,
        "updated_at": clock.now(),
    }
    async with write_transaction():
        updated = (
            await Schedule.update(values)
            .where(Schedule.channel == channel_id)
            .returning(Schedule.id)
            .run()
        )
        if not updated:
            await Schedule.insert(Schedule(channel=channel_id, **values)).run()
    return _rule_out(rule), await generate(actor, channel_id)


# --- episodes -----------------------------------------------------------------------------


def _key(moment: datetime) -> int:
    return int(moment.timestamp())


async def _episode_rows(channel_id: int) -> list[dict[str, Any]]:
    return (
        await Episode.select(
            Episode.id,
            Episode.activity,
            Episode.occurrence,
            Episode.skipped,
            Episode.moved,
            Episode.edited,
            Episode.column,
            Episode.topic,
            Episode.guests,
            Episode.rundown,
            Episode.rundown_edited,
            Episode.activity.starts_at.as_alias("starts_at"),
            Episode.activity.ends_at.as_alias("ends_at"),
            Episode.activity.status.as_alias("status"),
            Episode.activity.title.as_alias("title"),
        )
        .where(Episode.channel == channel_id)
        .order_by(Episode.activity.starts_at)
        .run()
    )


async def generate(actor: Actor, channel_id: int) -> GeneratedOut:
    """Episodes for the rule's occurrences of the next 12 months. An occurrence that has
    an episode (kept, edited, moved or skipped) is left alone; an untouched future episode
    the rule no longer holds is cancelled."""
    channel = await _owned_channel(actor, channel_id)
    rule = await channel_rule(channel_id)
    if rule is None:
        raise DomainError("validation_error", "Save a schedule first.", field="weekdays")
    now = clock.now()
    wanted = rule.occurrences(now, now + HORIZON)
    # Columns take turns by the occurrence's place in the whole rule, so regenerating
    # gives each date the same column.
    first = datetime.combine(rule.start_date, time(0), tzinfo=rule.zone)
    every = rule.occurrences(first - timedelta(seconds=1), now + HORIZON)
    ordinal = {_key(moment): index for index, moment in enumerate(every)}
    columns = await list_columns(channel_id)
    existing = {
        _key(row["occurrence"]): row for row in await _episode_rows(channel_id) if row["occurrence"]
    }
    created = kept = 0
    for moment in wanted:
        if _key(moment) in existing:
            kept += 1
            continue
        column = columns[ordinal[_key(moment)] % len(columns)] if columns else None
        if await _create_episode(actor, channel, rule, moment, column):
            created += 1
        else:
            kept += 1
    wanted_keys = {_key(moment) for moment in wanted}
    cancelled = 0
    for key, row in existing.items():
        if (
            key not in wanted_keys
            and not (row["edited"] or row["moved"] or row["skipped"])
            and row["status"] in ("draft", "published")
            and row["starts_at"] > now
        ):
            await activities.cancel(actor, row["activity"], "The schedule changed.")
            cancelled += 1
    return GeneratedOut(created=created, kept=kept, cancelled=cancelled)


async def _create_episode(
    actor: Actor, channel: dict[str, Any], rule: Rule, moment: datetime, column: ColumnOut | None
) -> bool:
    """Create and publish one episode; False when another request made it first."""
    title = f"{channel['name']}·{column.name}" if column else channel["name"]
    token = _occurrence.set(moment)
    try:
        created = await activities.create_activity(
            actor,
            ActivityIn(
                kind=KIND,
                title=title,
                starts_at=moment,
                ends_at=moment + timedelta(minutes=rule.minutes),
                venue=VenueIn(name=channel["name"]),
                owner=channel["node.code"],
                details={"channel_id": channel["id"], "column_id": column.id if column else None},
            ),
        )
    except Exception as error:
        if is_unique_violation(error):
            return False
        raise
    finally:
        _occurrence.reset(token)
    await activities.publish(actor, created.id)
    await schedule_viewer_reminders(created.id)
    return True


def _episode_out(
    row: dict[str, Any], columns: Mapping[int, ColumnOut], channel_id: int
) -> EpisodeOut:
    column = columns.get(row["column"]) if row["column"] else None
    # The episode's own copy: a later change to the column's template does not reach it.
    segments = stored_rundown(row["rundown"])
    total = sum(segment.minutes for segment in segments)
    slot = int((row["ends_at"] - row["starts_at"]).total_seconds() // 60)
    return EpisodeOut(
        activity_id=row["activity"],
        channel_id=channel_id,
        title=row["title"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        status=row["status"],
        occurrence=row["occurrence"],
        column_id=row["column"],
        column_name=column.name if column else "",
        topic=row["topic"],
        guests=row["guests"],
        skipped=row["skipped"],
        moved=row["moved"],
        edited=row["edited"],
        rundown=segments,
        rundown_minutes=total,
        rundown_too_long=total > slot,
        rundown_edited=row["rundown_edited"],
    )


async def episodes(
    channel_id: int, date_from: datetime | None = None, date_to: datetime | None = None
) -> list[EpisodeOut]:
    """The channel's episodes (skipped and cancelled ones too, marked), by start."""
    await _channel_row(channel_id)
    columns = {column.id: column for column in await list_columns(channel_id)}
    rows = await _episode_rows(channel_id)
    return [
        _episode_out(row, columns, channel_id)
        for row in rows
        if (date_from is None or row["ends_at"] >= date_from)
        and (date_to is None or row["starts_at"] <= date_to)
    ]


async def _owned_episode(actor: Actor, activity_id: int) -> dict[str, Any]:
    row = (
        await Episode.select(
            Episode.id, Episode.channel, Episode.skipped, Episode.activity.status.as_alias("status")
        )
        .where(Episode.activity == activity_id)
        .first()
        .run()
    )
    if row is None or row["channel"] is None:
        raise NotFound("There is no such episode.")
    await _owned_channel(actor, row["channel"])
    return row


async def skip(actor: Actor, activity_id: int, reason: str = "") -> EpisodeOut:
    """Skip an episode's date: it is cancelled (no reminder goes out) and kept as skipped,
    so regenerating never brings it back and the feed lists it as an EXDATE."""
    row = await _owned_episode(actor, activity_id)
    if row["skipped"]:
        return await episode(activity_id)
    await activities.cancel(actor, activity_id, reason.strip() or "No broadcast on this date.")
    async with write_transaction():
        await Episode.update({Episode.skipped: True}).where(Episode.activity == activity_id).run()
    return await episode(activity_id)


async def move(
    actor: Actor, activity_id: int, starts_at: datetime, minutes: int | None = None
) -> EpisodeOut:
    """Move one episode: the rule keeps its slot (RECURRENCE-ID), viewers are reminded at
    the new time and never at the old one."""
    row = await _owned_episode(actor, activity_id)
    if row["status"] != "published" or row["skipped"]:
        raise DomainError("invalid_status", "Only a scheduled episode can be moved.")
    current = await activities.get_activity(actor, activity_id)
    length = (
        _minutes(minutes)
        if minutes
        else int((current.ends_at - current.starts_at).total_seconds() // 60)
    )
    ends_at = starts_at + timedelta(minutes=length)
    await _check_slot_free(row["channel"], activity_id, starts_at, ends_at)
    await activities.update_activity(
        actor, activity_id, _same_activity(current, starts_at, ends_at)
    )
    async with write_transaction():
        await Episode.update({Episode.moved: True}).where(Episode.activity == activity_id).run()
    await schedule_viewer_reminders(activity_id)
    return await episode(activity_id)


def _same_activity(current: ActivityOut, starts_at: datetime, ends_at: datetime) -> ActivityIn:
    return ActivityIn(
        kind=current.kind,
        title=current.title,
        starts_at=starts_at,
        ends_at=ends_at,
        description=current.description,
        venue=VenueIn(name=current.venue_name, address=current.venue_address),
        online_url=current.online_url,
        owner=current.owner_code,
        eligible_nodes=current.eligible_nodes,
        eligible_groups=current.eligible_groups,
        campaign=current.campaign,
    )


async def _check_slot_free(
    channel_id: int, activity_id: int, starts_at: datetime, ends_at: datetime
) -> None:
    for other in await _episode_rows(channel_id):
        if other["activity"] == activity_id or other["status"] not in ("draft", "published"):
            continue
        if other["starts_at"] < ends_at and starts_at < other["ends_at"]:
            raise DomainError(
                "validation_error",
                "This time overlaps another episode of the channel.",
                field="starts_at",
            )


async def change_later(
    actor: Actor,
    activity_id: int,
    *,
    start_time: str | None,
    minutes: int | None,
    column_id: int | None,
) -> list[EpisodeOut]:
    """Change this episode and every later scheduled one of its channel: the local start
    time, the length, or the column."""
    row = await _owned_episode(actor, activity_id)
    channel_id = row["channel"]
    rule = await channel_rule(channel_id)
    zone = rule.zone if rule else get_settings().zone
    new_time = None
    if start_time:
        found = CLOCK_TIME.match(start_time.strip())
        if not found:
            raise DomainError(
                "validation_error", "Give the start time as HH:MM.", field="start_time"
            )
        new_time = time(int(found.group(1)), int(found.group(2)))
    if minutes is not None:
        _minutes(minutes)
    if column_id is not None:
        await get_column(channel_id, column_id)
    this = await activities.get_activity(actor, activity_id)
    later = [
        other
        for other in await _episode_rows(channel_id)
        if other["starts_at"] >= this.starts_at and other["status"] == "published"
    ]
    for other in later:
        if new_time is None and minutes is None:
            continue
        local = other["starts_at"].astimezone(zone)
        starts = (
            datetime.combine(local.date(), new_time, tzinfo=zone)
            if new_time
            else other["starts_at"]
        )
        length = minutes or int((other["ends_at"] - other["starts_at"]).total_seconds() // 60)
        if starts <= clock.now():
            continue
        await move(actor, other["activity"], starts, length)
    if column_id is not None and later:
        template = rundown_json(await _template(column_id))
        async with write_transaction():
            await (
                Episode.update({Episode.column: column_id, Episode.edited: True})
                .where(Episode.activity.is_in([other["activity"] for other in later]))
                .run()
            )
            # The new column's template, except where the organiser edited the rundown.
            await (
                Episode.update({Episode.rundown: template})
                .where(
                    Episode.activity.is_in([other["activity"] for other in later])
                    & (Episode.rundown_edited == False)  # noqa: E712
                )
                .run()
            )
    return await episodes(channel_id, this.starts_at)


async def episode(activity_id: int) -> EpisodeOut:
    row = await Episode.select(Episode.channel).where(Episode.activity == activity_id).first().run()
    if row is None or row["channel"] is None:
        raise NotFound("There is no such episode.")
    found = [one for one in await episodes(row["channel"]) if one.activity_id == activity_id]
    return found[0]


# --- the kind's details hooks (service/kinds.py DetailsHooks) ------------------------------


class EpisodeDetails:
    """An episode's channel, column, topic, guests and rundown, in livestream_episode."""

    def validate(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(raw) - {"channel_id", "column_id", "topic", "guests", "rundown"}
        if unknown:
            raise DomainError("validation_error", "Unknown field.", field="details")

        def number(name: str) -> int | None:
            value = raw.get(name)
            if value in (None, "", 0, "0"):
                return None
            try:
                return int(value)
            except (TypeError, ValueError) as error:
                raise DomainError(
                    "validation_error", "Choose from the list.", field=f"details.{name}"
                ) from error

        # A field left out keeps what is stored (a partial update, as for members): only
        # the fields given are in the result; write() fills the rest from the episode.
        given: dict[str, Any] = {}
        if "channel_id" in raw:
            given["channel"] = number("channel_id")
        if "column_id" in raw:
            given["column"] = number("column_id")
        if "topic" in raw:
            given["topic"] = plain_text(
                str(raw.get("topic") or ""), field="details.topic", limit=200
            )
        if "guests" in raw:
            given["guests"] = plain_text(
                str(raw.get("guests") or ""), field="details.guests", limit=300
            )
        # None (left out): the rundown stays as stored.
        given["rundown"] = None if raw.get("rundown") is None else _details_rundown(raw["rundown"])
        return given

    async def write(self, activity_id: int, given: dict[str, Any]) -> None:
        existing = (
            await Episode.select(
                Episode.id,
                Episode.channel,
                Episode.column,
                Episode.topic,
                Episode.guests,
                Episode.rundown,
                Episode.rundown_edited,
            )
            .where(Episode.activity == activity_id)
            .first()
            .run()
        )
        stored = {
            name: existing[name] if existing else default
            for name, default in (
                ("channel", None),
                ("column", None),
                ("topic", ""),
                ("guests", ""),
            )
        }
        values = {**stored, **given}
        if values["column"] is not None:
            column = (
                await ChannelColumn.select(ChannelColumn.channel)
                .where(ChannelColumn.id == values["column"])
                .first()
                .run()
            )
            if column is None or column["channel"] != values["channel"]:
                raise DomainError(
                    "validation_error",
                    "Choose a column of this channel.",
                    field="details.column_id",
                )
        if (
            values["channel"] is not None
            and not await Channel.exists().where(Channel.id == values["channel"]).run()
        ):
            raise DomainError("validation_error", "Choose a channel.", field="details.channel_id")
        rundown: list[Segment] | None = values.pop("rundown", None)
        if existing:
            # A rundown given as it is stored is no edit (the form always sends it); a new
            # column brings its template unless the organiser edited this rundown.
            if rundown is not None and rundown != stored_rundown(existing["rundown"]):
                values.update(rundown=rundown_json(rundown), rundown_edited=True)
            elif values["column"] != existing["column"] and not existing["rundown_edited"]:
                values["rundown"] = rundown_json(await _template(values["column"]))
            await (
                Episode.update({**values, Episode.edited: True})
                .where(Episode.activity == activity_id)
                .run()
            )
        elif values["channel"] is not None or values["topic"] or values["guests"] or rundown:
            if rundown:
                values.update(rundown=rundown_json(rundown), rundown_edited=True)
            else:
                values["rundown"] = rundown_json(await _template(values["column"]))
            await Episode.insert(
                Episode(activity=activity_id, occurrence=_occurrence.get(), **values)
            ).run()

    async def read(self, activity_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
        if not activity_ids:
            return {}
        rows = (
            await Episode.select(
                Episode.activity,
                Episode.channel,
                Episode.column,
                Episode.topic,
                Episode.guests,
                Episode.skipped,
                Episode.moved,
                Episode.rundown,
                Episode.rundown_edited,
                Episode.channel.name.as_alias("channel_name"),
                Episode.channel.stream_url.as_alias("stream_url"),
                Episode.column.name.as_alias("column_name"),
                Episode.column.colour.as_alias("colour"),
            )
            .where(Episode.activity.is_in(list(activity_ids)))
            .run()
        )
        return {
            row["activity"]: {
                "channel_id": row["channel"],
                "channel_name": row["channel_name"] or "",
                "stream_url": row["stream_url"] or "",
                "column_id": row["column"],
                "column_name": row["column_name"] or "",
                "colour": row["colour"] or "",
                "topic": row["topic"],
                "guests": row["guests"],
                "skipped": row["skipped"],
                "moved": row["moved"],
                "rundown": [msgspec.structs.asdict(one) for one in stored_rundown(row["rundown"])],
                "rundown_edited": row["rundown_edited"],
            }
            for row in rows
        }

    async def copy(self, source_id: int, target_id: int) -> None:
        """A copy is a one-off episode of the same channel: it holds no rule slot."""
        row = (
            await Episode.select(
                Episode.channel,
                Episode.column,
                Episode.topic,
                Episode.guests,
                Episode.rundown,
                Episode.rundown_edited,
            )
            .where(Episode.activity == source_id)
            .first()
            .run()
        )
        if row:
            await Episode.insert(Episode(activity=target_id, **row)).run()


def _details_rundown(raw: Any) -> list[Segment]:
    try:
        return clean_rundown(raw)
    except DomainError as error:
        error.field = "details.rundown"
        raise


# --- viewers: watch, subscriptions and their reminders -------------------------------------


def watch_open(starts_at: datetime, ends_at: datetime, now: datetime | None = None) -> bool:
    """The link is shown from 15 minutes before the start until the end."""
    moment = now or clock.now()
    return starts_at - WATCH_FROM <= moment <= ends_at


async def my_subscription(actor: Actor, channel_id: int) -> SubscriptionOut | None:
    if actor.member_id is None:
        return None
    rows = (
        await Subscription.select(Subscription.column_id)
        .where((Subscription.channel == channel_id) & (Subscription.member == actor.member_id))
        .run()
    )
    if not rows:
        return None
    columns = sorted(row["column_id"] for row in rows if row["column_id"])
    return SubscriptionOut(
        channel_id=channel_id, whole_channel=not columns, columns=columns, reminders_scheduled=0
    )


async def subscribe(
    actor: Actor, channel_id: int, columns: Sequence[int] | None
) -> SubscriptionOut:
    """Remind this member 10 minutes before each episode of the channel (or of these
    columns). Subscribing again replaces the choice."""
    if actor.member_id is None:
        raise Forbidden()
    await _channel_row(channel_id)
    chosen = sorted(set(columns or []))
    if len(chosen) > MAX_COLUMNS:
        raise DomainError("validation_error", "Choose from the list.", field="columns")
    known = {column.id for column in await list_columns(channel_id)}
    if any(column_id not in known for column_id in chosen):
        raise DomainError("validation_error", "Choose columns of this channel.", field="columns")
    token = secrets.token_urlsafe(24)
    await _replace_subscription(actor.member_id, channel_id, chosen, token)
    scheduled = 0
    now = clock.now()
    for found in await episodes(channel_id, now, now + REMINDER_HORIZON + REMINDER_BEFORE):
        if found.status == "published" and (not chosen or found.column_id in chosen):
            scheduled += await schedule_viewer_reminders(found.activity_id, [actor.member_id])
    return SubscriptionOut(
        channel_id=channel_id,
        whole_channel=not chosen,
        columns=chosen,
        reminders_scheduled=scheduled,
    )


async def _replace_subscription(
    member_id: int, channel_id: int, chosen: Sequence[int], token: str
) -> None:
    async with write_transaction():
        if is_postgres():
            # Two taps at once: the second waits for the first, then replaces its rows
            # (SQLite's IMMEDIATE transactions already take turns).
            await run_sql("SELECT pg_advisory_xact_lock({}, {})", channel_id, member_id)
        await (
            Subscription.delete()
            .where((Subscription.channel == channel_id) & (Subscription.member == member_id))
            .run()
        )
        await Subscription.insert(
            *[
                Subscription(channel=channel_id, member=member_id, column_id=column_id, token=token)
                for column_id in (chosen or [0])
            ]
        ).run()
        # A changed choice: reminders for episodes no longer chosen are not sent.
        await _drop_unwanted_reminders(member_id, channel_id, chosen)


async def _drop_unwanted_reminders(member_id: int, channel_id: int, chosen: Sequence[int]) -> None:
    rows = (
        await Episode.select(Episode.activity, Episode.column)
        .where(Episode.channel == channel_id)
        .run()
    )
    unwanted = [row["activity"] for row in rows if chosen and row["column"] not in chosen]
    if not chosen:
        return
    await outbox.supersede_member_messages(
        REMINDER_MESSAGE, member_id=member_id, activity_ids=unwanted
    )


async def unsubscribe(member_id: int, channel_id: int) -> bool:
    """No more reminders of this channel; those already recorded are not sent."""
    async with write_transaction():
        removed = (
            await Subscription.delete()
            .where((Subscription.channel == channel_id) & (Subscription.member == member_id))
            .returning(Subscription.id)
            .run()
        )
        activity_ids = [
            row["activity"]
            for row in await Episode.select(Episode.activity)
            .where(Episode.channel == channel_id)
            .run()
        ]
        await outbox.supersede_member_messages(
            REMINDER_MESSAGE, member_id=member_id, activity_ids=activity_ids
        )
    return bool(removed)


async def unsubscribe_by_token(token: str) -> ChannelOut | None:
    """The one-tap unsubscribe of a reminder's link (works without signing in)."""
    if not token or len(token) > 64:
        return None
    row = (
        await Subscription.select(Subscription.member, Subscription.channel)
        .where(Subscription.token == token)
        .first()
        .run()
    )
    if row is None:
        return None
    await unsubscribe(row["member"], row["channel"])
    return await get_channel(row["channel"])


async def schedule_viewer_reminders(
    activity_id: int, member_ids: Sequence[int] | None = None
) -> int:
    """Record the 10-minute reminder of one episode for its subscribers (or these of
    them), at most once per member and start time: the key table's unique index decides,
    so a repeat or a concurrent call records nothing twice. A reminder whose time has
    passed is not sent late; a skipped or cancelled episode gets none, and one beyond
    REMINDER_HORIZON none yet (upkeep_viewer_reminders records it when its week comes)."""
    row = (
        await Episode.select(
            Episode.channel,
            Episode.column,
            Episode.skipped,
            Episode.channel.stream_url.as_alias("stream_url"),
            Episode.activity.starts_at.as_alias("starts_at"),
            Episode.activity.status.as_alias("status"),
        )
        .where(Episode.activity == activity_id)
        .first()
        .run()
    )
    if row is None or row["channel"] is None or row["skipped"] or row["status"] != "published":
        return 0
    due = row["starts_at"] - REMINDER_BEFORE
    now = clock.now()
    if due <= now or due > now + REMINDER_HORIZON:
        return 0
    where = (Subscription.channel == row["channel"]) & (
        (Subscription.column_id == 0) | (Subscription.column_id == (row["column"] or -1))
    )
    if member_ids is not None:
        where &= Subscription.member.is_in(list(member_ids) or [-1])
    subscribers = {
        found["member"]: found["token"]
        for found in await Subscription.select(Subscription.member, Subscription.token)
        .where(where)
        .run()
    }
    # Those already reminded of this start (the hourly upkeep passes every episode of the
    # week again): skipped without a write; the unique index still settles a race.
    keyed = await ReminderKey.select(ReminderKey.member_id).where(
        (ReminderKey.activity_id == activity_id) & (ReminderKey.starts_at == row["starts_at"])
    )
    for found in keyed:
        subscribers.pop(found["member_id"], None)
    recorded = 0
    for member_id, token in subscribers.items():
        try:
            async with write_transaction():
                await ReminderKey.insert(
                    ReminderKey(
                        activity_id=activity_id, member_id=member_id, starts_at=row["starts_at"]
                    )
                ).run()
                recorded += await outbox.record(
                    REMINDER_MESSAGE,
                    [member_id],
                    activity_id=activity_id,
                    due_at=due,
                    link=row["stream_url"],
                    unsubscribe=f"/livestreams/unsubscribe/{token}",
                )
        except Exception as error:
            if not is_unique_violation(error):
                raise
    return recorded


async def upkeep_viewer_reminders() -> int:
    """Record viewers' reminders for the published episodes whose reminder falls within
    REMINDER_HORIZON from now (the worker runs it hourly); returns how many were recorded."""
    now = clock.now()
    rows = await Episode.select(Episode.activity).where(
        (Episode.skipped == False)  # noqa: E712
        & (Episode.activity.status == "published")
        & (Episode.activity.starts_at > now + REMINDER_BEFORE)
        & (Episode.activity.starts_at <= now + REMINDER_HORIZON + REMINDER_BEFORE)
    )
    recorded = 0
    for row in rows:
        recorded += await schedule_viewer_reminders(row["activity"])
    return recorded


# --- viewer figures -----------------------------------------------------------------------


def clean_figures(data: FiguresIn) -> dict[str, Any]:
    """Figures that cannot all be true are refused: negatives, a peak above the unique
    viewers, unique viewers above the views, watching with no viewers."""
    values = (data.peak_concurrent, data.unique_viewers, data.total_views)
    if any(value < 0 or value > MAX_FIGURE for value in values) or not (
        0 <= data.average_watch_minutes <= MAX_MINUTES * 10
    ):
        raise DomainError("impossible_figures", "Figures cannot be negative or that large.")
    if data.peak_concurrent > data.unique_viewers:
        raise DomainError(
            "impossible_figures", "The peak cannot be above the number of unique viewers."
        )
    if data.unique_viewers > data.total_views:
        raise DomainError("impossible_figures", "Unique viewers cannot be more than total views.")
    if data.unique_viewers == 0 and data.average_watch_minutes > 0:
        raise DomainError("impossible_figures", "Watch minutes need at least one viewer.")
    return {
        "peak_concurrent": data.peak_concurrent,
        "unique_viewers": data.unique_viewers,
        "total_views": data.total_views,
        "average_watch_minutes": round(float(data.average_watch_minutes), 1),
        "source": plain_text(data.source, field="source", limit=100),
    }


def _figures_out(row: dict[str, Any]) -> FiguresOut:
    return FiguresOut(
        activity_id=row["activity"],
        peak_concurrent=row["peak_concurrent"],
        unique_viewers=row["unique_viewers"],
        total_views=row["total_views"],
        average_watch_minutes=row["average_watch_minutes"],
        source=row["source"],
        recorded_at=row["recorded_at"],
        definitions={name: text for name, (_, text) in FIGURE_DEFINITIONS.items()},
    )


async def record_figures(actor: Actor, activity_id: int, data: FiguresIn) -> FiguresOut:
    """An organiser records what the platform reported, after the episode started."""
    _require_organiser(actor)
    activity = await activities.get_activity(actor, activity_id)
    if activity.kind != KIND or not actor.reaches(await _owner_path(activity.owner_code)):
        raise NotFound("There is no such episode.")
    values = clean_figures(data)
    if activity.starts_at > clock.now():
        raise DomainError("validation_error", "Record figures after the episode has started.")
    async with write_transaction():
        updated = (
            await ViewerFigures.update(
                {**values, "recorded_by": actor.member_id, "recorded_at": clock.now()}
            )
            .where(ViewerFigures.activity == activity_id)
            .returning(ViewerFigures.id)
            .run()
        )
        if not updated:
            await ViewerFigures.insert(
                ViewerFigures(activity=activity_id, recorded_by=actor.member_id, **values)
            ).run()
    return (await figures_for([activity_id]))[activity_id]


async def _owner_path(node_code: str) -> str:
    return (await orgs.node_by_code(node_code)).path


async def figures_for(activity_ids: Sequence[int]) -> dict[int, FiguresOut]:
    if not activity_ids:
        return {}
    rows = (
        await ViewerFigures.select().where(ViewerFigures.activity.is_in(list(activity_ids))).run()
    )
    return {row["activity"]: _figures_out(row) for row in rows}


async def reminded_members(activity_ids: Sequence[int]) -> set[int]:
    """The distinct subscribers whose reminder of any of these episodes was sent (a
    recorded reminder that was superseded, by a move or a skip, reminded nobody)."""
    sent = await outbox.members_sent(REMINDER_MESSAGE, activity_ids)
    return set().union(*sent.values())


async def reminded_count(activity_id: int) -> int:
    return len(await reminded_members([activity_id]))


@dataclass(frozen=True)
class SummaryRow:
    """One column's episodes with figures in one month. Views add up; viewers do not (the
    same people watch several episodes), so unique viewers and the peak are the highest of
    one episode, and the average watch minutes is the mean per view over all the views."""

    column: str
    month: str
    episodes: int  # episodes with figures
    total_views: int
    highest_unique_viewers: int
    highest_peak_concurrent: int
    average_watch_minutes: float | None  # None: no views to average over
    subscribers_reminded: int


def summarise(
    column: str, month: str, figures: Sequence[Mapping[str, Any]], reminded: int
) -> SummaryRow:
    """The summary of a group of episodes' figures (each a mapping of FIGURE_LABELS)."""
    views = sum(row["total_views"] for row in figures)
    minutes = sum(row["average_watch_minutes"] * row["total_views"] for row in figures)
    return SummaryRow(
        column=column,
        month=month,
        episodes=len(figures),
        total_views=views,
        highest_unique_viewers=max((row["unique_viewers"] for row in figures), default=0),
        highest_peak_concurrent=max((row["peak_concurrent"] for row in figures), default=0),
        average_watch_minutes=round(minutes / views, 1) if views else None,
        subscribers_reminded=reminded,
    )


async def summary(node_path: str, start: datetime, end: datetime) -> list[SummaryRow]:
    """Per column and month, the episodes with figures (see SummaryRow: figures are never
    added into one another) and the distinct subscribers reminded of them."""
    rows = (
        await ViewerFigures.select(
            ViewerFigures.peak_concurrent,
            ViewerFigures.unique_viewers,
            ViewerFigures.total_views,
            ViewerFigures.average_watch_minutes,
            ViewerFigures.activity.starts_at.as_alias("starts_at"),
            ViewerFigures.activity.id.as_alias("activity_id"),
        )
        .where(
            (ViewerFigures.activity.starts_at >= start)
            & (ViewerFigures.activity.starts_at <= end)
            & ViewerFigures.activity.owner.path.like(f"{node_path}%")
        )
        .run()
    )
    details = await EpisodeDetails().read([row["activity_id"] for row in rows])
    sent = await outbox.members_sent(REMINDER_MESSAGE, [row["activity_id"] for row in rows])
    zone = get_settings().zone
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        column = details.get(row["activity_id"], {}).get("column_name", "")
        month = row["starts_at"].astimezone(zone).strftime("%Y-%m")
        groups.setdefault((column, month), []).append(row)
    return [
        summarise(
            column,
            month,
            found,
            len(set().union(*(sent.get(row["activity_id"], set()) for row in found))),
        )
        for (column, month), found in sorted(
            groups.items(), key=lambda item: (item[0][1], item[0][0])
        )
    ]


# --- crew, blockouts and the rota ----------------------------------------------------------
#
# The choice of who and which department is the pure rule in rota.py; here are the rows it
# reads and writes. Re-planning keeps the past (episodes already started) and accepted
# duties, remembers declines, and rewrites only the planned duties that changed, so a
# person keeps a duty (and its reminder) the new plan gives them again.

DUTY_MESSAGE = "livestream_duty"
DUTY_REMINDER_BEFORE = timedelta(days=1)
MAX_CREW = 60
MAX_NEEDED = 10
MAX_BLOCKOUTS = 50
MAX_BLOCKOUT_DAYS = 366
LIVE_STATUSES = ("published", "closed")


async def _crew_rows(channel_id: int) -> list[dict[str, Any]]:
    return (
        await CrewMember.select(
            CrewMember.id,
            CrewMember.member,
            CrewMember.role,
            CrewMember.department,
            CrewMember.member.name.as_alias("name"),
            CrewMember.member.phone.as_alias("phone"),
        )
        .where(CrewMember.channel == channel_id)
        .order_by(CrewMember.id)
        .run()
    )


def _crew_out(row: dict[str, Any]) -> CrewOut:
    return CrewOut(
        id=row["id"],
        member_id=row["member"],
        name=row["name"],
        phone_masked=orgs.mask_phone(row["phone"]),
        role=row["role"],
        group=ROLE_GROUPS[row["role"]],
        department=row["department"],
    )


async def list_crew(channel_id: int) -> list[CrewOut]:
    await _channel_row(channel_id)
    # Someone taken off the crew with past duties stays on record, off the list.
    return [_crew_out(row) for row in await _crew_rows(channel_id) if row["role"] in ROLE_GROUPS]


def _role(raw: str) -> str:
    role = raw.strip().lower()
    if role not in ROLE_GROUPS:
        raise DomainError("validation_error", "Choose a role from the list.", field="role")
    return role


async def add_crew(actor: Actor, channel_id: int, data: CrewIn) -> CrewOut:
    """Put a member of the channel's organisation on its crew (once per channel)."""
    channel = await _owned_channel(actor, channel_id)
    role = _role(data.role)
    department = plain_text(data.department, field="department", limit=60)
    member = await orgs.get_member(actor, data.member_id)
    if not (await _owner_path(member.node_code)).startswith(channel["node.path"]):
        raise DomainError(
            "validation_error",
            "Only members of the channel's organisation can be on its crew.",
            field="member_id",
        )
    duplicate = DomainError(
        "validation_error", "This member is already on the crew.", field="member_id"
    )
    try:
        async with write_transaction():
            count = await CrewMember.count().where(CrewMember.channel == channel_id).run()
            if count >= MAX_CREW:
                raise DomainError(
                    "validation_error",
                    "A crew has at most %(limit)s people.",
                    field="member_id",
                    limit=MAX_CREW,
                )
            inserted = (
                await CrewMember.insert(
                    CrewMember(
                        channel=channel_id, member=member.id, role=role, department=department
                    )
                )
                .returning(CrewMember.id)
                .run()
            )
    except DomainError:
        raise
    except Exception as error:
        if is_unique_violation(error):
            raise duplicate from error
        raise
    found = [row for row in await _crew_rows(channel_id) if row["id"] == inserted[0]["id"]]
    return _crew_out(found[0])


async def _owned_crew(actor: Actor, crew_id: int) -> dict[str, Any]:
    """A crew row, for the organisers of its channel."""
    row = (
        await CrewMember.select(CrewMember.id, CrewMember.channel, CrewMember.member)
        .where(CrewMember.id == crew_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFound("There is no such crew member.")
    await _owned_channel(actor, row["channel"])
    return row


async def remove_crew(actor: Actor, crew_id: int) -> None:
    """Off the crew; their duties of episodes not yet started go with them (re-plan)."""
    row = await _owned_crew(actor, crew_id)
    async with write_transaction():
        future = await _future_activity_ids(row["channel"])
        await Duty.delete().where((Duty.crew == crew_id) & Duty.activity.is_in(future or [0])).run()
        await outbox.supersede_member_messages(
            DUTY_MESSAGE, member_id=row["member"], activity_ids=future
        )
        if await Duty.count().where(Duty.crew == crew_id).run() == 0:
            await CrewMember.delete().where(CrewMember.id == crew_id).run()
        else:  # past duties stay on record under their name: only leave the rota
            await (
                CrewMember.update({CrewMember.role: "former"}).where(CrewMember.id == crew_id).run()
            )


async def role_needs(channel_id: int) -> dict[str, int]:
    """People needed per role for each episode, host first (one host unless set)."""
    rows = await RoleNeed.select().where(RoleNeed.channel == channel_id).run()
    needs = {"host": 1} | {row["role"]: row["needed"] for row in rows}
    return {role: needs[role] for role in ROLE_LABELS if needs.get(role)}


async def set_need(actor: Actor, channel_id: int, data: NeedIn) -> dict[str, int]:
    await _owned_channel(actor, channel_id)
    role = _role(data.role)
    if not 0 <= data.needed <= MAX_NEEDED:
        raise DomainError(
            "validation_error",
            "Between 0 and %(limit)s people a role.",
            field="needed",
            limit=MAX_NEEDED,
        )
    async with write_transaction():
        await (
            RoleNeed.delete()
            .where((RoleNeed.channel == channel_id) & (RoleNeed.role == role))
            .run()
        )
        await RoleNeed.insert(RoleNeed(channel=channel_id, role=role, needed=data.needed)).run()
    return await role_needs(channel_id)


def blocked_on(blockouts: Sequence[dict[str, Any]], day: date) -> bool:
    """Whether any of these blockouts covers the day: one date, a range, or weekly on the
    first date's weekday until the end (no end: for good)."""
    for row in blockouts:
        start, end = row["starts_on"], row["ends_on"]
        if day < start:
            continue
        if row["weekly"]:
            if (end is None or day <= end) and day.weekday() == start.weekday():
                return True
        elif day <= (end or start):
            return True
    return False


async def _may_edit_blockouts(actor: Actor, crew_id: int) -> dict[str, Any]:
    """The crew member themself, or the channel's organisers."""
    row = (
        await CrewMember.select(CrewMember.id, CrewMember.channel, CrewMember.member)
        .where(CrewMember.id == crew_id)
        .first()
        .run()
    )
    if row is None:
        raise NotFound("There is no such crew member.")
    if actor.member_id != row["member"]:
        await _owned_channel(actor, row["channel"])
    return row


def _blockout_out(row: dict[str, Any]) -> BlockoutOut:
    return BlockoutOut(
        id=row["id"],
        crew_id=row["crew"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        weekly=row["weekly"],
        reason=row["reason"],
    )


async def add_blockout(actor: Actor, crew_id: int, data: BlockoutIn) -> BlockoutOut:
    """A date, a range or a weekly day the crew member cannot work. Re-plan afterwards to
    move their planned duties (accepted ones stay: they said yes)."""
    await _may_edit_blockouts(actor, crew_id)
    ends_on = data.ends_on if data.ends_on is not None or data.weekly else data.starts_on
    if ends_on is not None and ends_on < data.starts_on:
        raise DomainError(
            "validation_error", "The end date must be on or after the start date.", field="ends_on"
        )
    if (
        not data.weekly
        and ends_on is not None
        and (ends_on - data.starts_on).days > MAX_BLOCKOUT_DAYS
    ):
        raise DomainError("validation_error", "A blockout is at most a year long.", field="ends_on")
    reason = plain_text(data.reason, field="reason", limit=200)
    async with write_transaction():
        if await Blockout.count().where(Blockout.crew == crew_id).run() >= MAX_BLOCKOUTS:
            raise DomainError(
                "validation_error",
                "At most %(limit)s blockouts a person.",
                field="starts_on",
                limit=MAX_BLOCKOUTS,
            )
        inserted = (
            await Blockout.insert(
                Blockout(
                    crew=crew_id,
                    starts_on=data.starts_on,
                    ends_on=ends_on,
                    weekly=data.weekly,
                    reason=reason,
                )
            )
            .returning(Blockout.id)
            .run()
        )
    row = await Blockout.select().where(Blockout.id == inserted[0]["id"]).first().run()
    assert row is not None
    return _blockout_out(row)


async def remove_blockout(actor: Actor, blockout_id: int) -> None:
    row = await Blockout.select().where(Blockout.id == blockout_id).first().run()
    if row is None:
        raise NotFound("There is no such blockout.")
    await _may_edit_blockouts(actor, row["crew"])
    async with write_transaction():
        await Blockout.delete().where(Blockout.id == blockout_id).run()


async def list_blockouts(channel_id: int) -> list[BlockoutOut]:
    rows = (
        await Blockout.select()
        .where(Blockout.crew.channel == channel_id)
        .order_by(Blockout.starts_on)
        .run()
    )
    return [_blockout_out(row) for row in rows]


async def _channel_zone(channel_id: int) -> ZoneInfo:
    rule = await channel_rule(channel_id)
    return rule.zone if rule is not None else get_settings().zone


async def _live_episode_rows(channel_id: int) -> list[dict[str, Any]]:
    """The episodes the crew work: published or over, not skipped, by start."""
    return [
        row
        for row in await _episode_rows(channel_id)
        if row["status"] in LIVE_STATUSES and not row["skipped"]
    ]


async def _future_activity_ids(channel_id: int) -> list[int]:
    now = clock.now()
    return [row["activity"] for row in await _episode_rows(channel_id) if row["starts_at"] > now]


async def plan_rota(actor: Actor, channel_id: int) -> PlannedOut:
    """Plan (or re-plan) the crew of every live episode not yet started."""
    await _owned_channel(actor, channel_id)
    async with write_transaction():
        return await _replan(channel_id)


async def _replan(channel_id: int) -> PlannedOut:
    """Inside the caller's transaction. A role that cannot be filled raises before any
    write, so the transaction leaves everything as it was."""
    if is_postgres():
        await run_sql("SELECT pg_advisory_xact_lock({}, {})", 7301, channel_id)
    now = clock.now()
    zone = await _channel_zone(channel_id)
    episodes_rows = await _live_episode_rows(channel_id)
    activity_ids = [row["activity"] for row in episodes_rows]
    started = {row["activity"] for row in episodes_rows if row["starts_at"] <= now}
    crew_rows = [row for row in await _crew_rows(channel_id) if row["role"] in ROLE_GROUPS]
    blockouts: dict[int, list[dict[str, Any]]] = {}
    for row in await Blockout.select().where(Blockout.crew.channel == channel_id).run():
        blockouts.setdefault(row["crew"], []).append(row)
    duties = (
        await Duty.select(Duty.id, Duty.activity, Duty.crew, Duty.role, Duty.reason, Duty.status)
        .where(Duty.activity.is_in(activity_ids or [0]))
        .order_by(Duty.id)
        .run()
    )
    kept = [
        rota_rule.Duty(row["activity"], row["crew"], row["role"], row["reason"])
        for row in duties
        if row["status"] != "declined"
        and (row["activity"] in started or row["status"] == "accepted")
    ]
    declined = frozenset(
        (row["activity"], row["crew"]) for row in duties if row["status"] == "declined"
    )
    departments = {
        row["activity"]: row["department"]
        for row in await EpisodeDepartment.select()
        .where(EpisodeDepartment.activity.is_in(activity_ids or [0]))
        .run()
    }
    slots = [
        rota_rule.Slot(
            row["activity"], row["starts_at"].astimezone(zone).date(), row["activity"] in started
        )
        for row in episodes_rows
    ]
    try:
        plan = rota_rule.plan(
            slots,
            [rota_rule.Person(row["id"], row["role"], row["department"]) for row in crew_rows],
            await role_needs(channel_id),
            lambda crew_id, day: not blocked_on(blockouts.get(crew_id, []), day),
            kept=kept,
            declined=declined,
            kept_departments=departments,
        )
    except rota_rule.Shortage as short:
        raise DomainError(
            "rota_short",
            "On %(date)s only %(available)s people can be %(role)s, and %(needed)s are "
            "needed. Nothing was changed.",
            date=short.day.isoformat(),
            available=short.available,
            needed=short.needed,
            # The role's name in the reader's language (the message itself is translated
            # at the edge; a parameter is not).
            role=gettext(ROLE_LABELS.get(short.role, short.role)),
        ) from short
    members = {row["id"]: row["member"] for row in crew_rows}
    starts = {row["activity"]: row["starts_at"] for row in episodes_rows}
    planned_before = {
        (row["activity"], row["crew"], row["role"]): row["id"]
        for row in duties
        if row["status"] == "planned" and row["activity"] not in started
    }
    wanted = {(duty.activity_id, duty.crew_id, duty.role): duty for duty in plan.duties}
    gone = [key for key in planned_before if key not in wanted]
    if gone:
        await Duty.delete().where(Duty.id.is_in([planned_before[key] for key in gone])).run()
    for activity_id, crew_id, _ in gone:
        member_id = await _crew_member_id(crew_id)
        if member_id is not None:
            await outbox.supersede_member_messages(
                DUTY_MESSAGE, member_id=member_id, activity_ids=[activity_id]
            )
    written = 0
    for key, duty in wanted.items():
        if key in planned_before:
            await (
                Duty.update({Duty.reason: duty.reason}).where(Duty.id == planned_before[key]).run()
            )
            continue
        await Duty.insert(
            Duty(activity=duty.activity_id, crew=duty.crew_id, role=duty.role, reason=duty.reason)
        ).run()
        await _remind_of_duty(members[duty.crew_id], duty.activity_id, starts[duty.activity_id])
        written += 1
    for turn in plan.departments:
        await EpisodeDepartment.delete().where(EpisodeDepartment.activity == turn.activity_id).run()
        await EpisodeDepartment.insert(
            EpisodeDepartment(
                activity=turn.activity_id, department=turn.department, reason=turn.reason
            )
        ).run()
    return PlannedOut(planned=written, kept=len(kept) + len(planned_before) - len(gone))


async def _crew_member_id(crew_id: int) -> int | None:
    row = await CrewMember.select(CrewMember.member).where(CrewMember.id == crew_id).first().run()
    return row["member"] if row else None


async def _remind_of_duty(member_id: int, activity_id: int, starts_at: datetime) -> None:
    """The duty reminder goes out a day before (at once when the episode is sooner)."""
    due = max(starts_at - DUTY_REMINDER_BEFORE, clock.now())
    await outbox.record(
        DUTY_MESSAGE, [member_id], activity_id=activity_id, due_at=due, link="/me/activities"
    )


def _duty_out(row: dict[str, Any]) -> DutyOut:
    return DutyOut(
        id=row["id"],
        activity_id=row["activity"],
        starts_at=row["starts_at"],
        crew_id=row["crew"],
        member_id=row["member_id"],
        name=row["name"],
        role=row["role"],
        status=row["status"],
        reason=row["reason"],
        swap_with=row["swap_with"],
    )


DUTY_COLUMNS = (
    Duty.id,
    Duty.activity,
    Duty.crew,
    Duty.role,
    Duty.reason,
    Duty.status,
    Duty.swap_with,
    Duty.activity.starts_at.as_alias("starts_at"),
    Duty.activity.title.as_alias("title"),
    Duty.crew.member.as_alias("member_id"),
    Duty.crew.member.name.as_alias("name"),
    Duty.crew.channel.as_alias("channel_id"),
)


async def rota(
    channel_id: int, date_from: datetime | None = None, date_to: datetime | None = None
) -> list[RotaEpisodeOut]:
    """Each live episode in the range with its department and duties, each with why. A
    bound given without a zone is read in the channel's zone."""
    await _channel_row(channel_id)
    zone = await _channel_zone(channel_id)
    if date_from is not None and date_from.tzinfo is None:
        date_from = date_from.replace(tzinfo=zone)
    if date_to is not None and date_to.tzinfo is None:
        date_to = date_to.replace(tzinfo=zone)
    rows = [
        row
        for row in await _live_episode_rows(channel_id)
        if (date_from is None or row["starts_at"] >= date_from)
        and (date_to is None or row["starts_at"] <= date_to)
    ]
    ids = [row["activity"] for row in rows] or [0]
    duties: dict[int, list[DutyOut]] = {}
    for row in (
        await Duty.select(*DUTY_COLUMNS)
        .where(Duty.activity.is_in(ids) & (Duty.status != "declined"))
        .order_by(Duty.id)
        .run()
    ):
        duties.setdefault(row["activity"], []).append(_duty_out(row))
    departments = {
        row["activity"]: row
        for row in await EpisodeDepartment.select()
        .where(EpisodeDepartment.activity.is_in(ids))
        .run()
    }
    order = list(ROLE_LABELS)
    return [
        RotaEpisodeOut(
            activity_id=row["activity"],
            title=row["title"],
            starts_at=row["starts_at"],
            department=departments.get(row["activity"], {}).get("department", ""),
            department_reason=departments.get(row["activity"], {}).get("reason", ""),
            duties=sorted(duties.get(row["activity"], []), key=lambda d: order.index(d.role)),
        )
        for row in rows
    ]


async def my_duties(actor: Actor, *, upcoming_only: bool = True) -> list[DutyOut]:
    """The actor's duties on every channel, soonest first (declined ones left out)."""
    if actor.member_id is None:
        return []
    where = (Duty.crew.member == actor.member_id) & (Duty.status != "declined")
    if upcoming_only:
        where &= Duty.activity.starts_at > clock.now() - timedelta(hours=12)
    rows = await Duty.select(*DUTY_COLUMNS).where(where).order_by(Duty.activity.starts_at).run()
    return [_duty_out(row) for row in rows[:100]]


async def _own_duty(actor: Actor, duty_id: int) -> dict[str, Any]:
    row = await Duty.select(*DUTY_COLUMNS).where(Duty.id == duty_id).first().run()
    if row is None or actor.member_id is None or row["member_id"] != actor.member_id:
        raise NotFound("There is no such duty.")
    if row["starts_at"] <= clock.now():
        raise DomainError("validation_error", "This episode has already started.")
    return row


async def answer_duty(actor: Actor, duty_id: int, *, accept: bool) -> DutyOut:
    """Accept (the duty then stays put on re-plans) or decline (it is re-planned at once
    to someone else; if nobody else can, the decline is refused and nothing changes)."""
    row = await _own_duty(actor, duty_id)
    if row["status"] == "declined":
        raise DomainError("validation_error", "You have already declined this duty.")
    async with write_transaction():
        await (
            Duty.update({Duty.status: "accepted" if accept else "declined", Duty.swap_with: None})
            .where(Duty.id == duty_id)
            .run()
        )
        if not accept:
            await outbox.supersede_member_messages(
                DUTY_MESSAGE, member_id=row["member_id"], activity_ids=[row["activity"]]
            )
            await _replan(row["channel_id"])
    found = await Duty.select(*DUTY_COLUMNS).where(Duty.id == duty_id).first().run()
    assert found is not None
    return _duty_out(found)


async def _check_colleague(duty: Mapping[str, Any], colleague_id: int) -> dict[str, Any]:
    """A colleague who may take the duty over: same channel and role, not blocked out that
    day, not on that episode already."""
    colleague = (
        await CrewMember.select(CrewMember.id, CrewMember.member, CrewMember.role)
        .where((CrewMember.id == colleague_id) & (CrewMember.channel == duty["channel_id"]))
        .first()
        .run()
    )
    if colleague is None or colleague["id"] == duty["crew"]:
        raise DomainError("validation_error", "Choose a colleague on this crew.", field="crew_id")
    if colleague["role"] != duty["role"]:
        raise DomainError(
            "validation_error", "Choose a colleague with the same role.", field="crew_id"
        )
    day = duty["starts_at"].astimezone(await _channel_zone(duty["channel_id"])).date()
    blockouts = await Blockout.select().where(Blockout.crew == colleague_id).run()
    if blocked_on(blockouts, day):
        raise DomainError(
            "swap_blocked_out",
            "This colleague is blocked out on %(date)s.",
            field="crew_id",
            date=day.isoformat(),
        )
    already = (
        await Duty.count()
        .where((Duty.activity == duty["activity"]) & (Duty.crew == colleague_id))
        .run()
    )
    if already:
        raise DomainError(
            "validation_error",
            "This colleague already has a duty on this episode.",
            field="crew_id",
        )
    return colleague


async def request_swap(actor: Actor, duty_id: int, colleague_id: int) -> DutyOut:
    """Ask that a colleague take this duty over; the organiser decides."""
    row = await _own_duty(actor, duty_id)
    if row["status"] == "declined":
        raise DomainError("validation_error", "You have already declined this duty.")
    await _check_colleague(row, colleague_id)
    async with write_transaction():
        await Duty.update({Duty.swap_with: colleague_id}).where(Duty.id == duty_id).run()
    row["swap_with"] = colleague_id
    return _duty_out(row)


async def decide_swap(actor: Actor, duty_id: int, *, approve: bool) -> DutyOut:
    """The organiser approves (the colleague gets the duty, to accept in turn) or refuses
    a swap request. A colleague blocked out since the request cannot be approved."""
    row = await Duty.select(*DUTY_COLUMNS).where(Duty.id == duty_id).first().run()
    if row is None:
        raise NotFound("There is no such duty.")
    await _owned_channel(actor, row["channel_id"])
    if row["swap_with"] is None:
        raise DomainError("validation_error", "Nobody asked to swap this duty.")
    if not approve:
        async with write_transaction():
            await Duty.update({Duty.swap_with: None}).where(Duty.id == duty_id).run()
    else:
        if row["starts_at"] <= clock.now():
            raise DomainError("validation_error", "This episode has already started.")
        colleague = await _check_colleague(row, row["swap_with"])
        async with write_transaction():
            await (
                Duty.update(
                    {
                        Duty.crew: colleague["id"],
                        Duty.reason: rota_rule.SWAPPED,
                        Duty.status: "planned",
                        Duty.swap_with: None,
                    }
                )
                .where(Duty.id == duty_id)
                .run()
            )
            await outbox.supersede_member_messages(
                DUTY_MESSAGE, member_id=row["member_id"], activity_ids=[row["activity"]]
            )
            await _remind_of_duty(colleague["member"], row["activity"], row["starts_at"])
    found = await Duty.select(*DUTY_COLUMNS).where(Duty.id == duty_id).first().run()
    assert found is not None
    return _duty_out(found)


async def swap_requests(actor: Actor, channel_id: int) -> list[DutyOut]:
    await _owned_channel(actor, channel_id)
    rows = (
        await Duty.select(*DUTY_COLUMNS)
        .where((Duty.crew.channel == channel_id) & Duty.swap_with.is_not_null())
        .order_by(Duty.activity.starts_at)
        .run()
    )
    return [_duty_out(row) for row in rows]


async def colleagues(actor: Actor, duty_id: int) -> list[CrewOut]:
    """Whom the duty's holder could ask to swap: same role, free that day."""
    row = await _own_duty(actor, duty_id)
    out = []
    for crew in await list_crew(row["channel_id"]):
        if crew.role != row["role"] or crew.id == row["crew"]:
            continue
        try:
            await _check_colleague(row, crew.id)
        except DomainError:
            continue
        out.append(crew)
    return out


# --- the private duty feed ------------------------------------------------------------------


async def duty_feed_token(actor: Actor, crew_id: int) -> str:
    """The secret of this crew member's duty feed (made on first use), for them only."""
    row = await CrewMember.select().where(CrewMember.id == crew_id).first().run()
    if row is None or actor.member_id != row["member"]:
        raise NotFound("There is no such crew member.")
    if row["feed_token"]:
        return row["feed_token"]
    return await revoke_duty_feed(actor, crew_id)


async def revoke_duty_feed(actor: Actor, crew_id: int) -> str:
    """A new secret: the old link stops working at once."""
    row = await CrewMember.select().where(CrewMember.id == crew_id).first().run()
    if row is None or actor.member_id != row["member"]:
        raise NotFound("There is no such crew member.")
    token = secrets.token_urlsafe(32)
    async with write_transaction():
        await (
            CrewMember.update({CrewMember.feed_token: token}).where(CrewMember.id == crew_id).run()
        )
    return token


async def duties_for_feed(token: str) -> tuple[str, list[dict[str, Any]]] | None:
    """The channel name and the duties behind a feed token; None for a revoked or
    unknown one. Declined duties and skipped or cancelled episodes are left out."""
    if not token or len(token) > 64:
        return None
    crew = (
        await CrewMember.select(CrewMember.id, CrewMember.channel.name.as_alias("channel_name"))
        .where(CrewMember.feed_token == token)
        .first()
        .run()
    )
    if crew is None:
        return None
    rows = (
        await Duty.select(
            *DUTY_COLUMNS,
            Duty.activity.ends_at.as_alias("ends_at"),
            Duty.activity.status.as_alias("activity_status"),
        )
        .where((Duty.crew == crew["id"]) & (Duty.status != "declined"))
        .order_by(Duty.activity.starts_at)
        .run()
    )
    return crew["channel_name"], [row for row in rows if row["activity_status"] in LIVE_STATUSES]


async def my_crew_places(actor: Actor) -> list[dict[str, Any]]:
    """The channels the actor is on the crew of (for their duty feed links)."""
    if actor.member_id is None:
        return []
    return (
        await CrewMember.select(
            CrewMember.id, CrewMember.role, CrewMember.channel.name.as_alias("channel_name")
        )
        .where(CrewMember.member == actor.member_id)
        .run()
    )
