from pathlib import Path

from piccolo.conf.apps import AppConfig

from service.reminders.tables import (
    ActivitySchedule,
    ChannelPrefs,
    DeliveryAttempt,
    Notification,
    OutboxMessage,
    PushSubscription,
)

APP_CONFIG = AppConfig(
    app_name="reminders",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        OutboxMessage,
        Notification,
        DeliveryAttempt,
        ChannelPrefs,
        PushSubscription,
        ActivitySchedule,
    ],
    migration_dependencies=["service.orgs.piccolo_app"],
)
