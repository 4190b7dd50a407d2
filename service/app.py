"""create_app(): routers, templates, static files, CSRF, error pages and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cache
from typing import Any

from babel import Locale
from babel.dates import format_datetime
from jinja2 import Environment
from litestar import Litestar, Response, get
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import File
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from service import db
from service.accounts.api import AccountApi
from service.accounts.pages import AccountPages
from service.activities.api import ActivityApi
from service.activities.pages import ActivityPages
from service.checkin.api import CheckinApi
from service.checkin.pages import CheckinPages
from service.health import healthz
from service.http import (
    EXCEPTION_HANDLERS,
    BearerAwareCSRFMiddleware,
    add_security_headers,
    local_input,
    reject_out_of_range_integers,
    resolve_request,
)
from service.i18n import current_language, gettext, ngettext
from service.keys import secret_key
from service.openapi import document_errors
from service.orgs.api import OrgApi
from service.orgs.pages import OrgPages
from service.redis_client import close_redis
from service.reminders.api import ReminderApi
from service.reminders.pages import ReminderPages
from service.reports.api import ReportApi
from service.reports.export_pages import ExportPages
from service.reports.pages import ReportPages
from service.settings import PROJECT_ROOT, get_settings
from service.tickets.api import TicketApi
from service.tickets.pages import TicketPages

WEB = PROJECT_ROOT / "web"
# Bump with web/static/sw.js's VERSION when CSS or scripts change: installed apps serve
# them from the service worker's cache.
STATIC_VERSION = "4"
MAX_BODY_BYTES = 1024 * 1024


def configure_jinja(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["static_version"] = STATIC_VERSION
    env.filters["localtime"] = localtime
    env.filters["localinput"] = local_input


def localtime(moment: datetime | None, *, short: bool = False) -> str:
    """A UTC time as people read it here: local zone, their language, no seconds."""
    if moment is None:
        return ""
    zh = current_language.get() == "zh-CN"
    pattern = "HH:mm" if short else ("M月d日 EEE HH:mm" if zh else "EEE d MMM HH:mm")
    return format_datetime(moment, pattern, tzinfo=get_settings().zone, locale=_locale(zh))


@cache
def _locale(zh: bool) -> Locale:
    # Parsed once: babel re-reads its locale data for a locale given as a string each call.
    return Locale.parse("zh_CN" if zh else "en_GB")


@get("/sw.js", include_in_schema=False, cache_control=CacheControlHeader(no_cache=True))
async def service_worker() -> File:
    """The service worker, from the root so that its scope is the whole site."""
    return File(
        WEB / "static" / "sw.js", content_disposition_type="inline", media_type="text/javascript"
    )


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    await db.open_pool()
    try:
        yield
    finally:
        await close_redis()
        await db.close_pool()


async def add_headers(response: Response[Any]) -> Response[Any]:
    response.headers.setdefault("Vary", "HX-Request")
    return response


def create_app() -> Litestar:
    csrf = CSRFConfig(
        secret=secret_key("csrf").hex(),
        cookie_httponly=True,
        cookie_samesite="lax",
        cookie_name="uh_csrf",
    )
    return Litestar(
        route_handlers=[
            AccountPages,
            ActivityPages,
            OrgPages,
            TicketPages,
            CheckinPages,
            ReportPages,
            ExportPages,
            ReminderPages,
            AccountApi,
            ActivityApi,
            OrgApi,
            TicketApi,
            CheckinApi,
            ReportApi,
            ReminderApi,
            healthz,
            service_worker,
            create_static_files_router(
                path="/static", directories=[WEB / "static"], include_in_schema=False
            ),
        ],
        template_config=TemplateConfig(
            directory=WEB / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=configure_jinja,
        ),
        middleware=[DefineMiddleware(BearerAwareCSRFMiddleware, config=csrf)],
        csrf_config=None,
        guards=[reject_out_of_range_integers],
        before_request=resolve_request,
        after_request=add_headers,
        before_send=[add_security_headers],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        on_startup=[document_errors],
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(title="Unionhall", version="1", path="/schema"),
    )
