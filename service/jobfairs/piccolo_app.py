from pathlib import Path

from piccolo.conf.apps import AppConfig

from service.jobfairs.tables import (
    Bookmark,
    Booth,
    Consent,
    Employer,
    EmployerInvite,
    Lead,
    Posting,
    StageScan,
)

APP_CONFIG = AppConfig(
    app_name="jobfairs",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=[Employer, EmployerInvite, Booth, Posting, Bookmark, Consent, Lead, StageScan],
    migration_dependencies=[
        "service.orgs.piccolo_app",
        "service.checkin.piccolo_app",
        "service.scans.piccolo_app",  # booth scans use the shared client-id log and audit
        "service.activities.piccolo_app",
    ],
)
