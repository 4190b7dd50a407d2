"""DomainError: a broken business rule, with a stable code and a message to translate."""

from __future__ import annotations

from typing import Any

# The HTTP status each stable code maps to; anything unlisted is a 400.
STATUS_BY_CODE: dict[str, int] = {
    "validation_error": 400,
    "not_signed_in": 401,
    "forbidden": 403,
    "csrf_failed": 403,  # an unsafe request without its page's token (service/http.py)
    "not_attended": 403,
    "not_found": 404,
    "conflict": 409,
    "activity_full": 409,
    "not_open": 409,
    "signup_not_offered": 409,
    "no_door": 409,
    "stage_backwards": 409,  # job fairs: a booth stage only moves forward
    "wrong_activity": 409,
    "kind_not_editable": 409,
    "no_ticket": 404,
    "duplicate_phone": 409,
    "unknown_member": 404,
    "unknown_scope": 404,
    "out_of_reach": 403,
    "duplicate_assignment": 409,
    "last_admin": 409,
    "too_many_requests": 429,
    "service_unavailable": 503,
    "sms_failed": 503,
    "unknown_point_type": 404,
    "no_such_point": 404,
    "point_closed": 409,
    "photo_too_large": 413,
}


class DomainError(Exception):
    """Raised by services; one handler renders it as JSON or a form message.

    `message` is an English msgid; it is translated to the user's language at the edge,
    with `params` filled in after translation. `extra` holds machine-readable facts an API
    caller needs beside the message (such as the allowed intervals); JSON answers carry
    its keys next to `code` and `message`.
    """

    def __init__(
        self,
        code: str,
        message: str,
        /,
        *,
        field: str | None = None,
        extra: dict[str, Any] | None = None,
        **params: Any,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra or {}
        self.params = params

    @property
    def status_code(self) -> int:
        return STATUS_BY_CODE.get(self.code, 400)


class NotFound(DomainError):
    def __init__(self, message: str = "Not found.") -> None:
        super().__init__("not_found", message)


class Forbidden(DomainError):
    def __init__(self, message: str = "You do not have access to this.") -> None:
        super().__init__("forbidden", message)
