from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T17:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "booth staff become scoped assignments (org_assignment, role booth_staff)"


async def forwards() -> MigrationManager:
    # The booth staff table never left this branch (no rows to copy): the assignments of
    # service/orgs hold booth staff from here on.
    manager = MigrationManager(migration_id=ID, app_name="jobfairs", description=DESCRIPTION)
    manager.drop_table(class_name="BoothStaff", tablename="jobfair_booth_staff")
    return manager
