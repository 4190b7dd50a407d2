from pathlib import Path

from piccolo.conf.apps import AppConfig

from service.tickets.tables import Revocation, TicketState

APP_CONFIG = AppConfig(
    app_name="tickets",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[TicketState, Revocation],
    migration_dependencies=["service.activities.piccolo_app"],
)
