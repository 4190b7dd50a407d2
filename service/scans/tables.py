"""The tables every scan point shares: the client-id log and the undo audit. A room keeps
its own record of what a scan did (the door's scan log, a booth's leads); these two
tables only point at that record by id."""

from piccolo.columns import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ClientLog(Table, tablename="scan_client_log"):
    """One row per client id a scanner sent, at any point type: a repeated client id is
    answered from the record it points at and writes nothing. A unique index on
    (point_type, client_id) (migration) refuses the second write."""

    point_type = Varchar(length=24)
    point_id = Integer()
    client_id = Varchar(length=64)
    scanner_id = Integer(null=True, default=None)  # member id of who scanned
    answer_id = Integer()  # the id of the point type's record of the first answer
    recorded_at = Timestamptz(default=TimestamptzNow())


class UndoAudit(Table, tablename="scan_undo_audit"):
    """Who undid which scan's record, at which point, when and why."""

    point_type = Varchar(length=24)
    point_id = Integer(index=True)
    record_id = Integer()
    action = Varchar(length=24)
    actor_id = Integer(null=True, default=None)
    actor_name = Varchar(length=50, default="")
    reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow())
