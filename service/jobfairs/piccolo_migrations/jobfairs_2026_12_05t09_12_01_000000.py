from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T09:12:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "one employer of a name joins a fair by its invite link"

# The last guard behind the join's check (made under a lock), on both engines; a separate
# migration because a migration's raw statements run before its new columns exist.
INVITED_NAME_ONCE = (
    "CREATE UNIQUE INDEX jobfair_employer_invited_name_once "
    "ON jobfair_employer (activity_id, name) WHERE via_invite"
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="jobfairs", description=DESCRIPTION)

    async def invited_name_once() -> None:
        await engine_finder().run_ddl(INVITED_NAME_ONCE)

    manager.add_raw(invited_name_once)
    return manager
