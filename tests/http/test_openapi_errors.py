"""Issue 16, "401, 403, 404, 409, 413 and 429 are declared where they happen": each
operation of /schema/openapi.json declares the error statuses it really answers, derived in
service/openapi.py from the operation's shape and from what its handler can raise. Here a
few operations are made to answer each status, and the document must have said so, with
the code the answer carried."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service import clock
from service.errors import DomainError
from service.openapi import ANSWERS, answers, error_statuses, raised_by
from tests.conftest import Org
from tests.http.activity_helpers import NOW, bearer, new_published

REGISTER = "/api/v1/activities/{activity_id}/registrations"
REISSUE = "/api/v1/registrations/{registration_id}/reissue"
MEMBERS = "/api/v1/members"


@pytest.fixture(scope="module")
def document(app: Any) -> dict[str, Any]:
    """The document as the running service serves it: after its startup hooks."""
    for hook in app.on_startup:
        hook(app)
    return app.openapi_schema.to_schema()


def declared(document: dict[str, Any], method: str, path: str) -> dict[int, str]:
    """Status → description, for the error answers of one operation."""
    responses = document["paths"][path][method]["responses"]
    return {
        int(status): answer["description"]
        for status, answer in responses.items()
        if int(status) >= 400
    }


def assert_declared(document: dict[str, Any], method: str, path: str, response: Any) -> None:
    """The answer's status is declared for the operation, with the code it carried."""
    statuses = declared(document, method, path)
    assert response.status_code in statuses, (method, path, response.status_code, statuses)
    code = response.json()["code"]
    assert code in statuses[response.status_code], (code, statuses[response.status_code])
    answer = document["paths"][path][method]["responses"][str(response.status_code)]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


async def test_sign_up_declares_the_409_it_answers(
    document: dict[str, Any], client: httpx.AsyncClient, org: Org
) -> None:
    with clock.frozen_at(NOW):
        activity_id = await new_published(org, kind="livestream", capacity=None, venue=None)
    worker = await bearer(org.phones["worker_a1"])
    refused = await client.post(REGISTER.format(activity_id=activity_id), headers=worker)
    assert refused.status_code == 409
    assert_declared(document, "post", REGISTER, refused)
    # Signed out: 401; no such activity: 404; both declared.
    anonymous = await client.post(REGISTER.format(activity_id=activity_id))
    assert_declared(document, "post", REGISTER, anonymous)
    missing = await client.post(REGISTER.format(activity_id=999_999), headers=worker)
    assert_declared(document, "post", REGISTER, missing)
    assert {401, 404, 409} <= set(declared(document, "post", REGISTER))


