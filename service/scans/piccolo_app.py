from pathlib import Path

from piccolo.conf.apps import AppConfig

from service.scans.tables import ClientLog, UndoAudit

APP_CONFIG = AppConfig(
    app_name="scans",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[ClientLog, UndoAudit],
    migration_dependencies=[],
)
