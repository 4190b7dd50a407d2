from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON, Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T08:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "an episode's own rundown, and whether the organiser edited it"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="livestreams", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Episode",
        tablename="livestream_episode",
        column_name="rundown",
        db_column_name="rundown",
        column_class_name="JSON",
        column_class=JSON,
        params={
            "default": "[]",
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
    manager.add_column(
        table_class_name="Episode",
        tablename="livestream_episode",
        column_name="rundown_edited",
        db_column_name="rundown_edited",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
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
