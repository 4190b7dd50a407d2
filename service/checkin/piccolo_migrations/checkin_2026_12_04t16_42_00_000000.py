from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T16:42:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the door's client ids and undo audit move to the shared scan tables"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="checkin", description=DESCRIPTION)

    # A queue resent after the upgrade must still be answered from its first scans, so
    # every client id the door has seen is logged where replays now look (scans/).
    async def move_to_shared_scan_tables() -> None:
        engine = engine_finder()
        await engine.run_ddl(
            "INSERT INTO scan_client_log (point_type, point_id, client_id, scanner_id, "
            "answer_id, recorded_at) SELECT 'door', activity_id, client_id, scanner_id, id, "
            "recorded_at FROM checkin_scan WHERE client_id IS NOT NULL"
        )
        await engine.run_ddl(
            "INSERT INTO scan_undo_audit (point_type, point_id, record_id, action, actor_id, "
            "actor_name, reason, created_at) SELECT 'door', activity_id, scan_id, action, "
            "actor_id, actor_name, reason, created_at FROM checkin_audit"
        )
        await engine.run_ddl("DROP TABLE checkin_audit")

    manager.add_raw(move_to_shared_scan_tables)
    return manager
