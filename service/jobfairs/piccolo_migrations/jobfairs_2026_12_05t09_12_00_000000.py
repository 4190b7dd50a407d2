from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-05T09:12:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "employer invite links: a link per fair, employers marked as joined by it"

def _params(**changes):
    params = {
        "default": 0,
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }
    params.update(changes)
    return params


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="jobfairs", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Employer",
        tablename="jobfair_employer",
        column_name="via_invite",
        db_column_name="via_invite",
        column_class_name="Boolean",
        column_class=Boolean,
        params=_params(default=False),
        schema=None,
    )

    manager.add_table(
        class_name="EmployerInvite",
        tablename="jobfair_employer_invite",
        schema=None,
        columns=None,
    )
    for name, column_class, params in (
        ("activity_id", Integer, _params(unique=True)),
        ("version", Integer, _params(default=1)),
        ("active", Boolean, _params(default=False)),
        ("updated_at", Timestamptz, _params(default=TimestamptzNow())),
    ):
        manager.add_column(
            table_class_name="EmployerInvite",
            tablename="jobfair_employer_invite",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
