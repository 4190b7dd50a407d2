from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T17:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "booth device links: the version a revocation bumps"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="jobfairs", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Booth",
        tablename="jobfair_booth",
        column_name="device_version",
        db_column_name="device_version",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 1,
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
