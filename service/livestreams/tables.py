"""The livestream room's tables: channels, their columns (板块) and schedule rule, the
episode details of each livestream activity (keyed by activity id), viewers'
subscriptions with the reminders already recorded for them, and viewer figures."""

from piccolo.columns import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    OnDelete,
    Real,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from service.activities.tables import Activity
from service.orgs.tables import Member, Node


class Channel(Table, tablename="livestream_channel"):
    """A livestream room (直播间): where its episodes are watched and whose they are."""

    name = Varchar(length=100)
    node = ForeignKey(Node, null=False, on_delete=OnDelete.restrict)
    stream_url = Varchar(length=500)
    default_minutes = Integer(default=60)
    created_at = Timestamptz(default=TimestamptzNow())


class ChannelColumn(Table, tablename="livestream_column"):
    """A column (板块) of a channel; its rundown template is one segment a line,
    "title | minutes | who"."""

    channel = ForeignKey(Channel, null=False, on_delete=OnDelete.cascade)
    name = Varchar(length=60)
    description = Text(default="")
    department = Varchar(length=60, default="")
    colour = Varchar(length=7, default="#1f6feb")
    rundown = Text(default="")
    position = Integer(default=0)


class Schedule(Table, tablename="livestream_schedule"):
    """A channel's recurrence rule, in RRULE terms, in a local zone (one per channel)."""

    channel = ForeignKey(Channel, null=False, unique=True, on_delete=OnDelete.cascade)
    weekdays = Varchar(length=30)  # "TU,TH"
    interval = Integer(default=1)  # every N weeks (or months with nth)
    nth = Integer(null=True, default=None)  # the nth weekday of the month (-1: the last)
    start_date = Date()
    end_date = Date(null=True, default=None)
    start_time = Varchar(length=5)  # "19:30", local
    minutes = Integer(default=60)
    zone = Varchar(length=60, default="Asia/Shanghai")
    updated_at = Timestamptz(default=TimestamptzNow())


class Episode(Table, tablename="livestream_episode"):
    """The livestream details of one activity. `occurrence` is the rule's date-time this
    episode stands for (its RECURRENCE-ID): regeneration finds episodes by it, so it never
    duplicates one, and a moved or edited one keeps its place."""

    activity = ForeignKey(Activity, null=False, unique=True, on_delete=OnDelete.cascade)
    # None: a one-off livestream made from the plain activity form.
    channel = ForeignKey(Channel, null=True, default=None, on_delete=OnDelete.cascade)
    column = ForeignKey(ChannelColumn, null=True, default=None, on_delete=OnDelete.set_null)
    topic = Varchar(length=200, default="")
    guests = Varchar(length=300, default="")
    occurrence = Timestamptz(null=True, default=None, index=True)
    skipped = Boolean(default=False)
    moved = Boolean(default=False)
    edited = Boolean(default=False)
    # The episode's own rundown: a JSON list of segments {title, minutes, who}, copied from
    # its column's template when the episode is made (or its column changes), so editing
    # the template never rewrites an episode, and an organiser may edit one episode's.
    rundown = JSON(default="[]")
    # The organiser edited this episode's rundown: a change of column keeps it.
    rundown_edited = Boolean(default=False)


class Subscription(Table, tablename="livestream_subscription"):
    """A worker reminded of a channel's episodes: column_id 0 is the whole channel. One
    member's rows of one channel share their unsubscribe token."""

    channel = ForeignKey(Channel, null=False, on_delete=OnDelete.cascade)
    member = ForeignKey(Member, null=False, on_delete=OnDelete.cascade)
    column_id = Integer(default=0)
    token = Varchar(length=40, index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class ReminderKey(Table, tablename="livestream_reminder_key"):
    """The idempotency key of a viewer's reminder: one per (episode, member, start). A
    unique index makes recording it twice impossible, however many requests race."""

    activity_id = Integer()
    member_id = Integer()
    starts_at = Timestamptz()


class ViewerFigures(Table, tablename="livestream_viewer_figures"):
    """What the streaming platform reported for one episode, as recorded by an organiser."""

    activity = ForeignKey(Activity, null=False, unique=True, on_delete=OnDelete.cascade)
    peak_concurrent = Integer(default=0)
    unique_viewers = Integer(default=0)
    total_views = Integer(default=0)
    average_watch_minutes = Real(default=0.0)
    source = Varchar(length=100, default="")
    recorded_by = ForeignKey(Member, null=True, default=None, on_delete=OnDelete.set_null)
    recorded_at = Timestamptz(default=TimestamptzNow())


class CrewMember(Table, tablename="livestream_crew"):
    """A member of the channel's node on its crew: one role (whose group follows from it,
    see services.ROLE_GROUPS) and the department they bring content from. `feed_token`
    is their private duty feed's secret; revoking replaces it."""

    channel = ForeignKey(Channel, null=False, on_delete=OnDelete.cascade)
    member = ForeignKey(Member, null=False, on_delete=OnDelete.cascade)
    role = Varchar(length=20)
    department = Varchar(length=60, default="")
    feed_token = Varchar(length=64, default="", index=True)
    created_at = Timestamptz(default=TimestamptzNow())


class RoleNeed(Table, tablename="livestream_role_need"):
    """How many people of one role each episode of the channel needs."""

    channel = ForeignKey(Channel, null=False, on_delete=OnDelete.cascade)
    role = Varchar(length=20)
    needed = Integer(default=1)


class Blockout(Table, tablename="livestream_blockout"):
    """Dates a crew member cannot work: one date (ends_on = starts_on), a range, or weekly
    on starts_on's weekday until ends_on (no end: for good)."""

    crew = ForeignKey(CrewMember, null=False, on_delete=OnDelete.cascade)
    starts_on = Date()
    ends_on = Date(null=True, default=None)
    weekly = Boolean(default=False)
    reason = Varchar(length=200, default="")


class Duty(Table, tablename="livestream_duty"):
    """One crew member's duty on one episode, with why it was chosen. Planned duties of
    future episodes are re-planned; accepted ones and the past stay as they are; a
    declined one is kept so the rota never asks that person again for that episode.
    `swap_with` is a colleague asked to take it over, until the organiser decides."""

    activity = ForeignKey(Activity, null=False, on_delete=OnDelete.cascade)
    crew = ForeignKey(CrewMember, null=False, on_delete=OnDelete.cascade)
    role = Varchar(length=20)
    reason = Varchar(length=30)
    status = Varchar(length=12, default="planned")  # planned | accepted | declined
    swap_with = ForeignKey(CrewMember, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())


class EpisodeDepartment(Table, tablename="livestream_episode_department"):
    """The department whose turn it is to supply an episode's content, and why."""

    activity = ForeignKey(Activity, null=False, unique=True, on_delete=OnDelete.cascade)
    department = Varchar(length=60)
    reason = Varchar(length=30)