async def test_sign_up_declares_both_of_its_successes(
    document: dict[str, Any], client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    worker = await bearer(org.phones["worker_a1"])
    url = REGISTER.format(activity_id=activity_id)
    first, again = [await client.post(url, headers=worker) for _ in range(2)]
    assert (first.status_code, again.status_code) == (201, 200)
    assert {"200", "201"} <= set(document["paths"][REGISTER]["post"]["responses"])


async def test_a_rate_limited_operation_declares_429(
    document: dict[str, Any], client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    worker = await bearer(org.phones["worker_a1"])
    registration = await client.post(REGISTER.format(activity_id=activity_id), headers=worker)
    url = REISSUE.format(registration_id=registration.json()["id"])
    answers_seen = [(await client.post(url, headers=worker)).status_code for _ in range(8)]
    assert answers_seen[-1] == 429, answers_seen
    assert_declared(document, "post", REISSUE, await client.post(url, headers=worker))
    # The limit fails closed when Redis is unreachable: 503, declared too.
    assert 503 in declared(document, "post", REISSUE)
    assert 429 not in declared(document, "get", "/api/v1/activities/{activity_id}")


async def test_a_body_operation_declares_413_and_400(
    document: dict[str, Any], client: httpx.AsyncClient, org: Org
) -> None:
    admin = await bearer(org.phones["admin"])
    too_large = await client.post(
        MEMBERS,
        content=b'{"name": "' + b"x" * (1024 * 1024 + 1) + b'"}',
        headers={**admin, "Content-Type": "application/json"},
    )
    assert too_large.status_code == 413
    assert_declared(document, "post", MEMBERS, too_large)
    malformed = await client.post(
        MEMBERS, content=b"{", headers={**admin, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert_declared(document, "post", MEMBERS, malformed)
    taken = await client.post(
        MEMBERS, json={"phone": org.phones["worker_a1"], "name": "重号"}, headers=admin
    )
    assert taken.status_code == 409
    assert_declared(document, "post", MEMBERS, taken)


async def test_403s_are_declared_where_they_happen(
    document: dict[str, Any], client: httpx.AsyncClient, org: Org
) -> None:
    worker = await bearer(org.phones["worker_a1"])
    refused = await client.post(
        MEMBERS, json={"phone": "13912340000", "name": "越权"}, headers=worker
    )
    assert refused.status_code == 403
    assert_declared(document, "post", MEMBERS, refused)
    # Every unsafe operation can be refused its missing CSRF token.
    for path, operations in document["paths"].items():
        for method in operations.keys() & {"post", "put", "patch", "delete"}:
            assert "csrf_failed" in declared(document, method, path).get(403, ""), (method, path)


def test_nothing_is_declared_that_cannot_happen(document: dict[str, Any]) -> None:
    # Public, without input: no error at all.
    for path in ("/api/v1/ticket-keys", "/api/v1/push/key"):
        assert declared(document, "get", path) == {}, path
    # Signed in, no input, no rule that can refuse: only 401.
    assert set(declared(document, "get", "/api/v1/kinds")) == {401}
    # No body, no query: no 400 and no 413; no path parameter: no 404.
    me = declared(document, "get", "/api/v1/me/registrations")
    assert not me.keys() & {400, 404, 409, 413, 429}
    # 405 and 500 are never an operation's answer.
    for path, operations in document["paths"].items():
        for method in operations:
            assert not declared(document, method, path).keys() & {405, 500}, (method, path)


def test_every_declared_status_has_the_one_error_shape(document: dict[str, Any]) -> None:
    shapes = {
        str(answer["content"]["application/json"]["schema"])
        for operations in document["paths"].values()
        for operation in operations.values()
        for status, answer in operation["responses"].items()
        if int(status) >= 400
    }
    assert shapes == {"{'$ref': '#/components/schemas/Error'}"}
    assert document["components"]["schemas"]["Error"]["required"] == ["code", "message"]


# --- the reader itself ------------------------------------------------------------------

CLOSED = "point_closed"


class _Refused(DomainError):
    def __init__(self, balance: int) -> None:
        super().__init__("stock_insufficient", "Not enough left.", balance=balance)


def _helper(flag: bool) -> None:
    if flag:
        raise DomainError("activity_full", "Full.")


class _Handler:
    def handle(self, flag: int) -> None:
        from service.errors import NotFound

        if flag == 1:
            raise NotFound("No such thing.")
        if flag == 2:
            raise DomainError(CLOSED, "Closed.")
        if flag == 3:
            raise _Refused(0)
        self._more(flag)

    def _more(self, flag: int) -> None:
        _helper(bool(flag))


def test_the_reader_finds_literals_constants_subclasses_imports_and_helpers() -> None:
    # Only functions of `service` are followed; this test's own module is read as the root.
    found = raised_by(_Handler.handle)
    assert {(404, "not_found"), (409, "point_closed"), (400, "stock_insufficient")} <= found
    assert (409, "activity_full") not in found  # a helper outside `service` is not followed
    assert answers(409) == {ANSWERS: (409,)}


def test_the_escape_hatch_adds_what_reading_cannot_see(document: dict[str, Any]) -> None:
    from litestar.openapi.spec import Operation

    def dispatches(kind: Any) -> None:
        kind.hook()  # a registry's hook: nothing to read here

    plain = error_statuses("get", Operation(), dispatches, {})
    assert plain == {}
    hatch = error_statuses("get", Operation(), dispatches, answers(409))
    assert hatch == {409: set()}
