"""Reading rooms (职工书屋), their hours, the holiday table, and the reading-sharing session
kind's own tables (details keyed by activity id, study plans, notes, demand)."""

from piccolo.columns import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from service.activities.tables import Activity
from service.orgs.tables import Member, Node


class ReadingRoom(Table, tablename="reading_room"):
    name = Varchar(length=100)
    node = ForeignKey(Node, null=False, on_delete=OnDelete.restrict)
    address = Varchar(length=300, default="")
    seats = Integer(default=0)
    computers = Integer(default=0)
    network = Boolean(default=False)
    books = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class RoomSeason(Table, tablename="reading_room_season"):
    """A week of its own (summer, winter) between two dates, inclusive."""

    room = ForeignKey(ReadingRoom, null=False, on_delete=OnDelete.cascade)
    name = Varchar(length=60, default="")
    starts_on = Date()
    ends_on = Date()


class RoomHours(Table, tablename="reading_room_hours"):
    """One opening interval of a weekday, in minutes after local midnight; a row without a
    season belongs to the room's regular week."""

    room = ForeignKey(ReadingRoom, null=False, on_delete=OnDelete.cascade)
    season = ForeignKey(RoomSeason, null=True, default=None, on_delete=OnDelete.cascade)
    weekday = Integer()  # Monday 0
    opens = Integer()
    closes = Integer()


class RoomException(Table, tablename="reading_room_exception"):
    """A dated override: closed (no interval rows), or these special hours."""

    room = ForeignKey(ReadingRoom, null=False, on_delete=OnDelete.cascade)
    day = Date(index=True)
    note = Varchar(length=200, default="")
    # (room, day) is unique: an index created in the migration.


class RoomExceptionInterval(Table, tablename="reading_room_exception_interval"):
    exception = ForeignKey(RoomException, null=False, on_delete=OnDelete.cascade)
    opens = Integer()
    closes = Integer()


class Holiday(Table, tablename="reading_holiday"):
    """The one holiday table every room follows: public holidays close rooms, make-up
    working days (调休) open them with the hours of `follows_weekday`."""

    day = Date(unique=True)
    name = Varchar(length=60, default="")
    workday = Boolean(default=False)
    follows_weekday = Integer(default=0)


class SessionDetails(Table, tablename="reading_session_details"):
    activity = ForeignKey(Activity, null=False, unique=True, on_delete=OnDelete.cascade)
    # None: held elsewhere (the activity's venue), with no opening hours to fit.
    room = ForeignKey(ReadingRoom, null=True, default=None, on_delete=OnDelete.restrict)
    facilitator = Varchar(length=60, default="")


class SessionBook(Table, tablename="reading_session_book"):
    activity = ForeignKey(Activity, null=False, on_delete=OnDelete.cascade)
    position = Integer(default=0)
    title = Varchar(length=200)
    author = Varchar(length=100, default="")
    isbn = Varchar(length=13, default="")
    note = Varchar(length=300, default="")


class StudyPlan(Table, tablename="reading_plan"):
    name = Varchar(length=100)
    description = Text(default="")
    owner = ForeignKey(Node, null=False, on_delete=OnDelete.restrict)
    created_at = Timestamptz(default=TimestamptzNow())


class PlanSession(Table, tablename="reading_plan_session"):
    plan = ForeignKey(StudyPlan, null=False, on_delete=OnDelete.cascade)
    activity = ForeignKey(Activity, null=False, unique=True, on_delete=OnDelete.cascade)
    position = Integer(default=0)


class ReadingNote(Table, tablename="reading_note"):
    activity = ForeignKey(Activity, null=False, on_delete=OnDelete.cascade)
    member = ForeignKey(Member, null=False, on_delete=OnDelete.cascade)
    body = Text()
    page = Varchar(length=60, default="")
    status = Varchar(length=10, default="pending", index=True)  # pending|approved|rejected
    created_at = Timestamptz(default=TimestamptzNow())
    decided_at = Timestamptz(null=True, default=None)


class Demand(Table, tablename="reading_demand"):
    """A worker could come to a room on this weekday in this part of the day."""

    room = ForeignKey(ReadingRoom, null=False, on_delete=OnDelete.cascade)
    member = ForeignKey(Member, null=False, on_delete=OnDelete.cascade)
    weekday = Integer()
    part = Varchar(length=8)  # morning | midday | evening | night
    # (room, member, weekday, part) is unique: an index created in the migration.


class ReadingChange(Table, tablename="reading_change"):
    """One row: a random token replaced in the same transaction as every write that can
    change a room's hours (rooms, weeks, seasons, exceptions, the holiday table). Each
    process keeps the "open now" list's worked-out intervals until the token changes. A
    random token rather than a counter, so a table emptied and written again never
    repeats an old value."""

    token = Varchar(length=32, default="")
