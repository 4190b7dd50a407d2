from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T17:40:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "one crew place per member, one need per role, one duty per person and episode"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="livestreams", description=DESCRIPTION)

    # Unique indexes (SQLite cannot add table constraints later): two organisers adding
    # the same person, or two re-plans at once, cannot leave a double row.
    async def unique_keys() -> None:
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX livestream_crew_once ON livestream_crew (channel, member)"
        )
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX livestream_role_need_once ON livestream_role_need (channel, role)"
        )
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX livestream_duty_once ON livestream_duty (activity, crew)"
        )

    manager.add_raw(unique_keys)
    return manager
