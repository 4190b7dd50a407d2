from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-04T16:40:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "one assignment per member, role and scope"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="orgs", description=DESCRIPTION)

    # One assignment per (scope, role, member), however many organisers add it at once.
    # Scope first: the same index lists who is assigned at a scope, and the door's
    # one-statement read finds a scanner's assignment by all four columns.
    async def one_assignment_per_member_role_and_scope() -> None:
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX org_assignment_once ON org_assignment "
            "(scope_kind, scope_id, role, member_id)"
        )

    manager.add_raw(one_assignment_per_member_role_and_scope)
    return manager
