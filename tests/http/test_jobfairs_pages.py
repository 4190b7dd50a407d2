"""Job-fair pages without JavaScript: the organiser's setup with its form errors, the
worker's job list (small, searchable, bookmarks, the consent tick at sign-up), the booth
page recording a stage, and the ticket page listing the booths visited."""

from __future__ import annotations

import gzip

import httpx

from service.activities import services as activities
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import BoothIn, EmployerIn, PostingIn
from service.jobfairs.tables import Bookmark, Consent, Lead
from tests.conftest import Org, post_form, sign_in
from tests.http.activity_helpers import field_error, new_published, workers, zh
from tests.http.helpers import count, full_phones


async def fair(org: Org, postings: int = 2) -> dict[str, int]:
    activity_id = await new_published(org, capacity=20)
    employer = await jobfairs.create_employer(
        org.organiser_a,
        activity_id,
        EmployerIn(name="顺达物流", contact_name="刘经理", contact_phone="13912345678"),
    )
    booth = await jobfairs.create_booth(
        org.organiser_a, activity_id, BoothIn(number="A1", employer_id=employer.id)
    )
    posting_id = 0
    for index in range(postings):
        posting_id = (
            await jobfairs.create_posting(
                org.organiser_a,
                activity_id,
                PostingIn(
                    employer_id=employer.id,
                    title=f"仓库分拣员{index}",
                    headcount=3,
                    pay_min=5000,
                    pay_max=6000 + index,
                    district="城关镇",
                    requirements="吃苦耐劳，能上夜班。" * 3,
                    worker_groups=["courier"],
                ),
            )
        ).id
    return {
        "activity_id": activity_id,
        "employer_id": employer.id,
        "booth_id": booth.id,
        "posting_id": posting_id,
    }


async def test_organiser_setup_page_and_its_errors(client: httpx.AsyncClient, org: Org) -> None:
    made = await fair(org)
    await sign_in(client, org.phones["organiser_a"])
    manage = await client.get(f"/organise/activities/{made['activity_id']}")
    assert f"/organise/activities/{made['activity_id']}/jobfair" in manage.text
    page = await client.get(f"/organise/activities/{made['activity_id']}/jobfair")
    assert page.status_code == 200
    assert "139****5678" in page.text and full_phones(page.text) == []
    bad = await post_form(
        client,
        f"/organise/activities/{made['activity_id']}/jobfair/postings",
        {
            "employer_id": made["employer_id"],
            "title": "司机",
            "headcount": "0",
            "pay_min": "5000",
            "pay_max": "6000",
        },
    )
    assert bad.status_code == 400
    assert field_error(bad.text, "headcount") == zh("Headcount must be at least 1.")
    added = await post_form(
        client,
        f"/organise/activities/{made['activity_id']}/jobfair/postings",
        {
            "employer_id": made["employer_id"],
            "title": "货车司机",
            "headcount": "2",
            "pay_min": "7000",
            "pay_max": "9000",
            "worker_groups": "truck_driver",
        },
    )
    assert added.status_code in (302, 303)
    assert (
        "货车司机" in (await client.get(f"/organise/activities/{made['activity_id']}/jobfair")).text
    )
    worker_view = await client.get(f"/organise/activities/{made['activity_id']}/report")
    assert zh("Job fair: the hiring funnel") in worker_view.text


