from piccolo.columns import Boolean, Integer, Text, Timestamptz, Varchar
from piccolo.columns.combination import Where, WhereRaw
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Scan(Table, tablename="checkin_scan"):
    """Every verdict given at a door, the scan log. An admission is a scan with result
    "admitted" that has not been undone; a partial unique index (migration) allows one
    per registration, the last guard against admitting a ticket twice."""

    activity_id = Integer(index=True)
    registration_id = Integer(null=True, default=None, index=True)
    result = Varchar(length=24)
    gate = Varchar(length=40, default="")
    scanner_id = Integer(null=True, default=None)  # member id of the staff who scanned
    scanner_name = Varchar(length=50, default="")
    # The scanner's id for the scan, shown on the roster. Replays are answered from the
    # shared client-id log (service/scans); this column's unique constraint stays from
    # the first migration (SQLite cannot drop it without rebuilding the table).
    client_id = Varchar(length=64, null=True, default=None, unique=True)
    scanned_at = Timestamptz()  # on the scanner's clock (offline scans), clamped
    recorded_at = Timestamptz(default=TimestamptzNow(), index=True)
    walk_in = Boolean(default=False)
    first_scan_id = Integer(null=True, default=None)  # for already_checked_in: the admission
    undone_at = Timestamptz(null=True, default=None)


class CheckinSettings(Table, tablename="checkin_settings"):
    """Door settings of one activity; an activity without a row uses the defaults."""

    activity_id = Integer(unique=True)
    opens_at = Timestamptz(null=True, default=None)  # default: 60 minutes before the start
    closes_at = Timestamptz(null=True, default=None)  # default: the end
    walk_ins_over_capacity = Boolean(default=False)
    gates = Text(default="")  # one gate name a line; empty: a single unnamed entrance


def standing_admission_sql(alias: str = "") -> str:
    """A standing admission, as SQL: a scan that let its ticket in and was not undone.
    The one source of that rule for every statement (the door's hot path, its counts, the
    reports); `standing_admission()` is the same rule for the ORM, and a parity test ties
    the two and the partial unique index (migration checkin_2026_11_24t19_37_55)."""
    column = f"{alias}." if alias else ""
    return f"{column}result = 'admitted' AND {column}undone_at IS NULL"


def standing_admission() -> Where | WhereRaw:
    """The same rule as `standing_admission_sql`, for Piccolo queries on Scan."""
    return (Scan.result == "admitted") & Scan.undone_at.is_null()
