"""Issue 16, "500s from large integers": an integer the database cannot hold never reaches
it (2^63 and more, as reported; and from 2^31, since INTEGER is 32-bit on PostgreSQL). It
is answered in one place (service/http.py's guard): 404 in a path, 400 in a query or a
JSON body; pages bound their form numbers themselves. Every route and every integer input of the
OpenAPI document is tried, not a hand-picked few."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar.routes import HTTPRoute

from service.activities.tables import Activity
from tests.conftest import Org, sign_in
from tests.http.activity_helpers import bearer, new_published
from tests.http.helpers import count, csrf_headers

HUGE = (2**63, 2**64 + 5, -(2**63) - 1, 2**31)
INT_PARAMETER = re.compile(r"\{(\w+):int\}")


def int_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path with every int parameter as {}) for every route of the app."""
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and INT_PARAMETER.search(route.path):
            for method in sorted(route.methods - {"OPTIONS", "HEAD"}):
                found.append((method, INT_PARAMETER.sub("{}", route.path)))
    return found


async def as_admin(client: httpx.AsyncClient, org: Org) -> dict[str, str]:
    await sign_in(client, org.phones["admin"])
    return csrf_headers(client)


async def test_every_int_path_parameter_too_large_is_404(
    app: Any, client: httpx.AsyncClient, org: Org
) -> None:
    routes = int_routes(app)
    assert len(routes) >= 30, routes  # the pages and the API both
    cookie_headers = await as_admin(client, org)
    token = await bearer(org.phones["admin"])
    answered: dict[tuple[str, str, int], int] = {}
    for method, path in routes:
        for number in HUGE:
            url = path.replace("{}", str(number))
            api = url.startswith("/api/")
            response = await client.request(
                method,
                url,
                headers=token if api else cookie_headers,
            )
            answered[(method, path, number)] = response.status_code
    wrong = {key: status for key, status in answered.items() if status != 404}
    assert not wrong, wrong


def _openapi(app: Any) -> dict[str, Any]:
    return app.openapi_schema.to_schema()


def _integer_properties(schema: dict[str, Any], components: dict[str, Any]) -> list[str]:
    """The integer fields of a request body (top level; $ref followed)."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    names = []
    for name, prop in schema.get("properties", {}).items():
        options = [prop, *prop.get("oneOf", []), *prop.get("anyOf", [])]
        if any(option.get("type") == "integer" for option in options):
            names.append(name)
    return names


async def test_every_integer_query_and_body_field_too_large_is_400(
    app: Any, client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    token = await bearer(org.phones["admin"])
    document = _openapi(app)
    components = document["components"]["schemas"]
    tried: dict[str, int] = {}
    for path, operations in document["paths"].items():
        url = re.sub(r"\{\w+\}", str(activity_id), path)
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["schema"].get("type") == "integer":
                    response = await client.request(
                        method, url, params={parameter["name"]: str(HUGE[0])}, headers=token
                    )
                    tried[f"{method} {path}?{parameter['name']}"] = response.status_code
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            for name in _integer_properties(body["schema"], components) if body else []:
                response = await client.request(method, url, json={name: HUGE[1]}, headers=token)
                tried[f"{method} {path} {name}"] = response.status_code
    assert len(tried) >= 10, tried
    wrong = {key: status for key, status in tried.items() if status != 400}
    assert not wrong, wrong


async def test_a_valid_body_with_a_huge_capacity_is_400_and_writes_nothing(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    token = await bearer(org.phones["organiser_a"])
    response = await client.put(
        f"/api/v1/activities/{activity_id}/capacity", json={"capacity": 2**63}, headers=token
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "validation_error"
    assert await Activity.select(Activity.capacity).where(
        Activity.id == activity_id
    ).first().run() != {"capacity": 2**63}


@pytest.mark.parametrize("page", ["/activities/{}", "/me/tickets/{}"])
async def test_the_reported_pages_answer_a_not_found_page(
    client: httpx.AsyncClient, org: Org, page: str
) -> None:
    await sign_in(client, org.phones["worker_a1"])
    response = await client.get(page.format(2**63))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


async def test_a_form_with_a_huge_number_is_400(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await new_published(org)
    headers = await as_admin(client, org)
    before = await count(Activity)
    response = await client.post(
        f"/organise/activities/{activity_id}/capacity",
        data={"capacity": str(2**63)},
        headers=headers,
    )
    assert response.status_code == 400
    assert await count(Activity) == before


async def test_control_in_range_integers_still_work(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await new_published(org)
    token = await bearer(org.phones["organiser_a"])
    response = await client.put(
        f"/api/v1/activities/{activity_id}/capacity", json={"capacity": 40}, headers=token
    )
    assert response.status_code == 200, response.text
    missing = await client.get(f"/api/v1/activities/{2**31 - 1}", headers=token)
    assert missing.status_code == 404
