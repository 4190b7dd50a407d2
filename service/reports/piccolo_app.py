from pathlib import Path

from piccolo.conf.apps import AppConfig

from service.reports.tables import ExportAudit

APP_CONFIG = AppConfig(
    app_name="reports",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[ExportAudit],
    migration_dependencies=["service.checkin.piccolo_app"],
)
