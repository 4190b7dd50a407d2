"""The API contract's error half, in one place: every error answer of /api/v1 has one
shape (service/http.py's `_error_response` and `http_error_handler` send it), each
operation declares the error statuses it can really answer, and the Bearer scheme is
declared.

An operation's statuses are derived, never listed by hand per handler:
- from its shape: a path parameter → 404 (no such row; an id too large for the database
  is 404 too), a query parameter or a body → 400, a body → 413, an unsafe method → 403
  (a cookie-authenticated call without its page's CSRF token);
- from its code: the handler is read (its compiled code, and that of every function of
  `service` it calls or passes on, transitively) for the errors it can raise: each
  `DomainError("code", …)` gives the status of its code (service/errors.py), so
  `require_actor` gives 401, `may` 403, a rate limit 429 and 503, a full activity 409;
- where reading cannot see (a kind's hook behind a registry, a code chosen at run time):
  `opt=answers(409)` on the handler, the escape hatch.

Litestar documents its own ValidationException body (`status_code`, `detail`) for 400,
which is not what the service sends; `document_errors` replaces every error answer it
declared, when the app starts and before the document is first served."""

from __future__ import annotations

import builtins
import dis
import inspect
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from types import CodeType
from typing import Any

from litestar.exceptions import HTTPException
from litestar.openapi.spec import (
    Components,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    Schema,
    SecurityScheme,
)
from litestar.openapi.spec.enums import OpenAPIType
from litestar.routes import HTTPRoute

from service.errors import DomainError
from service.http import HTTP_MESSAGES

BEARER = "BearerToken"
ERROR_SCHEMA = "Error"
ANSWERS = "answers"  # the handler opt key of the escape hatch
SERVICE_PACKAGE = "service"