async def test_job_list_is_small_searchable_and_bookmarks_work(
    client: httpx.AsyncClient, org: Org
) -> None:
    made = await fair(org, postings=25)
    await sign_in(client, org.phones["worker_a1"])
    detail = await client.get(f"/activities/{made['activity_id']}")
    assert f"/activities/{made['activity_id']}/jobs" in detail.text
    page = await client.get(f"/activities/{made['activity_id']}/jobs")
    assert page.status_code == 200
    assert page.text.count('class="posting"') == 20
    assert len(gzip.compress(page.content)) <= 50_000
    assert len(page.content) <= 50_000  # even uncompressed
    found = await client.get(f"/activities/{made['activity_id']}/jobs", params={"q": "分拣员24"})
    assert found.text.count('class="posting"') == 1
    bad = await client.get(f"/activities/{made['activity_id']}/jobs", params={"pay": "abc"})
    assert bad.status_code == 400
    marked = await post_form(
        client, f"/jobfair/postings/{made['posting_id']}/bookmark", {"on": "1", "back": "/x"}
    )
    assert marked.status_code in (302, 303)
    assert await count(Bookmark) == 1
    saved = await client.get(f"/activities/{made['activity_id']}/jobs", params={"saved": "1"})
    assert saved.text.count('class="posting"') == 1


async def test_signing_up_with_the_consent_tick(client: httpx.AsyncClient, org: Org) -> None:
    made = await fair(org)
    await sign_in(client, org.phones["worker_a1"])
    page = await client.get(f"/activities/{made['activity_id']}/jobs")
    assert 'name="share_phone" >' in page.text or 'name="share_phone">' in page.text  # off
    response = await post_form(
        client, f"/activities/{made['activity_id']}/jobfair-signup", {"share_phone": "on"}
    )
    assert response.status_code in (302, 303)
    assert await jobfairs.consent(org.worker_a1, made["activity_id"]) is True
    assert await activities.my_registration(org.worker_a1, made["activity_id"]) is not None
    await post_form(client, f"/activities/{made['activity_id']}/jobfair-consent", {})
    assert await jobfairs.consent(org.worker_a1, made["activity_id"]) is False
    assert await count(Consent) == 1


async def test_booth_page_records_a_stage_and_the_ticket_lists_the_booth(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    made = await fair(org)
    (person,) = await workers(1)
    registration, _ = await activities.register(person.actor, made["activity_id"])
    await jobfairs.assign_booth_staff(org.organiser_a, made["booth_id"], org.phones["staff_a"])
    await sign_in(client, org.phones["staff_a"])
    booths = await client.get("/booths")
    assert f"/booths/{made['booth_id']}" in booths.text
    page = await client.get(f"/booths/{made['booth_id']}")
    assert page.status_code == 200
    form = {
        "code": registration.ticket_code,
        "stage": "intent",
        "posting_id": "",
        "client_id": "page-scan-0001",
        "rating": "4",
        "note": "有驾照",
    }
    first = await post_form(client, f"/booths/{made['booth_id']}/scan", form)
    again = await post_form(client, f"/booths/{made['booth_id']}/scan", form)  # double tap
    assert first.status_code == again.status_code == 200
    assert await count(Lead) == 1
    assert zh("Not checked in at the entrance") in first.text
    assert full_phones(first.text) == []  # intent, but no consent
    backwards = await post_form(
        client,
        f"/booths/{made['booth_id']}/scan",
        {**form, "stage": "consulted", "client_id": "page-scan-0002"},
    )
    assert backwards.status_code == 400
    assert "进度只能向前" in backwards.text
    materials = await post_form(client, f"/booths/{made['booth_id']}/materials", {"delta": "10"})
    assert materials.status_code in (302, 303)
    other = await new_published(org, capacity=5, title="另一场")
    employer = await jobfairs.create_employer(org.organiser_a, other, EmployerIn(name="别家"))
    booth = await jobfairs.create_booth(
        org.organiser_a, other, BoothIn(number="B1", employer_id=employer.id)
    )
    assert (await client.get(f"/booths/{booth.id}")).status_code == 403
    await sign_in(client, person.phone)
    ticket = await client.get(f"/me/tickets/{registration.id}")
    assert f"/me/tickets/{registration.id}/booths" in ticket.text
    visits = await client.get(f"/me/tickets/{registration.id}/booths")
    assert "顺达物流" in visits.text and "13912345678" in visits.text  # intent: the contact
