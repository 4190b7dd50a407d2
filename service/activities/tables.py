from piccolo.columns import ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from service.orgs.tables import Member, Node


class Activity(Table, tablename="activity"):
    """The core every kind shares. Kind-specific details live in per-kind tables keyed by
    activity id (added by each kind's room), never in a JSON blob."""

    kind = Varchar(length=20, index=True)
    title = Varchar(length=200)
    description = Text(default="")
    # A named drive the federation reports on as one (春风行动, 送清凉): free text, with
    # the spellings already used offered on the form.
    campaign = Varchar(length=60, default="", index=True)
    owner = ForeignKey(Node, null=False, on_delete=OnDelete.restrict)
    venue_name = Varchar(length=200, default="")
    venue_address = Varchar(length=300, default="")
    online_url = Varchar(length=500, default="")
    starts_at = Timestamptz(index=True)
    ends_at = Timestamptz()
    capacity = Integer(null=True, default=None)  # None: unlimited (livestreams)
    taken = Integer(default=0)  # confirmed seats; changed only by conditional UPDATEs
    queue_counter = Integer(default=0)  # last waitlist number handed out
    registration_opens_at = Timestamptz(null=True, default=None)
    registration_closes_at = Timestamptz(null=True, default=None)
    status = Varchar(length=12, default="draft", index=True)
    cancel_reason = Text(default="")
    created_by = ForeignKey(Member, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    published_at = Timestamptz(null=True, default=None)


class EligibleNode(Table, tablename="activity_eligible_node"):
    activity = ForeignKey(Activity, null=False, on_delete=OnDelete.cascade)
    node = ForeignKey(Node, null=False, on_delete=OnDelete.cascade)


class EligibleGroup(Table, tablename="activity_eligible_group"):
    activity = ForeignKey(Activity, null=False, on_delete=OnDelete.cascade)
    worker_group = Varchar(length=20)


class Registration(Table, tablename="activity_registration"):
    activity = ForeignKey(Activity, null=False, on_delete=OnDelete.cascade)
    member = ForeignKey(Member, null=False, on_delete=OnDelete.cascade)
    status = Varchar(length=12, index=True)  # confirmed | waitlisted | cancelled
    queue_no = Integer(null=True, default=None)  # order on the waitlist
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    # (activity, member) is unique: the last guard against double registration. It is a
    # unique index created in the migration, since SQLite cannot add table constraints.
