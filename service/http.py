"""What every controller shares: who is asking, in which language, how pages render,
and how errors come back (JSON on /api, a page in the user's language elsewhere)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import MediaType, Request, Response
from litestar.background_tasks import BackgroundTask
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    ValidationException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.response import File, Redirect, Stream, Template
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from service import kinds
from service.errors import DomainError
from service.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    LANGUAGES,
    current_language,
    from_accept_language,
    gettext,
    normalise_language,
)
from service.settings import get_settings

if TYPE_CHECKING:  # typing only: at run time this module imports no room
    from service.orgs.schemas import Actor

log = logging.getLogger(__name__)

SESSION_COOKIE = "uh_session"
LANGUAGE_COOKIE = "uh_lang"
API_PREFIX = "/api/"
NO_NAV_PREFIXES = (API_PREFIX, "/static/", "/sw.js", "/healthz", "/schema")


# --- what this module needs of the rooms: installed by create_app ----------------------


@dataclass(frozen=True)
class Identity:
    actor: Actor | None
    verified_phone: str | None  # between code verification and self-registration


@dataclass
class RoomHooks:
    """The rooms' answers this module asks for; create_app() installs them, so this
    module imports no room (ARCHITECTURE.md: shared modules reach rooms through hooks)."""

    # (bearer token, session cookie) → who is asking; a bearer token is judged alone.
    identify: Callable[[str | None, str | None], Awaitable[Identity]] | None = None
    # member id → unread messages, for the nav's badge.
    unread_count: Callable[[int], Awaitable[int]] | None = None
    # Label tables templates read (worker groups, roles, statuses, …), by global name.
    labels: dict[str, dict[str, str]] | None = None


HOOKS = RoomHooks()


# --- who is asking ----------------------------------------------------------------------


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def resolve_request(request: Request[Any, Any, Any]) -> None:
    """before_request: attach the actor and set the language for this request."""
    assert HOOKS.identify is not None, "create_app() installs the hooks"
    state = await HOOKS.identify(bearer_token(request), request.cookies.get(SESSION_COOKIE))
    request.state.actor = state.actor
    request.state.verified_phone = state.verified_phone
    current_language.set(request_language(request))
    request.state.unread = None
    if (
        HOOKS.unread_count is not None
        and state.actor is not None
        and state.actor.member_id is not None
        and renders_nav(request)
    ):
        # The nav's unread badge: one indexed COUNT per full page, none for API calls,
        # static files or htmx partials.
        request.state.unread = await HOOKS.unread_count(state.actor.member_id)


def renders_nav(request: Request[Any, Any, Any]) -> bool:
    if request.method != "GET" or request.url.path.startswith(NO_NAV_PREFIXES):
        return False
    return not request.headers.get("hx-request") or bool(request.headers.get("hx-boosted"))


def request_language(request: Request[Any, Any, Any]) -> str:
    actor: Actor | None = request.state.get("actor")
    if actor is not None and actor.language in LANGUAGES:
        return actor.language
    return (
        normalise_language(request.cookies.get(LANGUAGE_COOKIE))
        or from_accept_language(request.headers.get("accept-language"))
        or DEFAULT_LANGUAGE
    )


def optional_actor(request: Request[Any, Any, Any]) -> Actor | None:
    return request.state.get("actor")


def require_actor(request: Request[Any, Any, Any]) -> Actor:
    actor = optional_actor(request)
    if actor is None:
        raise DomainError("not_signed_in", "Sign in to continue.")
    return actor


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def is_https(request: Request[Any, Any, Any]) -> bool:
    return request.url.scheme == "https"


def is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith(API_PREFIX)


# --- sessions on the response -----------------------------------------------------------


def with_session(
    response: Response[Any], request: Request[Any, Any, Any], token: str, *, max_age: timedelta
) -> Any:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(max_age.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )
    return response


def without_session(response: Response[Any]) -> Any:
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- parsing ---


def parse_local(raw: str, field: str) -> datetime:
    """A datetime-local form value (no zone) read in the service's time zone."""
    try:
        naive = datetime.fromisoformat((raw or "").strip())
    except ValueError:
        raise DomainError("validation_error", "Enter a date and time.", field=field) from None
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=get_settings().zone)


