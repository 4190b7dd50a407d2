from piccolo.columns import ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from service.orgs.tables import Member


class OutboxMessage(Table, tablename="reminder_outbox"):
    """A message to a member, written in the same transaction as the change that causes it.

    The sender (arq, the reminders issue) claims due rows; nothing here is sent directly.
    """

    kind = Varchar(length=40)
    member = ForeignKey(Member, null=False)
    activity_id = Integer(null=True, default=None, index=True)
    registration_id = Integer(null=True, default=None)
    payload = Text(default="")
    due_at = Timestamptz(default=TimestamptzNow(), index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
