"""The one list of rooms. Piccolo's apps, the web app's routes, the tables the tests clear
and the kinds registry are all derived from it, so a new room is added here and nowhere
else.

A room is a package `service/<name>/`. What it may hold, each found by name:
`piccolo_app.py` (its tables and migrations), `api.py` and `pages.py` (each with a
`ROUTES` list of controllers and handlers), `kind.py` (a `KIND` for the kinds registry).
This module names rooms only as strings: importing it imports no room.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Any

# In dependency order: a room comes after the rooms its migrations depend on.
ROOMS: tuple[str, ...] = (
    "orgs",
    "accounts",
    "activities",
    "reminders",
    "tickets",
    "scans",  # the shared scan mechanism: no routes, but tables every scan point uses
    "checkin",
    "reports",
    "jobfairs",
    "reading",
    "livestreams",
    "heatrelief",
)
WEB_MODULES = ("api", "pages")


def _optional(module_name: str) -> ModuleType | None:
    if importlib.util.find_spec(module_name) is None:
        return None
    return importlib.import_module(module_name)


def piccolo_apps() -> list[str]:
    """Piccolo's app modules, for service/piccolo_conf.py."""
    return [
        f"service.{room}.piccolo_app"
        for room in ROOMS
        if importlib.util.find_spec(f"service.{room}.piccolo_app") is not None
    ]


def table_classes() -> list[Any]:
    """Every room's tables, parents before children (foreign keys)."""
    from piccolo.table import sort_table_classes

    tables: list[Any] = []
    for app in piccolo_apps():
        tables.extend(importlib.import_module(app).APP_CONFIG.table_classes)
    return sort_table_classes(tables)


def route_handlers() -> list[Any]:
    """Every room's controllers and handlers, pages first (for the web app only)."""
    handlers: list[Any] = []
    for module_kind in ("pages", "api"):
        for room in ROOMS:
            module = _optional(f"service.{room}.{module_kind}")
            if module is not None:
                handlers.extend(module.ROUTES)
    return handlers
