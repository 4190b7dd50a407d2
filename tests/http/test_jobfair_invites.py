"""Employer invite links over HTTP: the organiser's API and setup-page panel (create, show,
withdraw after asking), the public invite page and API a company uses with no account,
and every refusal (not an organiser, not signed in, forged, another code type, withdrawn,
over, malformed, oversized, a name already there, too many tries) answered with a clear
message in the user's language and nothing written."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx

from service import clock
from service.jobfairs import invites
from service.jobfairs.tables import Employer, EmployerInvite
from tests.conftest import Org, post_form, sign_in
from tests.http.activity_helpers import END, bearer, browser, en, field_error, new_published, zh
from tests.http.helpers import count, form_error, full_phones
from tests.http.test_jobfairs_device import issued_link
from tests.http.test_jobfairs_pages import fair

COMPANY = {
    "name": "惠民电子装配厂",
    "industry": "电子制造",
    "contact_name": "林主管",
    "contact_phone": "13911110011",
}


async def invite_link(client: httpx.AsyncClient, org: Org, fair_id: int) -> dict[str, Any]:
    answer = await client.post(
        f"/api/v1/activities/{fair_id}/employer-invites",
        headers=await bearer(org.phones["organiser_a"]),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def join(client: httpx.AsyncClient, code: str, **changes: Any) -> httpx.Response:
    return await client.post(
        f"/api/v1/employer-invites/{code}/employers", json={**COMPANY, **changes}
    )


def altered(code: str, at: int = 20) -> str:
    return code[:at] + ("A" if code[at] != "A" else "B") + code[at + 1 :]


# --- the API -------------------------------------------------------------------------------


async def test_the_organisers_link_and_a_company_joining_through_the_api(
    client: httpx.AsyncClient, org: Org
) -> None:
    fair_id = await new_published(org, capacity=20)
    link = await invite_link(client, org, fair_id)
    assert link["active"] and link["path"] == f"/employer-invite/{link['code']}"
    assert (await invite_link(client, org, fair_id))["code"] == link["code"]

    shown = await client.get(f"/api/v1/employer-invites/{link['code']}")  # no account
    assert shown.status_code == 200
    assert shown.json()["fair_title"] == "春风行动招聘会"
    assert shown.json()["venue_name"] == "县人力资源市场"

    joined = await join(client, link["code"])
    assert joined.status_code == 201, joined.text
    assert joined.json() == {
        "name": "惠民电子装配厂",
        "fair_title": "春风行动招聘会",
        "approved": False,
    }
    listed = await client.get(
        f"/api/v1/activities/{fair_id}/employers", headers=await bearer(org.phones["organiser_a"])
    )
    (employer,) = listed.json()
    assert employer["via_invite"] and not employer["approved"]
    assert employer["contact_phone_masked"] == "139****0011"
    assert full_phones(listed.text) == []

    withdrawn = await client.post(
        f"/api/v1/activities/{fair_id}/employer-invites/revoke",
        headers=await bearer(org.phones["organiser_a"]),
    )
    assert withdrawn.status_code == 200
    assert withdrawn.json()["active"] is False and withdrawn.json()["code"] is None
    refused = await join(client, link["code"], name="撤回后")
    assert refused.status_code == 403
    assert refused.json()["message"] == zh(invites.WITHDRAWN_REFUSAL)
    assert (await client.get(f"/api/v1/employer-invites/{link['code']}")).status_code == 403
    assert await count(Employer) == 1


async def test_who_may_create_and_withdraw_the_link(client: httpx.AsyncClient, org: Org) -> None:
    fair_id = await new_published(org, capacity=20)
    for path in (
        f"/api/v1/activities/{fair_id}/employer-invites",
        f"/api/v1/activities/{fair_id}/employer-invites/revoke",
    ):
        assert (await client.post(path)).status_code == 401
        for who, status in (("worker_a1", 403), ("staff_a", 403), ("organiser_b", 404)):
            answer = await client.post(path, headers=await bearer(org.phones[who]))
            assert answer.status_code == status, (path, who)
            assert answer.json()["message"], (path, who)
    assert await count(EmployerInvite) == 0
    # Not a job fair, or no such activity.
    reading = await new_published(org, kind="reading_session", capacity=5)
    for activity_id in (reading, 999_999):
        answer = await client.post(
            f"/api/v1/activities/{activity_id}/employer-invites",
            headers=await bearer(org.phones["organiser_a"]),
        )
        assert answer.status_code == 404
    assert await count(EmployerInvite) == 0


async def test_bad_links_are_refused_in_the_users_language_and_write_nothing(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    made = await fair(org)
    link = await invite_link(client, org, made["activity_id"])
    device = await issued_link(client, org, made["booth_id"])
    for bad in (
        altered(link["code"]),
        altered(link["code"], 3),
        link["code"][:-8],
        device["code"],  # a genuine booth device code: another type
        "not-a-code",
        "A" * 3000,
        "%E2%98%83",
    ):
        for answer in (
            await client.get(f"/api/v1/employer-invites/{bad}"),
            await join(client, bad),
        ):
            assert answer.status_code == 403, bad
            assert answer.json()["code"] == "forbidden"
            assert answer.json()["message"] == zh(invites.NOT_AN_INVITE_REFUSAL), bad
    english = await client.get(
        f"/api/v1/employer-invites/{device['code']}", headers={"accept-language": "en"}
    )
    assert english.json()["message"] == en(invites.NOT_AN_INVITE_REFUSAL)
    with clock.frozen_at(END):
        over = await join(client, link["code"])
    assert over.status_code == 403 and over.json()["message"] == zh(invites.FAIR_OVER_REFUSAL)
    assert await count(Employer) == 1  # the fair's own employer only


async def test_bad_company_details_are_400_beside_their_field(
    client: httpx.AsyncClient, org: Org
) -> None:
    fair_id = await new_published(org, capacity=20)
    code = (await invite_link(client, org, fair_id))["code"]
    for changes, field, message in (
        (
            {"contact_phone": "12345"},
            "contact_phone",
            zh("Enter an 11-digit mainland mobile number starting with 1, such as 13800138000."),
        ),
        ({"contact_phone": ""}, "contact_phone", zh("Enter the contact person's mobile number.")),
        ({"contact_name": ""}, "contact_name", zh("Enter the contact person's name.")),
        ({"name": "厂" * 101}, "name", None),
        ({"industry": "电" * 61}, "industry", None),
        ({"contact_name": "林" * 51}, "contact_name", None),
        ({"name": "惠民\u0000电子"}, "name", None),
    ):
        answer = await join(client, code, **changes)
        assert answer.status_code == 400, changes
        assert answer.json()["field"] == field, changes
        if message:
            assert answer.json()["message"] == message
    # Malformed bodies: not JSON, a field missing, a wrong type, a body too large.
    url = f"/api/v1/employer-invites/{code}/employers"
    for content in (b"{", b"[]", b'{"name": "x"}', b'{"name": 5, "contact_name": "a"}'):
        answer = await client.post(
            url, content=content, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 400, content
    huge = await client.post(url, json={**COMPANY, "name": "厂" * 600_000})
    assert huge.status_code == 413
    assert await count(Employer) == 0


async def test_a_name_already_there_is_409_and_two_at_once_make_one(
    client: httpx.AsyncClient, org: Org
) -> None:
    fair_id = await new_published(org, capacity=20)
    code = (await invite_link(client, org, fair_id))["code"]
    answers = await asyncio.gather(*(join(client, code, contact_name=f"人{i}") for i in range(4)))
    assert sorted(answer.status_code for answer in answers) == [201, 409, 409, 409]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["field"] == "name"
            assert answer.json()["message"].startswith("本场招聘会已有同名单位")
    assert await count(Employer) == 1


async def test_too_many_joins_are_429_in_the_users_language(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    fair_id = await new_published(org, capacity=20)
    code = (await invite_link(client, org, fair_id))["code"]
    limit = invites.JOINS_PER_ADDRESS[0]
    for index in range(limit):
        assert (await join(client, code, name=f"公司{index}")).status_code == 201
    refused = await join(client, code, name="再来一家")
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_requests"
    assert refused.json()["message"] == zh(
        "Too many attempts. Wait %(minutes)s minutes and try again.", minutes=10
    )
    english = await client.post(
        f"/api/v1/employer-invites/{code}/employers",
        json={**COMPANY, "name": "再来一家"},
        headers={"accept-language": "en"},
    )
    assert english.status_code == 429
    assert english.json()["message"] == "Too many attempts. Wait 10 minutes and try again."
    async with browser(app, "198.51.100.30") as elsewhere:  # another address is not held
        assert (await join(elsewhere, code, name="另一处")).status_code == 201
    assert await count(Employer) == limit + 1


async def test_openapi_documents_the_invite_paths(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    for path, method in (
        ("/api/v1/activities/{activity_id}/employer-invites", "post"),
        ("/api/v1/activities/{activity_id}/employer-invites/revoke", "post"),
        ("/api/v1/employer-invites/{code}", "get"),
        ("/api/v1/employer-invites/{code}/employers", "post"),
    ):
        assert method in paths[path], path
    join_op = paths["/api/v1/employer-invites/{code}/employers"]["post"]
    assert "201" in join_op["responses"]
    body = join_op["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("EmployerJoinIn")


# --- the pages -----------------------------------------------------------------------------


def invite_path(html: str) -> str:
    match = re.search(r'href="(/employer-invite/[A-Z2-7]+)"', html)
    assert match, "no invite link on the page"
    return match.group(1)


async def test_the_organiser_creates_shows_and_withdraws_the_link_after_asking(
    client: httpx.AsyncClient, org: Org
) -> None:
    fair_id = await new_published(org, capacity=20)
    setup = f"/organise/activities/{fair_id}/jobfair"
    await sign_in(client, org.phones["organiser_a"])
    page = await client.get(setup)
    assert zh("Create an invite link") in page.text and "/employer-invite/" not in page.text
    created = await post_form(client, f"{setup}/invite", {})
    assert created.status_code in (302, 303) and created.headers["location"].endswith("#invite")
    page = await client.get(setup)
    path = invite_path(page.text)
    assert f'value="http://testserver.local{path}"' in page.text  # the copy field
    assert "<svg" in page.text  # the QR
    assert zh("Withdraw the invite link") in page.text

    asked = await post_form(client, f"{setup}/invite/revoke", {})
    assert asked.status_code == 200
    assert zh("Withdraw the invite link?") in asked.text
    assert 'name="confirm" value="yes"' in asked.text
    assert (await client.get(path)).status_code == 200  # asking withdrew nothing
    done = await post_form(client, f"{setup}/invite/revoke", {"confirm": "yes"})
    assert done.status_code in (302, 303) and "invite=revoked" in done.headers["location"]
    page = await client.get(done.headers["location"])
    assert (
        zh("The invite link was withdrawn: companies holding it can no longer join.") in page.text
    )
    assert zh("Create an invite link") in page.text
    gone = await client.get(path)
    assert gone.status_code == 403 and zh(invites.WITHDRAWN_REFUSAL) in gone.text


async def test_others_cannot_use_the_organisers_buttons(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    fair_id = await new_published(org, capacity=20)
    setup = f"/organise/activities/{fair_id}/jobfair"
    for who, status in (("worker_a1", 403), ("organiser_b", 404)):
        async with browser(app, "198.51.100.40") as other:
            await sign_in(other, org.phones[who])
            for path in (f"{setup}/invite", f"{setup}/invite/revoke"):
                answer = await post_form(other, path, {"confirm": "yes"})
                assert answer.status_code == status, (who, path)
    async with browser(app, "198.51.100.41") as anonymous:
        answer = await post_form(anonymous, f"{setup}/invite", {})
        assert answer.status_code in (302, 303) and "/signin" in answer.headers["location"]
    assert await count(EmployerInvite) == 0


async def test_no_link_once_the_fair_is_over(client: httpx.AsyncClient, org: Org) -> None:
    fair_id = await new_published(org, capacity=20)
    setup = f"/organise/activities/{fair_id}/jobfair"
    await sign_in(client, org.phones["organiser_a"])
    with clock.frozen_at(END + timedelta(minutes=1)):
        page = await client.get(setup)
        refused = await post_form(client, f"{setup}/invite", {})
    assert zh(invites.FAIR_OVER_REFUSAL) in page.text
    assert zh("Create an invite link") not in page.text
    assert refused.status_code == 409 and zh(invites.FAIR_OVER_REFUSAL) in refused.text
    assert await count(EmployerInvite) == 0


async def test_a_company_joins_from_the_page_without_an_account(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    fair_id = await new_published(org, capacity=20)
    path = (await invite_link(client, org, fair_id))["path"]
    async with browser(app, "198.51.100.50") as company:
        page = await company.get(path)
        assert page.status_code == 200
        assert "春风行动招聘会" in page.text and "县人力资源市场" in page.text
        assert zh("Your company at this fair") in page.text

        bad = await post_form(company, path, {**COMPANY, "contact_phone": "1391111"})
        assert bad.status_code == 400
        assert field_error(bad.text, "contact_phone") == zh(
            "Enter an 11-digit mainland mobile number starting with 1, such as 13800138000."
        )
        assert 'value="惠民电子装配厂"' in bad.text  # what was typed stays
        assert await count(Employer) == 0

        sent = await post_form(company, path, COMPANY)
        assert sent.status_code in (302, 303)
        assert sent.headers["location"] == f"{path}?sent=1"
        thanks = await company.get(sent.headers["location"])
        assert zh("Sent. Your company is on the organiser's list.") in thanks.text
        assert 'name="contact_phone"' not in thanks.text

        again = await post_form(company, path, COMPANY)
        assert again.status_code == 409
        assert field_error(again.text, "name") == zh(
            "A company of this name is already on the fair's list. If it is yours, there is "
            "nothing more to send; if not, add the branch or town to the name."
        )
        assert await count(Employer) == 1

        no_token = await company.post(path, data=COMPANY)  # no CSRF token: refused
        assert no_token.status_code == 403
        assert await count(Employer) == 1

    await sign_in(client, org.phones["organiser_a"])
    setup = await client.get(f"/organise/activities/{fair_id}/jobfair")
    item = setup.text[setup.text.index("惠民电子装配厂") :].split("</li>", 1)[0]
    assert zh("Waiting for approval") in item and zh("Joined by the invite link") in item
    assert "139****0011" in item and full_phones(setup.text) == []


async def test_refused_links_and_the_limit_on_the_page(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    fair_id = await new_published(org, capacity=20)
    path = (await invite_link(client, org, fair_id))["path"]
    code = path.rsplit("/", 1)[1]
    async with browser(app, "198.51.100.60") as company:
        forged = await company.get(f"/employer-invite/{altered(code)}")
        assert forged.status_code == 403
        assert zh(invites.NOT_AN_INVITE_REFUSAL) in forged.text
        assert 'name="contact_phone"' not in forged.text
        posted = await post_form(company, f"/employer-invite/{altered(code)}", COMPANY)
        assert posted.status_code == 403 and await count(Employer) == 0

        for index in range(invites.JOINS_PER_ADDRESS[0]):
            sent = await post_form(company, path, {**COMPANY, "name": f"公司{index}"})
            assert sent.status_code in (302, 303)
        limited = await post_form(company, path, {**COMPANY, "name": "再来一家"})
        assert limited.status_code == 429
        assert form_error(limited.text) == zh(
            "Too many attempts. Wait %(minutes)s minutes and try again.", minutes=10
        )
        assert await count(Employer) == invites.JOINS_PER_ADDRESS[0]
