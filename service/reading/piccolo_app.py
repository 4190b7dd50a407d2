from pathlib import Path

from piccolo.conf.apps import AppConfig

from service.reading.tables import (
    Demand,
    Holiday,
    PlanSession,
    ReadingChange,
    ReadingNote,
    ReadingRoom,
    RoomException,
    RoomExceptionInterval,
    RoomHours,
    RoomSeason,
    SessionBook,
    SessionDetails,
    StudyPlan,
)

APP_CONFIG = AppConfig(
    app_name="reading",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[
        ReadingRoom,
        RoomSeason,
        RoomHours,
        RoomException,
        RoomExceptionInterval,
        Holiday,
        SessionDetails,
        SessionBook,
        StudyPlan,
        PlanSession,
        ReadingNote,
        Demand,
        ReadingChange,
    ],
    migration_dependencies=["service.orgs.piccolo_app", "service.activities.piccolo_app"],
)
