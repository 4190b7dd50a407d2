from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "a lead's version, which the booth scan's compare-and-set write checks"


async def forwards() -> MigrationManager:
    # Existing leads start at version 0 (the column's default): a version is only ever
    # compared with the one just read, never with a number written down elsewhere.
    manager = MigrationManager(migration_id=ID, app_name="jobfairs", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Lead",
        tablename="jobfair_lead",
        column_name="version",
        db_column_name="version",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
