from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ExportAudit(Table, tablename="report_export_audit"):
    """Every export with full phone numbers: who, when, what and why."""

    member_id = Integer(null=True, default=None)
    member_name = Varchar(length=50, default="")
    what = Varchar(length=200)
    unmasked = Boolean(default=True)
    reason = Text(default="")
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    row_count = Integer(default=0)
