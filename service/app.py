"""create_app(): routers, templates, static files, CSRF, error pages and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from jinja2 import Environment
from litestar import Litestar, Request, Response, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.params import FromQuery
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import File, Template
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from service import db, rooms
from service.caching import ConditionalCachingMiddleware
from service.health import healthz
from service.http import (
    EXCEPTION_HANDLERS,
    HOOKS,
    CSRFMiddleware,
    Identity,
    add_security_headers,
    local_input,
    page,
    reject_out_of_range_integers,
    resolve_request,
)
from service.i18n import (
    LANGUAGES,
    current_language,
    gettext,
    local_span,
    localdate,
    localtime,
    ngettext,
)
from service.keys import secret_key
from service.openapi import document_errors
from service.redis_client import close_redis
from service.settings import PROJECT_ROOT

WEB = PROJECT_ROOT / "web"
# Bump with web/static/sw.js's VERSION when CSS or scripts change: installed apps serve
# them from the service worker's cache.
STATIC_VERSION = "13"
MAX_BODY_BYTES = 1024 * 1024


def configure_jinja(engine: JinjaTemplateEngine) -> None:
    env: Environment = engine.engine
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["static_version"] = STATIC_VERSION
    env.filters["localtime"] = localtime
    env.filters["localdate"] = localdate
    env.globals["local_span"] = local_span
    env.filters["localinput"] = local_input


@get("/sw.js", include_in_schema=False, cache_control=CacheControlHeader(no_cache=True))
async def service_worker() -> File:
    """The service worker, from the root so that its scope is the whole site."""
    return File(
        WEB / "static" / "sw.js", content_disposition_type="inline", media_type="text/javascript"
    )


@get("/offline", include_in_schema=False, cache_control=CacheControlHeader(no_cache=True))
async def offline_page(
    request: Request[Any, Any, Any], lang: FromQuery[str | None] = None
) -> Template:
    """The page the service worker shows for a page it does not hold, kept once per
    language at install (it shows no one's data: offline.js lists what this phone kept)."""
    if lang in LANGUAGES:
        current_language.set(lang)
    # Signed-out look: the nav's links would only lead back here without a signal.
    # It must not make boot.js drop the kept pages as a signed-out page does.
    return page(request, "offline.html", actor=None, unread=None, keeps_private_pages=True)


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
    # The service worker reads it to show its offline page in the language last seen.
    response.headers.setdefault("Content-Language", current_language.get())
    return response


def install_room_hooks() -> None:
    """What service/http.py asks of the rooms (it imports none of them itself)."""
    from service.accounts import services as accounts
    from service.activities import schemas as activity_schemas
    from service.orgs import schemas as org_schemas
    from service.reminders import services as reminders

    async def identify(token: str | None, cookie: str | None) -> Identity:
        if token is not None:
            # A request with a bearer token is judged by the token alone, never by cookies.
            return Identity(await accounts.actor_for_api_token(token), None)
        state = await accounts.session_state(cookie)
        return Identity(state.actor, state.verified_phone)

    HOOKS.identify = identify
    HOOKS.unread_count = reminders.unread_count
    HOOKS.labels = {
        "group_labels": org_schemas.GROUP_LABELS,
        "role_labels": org_schemas.ROLE_LABELS,
        "node_kind_labels": org_schemas.NODE_KIND_LABELS,
        "status_labels": activity_schemas.STATUS_LABELS,
        "registration_status_labels": activity_schemas.REGISTRATION_STATUS_LABELS,
    }


def create_app() -> Litestar:
    install_room_hooks()
    return Litestar(
        route_handlers=[
            *rooms.route_handlers(),
            healthz,
            service_worker,
            offline_page,
            create_static_files_router(
                path="/static", directories=[WEB / "static"], include_in_schema=False
            ),
        ],
        template_config=TemplateConfig(
            directory=WEB / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=configure_jinja,
        ),
        middleware=[
            ConditionalCachingMiddleware,
            DefineMiddleware(CSRFMiddleware, key=secret_key("csrf")),
        ],
        # gzip for pages, CSS, JS and JSON: a phone on a slow network pays for every byte.
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=500, gzip_compress_level=6
        ),
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