ERROR_BODY = Schema(
    type=OpenAPIType.OBJECT,
    required=["code", "message"],
    properties={
        "code": Schema(
            type=OpenAPIType.STRING,
            description="Stable error code: validation_error, not_signed_in, forbidden, "
            "csrf_failed, not_found, conflict, last_admin, too_many_requests, too_large, …; "
            "each operation lists the codes behind each of its statuses",
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
    403: "Signed in, but this is not yours to see or do; or a session-cookie call "
    "without its page's CSRF token",
    404: "No such thing (or not in your organisations)",
    409: "The request conflicts with the current state (full, taken, closed, last admin)",
    413: "The body is larger than the service accepts (1 MB)",
    429: "Too many requests: wait and try again",
    503: "A service this needs (Redis, the SMS gateway) is briefly unavailable",
}
HTTP_CODES = {status: code for status, (code, _) in HTTP_MESSAGES.items()}
UNSAFE = frozenset({"post", "put", "patch", "delete"})
METHODS = ("get", "put", "post", "delete", "patch")


def answers(*statuses: int) -> dict[str, tuple[int, ...]]:
    """The escape hatch, for a handler's `opt`: statuses it answers that reading its code
    cannot find (say which and why beside it)."""
    unknown = set(statuses) - set(ERRORS)
    assert not unknown, f"no description for {unknown}: add it to ERRORS"
    return {ANSWERS: statuses}


# --- what an operation can answer ---------------------------------------------------------


def shape_statuses(method: str, operation: Operation) -> dict[int, set[str]]:
    """The statuses an operation's shape brings, whatever its handler does."""
    places = {parameter.param_in for parameter in operation.parameters or ()}
    body = operation.request_body is not None
    statuses: dict[int, set[str]] = {}
    if "path" in places:
        statuses[404] = {"not_found"}
    if places - {"path"} or body:
        statuses[400] = {"validation_error"}
    if body:
        statuses[413] = {"too_large"}
    if method in UNSAFE:
        statuses[403] = {"csrf_failed"}
    return statuses


def error_statuses(
    method: str, operation: Operation, fn: Callable[..., Any], opt: Mapping[str, Any]
) -> dict[int, set[str]]:
    """Status → the error codes behind it, for one operation: its shape, what its handler
    `fn` can raise, and its `answers(...)`."""
    statuses = shape_statuses(method, operation)
    for status, code in raised_by(fn):
        statuses.setdefault(status, set()).add(code)
    for status in opt.get(ANSWERS, ()):
        statuses.setdefault(status, set())
    return statuses


# --- reading the code ---------------------------------------------------------------------

# The handler's compiled code is read rather than its source: no file to parse (parsing
# the service's sources took seconds at every start), and generated code (a dataclass's
# __init__) reads the same. Only loads are followed: a name, its attributes, an import.
Raised = frozenset[tuple[int, str]]  # (status, code)
LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF"})
LOCAL_LOADS = frozenset({"LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_FAST_AND_CLEAR"})
ATTRIBUTE_LOADS = frozenset({"LOAD_ATTR", "LOAD_METHOD", "LOAD_SUPER_ATTR"})
STORES = frozenset({"STORE_FAST", "STORE_NAME", "STORE_DEREF"})
# Between a callee and its first argument, or a load and its attribute: no effect here.
TRANSPARENT = frozenset({"PUSH_NULL", "CACHE", "EXTENDED_ARG", "NOP", "COPY_FREE_VARS"})
BUILTINS = vars(builtins)


@dataclass(frozen=True)
class _Reading:
    raised: Raised
    calls: tuple[Callable[..., Any], ...]  # the functions of `service` it calls or passes on


def raised_by(fn: Callable[..., Any]) -> Raised:
    """Every (status, code) that `fn` or a function of `service` it reaches can raise."""
    seen: set[Callable[..., Any]] = set()
    raised: set[tuple[int, str]] = set()
    stack = [inspect.unwrap(fn)]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        reading = _read(current)
        raised |= reading.raised
        stack.extend(reading.calls)
    return frozenset(raised)


@cache
def _read(fn: Callable[..., Any]) -> _Reading:
    code = getattr(fn, "__code__", None)
    if code is None:
        return _Reading(frozenset(), ())
    namespace: dict[str, Any] = getattr(fn, "__globals__", {})
    raised: set[tuple[int, str]] = set()
    calls: dict[Callable[..., Any], None] = {}
    # A method's `self.helper(...)`: the helper is read on the class that defines it.
    owner = _owner(fn)
    bound = {code.co_varnames[0]: owner} if owner is not None and code.co_argcount else {}
    for code_object in _code_objects(code):
        local: dict[str, Any] = dict(bound)
        loaded: Any = None  # what the loads just before resolved to
        module: Any = None  # what the import being read brought
        constant: Any = None  # the constant just loaded (an import's list of names)
        error: type[DomainError] | None = None  # its first argument names the code
        for instruction in dis.get_instructions(code_object):
            name, argument = instruction.opname, instruction.argval
            if name in TRANSPARENT:
                continue
            if error is not None:
                # The code: a literal, or a module's constant (scans' UNKNOWN_POINT_TYPE).
                code_name = argument if name == "LOAD_CONST" else namespace.get(argument)
                if name in {"LOAD_CONST", *LOADS} and isinstance(code_name, str):
                    raised.add((_status(error, code_name), code_name))
                error = None
            if name in LOADS or name in LOCAL_LOADS:
                loaded = local.get(argument, namespace.get(argument, BUILTINS.get(argument)))
            elif name in ATTRIBUTE_LOADS:
                loaded = _attribute(loaded, argument)
            elif name == "IMPORT_NAME":
                # `import a.b` binds a; `from a.b import c` and `import a.b as c` read a.b.
                module = sys.modules.get(argument if constant else argument.partition(".")[0])
                loaded = module
                continue
            elif name == "IMPORT_FROM":
                loaded = _attribute(module, argument)
                continue
            elif name in STORES:
                if loaded is not None:
                    local[argument] = loaded  # `f = module.f`, `from module import f`
                loaded = None
                continue
            else:
                constant = argument if name == "LOAD_CONST" else None
                loaded = None
                continue
            if inspect.isclass(loaded) and issubclass(loaded, DomainError):
                if "__init__" in _own_attributes(loaded):
                    raised |= _subclass_errors(loaded)
                else:
                    error = loaded
            elif inspect.isclass(loaded) and issubclass(loaded, HTTPException):
                raised.add((loaded.status_code, HTTP_CODES.get(loaded.status_code, "error")))
            for function in _ours(loaded):
                calls[function] = None
    return _Reading(frozenset(raised), tuple(calls))


def _owner(fn: Callable[..., Any]) -> type | None:
    """The class a method is defined in (by its qualified name), if it is one."""
    owner_name, dot, _ = getattr(fn, "__qualname__", "").rpartition(".")
    if not dot or "<locals>" in owner_name:
        return None
    owner = getattr(fn, "__globals__", {}).get(owner_name.split(".")[0])
    for part in owner_name.split(".")[1:]:
        owner = _attribute(owner, part)
    return owner if inspect.isclass(owner) else None


def _code_objects(code: CodeType) -> Iterator[CodeType]:
    """A function's code and the code nested in it (comprehensions, lambdas, inner defs)."""
    yield code
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _code_objects(constant)


def _attribute(owner: Any, name: str) -> Any:
    if owner is None:
        return None
    try:  # never runs a property: reading must not act
        return inspect.getattr_static(owner, name)
    except AttributeError:
        return None


def _ours(target: Any) -> Iterator[Callable[..., Any]]:
    """The functions of `service` behind a name: a function, or a class's constructor."""
    if isinstance(target, staticmethod | classmethod):
        target = target.__func__
    if inspect.isclass(target):
        if issubclass(target, BaseException) or not _in_service(target):
            return
        for name in ("__init__", "__post_init__"):
            yield from _ours(target.__dict__.get(name))
        return
    if inspect.isfunction(target):
        target = inspect.unwrap(target)
        if _in_service(target):
            yield target


def _in_service(target: Any) -> bool:
    module = getattr(target, "__module__", None) or ""
    return module == SERVICE_PACKAGE or module.startswith(f"{SERVICE_PACKAGE}.")


@cache
def _subclass_errors(error: type[DomainError]) -> Raised:
    """A subclass that names its own code: the literal it hands to super().__init__."""
    codes: set[str] = set()
    init = error.__dict__.get("__init__") or error.__init__
    after_init = False
    for instruction in dis.get_instructions(init):
        name, argument = instruction.opname, instruction.argval
        if name in TRANSPARENT:
            continue
        if after_init and name == "LOAD_CONST" and isinstance(argument, str):
            codes.add(argument)
        after_init = name in ATTRIBUTE_LOADS and argument == "__init__"
    return frozenset((_status(error, code), code) for code in codes)


def _own_attributes(error: type[DomainError]) -> set[str]:
    """What the classes between `error` and DomainError define themselves."""
    names: set[str] = set()
    for klass in error.__mro__:
        if klass is DomainError:
            break
        names |= set(vars(klass))
    return names


def _status(error: type[DomainError], code: str) -> int:
    """The status the error class answers for `code` (its own rule, or STATUS_BY_CODE)."""
    instance = error.__new__(error)
    instance.code = code
    return instance.status_code


# --- the document ---------------------------------------------------------------------------


def _error_response(description: str, codes: set[str]) -> OpenAPIResponse:
    if codes:
        description += ". Codes: " + ", ".join(sorted(codes))
    return OpenAPIResponse(
        description=description,
        content={
            "application/json": OpenAPIMediaType(
                schema=Reference(ref=f"#/components/schemas/{ERROR_SCHEMA}")
            )
        },
    )


def document_errors(app: Any) -> None:
    """on_startup: declare the error shape, each operation's error statuses and the
    Bearer scheme. Idempotent."""
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
    handlers = {
        (route.path_format, method.lower()): handler
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        for method in handler.http_methods
    }
    for path, item in (document.paths or {}).items():
        if not path.startswith("/api/"):
            continue
        for method in METHODS:
            operation = getattr(item, method, None)
            if operation is None:
                continue
            handler = handlers.get((path, method))
            statuses = (
                error_statuses(method, operation, handler.fn, handler.opt)
                if handler is not None
                else shape_statuses(method, operation)
            )
            responses = {
                status: response
                for status, response in (operation.responses or {}).items()
                if int(status) < 400
            }
            for status in sorted(statuses):
                responses[str(status)] = _error_response(ERRORS[status], statuses[status])
            operation.responses = responses
            operation.security = [{BEARER: []}, {}]
