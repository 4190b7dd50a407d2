from pathlib import Path

from piccolo.conf.apps import AppConfig

from service.livestreams.tables import (
    Blockout,
    Channel,
    ChannelColumn,
    CrewMember,
    Duty,
    Episode,
    EpisodeDepartment,
    ReminderKey,
    RoleNeed,
    Schedule,
    Subscription,
    ViewerFigures,
)

APP_CONFIG = AppConfig(
    app_name="livestreams",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        Channel,
        ChannelColumn,
        Schedule,
        Episode,
        Subscription,
        ReminderKey,
        ViewerFigures,
        CrewMember,
        RoleNeed,
        Blockout,
        Duty,
        EpisodeDepartment,
    ],
    migration_dependencies=[
        "service.activities.piccolo_app",
        "service.orgs.piccolo_app",
        "service.reminders.piccolo_app",
    ],
)
