from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T17:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "members' names get a pinyin sort key"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="orgs", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Member",
        tablename="org_member",
        column_name="name_sort",
        db_column_name="name_sort",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 200,
            "default": "",
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
