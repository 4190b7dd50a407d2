"""Piccolo's registry: the engine chosen by settings and every room's app."""

from piccolo.conf.apps import AppRegistry

from service import rooms
from service.db import create_engine
from service.settings import get_settings

DB = create_engine(get_settings().database_url)

APP_REGISTRY = AppRegistry(apps=rooms.piccolo_apps())
