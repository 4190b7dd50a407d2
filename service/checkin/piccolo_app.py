from pathlib import Path

from piccolo.conf.apps import AppConfig

from service.checkin.tables import CheckinSettings, Scan

APP_CONFIG = AppConfig(
    app_name="checkin",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Scan, CheckinSettings],
    migration_dependencies=["service.tickets.piccolo_app", "service.scans.piccolo_app"],
)
