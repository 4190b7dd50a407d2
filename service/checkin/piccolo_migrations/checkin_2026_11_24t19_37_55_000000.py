from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-24T19:37:55:000000"
VERSION = "1.38.0"
DESCRIPTION = "one admission per registration"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="checkin", description=DESCRIPTION)

    # The last guard of "never admitted twice", whatever the number of gates or scanners:
    # a partial unique index (both engines support it; an undone admission frees the slot).
    async def one_admission_per_registration() -> None:
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX checkin_one_admission ON checkin_scan (registration_id) "
            "WHERE result = 'admitted' AND undone_at IS NULL"
        )

    manager.add_raw(one_admission_per_registration)
    return manager
