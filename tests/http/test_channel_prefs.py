"""The member's channels on the profile page: the form shows what is saved, saves what is
chosen, and a bad email address comes back beside its field in the member's language."""

from __future__ import annotations

import httpx

from service.reminders import services
from tests.conftest import Org, post_form, sign_in
from tests.http.helpers import field_error, zh


async def test_the_profile_shows_the_defaults_and_the_push_switch(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["worker_a1"])
    page = await client.get("/profile")
    assert page.status_code == 200
    assert 'action="/profile/channels"' in page.text
    assert 'name="push" value="1" checked' in page.text  # push is on by default
    assert 'name="sms" value="1" >' in page.text
    assert 'id="push-on"' in page.text
    assert "/static/push.js" in page.text


async def test_saving_channels(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, org.phones["worker_a1"])
    response = await post_form(
        client,
        "/profile/channels",
        {"sms": "1", "email_on": "1", "email": "  wang@example.cn "},
    )
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/profile?saved=channels")
    prefs = await services.channel_prefs(org.worker_a1.member_id)
    assert prefs == services.Prefs(sms=True, push=False, email="wang@example.cn", email_on=True)
    page = await client.get("/profile?saved=channels")
    assert 'value="wang@example.cn"' in page.text
    assert 'name="sms" value="1" checked' in page.text
    assert zh("Saved.") in page.text

    # Saving again replaces, it does not add.
    await post_form(client, "/profile/channels", {"push": "1", "email": ""})
    prefs = await services.channel_prefs(org.worker_a1.member_id)
    assert prefs == services.Prefs(sms=False, push=True, email="", email_on=False)


async def test_a_bad_email_is_shown_beside_the_field(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, org.phones["worker_a1"])
    for bad in ("wang@", "wang example.cn", "wang@example", "a@b.cn\r\nBcc: x@y.cn", "x" * 300):
        response = await post_form(
            client, "/profile/channels", {"email_on": "1", "email": bad, "sms": "1"}
        )
        assert response.status_code == 400, bad
        assert field_error(response.text, "email") == zh(
            "Enter an email address such as name@example.cn."
        )
        assert 'aria-invalid="true"' in response.text
        assert 'name="sms" value="1" checked' in response.text  # what was chosen is kept
    assert await services.channel_prefs(org.worker_a1.member_id) == services.Prefs(
        sms=False, push=True, email="", email_on=False
    )


async def test_email_on_needs_an_address(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, org.phones["worker_a1"])
    response = await post_form(client, "/profile/channels", {"email_on": "1", "email": ""})
    assert response.status_code == 400
    assert field_error(response.text, "email") == zh(
        "Enter an email address to get messages by email."
    )


async def test_signed_out_or_without_csrf_nothing_is_saved(
    client: httpx.AsyncClient, org: Org
) -> None:
    response = await post_form(client, "/profile/channels", {"sms": "1"})
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/signin")
    await sign_in(client, org.phones["worker_a1"])
    response = await client.post("/profile/channels", data={"sms": "1"})
    assert response.status_code == 403
    assert (await services.channel_prefs(org.worker_a1.member_id)).sms is False
