from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-24T23:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "an index for waitlist positions"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="activities", description=DESCRIPTION)

    # A waitlisted signup's position is a count of the activity's waitlisted rows up to
    # its number: with this index a range of index entries, instead of every registration
    # of the activity read from the table (thousands in a rush, QUALITY.md B1/B2).
    async def waitlist_index() -> None:
        await engine_finder().run_ddl(
            "CREATE INDEX activity_registration_waitlist "
            "ON activity_registration (activity, status, queue_no)"
        )

    manager.add_raw(waitlist_index)
    return manager
