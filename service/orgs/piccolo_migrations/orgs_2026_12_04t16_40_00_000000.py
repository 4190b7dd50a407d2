from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-04T16:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "scoped assignments"


def _params(**overrides: object) -> dict[str, object]:
    return {
        "default": 0,
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **overrides,
    }


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="orgs", description=DESCRIPTION)
    manager.add_table(
        class_name="Assignment", tablename="org_assignment", schema=None, columns=None
    )
    for name, column_class, params in (
        ("member_id", Integer, _params(index=True)),
        ("role", Varchar, _params(length=32, default="")),
        ("scope_kind", Varchar, _params(length=32, default="")),
        ("scope_id", Integer, _params()),
        ("assigned_by", Integer, _params(default=None, null=True)),
        ("assigned_at", Timestamptz, _params(default=TimestamptzNow())),
    ):
        manager.add_column(
            table_class_name="Assignment",
            tablename="org_assignment",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )

    return manager
