from pathlib import Path

from piccolo.conf.apps import AppConfig

from service.orgs.tables import Assignment, Member, Node

APP_CONFIG = AppConfig(
    app_name="orgs",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Node, Member, Assignment],
)