def parse_optional_local(raw: str, field: str) -> datetime | None:
    return parse_local(raw, field) if (raw or "").strip() else None


def parse_day(raw: str | None, field: str) -> datetime | None:
    """A date (local midnight) or a full timestamp from a query string or form field."""
    if not raw:
        return None
    try:
        day = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise DomainError(
            "validation_error", "Enter a date such as 2026-05-01.", field=field
        ) from None
    return day.replace(tzinfo=day.tzinfo or get_settings().zone)


def parse_day_end(raw: str | None, field: str) -> datetime | None:
    """The end of a range: a date means up to the end of that day."""
    moment = parse_day(raw, field)
    if moment is not None and raw is not None and len(raw.strip()) == len("2026-05-01"):
        moment += timedelta(days=1)
    return moment


def local_input(moment: datetime | None) -> str:
    """A datetime-local form value (no zone) in the service's time zone."""
    return moment.astimezone(get_settings().zone).strftime("%Y-%m-%dT%H:%M") if moment else ""


# --- pages ------------------------------------------------------------------------------


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status_code: int = 200,
    partials: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """Render a page; an htmx request aimed at one of `partials` (HX-Target → block name)
    gets just that block."""
    block = None
    if request.headers.get("hx-request") and not request.headers.get("hx-boosted"):
        block = (partials or {}).get(request.headers.get("hx-target", ""))
    return HTMXBlockTemplate(
        template_name=template,
        block_name=block,
        status_code=status_code,
        context={**page_context(request), **context},
    )


def page_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {
        "actor": optional_actor(request),
        "lang": current_language.get(),
        "languages": LANGUAGE_NAMES,
        **(HOOKS.labels or {}),
        "kind_labels": kinds.labels(),
        "kind_of": kinds.find,
        "path": request.url.path,
        "unread": request.state.get("unread"),
    }


def form_error(error: DomainError) -> dict[str, Any]:
    """Context for re-rendering a form with the error beside its field."""
    return {"error": gettext(error.message, **error.params), "error_field": error.field}


def safe_next(target: str | None) -> str:
    """Only same-site paths may be a redirect target."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


# --- errors -----------------------------------------------------------------------------


def _error_response(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    /,
    extra: dict[str, Any] | None = None,
    **params: Any,
) -> Response[Any]:
    current_language.set(request_language(request))
    text = gettext(message, **params)
    if is_api(request):
        body = (
            (extra or {}) | {"code": code, "message": text} | ({"field": field} if field else {})
        )
        return Response(body, status_code=status, media_type=MediaType.JSON)
    if code == "not_signed_in":
        return Redirect(f"/signin?next={request.url.path}")
    return page(request, "error.html", status_code=status, status=status, message=text)


def domain_error_handler(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    return _error_response(
        request,
        error.status_code,
        error.code,
        error.message,
        error.field,
        extra=error.extra,
        **error.params,
    )


HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("validation_error", "Something in the request was not right. Check it and try again."),
    401: ("not_signed_in", "Sign in to continue."),
    403: ("forbidden", "You do not have access to this page."),
    404: ("not_found", "This page does not exist. Check the address or go back home."),
    405: ("method_not_allowed", "This page cannot be used that way."),
    413: ("too_large", "What you sent is too large. Shorten it and try again."),
    429: ("too_many_requests", "Too many attempts. Wait a minute and try again."),
}


def http_error_handler(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    status = error.status_code
    if status == 400 and is_api(request):
        # Litestar's validation detail says which field is wrong; keep it for API callers.
        extra = getattr(error, "extra", None)
        return Response(
            {
                "code": "validation_error",
                "message": gettext(
                    "Something in the request was not right. Check it and try again."
                ),
                "detail": error.detail,
                "errors": extra,
            },
            status_code=400,
            media_type=MediaType.JSON,
        )
    code, message = HTTP_MESSAGES.get(
        status, ("error", "Something went wrong on our side. Try again in a minute.")
    )
    return _error_response(request, status, code, message)


def server_error_handler(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return _error_response(
        request, 500, "server_error", "Something went wrong on our side. Try again in a minute."
    )


def undecodable_body_handler(
    request: Request[Any, Any, Any], error: UnicodeDecodeError
) -> Response[Any]:
    """A body that is not UTF-8: the JSON decoder raises UnicodeDecodeError, which Litestar
    would otherwise answer with a 500."""
    return domain_error_handler(
        request,
        DomainError(
            "validation_error", "Something in the request was not right. Check it and try again."
        ),
    )


def overflow_handler(request: Request[Any, Any, Any], error: OverflowError) -> Response[Any]:
    """The safety net behind reject_out_of_range_integers: a number too large for Python
    to convert (for the database, a date, a duration) is the request's fault, not ours."""
    return http_error_handler(request, ValidationException())


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error_handler,
    OverflowError: overflow_handler,
    UnicodeDecodeError: undecodable_body_handler,
    HTTPException: http_error_handler,
    NotFoundException: http_error_handler,
    500: server_error_handler,
}


