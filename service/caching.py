"""How long browsers keep what we send, and the 304 that spares a phone the bytes again.

A static file asked for with its version (`?v=STATIC_VERSION`, or a vendored file whose
name carries its version) never changes at that address: it is kept a year, immutable.
Anything else under /static/ is revalidated each time. Any GET answered with an ETag
(static files and the service worker: Litestar's File sets one from size and mtime) is
answered 304 when the browser already holds that ETag. Pages carry no ETag, so they are
never answered 304: they are private and change with every sign-up."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

STATIC_PREFIX = "/static/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# What a 304 keeps (RFC 9110 15.4.5): the validators and caching headers, no body headers.
KEPT_ON_304 = {"etag", "cache-control", "vary", "expires", "last-modified", "content-location"}


def is_versioned(path: str, query_string: bytes) -> bool:
    if not path.startswith(STATIC_PREFIX):
        return False
    if path.startswith(f"{STATIC_PREFIX}vendor/"):
        return True
    return any(part.startswith(b"v=") and len(part) > 2 for part in query_string.split(b"&"))


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison, as RFC 9110 asks for If-None-Match."""
    if if_none_match.strip() == "*":
        return True
    ours = etag.strip().removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == ours for tag in if_none_match.split(","))


class ConditionalCachingMiddleware:
    """Plain ASGI, outside everything else, so that it sees each response's final
    headers (it runs before compression's body work matters: a 304 has no body)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        request_headers = MutableScopeHeaders(scope)
        if_none_match = request_headers.get("if-none-match")
        path: str = scope["path"]
        versioned = is_versioned(path, scope.get("query_string", b""))
        answered = False

        async def send_wrapper(message: Message) -> None:
            nonlocal answered
            if answered:
                return  # the 304 went out; the file's body is not sent
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                if path.startswith(STATIC_PREFIX) and message["status"] == 200:
                    headers["cache-control"] = IMMUTABLE if versioned else REVALIDATE
                etag = headers.get("etag")
                if (
                    message["status"] == 200
                    and if_none_match
                    and etag
                    and etag_matches(if_none_match, etag)
                ):
                    kept = [
                        (name, value)
                        for name, value in message["headers"]
                        if name.decode("latin-1").lower() in KEPT_ON_304
                    ]
                    answered = True
                    await send({"type": "http.response.start", "status": 304, "headers": kept})
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            await send(message)

        await self.app(scope, receive, send_wrapper)
