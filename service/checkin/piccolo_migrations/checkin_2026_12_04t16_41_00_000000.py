"""Door staff become scoped assignments (orgs' org_assignment): each checkin_staff row is
copied as the role door_staff at its activity, then checkin_staff is dropped."""

from datetime import datetime, timezone, UTC

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Timestamptz, Varchar
from piccolo.table import Table

ID = "2026-12-04T16:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "door staff become assignments"


# The two tables as they are at this migration (not the app's classes, which may change).
class _DoorStaff(Table, tablename="checkin_staff"):
    activity_id = Integer()
    member_id = Integer()


class _Assignment(Table, tablename="org_assignment"):
    member_id = Integer()
    role = Varchar(length=32)
    scope_kind = Varchar(length=32)
    scope_id = Integer()
    assigned_by = Integer(null=True, default=None)
    assigned_at = Timestamptz()


async def copy_door_staff() -> int:
    """Copy every door staff row not yet an assignment (a row listed twice once): the
    number copied. Who assigned them was never recorded: assigned_by stays empty."""
    rows = await _DoorStaff.select(_DoorStaff.activity_id, _DoorStaff.member_id).run()
    existing = {
        (row["scope_id"], row["member_id"])
        for row in await _Assignment.select(_Assignment.scope_id, _Assignment.member_id)
        .where((_Assignment.role == "door_staff") & (_Assignment.scope_kind == "activity"))
        .run()
    }
    pairs = sorted({(row["activity_id"], row["member_id"]) for row in rows} - existing)
    if pairs:
        now = datetime.now(UTC)
        await _Assignment.insert(
            *[
                _Assignment(
                    member_id=member_id,
                    role="door_staff",
                    scope_kind="activity",
                    scope_id=activity_id,
                    assigned_by=None,
                    assigned_at=now,
                )
                for activity_id, member_id in pairs
            ]
        ).run()
    return len(pairs)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="checkin", description=DESCRIPTION)
    # Piccolo runs the raw steps first, so the rows are copied before the table is dropped,
    # in the migration's one transaction.
    manager.add_raw(copy_door_staff)
    manager.drop_table(class_name="DoorStaff", tablename="checkin_staff")
    return manager
