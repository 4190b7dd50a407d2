from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-24T16:15:39:000000"
VERSION = "1.38.0"
DESCRIPTION = "one registration per member per activity"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="activities", description=DESCRIPTION)

    # A unique index rather than a table constraint: SQLite cannot ALTER TABLE … ADD
    # CONSTRAINT. It is the last guard of "one registration per member per activity".
    async def one_registration_per_member() -> None:
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX activity_registration_one_per_member "
            "ON activity_registration (activity, member)"
        )

    manager.add_raw(one_registration_per_member)
    return manager
