"""Failed messages for admins: listed with the member's masked phone, the error and the
tries; "Retry" makes one pending again (due now, no tries), and only admins may."""

from __future__ import annotations

import httpx

from service import clock
from service.db import write_transaction
from service.reminders import services
from service.reminders.tables import OutboxMessage
from tests.conftest import Org, add_member, post_form, sign_in
from tests.http.helpers import full_phones
from tests.http.test_notifications import DAYTIME


async def failed_message(org: Org) -> int:
    async with write_transaction():
        await services.record("activity_changed", [org.worker_a1.member_id], due_at=DAYTIME)
    row = await OutboxMessage.select(OutboxMessage.id).first().run()
    await (
        OutboxMessage.update(
            {
                OutboxMessage.status: "failed",
                OutboxMessage.attempts: services.MAX_ATTEMPTS,
                OutboxMessage.last_error: "sms: gateway answered 500",
            }
        )
        .where(OutboxMessage.id == row["id"])
        .run()
    )
    return row["id"]


async def test_an_admin_sees_failed_messages_with_masked_phones(
    client: httpx.AsyncClient, org: Org
) -> None:
    await failed_message(org)
    await sign_in(client, org.phones["admin"])
    page = await client.get("/admin/messages")
    assert page.status_code == 200
    assert "activity_changed" in page.text
    assert "sms: gateway answered 500" in page.text
    assert "138****0005" in page.text
    assert full_phones(page.text) == []
    assert 'href="/admin/messages"' in (await client.get("/organise/activities")).text


async def test_retry_makes_it_pending_and_due_now(client: httpx.AsyncClient, org: Org) -> None:
    message_id = await failed_message(org)
    await sign_in(client, org.phones["admin"])
    await client.get("/admin/messages")
    with clock.frozen_at(DAYTIME):
        response = await post_form(client, f"/admin/messages/{message_id}/retry", {})
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/admin/messages?retried=1"
    row = await OutboxMessage.select().where(OutboxMessage.id == message_id).first().run()
    # One more try, under a job id the queue has not used for this message.
    assert (row["status"], row["attempts"], row["due_at"]) == (
        "pending",
        services.MAX_ATTEMPTS,
        DAYTIME,
    )
    with clock.frozen_at(DAYTIME):
        assert [m for m, _ in await services.claim_due()] == [message_id]
    page = await client.get("/admin/messages?retried=1")
    assert "activity_changed" not in page.text
    # Retrying again (it is no longer failed) is a 404, not a second reset.
    again = await post_form(client, f"/admin/messages/{message_id}/retry", {})
    assert again.status_code == 404


async def test_only_admins(client: httpx.AsyncClient, org: Org) -> None:
    message_id = await failed_message(org)
    for role in ("organiser_a", "worker_a1"):
        await sign_in(client, org.phones[role])
        assert (await client.get("/admin/messages")).status_code == 403
        response = await post_form(client, f"/admin/messages/{message_id}/retry", {})
        assert response.status_code == 403
    row = await OutboxMessage.select().where(OutboxMessage.id == message_id).first().run()
    assert row["status"] == "failed"
    client.cookies.clear()
    response = await client.get("/admin/messages")
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/signin")


async def test_a_union_admin_sees_and_retries_only_its_own_members(
    client: httpx.AsyncClient, org: Org
) -> None:
    """worker_a1 belongs to ent-a1 under union-a: union-b's admin neither sees the failed
    message nor can retry it; union-a's admin can."""
    message_id = await failed_message(org)
    await add_member("13800000021", "乙工会管理员", "union-b", ["admin"])
    await add_member("13800000022", "甲工会管理员", "union-a", ["admin"])
    await sign_in(client, "13800000021")
    page = await client.get("/admin/messages")
    assert page.status_code == 200
    assert "sms: gateway answered 500" not in page.text
    refused = await post_form(client, f"/admin/messages/{message_id}/retry", {})
    assert refused.status_code == 404
    row = await OutboxMessage.select().where(OutboxMessage.id == message_id).first().run()
    assert row["status"] == "failed"

    await sign_in(client, "13800000022")
    assert "sms: gateway answered 500" in (await client.get("/admin/messages")).text
    retried = await post_form(client, f"/admin/messages/{message_id}/retry", {})
    assert retried.status_code in (302, 303)
    row = await OutboxMessage.select().where(OutboxMessage.id == message_id).first().run()
    assert row["status"] == "pending"
