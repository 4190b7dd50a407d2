from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T16:40:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "one answer per client id and point type"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="scans", description=DESCRIPTION)

    # A client id answers once per point type: the second write of it is refused here,
    # whichever scanner or process sends it (the guard behind every replay).
    async def one_answer_per_client_id() -> None:
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX scan_client_log_once ON scan_client_log (point_type, client_id)"
        )

    manager.add_raw(one_answer_per_client_id)
    return manager
