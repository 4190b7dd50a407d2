from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Varchar
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-12-04T17:55:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "the pinyin sort key of every existing member, and its index"


class _Member(Table, tablename="org_member"):
    # The table as it is at this migration (not the app's class, which may change).
    id = Integer(primary_key=True)
    name = Varchar(length=50)
    name_sort = Varchar(length=200)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="orgs", description=DESCRIPTION)

    async def fill_sort_keys() -> None:
        from service.orgs.services import name_sort_key

        for row in await _Member.select(_Member.id, _Member.name).run():
            await _Member.update({_Member.name_sort: name_sort_key(row["name"])}).where(
                _Member.id == row["id"]
            ).run()
        await engine_finder().run_ddl(
            "CREATE INDEX org_member_name_sort ON org_member (name_sort, name)"
        )

    manager.add_raw(fill_sort_keys)
    return manager
