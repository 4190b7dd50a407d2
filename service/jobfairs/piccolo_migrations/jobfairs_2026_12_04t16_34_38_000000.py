from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T16:34:38:000000"
VERSION = "1.38.0"
DESCRIPTION = "one booth per employer and number, one lead per worker and booth"

# The last guards behind the services' checks, on both engines.
UNIQUE_INDEXES = (
    "CREATE UNIQUE INDEX jobfair_booth_employer_once ON jobfair_booth (activity_id, employer_id)",
    "CREATE UNIQUE INDEX jobfair_booth_number_once ON jobfair_booth (activity_id, number)",
    "CREATE UNIQUE INDEX jobfair_booth_staff_once ON jobfair_booth_staff (booth_id, member_id)",
    "CREATE UNIQUE INDEX jobfair_lead_once ON jobfair_lead (booth_id, registration_id)",
    "CREATE UNIQUE INDEX jobfair_bookmark_once ON jobfair_bookmark (member_id, posting_id)",
    "CREATE UNIQUE INDEX jobfair_consent_once ON jobfair_consent (activity_id, member_id)",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="jobfairs", description=DESCRIPTION)

    async def unique_indexes() -> None:
        for statement in UNIQUE_INDEXES:
            await engine_finder().run_ddl(statement)

    manager.add_raw(unique_indexes)
    return manager
