from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from service.orgs.tables import Member


class OutboxMessage(Table, tablename="reminder_outbox"):
    """A message to a member, written in the same transaction as the change that causes it.

    The sender claims due rows (status pending → claimed, under a claim token), a job
    delivers a batch of them on the members' channels and marks them sent; superseded rows
    (a moved or cancelled activity, a cancelled place) are never sent. Nothing is sent from
    inside a request.
    """

    kind = Varchar(length=40)
    member = ForeignKey(Member, null=False)
    activity_id = Integer(null=True, default=None, index=True)
    registration_id = Integer(null=True, default=None, index=True)
    payload = Text(default="")
    due_at = Timestamptz(default=TimestamptzNow(), index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    status = Varchar(length=12, default="pending", index=True)
    attempts = Integer(default=0)
    claimed_at = Timestamptz(null=True, default=None)
    # The claim that holds the row: a job delivers only the rows still holding its claim,
    # so after a stale claim is taken again the old job (if it ever runs) leaves them be.
    claim = Varchar(length=32, null=True, default=None)
    last_error = Text(default="")


class Notification(Table, tablename="reminder_inbox"):
    """The in-app inbox: one row per delivered message (outbox_id is unique)."""

    member_id = Integer(index=True)
    outbox_id = Integer(unique=True)
    kind = Varchar(length=40)
    activity_id = Integer(null=True, default=None)
    title = Varchar(length=200)
    body = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)


class DeliveryAttempt(Table, tablename="reminder_delivery"):
    """Every try on every channel; a channel that succeeded is not tried again."""

    outbox_id = Integer(index=True)
    channel = Varchar(length=12)
    ok = Boolean(default=False)
    error = Text(default="")
    attempted_at = Timestamptz(default=TimestamptzNow())


class ChannelPrefs(Table, tablename="reminder_channel_prefs"):
    """Which channels a member wants besides the inbox (always on)."""

    member_id = Integer(unique=True)
    sms = Boolean(default=False)
    push = Boolean(default=True)
    email = Varchar(length=254, default="")
    email_on = Boolean(default=False)


class PushSubscription(Table, tablename="reminder_push_subscription"):
    member_id = Integer(index=True)
    endpoint = Varchar(length=1000, unique=True)
    p256dh = Varchar(length=200)
    auth = Varchar(length=100)
    created_at = Timestamptz(default=TimestamptzNow())


class ActivitySchedule(Table, tablename="reminder_activity_schedule"):
    """An organiser's own schedule for one activity, replacing its kind's default: one row
    per reminder kind, minutes before the start (None: that reminder is off)."""

    activity_id = Integer(index=True)
    kind = Varchar(length=40)
    minutes_before = Integer(null=True, default=None)
