from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-05T09:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "booth scans' client ids and undos move to the shared scan tables"

# Raw steps only, in a migration of their own: Piccolo runs a migration's raw steps before
# its table steps, and these must not depend on one (the lead's version column is added
# by the migration before this one). Each copies only what is not there yet, so a rerun
# copies nothing twice.
COPY_CLIENT_IDS = (
    "INSERT INTO scan_client_log (point_type, point_id, client_id, scanner_id, answer_id, "
    "recorded_at) SELECT 'booth', s.booth_id, s.client_id, s.actor_id, s.id, s.recorded_at "
    "FROM jobfair_stage_scan s WHERE s.action = 'scan' AND s.client_id IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM scan_client_log c WHERE c.point_type = 'booth' "
    "AND c.client_id = s.client_id)"
)
COPY_UNDOS = (
    "INSERT INTO scan_undo_audit (point_type, point_id, record_id, action, actor_id, "
    "actor_name, reason, created_at) SELECT 'booth', s.booth_id, s.undo_of, 'undo_stage', "
    "s.actor_id, s.actor_name, '', s.recorded_at FROM jobfair_stage_scan s "
    "WHERE s.action = 'undo' AND s.undo_of IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
    "scan_undo_audit u WHERE u.point_type = 'booth' AND u.record_id = s.undo_of)"
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="jobfairs", description=DESCRIPTION)

    # A booth's queue resent after the upgrade must still be answered from its first
    # scans, so every client id a booth has seen is logged where replays now look.
    async def move_to_shared_scan_tables() -> None:
        engine = engine_finder()
        await engine.run_ddl(COPY_CLIENT_IDS)
        await engine.run_ddl(COPY_UNDOS)

    manager.add_raw(move_to_shared_scan_tables)
    return manager
