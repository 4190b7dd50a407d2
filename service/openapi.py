"""The API contract's error half, in one place: every error answer of /api/v1 has one
shape (service/http.py's `_error_response` and `http_error_handler` send it), declared on
every operation with the statuses it can take, and the Bearer scheme is declared.

Litestar documents its own ValidationException body (`status_code`, `detail`) for 400,
which is not what the service sends; `document_errors` replaces it when the app starts,
before the document is first served."""

from __future__ import annotations

from typing import Any

from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
    SecurityScheme,
)

BEARER = "BearerToken"
ERROR_SCHEMA = "Error"

ERROR_BODY = Schema(
    type=OpenAPIType.OBJECT,
    required=["code", "message"],
    properties={
        "code": Schema(
            type=OpenAPIType.STRING,
            description="Stable error code: validation_error, not_signed_in, forbidden, "
            "not_found, conflict, last_admin, too_many_requests, too_large, …",
        ),
        "message": Schema(type=OpenAPIType.STRING, description="In the caller's language"),
        "field": Schema(type=OpenAPIType.STRING, description="The input at fault, if one"),
        "detail": Schema(description="For a malformed request: what the parser said"),
        "errors": Schema(description="For a malformed request: the parser's findings"),
    },
    description="Every error of the API: one shape.",
)

# Status → when it is answered.
ERRORS: dict[int, str] = {
    400: "The request is malformed or breaks a rule (see `code` and `field`)",
    401: "No valid session or bearer token",
    403: "Signed in, but this is not yours to see or do",
    404: "No such thing (or not in your organisations)",
    405: "This operation does not exist on this path",
    409: "The request conflicts with the current state (full, taken, closed, last admin)",
    429: "Too many requests: wait and try again",
    503: "A service this needs (Redis, the SMS gateway) is briefly unavailable",
}
BODY_ERRORS: dict[int, str] = {413: "The body is larger than the service accepts (1 MB)"}
METHODS = ("get", "put", "post", "delete", "patch")


def _error_response(description: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={
            "application/json": OpenAPIMediaType(
                schema=Reference(ref=f"#/components/schemas/{ERROR_SCHEMA}")
            )
        },
    )


def document_errors(app: Any) -> None:
    """on_startup: declare the error shape, the error statuses and the Bearer scheme."""
    document = app.openapi_schema
    components = document.components or Components()
    document.components = components
    components.schemas = {**(components.schemas or {}), ERROR_SCHEMA: ERROR_BODY}
    components.security_schemes = {
        **(components.security_schemes or {}),
        BEARER: SecurityScheme(
            type="http",
            scheme="bearer",
            description="`unionhall tokens create --phone P`; or the session cookie",
        ),
    }
    for path, item in (document.paths or {}).items():
        if not path.startswith("/api/"):
            continue
        for method in METHODS:
            operation = getattr(item, method, None)
            if operation is None:
                continue
            statuses = dict(ERRORS)
            if operation.request_body is not None:
                statuses |= BODY_ERRORS
            responses = operation.responses or {}
            for status, description in statuses.items():
                responses[str(status)] = _error_response(description)
            operation.responses = responses
            operation.security = [{BEARER: []}, {}]