# --- CSRF -------------------------------------------------------------------------------

CSRF_COOKIE = "uh_csrf"  # a visitor's random id, before sign-in
CSRF_HEADER = "x-csrftoken"
CSRF_FIELD = "_csrf_token"  # the hidden field of a form that posts without JavaScript
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_token_for(key: bytes, session: str | None, visitor: str | None) -> str | None:
    """The token a page carries: an HMAC of the session cookie once signed in, of the
    visitor cookie before. Bound to the session, it changes at sign-in (the session id
    rotates) and a token read from another browser's page is worth nothing here."""
    if session:
        material = b"session:" + session.encode()
    elif visitor:
        material = b"visitor:" + visitor.encode()
    else:
        return None
    return hmac.new(key, material, hashlib.sha256).hexdigest()


class CSRFMiddleware:
    """Every unsafe request that carries cookies must show the token of those cookies, in
    the x-csrftoken header (htmx, fetch) or the `_csrf_token` field (a form without JS).

    A bearer-token request carries no ambient credential, so it has nothing to forge and
    skips the check, and so does an API call without a session cookie (anonymous: it gets
    its 401). Pages read the token as `csrf_token()` / `csrf_input` (Litestar's template
    callables read it from the scope state). A visitor with neither cookie gets a random
    visitor cookie with the first page, such as the one with the sign-in form."""

    def __init__(self, app: ASGIApp, key: bytes) -> None:
        self.app = app
        self.key = key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(
            scope=scope, receive=receive
        )
        if bearer_token(request) is not None:
            await self.app(scope, receive, send)
            return
        session = request.cookies.get(SESSION_COOKIE)
        visitor = request.cookies.get(CSRF_COOKIE)
        unsafe = request.method in UNSAFE_METHODS
        new_visitor = None
        if not (session or visitor or unsafe) and not scope["path"].startswith(NO_NAV_PREFIXES):
            # Only with a page: a static file may be kept by a shared cache, cookie and all.
            new_visitor = visitor = secrets.token_urlsafe(32)
        expected = csrf_token_for(self.key, session, visitor)
        ScopeState.from_scope(scope).csrf_token = expected or ""
        if unsafe and (session or not scope["path"].startswith(API_PREFIX)):
            supplied = await _supplied_csrf_token(request)
            # As bytes: compare_digest refuses a str with non-ASCII characters (a 500).
            if not (
                expected
                and supplied
                and hmac.compare_digest(supplied.encode(), expected.encode())
            ):
                raise DomainError(
                    "csrf_failed", "This form has expired. Go back, reload the page and try again."
                )
        if new_visitor is None:
            await self.app(scope, receive, send)
            return

        async def send_with_visitor_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = Cookie(
                    key=CSRF_COOKIE,
                    value=new_visitor,
                    path="/",
                    httponly=True,
                    samesite="lax",
                    secure=scope.get("scheme") == "https",
                )
                MutableScopeHeaders.from_message(message).add(
                    "set-cookie", cookie.to_header(header="")
                )
            await send(message)

        await self.app(scope, receive, send_with_visitor_cookie)


async def _supplied_csrf_token(request: Request[Any, Any, Any]) -> str | None:
    supplied = request.headers.get(CSRF_HEADER)
    if supplied:
        return supplied
    if request.content_type[0] in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        # Litestar keeps the parsed form for the handler.
        field = (await request.form()).get(CSRF_FIELD)
        return field if isinstance(field, str) else None
    return None


