"""The activity pages of issue 3, as a phone without JavaScript uses them: real forms with
CSRF tokens, redirects after a post, texts in zh-CN, masked phones, scope by node."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from markupsafe import escape

from service import clock
from service.activities import services as activities
from service.activities.tables import Activity, Registration
from service.orgs.tables import Member
from tests.conftest import Org, post_form, sign_in
from tests.http.activity_helpers import (
    END,
    NOW,
    START,
    bearer,
    browser,
    field_error,
    new_draft,
    new_published,
    workers,
    zh,
)
from tests.http.helpers import full_phones


def said(message: str, **params: Any) -> str:
    """A zh-CN message as it appears in the HTML (escaped by Jinja)."""
    return str(escape(zh(message, **params)))


def cancel_link(html: str) -> str:
    """The "cancel my place" link on an activity page (it leads to a confirmation)."""
    match = re.search(r'href="(/registrations/\d+/cancel)"', html)
    assert match, html
    return match.group(1)


def cancel_action(html: str) -> str:
    """The confirmation page's form target."""
    match = re.search(r'action="(/registrations/\d+/cancel)"', html)
    assert match, html
    return match.group(1)


def local_input(moment: datetime) -> str:
    """A datetime-local value as the browser sends it, in Shanghai time."""
    return (moment + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")


async def registrations() -> int:
    return int(await Registration.count().run())


async def activity_total() -> int:
    return int(await Activity.count().run())


# --- workers: list, filter, htmx ------------------------------------------------------------


async def test_worker_sees_published_activities_in_chinese(
    client: httpx.AsyncClient, org: Org
) -> None:
    await new_published(org, title="春风行动招聘会")
    await new_draft(org, title="还没发布的草稿")
    await new_published(org, by="organiser_b", title="乙工会的读书会", kind="reading_session")

    home = await sign_in(client, org.phones["worker_a1"])
    assert home.status_code == 200
    assert str(home.url).endswith("/")
    assert '<html lang="zh-CN">' in home.text
    assert "春风行动招聘会" in home.text
    assert said("Job fair") in home.text
    assert said("%(left)s of %(total)s places left", left=5, total=5) in home.text
    assert "还没发布的草稿" not in home.text
    assert "乙工会的读书会" not in home.text


async def test_the_list_marks_where_i_stand_and_my_activities_show_kind_and_place(
    client: httpx.AsyncClient, org: Org
) -> None:
    full = await new_published(org, title="一个名额的招聘会", capacity=1)
    mine = await new_published(org, title="读书分享会", kind="reading_session")
    await new_published(org, title="没报名的招聘会")
    (other,) = await workers(1)
    await activities.register(other.actor, full)
    await activities.register(org.worker_a1, full)  # waitlisted, place 1
    await activities.register(org.worker_a1, mine)  # confirmed

    home = (await sign_in(client, org.phones["worker_a1"])).text
    cards = {
        title: card
        for card in home.split('<li class="activity">')[1:]
        for title in ("一个名额的招聘会", "读书分享会", "没报名的招聘会")
        if title in card
    }
    assert said("Waitlist place %(n)s", n=1) in cards["一个名额的招聘会"]
    assert said("You are confirmed.") in cards["读书分享会"]
    assert 'class="mine' not in cards["没报名的招聘会"]

    listing = (await client.get("/me/activities")).text
    assert said("Reading-sharing session") in listing and said("Job fair") in listing
    assert "县人力资源市场" in listing  # the place, beside the time


async def test_an_empty_list_says_so(client: httpx.AsyncClient, org: Org) -> None:
    home = await sign_in(client, org.phones["worker_a1"])
    assert said("No activities to join right now. Check back soon.") in home.text


async def test_kind_and_date_filters_upcoming_first(client: httpx.AsyncClient, org: Org) -> None:
    await new_published(
        org,
        title="后来的招聘会",
        starts_at=START + timedelta(days=5),
        ends_at=END + timedelta(days=5),
    )
    await new_published(org, title="先来的招聘会")
    await new_published(org, title="读书分享会", kind="reading_session")
    await sign_in(client, org.phones["worker_a1"])

    everything = (await client.get("/")).text
    assert everything.index("先来的招聘会") < everything.index("后来的招聘会")

    fairs = await client.get("/", params={"kind": "job_fair"})
    assert fairs.status_code == 200
    assert "先来的招聘会" in fairs.text and "后来的招聘会" in fairs.text
    assert "读书分享会" not in fairs.text
    assert '<option value="job_fair" selected>' in fairs.text

    later_day = (START + timedelta(days=2, hours=8)).date().isoformat()
    later = await client.get("/", params={"kind": "job_fair", "day": later_day})
    assert "后来的招聘会" in later.text
    assert "先来的招聘会" not in later.text


async def test_htmx_partial_is_only_the_list(client: httpx.AsyncClient, org: Org) -> None:
    await new_published(org, title="春风行动招聘会")
    await new_published(org, title="读书分享会", kind="reading_session")
    await sign_in(client, org.phones["worker_a1"])

    full = await client.get("/", params={"kind": "job_fair"})
    assert "<html" in full.text
    assert "HX-Request" in full.headers["vary"]

    partial = await client.get(
        "/",
        params={"kind": "job_fair"},
        headers={"HX-Request": "true", "HX-Target": "activity-list"},
    )
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert "<nav" not in partial.text
    assert "春风行动招聘会" in partial.text
    assert "读书分享会" not in partial.text
    assert "HX-Request" in partial.headers["vary"]


# --- workers: sign up, waitlist, cancel -------------------------------------------------------


async def test_sign_up_on_the_activity_page_then_see_confirmed(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org, title="春风行动招聘会")
    await sign_in(client, org.phones["worker_a1"])

    before = await client.get(f"/activities/{activity_id}")
    assert before.status_code == 200
    assert "春风行动招聘会" in before.text
    assert f'action="/activities/{activity_id}/signup"' in before.text
    assert 'name="_csrf_token"' in before.text
    assert said("Sign up") in before.text
    assert said("You are confirmed.") not in before.text

    response = await post_form(client, f"/activities/{activity_id}/signup", {})
    assert response.status_code in {302, 303}, response.text
    assert response.headers["location"] == f"/activities/{activity_id}?signed_up=1"

    after = await client.get(response.headers["location"])
    assert said("You are confirmed.") in after.text
    assert said("%(taken)s of %(total)s taken", taken=1, total=5) in after.text
    assert said("Cancel my place") in after.text
    assert f'action="/activities/{activity_id}/signup"' not in after.text

    again = await post_form(client, f"/activities/{activity_id}/signup", {})
    assert again.status_code in {302, 303}
    assert await registrations() == 1


async def test_waitlist_position_then_promotion_when_the_first_cancels(
    client: httpx.AsyncClient, app: Any, org: Org
) -> None:
    activity_id = await new_published(org, capacity=1)
    other = (await workers(1))[0]
    page_url = f"/activities/{activity_id}"
    await sign_in(client, org.phones["worker_a1"])
    await post_form(client, f"/activities/{activity_id}/signup", {})

    async with browser(app, "198.51.100.20") as second:
        await sign_in(second, other.phone)
        full = await second.get(page_url)
        assert said("Join the waitlist") in full.text
        signed = await post_form(second, f"/activities/{activity_id}/signup", {})
        assert signed.status_code in {302, 303}
        waiting = await second.get(page_url)
        assert (
            said(
                "You are on the waitlist: place %(n)s. We will tell you when a place frees up.", n=1
            )
            in waiting.text
        )
        assert said("You are confirmed.") not in waiting.text

        mine = await client.get(page_url)
        confirm = await client.get(cancel_link(mine.text))
        assert said("Cancel this place?") in confirm.text
        cancelled = await post_form(client, cancel_action(confirm.text), {"confirm": "yes"})
        assert cancelled.status_code in {302, 303}
        assert cancelled.headers["location"] == page_url + "?cancelled=1"
        first_after = await client.get(cancelled.headers["location"])
        assert said("Cancelled") in first_after.text
        assert said("You are confirmed.") not in first_after.text
        assert f'action="/activities/{activity_id}/signup"' in first_after.text

        promoted = await second.get(page_url)
        assert said("You are confirmed.") in promoted.text
        assert (
            said(
                "You are on the waitlist: place %(n)s. We will tell you when a place frees up.", n=1
            )
            not in promoted.text
        )


async def test_my_activities_upcoming_and_past(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await new_published(org, title="春风行动招聘会")
    await new_published(org, title="没报名的读书会", kind="reading_session")
    await sign_in(client, org.phones["worker_a1"])
    await post_form(client, f"/activities/{activity_id}/signup", {})

    mine = await client.get("/me/activities")
    assert mine.status_code == 200
    upcoming = mine.text.split(said("Upcoming"))[1]
    assert "春风行动招聘会" in upcoming
    assert said("Confirmed") in upcoming
    assert f'href="/activities/{activity_id}"' in upcoming
    assert "没报名的读书会" not in mine.text
    assert said("Past") not in mine.text

    with clock.frozen_at(END + timedelta(days=1)):
        later = await client.get("/me/activities")
    assert later.status_code == 200
    past = later.text.split("<h2>" + said("Past"))[1]
    assert "春风行动招聘会" in past
    assert said("Nothing yet.") in later.text.split("<h2>" + said("Past"))[0]


async def test_signup_without_the_csrf_token_is_refused_and_nothing_written(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    await sign_in(client, org.phones["worker_a1"])
    response = await client.post(f"/activities/{activity_id}/signup", data={})
    assert response.status_code == 403
    assert said("This form has expired. Go back, reload the page and try again.") in response.text
    forged = await client.post(
        f"/activities/{activity_id}/signup", data={"_csrf_token": "forged-token"}
    )
    assert forged.status_code == 403
    assert await registrations() == 0


async def test_signing_up_to_a_closed_activity_shows_the_reason(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    await sign_in(client, org.phones["worker_a1"])
    await client.get(f"/activities/{activity_id}")
    await activities.close(org.organiser_a, activity_id)
    response = await post_form(client, f"/activities/{activity_id}/signup", {})
    assert response.status_code == 400
    assert said("Registration for this activity has closed.") in response.text
    assert await registrations() == 0


# --- organisers: create through the form -------------------------------------------------------


def activity_form(**overrides: str) -> dict[str, str]:
    start = datetime.combine((NOW + timedelta(days=10)).date(), datetime.min.time(), UTC)
    values = {
        "kind": "job_fair",
        "title": "秋季招聘会",
        # 09:00 and 12:00 in Shanghai on that day
        "starts_at": local_input(start + timedelta(hours=1)),
        "ends_at": local_input(start + timedelta(hours=4)),
        "capacity": "120",
        "venue_name": "县人力资源市场",
        "venue_address": "城关镇人民路 1 号",
        "description": "带上简历",
        "owner": "union-a",
    }
    values.update(overrides)
    return values


async def test_organiser_creates_an_activity_in_shanghai_time(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["organiser_a"])
    form_page = await client.get("/organise/activities/new")
    assert form_page.status_code == 200
    assert 'type="datetime-local"' in form_page.text

    values = {**activity_form(), "campaign": " 春风行动"}
    response = await post_form(client, "/organise/activities", values)
    assert response.status_code in {302, 303}, response.text
    match = re.fullmatch(r"/organise/activities/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    activity_id = int(match.group(1))

    manage = await client.get(response.headers["location"])
    assert "秋季招聘会" in manage.text
    assert said("Draft") in manage.text

    api = await client.get(
        f"/api/v1/activities/{activity_id}", headers=await bearer(org.phones["organiser_a"])
    )
    created = api.json()
    day = datetime.fromisoformat(values["starts_at"]).date()
    assert datetime.fromisoformat(created["starts_at"]) == datetime(
        day.year, day.month, day.day, 1, 0, tzinfo=UTC
    )
    assert datetime.fromisoformat(created["ends_at"]) == datetime(
        day.year, day.month, day.day, 4, 0, tzinfo=UTC
    )
    assert (created["status"], created["capacity"], created["owner_code"]) == (
        "draft",
        120,
        "union-a",
    )
    assert created["campaign"] == "春风行动"
    # The next form offers the spelling already used.
    again = await client.get("/organise/activities/new")
    assert '<datalist id="campaign-names"><option value="春风行动"></datalist>' in again.text


async def test_bad_activity_forms_show_the_message_beside_the_field(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["organiser_a"])
    good = activity_form()
    cases = [
        (
            {"ends_at": good["starts_at"][:11] + "08:00"},
            "ends_at",
            said("The end must be after the start."),
        ),
        ({"capacity": "abc"}, "capacity", said("Give the number of places as a whole number.")),
        (
            {"title": "长" * 5000},
            "title",
            said("Keep the title to %(limit)s characters or fewer.", limit=200),
        ),
        ({"starts_at": "下周一"}, "starts_at", said("Enter a date and time.")),
    ]
    for overrides, field, message in cases:
        response = await post_form(client, "/organise/activities", activity_form(**overrides))
        assert response.status_code == 400, (field, response.text[:300])
        assert field_error(response.text, field) == message, field
        assert "<form" in response.text
        assert 'value="县人力资源市场"' in response.text, "what was typed is kept"
    assert await activity_total() == 0


# --- organisers: the manage page -------------------------------------------------------------


async def test_publish_close_from_the_manage_page(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await new_draft(org)
    await sign_in(client, org.phones["organiser_a"])
    manage_url = f"/organise/activities/{activity_id}"

    draft_page = await client.get(manage_url)
    assert said("Draft") in draft_page.text
    assert f'action="{manage_url}/publish"' in draft_page.text

    published = await post_form(client, f"{manage_url}/publish", {})
    assert (published.status_code, published.headers["location"]) == (302, manage_url)
    page = await client.get(manage_url)
    assert said("Published") in page.text
    assert f'action="{manage_url}/publish"' not in page.text
    assert f'action="{manage_url}/close"' in page.text

    closed = await post_form(client, f"{manage_url}/close", {})
    assert closed.status_code == 302
    page = await client.get(manage_url)
    assert said("Closed") in page.text
    assert f'action="{manage_url}/close"' not in page.text
    assert (await activities.get_activity(org.organiser_a, activity_id)).status == "closed"


async def test_publishing_a_past_start_shows_why(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await new_draft(
        org, starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=2)
    )
    await sign_in(client, org.phones["organiser_a"])
    await client.get(f"/organise/activities/{activity_id}")
    response = await post_form(client, f"/organise/activities/{activity_id}/publish", {})
    assert response.status_code == 400
    assert said("The start time has passed. Move it later before publishing.") in response.text
    assert (await activities.get_activity(org.organiser_a, activity_id)).status == "draft"


async def test_cancel_needs_a_reason_and_tells_it(
    client: httpx.AsyncClient, app: Any, org: Org
) -> None:
    activity_id = await new_published(org)
    await activities.register(org.worker_a1, activity_id)
    await sign_in(client, org.phones["organiser_a"])
    manage_url = f"/organise/activities/{activity_id}"

    no_reason = await post_form(client, f"{manage_url}/cancel", {"reason": "   "})
    assert no_reason.status_code == 400
    assert field_error(no_reason.text, "reason") == said("Say why the activity is cancelled.")
    assert (await activities.get_activity(org.organiser_a, activity_id)).status == "published"

    asked = await post_form(client, f"{manage_url}/cancel", {"reason": "台风预警，改期举行"})
    assert asked.status_code == 200  # asks first: nothing is cancelled yet
    assert said("Cancel the activity?") in asked.text
    assert said("%(num)s person will be told, with this reason:", num=1) in asked.text
    assert "台风预警，改期举行" in asked.text
    assert (await activities.get_activity(org.organiser_a, activity_id)).status == "published"
    cancelled = await post_form(
        client, f"{manage_url}/cancel", {"reason": "台风预警，改期举行", "confirm": "yes"}
    )
    assert cancelled.status_code == 302
    page = await client.get(manage_url)
    assert said("Cancelled") in page.text
    assert "台风预警，改期举行" in page.text
    assert f'action="{manage_url}/cancel"' not in page.text

    async with browser(app, "198.51.100.30") as worker:
        await sign_in(worker, org.phones["worker_a1"])
        seen = await worker.get(f"/activities/{activity_id}")
        assert said("This activity has been cancelled.") in seen.text
        # Nothing left to cancel, and no places counted on a cancelled activity.
        assert "/cancel" not in seen.text
        assert said("Places") not in seen.text
        assert "台风预警，改期举行" in seen.text


async def test_duplicate_opens_the_copy_for_editing(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await new_published(org, title="春风行动招聘会")
    await sign_in(client, org.phones["organiser_a"])
    response = await post_form(client, f"/organise/activities/{activity_id}/duplicate", {})
    assert response.status_code == 302
    match = re.fullmatch(r"/organise/activities/(\d+)/edit", response.headers["location"])
    assert match, response.headers["location"]
    copy_id = int(match.group(1))
    assert copy_id != activity_id
    edit = await client.get(response.headers["location"])
    assert edit.status_code == 200
    assert 'value="春风行动招聘会"' in edit.text
    assert f'action="/organise/activities/{copy_id}/edit"' in edit.text
    copy = await activities.get_activity(org.organiser_a, copy_id)
    assert copy.status == "draft"
    assert await activity_total() == 2


async def test_capacity_form_raises_and_refuses_below_confirmed(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org, capacity=2)
    people = await workers(3)
    for person in people:
        await activities.register(person.actor, activity_id)
    await sign_in(client, org.phones["organiser_a"])
    manage_url = f"/organise/activities/{activity_id}"

    too_low = await post_form(client, f"{manage_url}/capacity", {"capacity": "1"})
    assert too_low.status_code == 400
    assert field_error(too_low.text, "capacity") == said(
        "%(confirmed)s people are already confirmed: the capacity cannot go below that.",
        confirmed=2,
    )
    not_a_number = await post_form(client, f"{manage_url}/capacity", {"capacity": "abc"})
    assert not_a_number.status_code == 400
    assert field_error(not_a_number.text, "capacity") == said(
        "Give the number of places as a whole number."
    )
    assert (await activities.get_activity(org.organiser_a, activity_id)).capacity == 2

    raised = await post_form(client, f"{manage_url}/capacity", {"capacity": "3"})
    assert raised.status_code == 302
    page = await client.get(manage_url)
    assert said("%(taken)s of %(total)s taken", taken=3, total=3) in page.text
    assert said("Waitlist place %(n)s", n=1) not in page.text


async def test_roster_shows_masked_phones_only(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await new_published(org, capacity=1)
    people = await workers(2)
    await activities.register(org.worker_a1, activity_id)
    for person in people:
        await activities.register(person.actor, activity_id)
    await sign_in(client, org.phones["organiser_a"])
    page = await client.get(f"/organise/activities/{activity_id}")
    assert page.status_code == 200
    assert "快递员小王" in page.text
    assert "138****0005" in page.text
    assert "137****0000" in page.text and "137****0001" in page.text
    assert said("Waitlist place %(n)s", n=1) in page.text
    assert said("Waitlist place %(n)s", n=2) in page.text
    assert full_phones(page.text) == []
    phones = [row["phone"] for row in await Member.select(Member.phone).run()]
    assert not [phone for phone in phones if phone in page.text]


async def test_promote_by_hand_button(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await new_published(org, capacity=1)
    people = await workers(2)
    await activities.register(people[0].actor, activity_id)
    await activities.register(people[1].actor, activity_id)
    waiting, _ = await activities.register(org.worker_a1, activity_id)
    assert (waiting.status, waiting.waitlist_position) == ("waitlisted", 2)
    await sign_in(client, org.phones["organiser_a"])
    manage_url = f"/organise/activities/{activity_id}"

    page = await client.get(manage_url)
    button = f'action="/organise/registrations/{waiting.id}/promote"'
    assert button in page.text
    assert said("Move up to confirmed") in page.text

    response = await post_form(client, f"/organise/registrations/{waiting.id}/promote", {})
    assert (response.status_code, response.headers["location"]) == (302, manage_url)
    page = await client.get(manage_url)
    assert button not in page.text
    assert said("%(taken)s of %(total)s taken", taken=2, total=2) in page.text
    assert said("Waitlist place %(n)s", n=1) in page.text
    assert (await activities.get_registration(org.worker_a1, waiting.id)).status == "confirmed"


async def test_organiser_removes_someone_from_the_roster(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org, capacity=1)
    first, _ = await activities.register(org.worker_a1, activity_id)
    other = (await workers(1))[0]
    waiting, _ = await activities.register(other.actor, activity_id)
    await sign_in(client, org.phones["organiser_a"])
    one_tap = await post_form(client, f"/registrations/{first.id}/cancel", {"back": "manage"})
    assert one_tap.status_code == 200  # a post without confirmation only asks
    assert (await activities.get_registration(other.actor, waiting.id)).status == "waitlisted"
    response = await post_form(
        client, f"/registrations/{first.id}/cancel", {"back": "manage", "confirm": "yes"}
    )
    assert response.headers["location"] == f"/organise/activities/{activity_id}?removed=1"
    assert (await activities.get_registration(other.actor, waiting.id)).status == "confirmed"


# --- organisers: who may use these pages -------------------------------------------------------


async def test_another_unions_organiser_gets_404_and_changes_nothing(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org)
    draft_id = await new_draft(org, title="甲草稿")
    await sign_in(client, org.phones["organiser_b"])
    for path in (
        f"/organise/activities/{activity_id}",
        f"/organise/activities/{activity_id}/edit",
        f"/activities/{draft_id}",
    ):
        page = await client.get(path)
        assert page.status_code == 404, path
        assert said("There is no such activity.") in page.text
    for action, data in (
        ("close", {}),
        ("cancel", {"reason": "乱来"}),
        ("capacity", {"capacity": "99"}),
        ("duplicate", {}),
    ):
        response = await post_form(client, f"/organise/activities/{activity_id}/{action}", data)
        assert response.status_code == 404, action
    edited = await post_form(
        client, f"/organise/activities/{activity_id}/edit", activity_form(title="被改了")
    )
    assert edited.status_code == 404
    published = await post_form(client, f"/organise/activities/{draft_id}/publish", {})
    assert published.status_code == 404
    seen = await activities.get_activity(org.organiser_a, activity_id)
    assert (seen.title, seen.capacity, seen.status) == ("春风行动招聘会", 5, "published")
    assert (await activities.get_activity(org.organiser_a, draft_id)).status == "draft"
    assert await activity_total() == 2


async def test_workers_get_403_on_the_organiser_pages(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await new_published(org)
    await sign_in(client, org.phones["worker_a1"])
    for path in ("/organise/activities", "/organise/activities/new"):
        page = await client.get(path)
        assert page.status_code == 403, path
        assert said("You do not have access to this.") in page.text
    created = await post_form(client, "/organise/activities", activity_form())
    assert created.status_code == 403
    assert (await client.get(f"/organise/activities/{activity_id}")).status_code in {403, 404}
    assert await activity_total() == 1


async def test_anonymous_visitors_are_sent_to_sign_in(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await new_published(org)
    for path in ("/", f"/activities/{activity_id}", "/me/activities", "/organise/activities"):
        response = await client.get(path)
        assert response.status_code == 302, path
        assert response.headers["location"].startswith("/signin"), path


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"registration_opens_at": "下周"}, "Enter a date and time."),
        ({"eligible_groups": "astronaut"}, "Choose a worker group from the list."),
    ],
    ids=["registration-opens", "eligible-groups"],
)
async def test_errors_on_the_folded_fields_are_shown_too(
    client: httpx.AsyncClient, org: Org, overrides: dict[str, str], message: str
) -> None:
    """The window and eligibility fields sit in a <details>: their errors must still reach
    the organiser, or the form comes back with no word of what was wrong."""
    await sign_in(client, org.phones["organiser_a"])
    response = await post_form(client, "/organise/activities", activity_form(**overrides))
    assert response.status_code == 400
    assert said(message) in response.text
    assert await activity_total() == 0
