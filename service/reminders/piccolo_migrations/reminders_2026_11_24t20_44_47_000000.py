from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-24T20:44:47:000000"
VERSION = "1.38.0"
DESCRIPTION = "claim index; one successful delivery per message and channel"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="reminders", description=DESCRIPTION)

    async def indexes() -> None:
        # The claim query: due rows by status and time.
        await engine_finder().run_ddl(
            "CREATE INDEX reminder_outbox_due ON reminder_outbox (status, due_at)"
        )
        # The last guard against sending on a channel twice.
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX reminder_delivery_once ON reminder_delivery (outbox_id, channel) "
            "WHERE ok"
        )

    manager.add_raw(indexes)
    return manager
