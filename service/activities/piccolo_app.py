from pathlib import Path

from piccolo.conf.apps import AppConfig

from service.activities.tables import Activity, EligibleGroup, EligibleNode, Registration

APP_CONFIG = AppConfig(
    app_name="activities",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Activity, EligibleNode, EligibleGroup, Registration],
    migration_dependencies=["service.orgs.piccolo_app"],
)
