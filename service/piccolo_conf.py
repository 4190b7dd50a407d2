"""Piccolo's registry: the engine chosen by settings and every room's app."""

from piccolo.conf.apps import AppRegistry

from service.db import create_engine
from service.settings import get_settings

DB = create_engine(get_settings().database_url)

APP_REGISTRY = AppRegistry(
    apps=[
        "service.orgs.piccolo_app",
        "service.accounts.piccolo_app",
        "service.activities.piccolo_app",
        "service.reminders.piccolo_app",
        "service.tickets.piccolo_app",
        "service.scans.piccolo_app",
        "service.checkin.piccolo_app",
        "service.reports.piccolo_app",
    ]
)
