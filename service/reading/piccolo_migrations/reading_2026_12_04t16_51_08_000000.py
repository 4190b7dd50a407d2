from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T16:51:08:000000"
VERSION = "1.38.0"
DESCRIPTION = "one exception per room and date, one demand mark per worker and slot"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="reading", description=DESCRIPTION)

    # Unique indexes rather than table constraints: SQLite cannot ALTER TABLE … ADD
    # CONSTRAINT. They are the last guards behind the services' replace-then-insert writes.
    async def unique_indexes() -> None:
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX reading_room_exception_one_per_day "
            "ON reading_room_exception (room, day)"
        )
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX reading_demand_one_per_slot "
            "ON reading_demand (room, member, weekday, part)"
        )
        await engine_finder().run_ddl(
            "CREATE INDEX reading_room_hours_room ON reading_room_hours (room)"
        )

    manager.add_raw(unique_indexes)
    return manager
