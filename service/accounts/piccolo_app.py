from pathlib import Path

from piccolo.conf.apps import AppConfig

from service.accounts.tables import ApiToken, Session, SignInCode

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[SignInCode, Session, ApiToken],
    migration_dependencies=["service.orgs.piccolo_app"],
)
