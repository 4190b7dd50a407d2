from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-04T16:37:13:000000"
VERSION = "1.38.0"
DESCRIPTION = "stock never below zero; one row per item and holder"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="heatrelief", description=DESCRIPTION)

    # The last guard of "a balance never goes below zero", behind the conditional write in
    # services.take_stock. SQLite cannot ALTER TABLE … ADD CONSTRAINT, so there the table
    # (created empty by the previous migration) is made again with the check.
    async def balance_never_negative() -> None:
        engine = engine_finder()
        if isinstance(engine, PostgresEngine):
            await engine.run_ddl(
                "ALTER TABLE heatrelief_stock "
                "ADD CONSTRAINT heatrelief_stock_balance_not_negative CHECK (balance >= 0)"
            )
        else:
            await engine.run_ddl("DROP TABLE heatrelief_stock")
            await engine.run_ddl(
                'CREATE TABLE "heatrelief_stock" ("id" INTEGER PRIMARY KEY NOT NULL, '
                '"item_id" INTEGER NOT NULL DEFAULT 0, "team_id" INTEGER NOT NULL DEFAULT 0, '
                '"balance" INTEGER NOT NULL DEFAULT 0, '
                "CONSTRAINT heatrelief_stock_balance_not_negative CHECK (balance >= 0))"
            )
        # One balance per item and holder: put_stock's upsert needs it.
        await engine.run_ddl(
            "CREATE UNIQUE INDEX heatrelief_stock_one_per_holder "
            "ON heatrelief_stock (item_id, team_id)"
        )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX heatrelief_delivery_line_once "
            "ON heatrelief_delivery_line (delivery_id, item_id)"
        )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX heatrelief_delivery_reach_once "
            "ON heatrelief_delivery_reach (delivery_id, worker_group)"
        )

    manager.add_raw(balance_never_negative)
    return manager
