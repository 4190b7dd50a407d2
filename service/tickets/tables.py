from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class TicketState(Table, tablename="ticket_state"):
    """A ticket's reissue counter, once it differs from 0. A ticket is its registration
    (same id); a token is valid only with the current counter, so bumping it revokes the
    codes handed out before."""

    registration_id = Integer(unique=True)
    activity_id = Integer(index=True)
    reissue = Integer(default=0)
    updated_at = Timestamptz(default=TimestamptzNow())


class Revocation(Table, tablename="ticket_revocation"):
    """Scanners fetch it by id cursor and refuse tokens with reissue < below_reissue
    offline. One row per ticket: a new revocation replaces the ticket's older one."""

    activity_id = Integer(index=True)
    registration_id = Integer()
    below_reissue = Integer()
    reason = Varchar(length=16)  # cancelled | reissued
    created_at = Timestamptz(default=TimestamptzNow())
