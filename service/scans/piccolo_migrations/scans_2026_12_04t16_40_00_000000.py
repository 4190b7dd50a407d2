from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T16:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the client-id log and the undo audit every scan point shares"

# (column, class, its own params): the rest are Piccolo's defaults for a plain column.
CLIENT_LOG: list[tuple[str, type, dict[str, Any]]] = [
    ("point_type", Varchar, {"length": 24, "default": ""}),
    ("point_id", Integer, {"default": 0}),
    ("client_id", Varchar, {"length": 64, "default": ""}),
    ("scanner_id", Integer, {"default": None, "null": True}),
    ("answer_id", Integer, {"default": 0}),
    ("recorded_at", Timestamptz, {"default": TimestamptzNow()}),
]
UNDO_AUDIT: list[tuple[str, type, dict[str, Any]]] = [
    ("point_type", Varchar, {"length": 24, "default": ""}),
    ("point_id", Integer, {"default": 0, "index": True}),
    ("record_id", Integer, {"default": 0}),
    ("action", Varchar, {"length": 24, "default": ""}),
    ("actor_id", Integer, {"default": None, "null": True}),
    ("actor_name", Varchar, {"length": 50, "default": ""}),
    ("reason", Text, {"default": ""}),
    ("created_at", Timestamptz, {"default": TimestamptzNow()}),
]


def _params(own: dict[str, Any]) -> dict[str, Any]:
    return {
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **own,
    }


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="scans", description=DESCRIPTION)
    for class_name, tablename, columns in (
        ("ClientLog", "scan_client_log", CLIENT_LOG),
        ("UndoAudit", "scan_undo_audit", UNDO_AUDIT),
    ):
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, column_class, own in columns:
            manager.add_column(
                table_class_name=class_name,
                tablename=tablename,
                column_name=name,
                db_column_name=name,
                column_class_name=column_class.__name__,
                column_class=column_class,
                params=_params(own),
                schema=None,
            )

    return manager
