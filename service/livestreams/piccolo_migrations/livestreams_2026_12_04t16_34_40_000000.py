from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T16:34:40:000000"
VERSION = "1.38.0"
DESCRIPTION = "one episode per rule occurrence; one reminder per viewer and start"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="livestreams", description=DESCRIPTION)

    # Unique indexes rather than table constraints: SQLite cannot ALTER TABLE … ADD
    # CONSTRAINT. They are the last guard of "regenerating never duplicates an episode"
    # and "a viewer is reminded once".
    async def unique_keys() -> None:
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX livestream_episode_one_per_occurrence "
            "ON livestream_episode (channel, occurrence)"
        )
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX livestream_reminder_key_once "
            "ON livestream_reminder_key (activity_id, member_id, starts_at)"
        )
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX livestream_subscription_once "
            "ON livestream_subscription (channel, member, column_id)"
        )

    manager.add_raw(unique_keys)
    return manager