# --- integers the database cannot hold --------------------------------------------------

# Ids, counts and capacities are INTEGER columns: 32-bit on PostgreSQL (Piccolo's Serial
# and Integer), 64-bit on SQLite, while Python's and msgspec's ints are unbounded. This
# guard (one for the whole app) answers a larger integer before any handler sees it: 404
# in a path (no such row can exist), 400 in a query parameter or a JSON body. Form fields
# are text the pages parse with their own bounds (a phone number is 11 digits).
DB_INT_MIN, DB_INT_MAX = -(2**31), 2**31 - 1
_LONG_NUMBER = re.compile(rb"\d{10}")  # fewer than 10 digits always fit: skip the rest
_INTEGER_TEXT = re.compile(r"\s*[+-]?\d+\s*")


def fits_db_int(value: int) -> bool:
    return DB_INT_MIN <= value <= DB_INT_MAX


def _holds_huge_integer(value: Any) -> bool:
    """A decoded JSON value holding an integer out of the database's range, at any depth."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not fits_db_int(value)
    if isinstance(value, list):
        return any(_holds_huge_integer(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_huge_integer(item) for item in value.values())
    return False


def _integer_query_names(handler: BaseRouteHandler) -> frozenset[str]:
    """The handler's parameters typed int (or int | None): the ones read as numbers.
    Worked out only for a query holding a long number, so not cached."""
    return frozenset(
        name
        for name, field in handler.parsed_fn_signature.parameters.items()
        if field.is_subclass_of(int) or field.has_inner_subclass_of(int)
    )


async def reject_out_of_range_integers(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    if any(
        isinstance(value, int) and not fits_db_int(value)
        for value in connection.path_params.values()
    ):
        raise NotFoundException()
    if _LONG_NUMBER.search(connection.scope.get("query_string", b"")):
        numbers = _integer_query_names(handler)
        if any(
            name in numbers
            and _INTEGER_TEXT.fullmatch(value) is not None
            and not fits_db_int(int(value))
            for name, value in connection.query_params.multi_items()
        ):
            raise ValidationException()
    if (
        isinstance(connection, Request)
        and connection.method in {"POST", "PUT", "PATCH"}
        and connection.content_type[0] == "application/json"
    ):
        body = await connection.body()  # Litestar keeps it for the handler
        if not _LONG_NUMBER.search(body):
            return
        try:
            decoded = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return  # malformed: the handler's own parsing answers it
        if _holds_huge_integer(decoded):
            raise ValidationException()


# --- security headers -------------------------------------------------------------------

# No inline script runs (the templates load theirs from /static; a JSON data block is not
# executed); inline styles stay allowed for the few style="" attributes and htmx's
# indicator style. Nothing may frame a page.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("x-frame-options", "DENY"),
)
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


async def add_security_headers(message: Message, scope: Scope) -> None:
    """before_send, so every response has them: pages, API, static files, and the error
    answers (an unknown path, a 405, a 500) that never reach a handler's after_request.
    Over TLS also HSTS."""
    if message["type"] != "http.response.start" or scope["type"] != "http":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in SECURITY_HEADERS:
        if name not in headers:
            headers[name] = value
    if scope.get("scheme") == "https":
        headers["strict-transport-security"] = STRICT_TRANSPORT_SECURITY


# --- files --------------------------------------------------------------------------------


class Downloadable(Protocol):
    """A file ready to send (service/reports/exports.py's Export): `chunks` to stream, or a
    finished file at `path`, deleted once sent when `temporary`."""

    filename: str
    media_type: str
    chunks: AsyncIterator[bytes] | None
    path: Path | None
    temporary: bool


def send(export: Downloadable) -> Response[Any]:
    """A file as a private download, for every room that offers one."""
    private = {"Cache-Control": "no-store"}
    if export.chunks is not None:
        disposition = f'attachment; filename="{export.filename}"'
        return Stream(
            export.chunks,
            media_type=export.media_type,
            headers={**private, "Content-Disposition": disposition},
        )
    assert export.path is not None
    path = export.path
    return File(
        path,
        filename=export.filename,
        media_type=export.media_type,
        headers=private,
        background=BackgroundTask(path.unlink, missing_ok=True) if export.temporary else None,
    )
