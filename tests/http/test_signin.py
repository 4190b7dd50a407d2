"""Sign-in, sessions, sign-up, CSRF, body limits and language, through the real pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from service import clock
from service.accounts.tables import Session, SignInCode
from service.orgs.tables import Member
from tests.conftest import Org, csrf_token, post_form, sign_in
from tests.http.helpers import (
    SESSION_COOKIE,
    cookie_attributes,
    count,
    field_error,
    form_error,
    lang_of,
    new_client,
    request_code,
    set_cookie_header,
    verify,
    zh,
)

NEW_PHONE = "13912345678"


# --- the happy path and the session cookie ----------------------------------------------


async def test_full_sign_in_lands_on_home_with_the_members_name(
    client: httpx.AsyncClient, org: Org
) -> None:
    page = await client.get("/signin")
    assert page.status_code == 200
    assert 'name="phone"' in page.text

    code_page = await post_form(client, "/signin", {"phone": "138 0000 0005", "next": "/"})
    assert code_page.status_code == 200
    assert "138****0005" in code_page.text  # the code page names the phone, masked
    assert "13800000005" not in code_page.text.replace('value="13800000005"', "")

    code = await request_code(client, org.phones["worker_a1"])
    response = await verify(client, org.phones["worker_a1"], code)
    assert response.status_code == 302
    assert response.headers["location"] == "/"
    home = await client.get("/")
    assert home.status_code == 200
    assert zh("Hello, %(name)s", name="快递员小王") in home.text
    assert await count(Session) == 1


async def test_session_cookie_is_httponly_lax_and_not_secure_over_http(
    client: httpx.AsyncClient, org: Org
) -> None:
    code = await request_code(client, org.phones["worker_a1"])
    response = await verify(client, org.phones["worker_a1"], code)
    header = set_cookie_header(response, SESSION_COOKIE)
    assert header is not None, response.headers
    attributes = cookie_attributes(header)
    assert "httponly" in attributes
    assert attributes.get("samesite") == "lax"
    assert attributes.get("path") == "/"
    assert "secure" not in attributes
    # A 256-bit token: at least 43 URL-safe characters.
    assert len(client.cookies[SESSION_COOKIE]) >= 43


async def test_session_cookie_is_secure_when_the_request_is_https(app: Any, org: Org) -> None:
    async with new_client(app, base_url="https://testserver.local") as tls:
        code = await request_code(tls, org.phones["worker_a1"])
        response = await verify(tls, org.phones["worker_a1"], code)
        assert response.status_code == 302
        header = set_cookie_header(response, SESSION_COOKIE)
        assert header is not None
        attributes = cookie_attributes(header)
        assert "secure" in attributes
        assert "httponly" in attributes
        assert attributes.get("samesite") == "lax"
        profile = await tls.get("/profile")
        assert profile.status_code == 200


async def test_session_id_is_rotated_at_sign_in_and_the_old_one_stops_working(
    app: Any, client: httpx.AsyncClient, org: Org
) -> None:
    phone = org.phones["worker_a1"]
    # A value planted before sign-in (session fixation) is never kept.
    client.cookies.set(SESSION_COOKIE, "planted-by-someone-else", domain="testserver.local")
    await sign_in(client, phone)
    first = client.cookies[SESSION_COOKIE]
    assert first != "planted-by-someone-else"

    await sign_in(client, phone)
    second = client.cookies[SESSION_COOKIE]
    assert second != first
    assert await count(Session) == 1  # the replaced session was deleted, not just forgotten

    async with new_client(app) as stale:
        stale.cookies.set(SESSION_COOKIE, first)
        response = await stale.get("/profile")
        assert response.status_code == 302
        assert response.headers["location"].startswith("/signin")
    async with new_client(app) as current:
        current.cookies.set(SESSION_COOKIE, second)
        assert (await current.get("/profile")).status_code == 200


async def test_sign_out_ends_the_session_on_the_server(
    app: Any, client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["worker_a1"])
    token = client.cookies[SESSION_COOKIE]
    response = await post_form(client, "/signout", {})
    assert response.status_code == 302
    assert response.headers["location"] == "/signin"
    cleared = set_cookie_header(response, SESSION_COOKIE)
    assert cleared is not None and ("max-age=0" in cleared.lower() or "expires=" in cleared.lower())
    assert await count(Session) == 0
    # Even a browser that kept the cookie is signed out.
    async with new_client(app) as kept:
        kept.cookies.set(SESSION_COOKIE, token)
        assert (await kept.get("/profile")).headers.get("location", "").startswith("/signin")


async def test_sign_out_everywhere_ends_the_members_other_sessions_only(
    app: Any, client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["worker_a1"])
    async with new_client(app) as phone_two, new_client(app) as someone_else:
        await sign_in(phone_two, org.phones["worker_a1"])
        await sign_in(someone_else, org.phones["staff_a"])
        assert (await phone_two.get("/profile")).status_code == 200

        response = await post_form(client, "/signout/everywhere", {})
        assert response.status_code == 302
        assert response.headers["location"] == "/signin"

        assert (await client.get("/profile")).status_code == 302
        other_device = await phone_two.get("/profile")
        assert other_device.status_code == 302
        assert other_device.headers["location"].startswith("/signin")
        # Another member's session is untouched.
        assert (await someone_else.get("/profile")).status_code == 200
        assert await count(Session) == 1


# --- self-registration ------------------------------------------------------------------


async def test_unknown_phone_signs_up_as_a_worker_in_the_chosen_node(
    app: Any, client: httpx.AsyncClient, org: Org
) -> None:
    code = await request_code(client, NEW_PHONE)
    response = await verify(client, NEW_PHONE, code)
    assert response.status_code == 302
    assert response.headers["location"] == "/signup"
    verified_session = client.cookies[SESSION_COOKIE]

    form = await client.get("/signup")
    assert form.status_code == 200
    assert "139****5678" in form.text
    assert 'value="ent-a1"' in form.text

    done = await post_form(
        client, "/signup", {"name": "  新来的 骑手 ", "node": "ent-a1", "group": "food_delivery"}
    )
    assert done.status_code == 302
    assert done.headers["location"] == "/"
    assert client.cookies[SESSION_COOKIE] != verified_session  # rotated to the new member

    rows = (
        await Member.select(
            Member.name, Member.roles, Member.worker_group, Member.node.code.as_alias("node_code")
        )
        .where(Member.phone == NEW_PHONE)
        .run()
    )
    assert rows == [
        {
            "name": "新来的 骑手",
            "roles": "worker",
            "worker_group": "food_delivery",
            "node_code": "ent-a1",
        }
    ]
    home = await client.get("/")
    assert home.status_code == 200
    assert "新来的 骑手" in home.text

    # The half-way session cannot be used again to register a second time.
    async with new_client(app) as replay:
        replay.cookies.set(SESSION_COOKIE, verified_session)
        again = await replay.get("/signup")
        assert again.status_code == 302
        assert again.headers["location"] == "/signin"


async def test_signup_without_a_verified_phone_goes_back_to_sign_in(
    client: httpx.AsyncClient, org: Org
) -> None:
    response = await client.get("/signup")
    assert response.status_code == 302
    assert response.headers["location"] == "/signin"
    before = await count(Member)
    posted = await post_form(client, "/signup", {"name": "冒名者", "node": "ent-a1"})
    assert posted.status_code == 302
    assert posted.headers["location"].startswith("/signin")
    assert await count(Member) == before


async def test_signup_for_a_member_already_signed_in_does_not_open_the_form(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["worker_a1"])
    response = await client.get("/signup")
    assert response.status_code == 302
    assert response.headers["location"] in {"/", "/signin"}
    assert await count(Member) == 5


async def test_oversized_name_on_signup_is_refused_beside_the_field(
    client: httpx.AsyncClient, org: Org
) -> None:
    code = await request_code(client, NEW_PHONE)
    await verify(client, NEW_PHONE, code)
    before = await count(Member)
    response = await post_form(
        client, "/signup", {"name": "长" * 5000, "node": "ent-a1", "group": "courier"}
    )
    assert response.status_code == 400
    assert field_error(response.text, "name") == zh(
        "Keep the name to %(limit)s characters or fewer.", limit=50
    )
    assert "长" * 51 not in response.text  # not echoed back whole
    assert await count(Member) == before


async def test_signup_into_an_unknown_node_is_refused_beside_the_field(
    client: httpx.AsyncClient, org: Org
) -> None:
    code = await request_code(client, NEW_PHONE)
    await verify(client, NEW_PHONE, code)
    response = await post_form(client, "/signup", {"name": "新人", "node": "nowhere"})
    assert response.status_code == 400
    assert field_error(response.text, "node") == zh(
        "There is no organisation with the code %(code)s.", code="nowhere"
    )
    assert await count(Member, Member.phone == NEW_PHONE) == 0


# --- codes: format, wrong, expired, reused, rate limits ---------------------------------


@pytest.mark.parametrize("phone", ["12345", "23800000005", "1380000000a", "138000000051", ""])
async def test_malformed_phone_gets_a_message_beside_the_field_and_no_code(
    client: httpx.AsyncClient, phone: str
) -> None:
    await client.get("/signin")
    response = await post_form(client, "/signin", {"phone": phone, "next": "/"})
    assert response.status_code == 400
    assert field_error(response.text, "phone") == zh(
        "Enter an 11-digit mainland mobile number starting with 1, such as 13800138000."
    )
    assert 'aria-invalid="true"' in response.text
    assert await count(SignInCode) == 0


async def test_wrong_code_says_how_many_tries_are_left(client: httpx.AsyncClient, org: Org) -> None:
    phone = org.phones["worker_a1"]
    code = await request_code(client, phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    first = await verify(client, phone, wrong)
    assert first.status_code == 400
    assert field_error(first.text, "code") == zh(
        "That code is not right. %(left)s tries left.", left=4
    )
    second = await verify(client, phone, wrong)
    assert field_error(second.text, "code") == zh(
        "That code is not right. %(left)s tries left.", left=3
    )
    assert SESSION_COOKIE not in client.cookies
    # The right code still works after a couple of slips.
    ok = await verify(client, phone, code)
    assert ok.status_code == 302
    assert ok.headers["location"] == "/"


async def test_too_many_wrong_codes_spend_the_code(client: httpx.AsyncClient, org: Org) -> None:
    phone = org.phones["worker_a1"]
    code = await request_code(client, phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        await verify(client, phone, wrong)
    fifth = await verify(client, phone, wrong)
    assert fifth.status_code == 400
    too_many = zh("Too many wrong codes. Ask for a new code.")
    assert field_error(fifth.text, "code") == too_many
    # Now even the right code is refused, and no session was opened.
    right = await verify(client, phone, code)
    assert right.status_code == 400
    assert field_error(right.text, "code") == too_many
    assert await count(Session) == 0
    # A new code starts over.
    fresh = await request_code(client, phone)
    assert (await verify(client, phone, fresh)).status_code == 302


async def test_expired_code_is_refused(client: httpx.AsyncClient, org: Org) -> None:
    phone = org.phones["worker_a1"]
    code = await request_code(client, phone)
    with clock.frozen_at(clock.now() + timedelta(minutes=5, seconds=1)):
        response = await verify(client, phone, code)
    assert response.status_code == 400
    assert field_error(response.text, "code") == zh("This code has expired. Ask for a new one.")
    assert await count(Session) == 0


async def test_code_still_works_just_before_it_expires(client: httpx.AsyncClient, org: Org) -> None:
    phone = org.phones["worker_a1"]
    code = await request_code(client, phone)
    with clock.frozen_at(clock.now() + timedelta(minutes=4, seconds=50)):
        response = await verify(client, phone, code)
    assert response.status_code == 302


async def test_a_used_code_cannot_be_used_again(
    app: Any, client: httpx.AsyncClient, org: Org
) -> None:
    phone = org.phones["worker_a1"]
    code = await request_code(client, phone)
    assert (await verify(client, phone, code)).status_code == 302
    async with new_client(app) as thief:
        await thief.get("/signin")
        response = await verify(thief, phone, code)
        assert response.status_code == 400
        assert field_error(response.text, "code") == zh(
            "This code has already been used or replaced. Ask for a new one."
        )
        assert SESSION_COOKIE not in thief.cookies
    assert await count(Session) == 1


async def test_a_new_code_replaces_the_old_one(client: httpx.AsyncClient, org: Org) -> None:
    phone = org.phones["worker_a1"]
    old = await request_code(client, phone)
    new = await request_code(client, phone)
    if old == new:  # one in a million: the same digits drawn twice
        return
    response = await verify(client, phone, old)
    assert response.status_code == 400
    assert field_error(response.text, "code") is not None
    assert SESSION_COOKIE not in client.cookies
    assert (await verify(client, phone, new)).status_code == 302


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 56"])
async def test_malformed_code_is_refused_without_spending_a_try(
    client: httpx.AsyncClient, org: Org, code: str
) -> None:
    phone = org.phones["worker_a1"]
    real = await request_code(client, phone)
    response = await verify(client, phone, code)
    assert response.status_code == 400
    assert field_error(response.text, "code") == zh("Enter the 6-digit code from the SMS.")
    row = await SignInCode.select(SignInCode.attempts).where(SignInCode.phone == phone).first()
    assert row == {"attempts": 0}
    assert (await verify(client, phone, real)).status_code == 302


async def test_codes_are_rate_limited_per_phone(client: httpx.AsyncClient, org: Org) -> None:
    phone = org.phones["worker_a1"]
    for _ in range(5):
        await request_code(client, phone)
    response = await post_form(client, "/signin", {"phone": phone, "next": "/"})
    assert response.status_code == 429
    assert lang_of(response.text) == "zh-CN"
    assert form_error(response.text) == zh(
        "Too many attempts. Wait %(minutes)s minutes and try again.", minutes=15
    )
    assert 'class="demo-code"' not in response.text
    assert await count(SignInCode, SignInCode.phone == phone) == 5
    # Another phone from the same place is not held up.
    other = await post_form(client, "/signin", {"phone": org.phones["staff_a"], "next": "/"})
    assert other.status_code == 200


async def test_codes_are_rate_limited_per_ip(app: Any, client: httpx.AsyncClient) -> None:
    for n in range(30):
        await request_code(client, f"1370000{n:04d}")
    response = await post_form(client, "/signin", {"phone": "13700009999", "next": "/"})
    assert response.status_code == 429
    assert await count(SignInCode) == 30
    async with new_client(app, ip="198.51.100.9") as elsewhere:
        await elsewhere.get("/signin")
        other = await post_form(elsewhere, "/signin", {"phone": "13700009999", "next": "/"})
        assert other.status_code == 200


# --- CSRF and request size --------------------------------------------------------------


async def test_post_without_csrf_token_is_refused_and_writes_nothing(
    client: httpx.AsyncClient, org: Org
) -> None:
    await client.get("/signin")
    response = await client.post("/signin", data={"phone": org.phones["worker_a1"]})
    assert response.status_code == 403
    assert lang_of(response.text) == "zh-CN"
    assert zh("This form has expired. Go back, reload the page and try again.") in response.text
    assert await count(SignInCode) == 0


async def test_post_with_another_browsers_csrf_token_is_refused(
    app: Any, client: httpx.AsyncClient, org: Org
) -> None:
    await client.get("/signin")
    async with new_client(app) as other:
        await other.get("/signin")
        foreign = csrf_token(other)
    assert foreign != csrf_token(client)
    response = await client.post(
        "/signin", data={"phone": org.phones["worker_a1"], "_csrf_token": foreign}
    )
    assert response.status_code == 403
    assert await count(SignInCode) == 0


async def test_signed_in_post_without_csrf_token_changes_nothing(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["worker_a1"])
    response = await client.post("/profile", data={"name": "被改掉了", "group": "other"})
    assert response.status_code == 403
    assert zh("This form has expired. Go back, reload the page and try again.") in response.text
    assert await count(Member, Member.name == "被改掉了") == 0
    signout = await client.post("/signout", data={})
    assert signout.status_code == 403
    assert await count(Session) == 1


async def test_oversized_body_is_refused_with_413(client: httpx.AsyncClient, org: Org) -> None:
    await client.get("/signin")
    response = await post_form(
        client,
        "/signin",
        {"phone": org.phones["worker_a1"], "next": "/", "padding": "x" * (1024 * 1024 + 1)},
    )
    assert response.status_code == 413
    assert zh("What you sent is too large. Shorten it and try again.") in response.text
    assert await count(SignInCode) == 0


async def test_a_body_just_under_the_limit_is_accepted(client: httpx.AsyncClient, org: Org) -> None:
    await client.get("/signin")
    response = await post_form(
        client,
        "/signin",
        {"phone": org.phones["worker_a1"], "next": "/", "padding": "x" * (1000 * 1000)},
    )
    assert response.status_code == 200
    assert await count(SignInCode) == 1


# --- language ---------------------------------------------------------------------------


async def test_default_language_is_chinese(client: httpx.AsyncClient) -> None:
    response = await client.get("/signin")
    assert lang_of(response.text) == "zh-CN"
    assert zh("Sign in") in response.text


async def test_language_switch_for_anonymous_visitor(client: httpx.AsyncClient) -> None:
    await client.get("/signin")
    response = await post_form(client, "/language", {"language": "en", "next": "/signin"})
    assert response.status_code == 302
    assert response.headers["location"] == "/signin"
    assert client.cookies.get("uh_lang") == "en"
    page = await client.get("/signin")
    assert lang_of(page.text) == "en"
    assert "Enter your mobile number. We will send you a 6-digit code." in page.text
    # Errors follow the language too.
    bad = await post_form(client, "/signin", {"phone": "123", "next": "/"})
    assert field_error(bad.text, "phone") == (
        "Enter an 11-digit mainland mobile number starting with 1, such as 13800138000."
    )


async def test_language_choice_of_a_member_follows_them_to_a_new_session(
    app: Any, client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["worker_a1"])
    response = await post_form(client, "/language", {"language": "en", "next": "/profile"})
    assert response.headers["location"] == "/profile"
    assert lang_of((await client.get("/profile")).text) == "en"
    assert (
        await count(Member, (Member.phone == org.phones["worker_a1"]) & (Member.language == "en"))
        == 1
    )
    async with new_client(app) as another_phone:
        await sign_in(another_phone, org.phones["worker_a1"])
        assert "uh_lang" not in another_phone.cookies
        profile = await another_phone.get("/profile")
        assert lang_of(profile.text) == "en"
        assert "Mobile number" in profile.text


async def test_unknown_language_keeps_the_current_one(client: httpx.AsyncClient) -> None:
    await client.get("/signin")
    await post_form(client, "/language", {"language": "xx", "next": "/signin"})
    assert lang_of((await client.get("/signin")).text) == "zh-CN"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en", "en"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR,en;q=0.5", "en"),
        ("zh-CN", "zh-CN"),
        ("de", "zh-CN"),
    ],
)
async def test_accept_language_for_anonymous_visitors(
    client: httpx.AsyncClient, header: str, expected: str
) -> None:
    response = await client.get("/signin", headers={"Accept-Language": header})
    assert lang_of(response.text) == expected


# --- where sign-in sends you ------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example/",
    ],
)
async def test_next_never_leaves_the_site(client: httpx.AsyncClient, org: Org, target: str) -> None:
    form = await client.get("/signin", params={"next": target})
    assert "evil.example" not in form.text
    phone = org.phones["worker_a1"]
    code_page = await post_form(client, "/signin", {"phone": phone, "next": target})
    assert "evil.example" not in code_page.text
    code = await request_code(client, phone)
    response = await verify(client, phone, code, next_url=target)
    assert response.status_code == 302
    assert response.headers["location"] == "/"


async def test_safe_next_is_followed(client: httpx.AsyncClient, org: Org) -> None:
    anonymous = await client.get("/profile")
    assert anonymous.status_code == 302
    assert anonymous.headers["location"] == "/signin?next=/profile"
    form = await client.get(anonymous.headers["location"])
    assert 'name="next" value="/profile"' in form.text
    phone = org.phones["worker_a1"]
    code = await request_code(client, phone)
    response = await verify(client, phone, code, next_url="/profile")
    assert response.headers["location"] == "/profile"


async def test_signup_preselects_nothing_and_a_worker_must_choose(
    client: httpx.AsyncClient, org: Org
) -> None:
    code = await request_code(client, NEW_PHONE)
    await verify(client, NEW_PHONE, code)
    form = (await client.get("/signup")).text
    # Both lists open on "choose", not on the first organisation or occupation.
    assert form.count('<option value="" selected disabled>') == 2
    no_node = await post_form(client, "/signup", {"name": "新人", "node": "", "group": "courier"})
    assert no_node.status_code == 400
    assert field_error(no_node.text, "node") == zh("Choose your union or workplace.")
    no_group = await post_form(client, "/signup", {"name": "新人", "node": "ent-a1"})
    assert no_group.status_code == 400
    assert field_error(no_group.text, "group") == zh("Choose the work you do.")
    assert await count(Member, Member.phone == NEW_PHONE) == 0
