from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T17:43:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a worker's acknowledgement counts once per member, site and day"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="heatrelief", description=DESCRIPTION)

    # "Received" counts once per member, site and day, under any concurrency: the insert in
    # services.acknowledge relies on this index. A migration of its own because raw steps
    # run before the table steps of the same migration (the previous one creates the table).
    async def once_per_member_site_and_day() -> None:
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX heatrelief_site_ack_once "
            "ON heatrelief_site_ack (site_id, member_id, day)"
        )

    manager.add_raw(once_per_member_site_and_day)
    return manager
