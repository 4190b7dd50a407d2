"""The report pages of issue 6: an activity's report with its live block, the summary of
an organiser's subtree, and a member's history. A hand-made scenario whose every figure
is known; the page must show what the JSON API says, phones masked, within scope only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from markupsafe import escape

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.checkin.schemas import DoorSettingsIn
from service.reports import charts
from service.reports import services as reports
from tests.conftest import Org, add_member, post_form, sign_in
from tests.http.activity_helpers import END, START, Person, new_published, workers
from tests.http.helpers import en, field_error, full_phones, zh

WALK_IN_PHONE = "13900000009"


def said(message: str, **params: Any) -> str:
    """A zh-CN message as it appears in the HTML (escaped by Jinja)."""
    return str(escape(zh(message, **params)))


def said_en(message: str, **params: Any) -> str:
    return str(escape(en(message, **params)))


def figures(html: str) -> dict[str, str]:
    """The big numbers of a report page: data-figure name → the number shown."""
    return {
        name: value.strip()
        for name, value in re.findall(r'data-figure="(\w+)"><dt>.*?</dt><dd>(.*?)</dd>', html, re.S)
    }


def table_rows(html: str, table_id: str) -> list[list[str]]:
    match = re.search(rf'<table class="numbers" id="{table_id}">(.*?)</table>', html, re.S)
    assert match, f"no table {table_id}"
    body = match.group(1).split("<tbody>")[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def percent(rate: float | None) -> str:
    if rate is None:
        return "–"
    value = rate * 100
    return f"{value:.0f}%" if value.is_integer() else f"{value:.1f}%"


@dataclass
class Scenario:
    activity_id: int
    couriers: list[Person]
    riders: list[Person]
    late: Person


@pytest.fixture(autouse=True)
def fresh_live_cache() -> None:
    # Ids restart in every test: a cached figure of the last test's activity must not leak.
    reports.clear_live_cache()


async def scenario(org: Org) -> Scenario:
    """Capacity 5. Four couriers of ent-a1 and two riders of union-a sign up, then a late
    courier: five confirmed, two waiting. One courier cancels, so the first rider waiting
    moves up. At the door: two at the east gate, one at the west, and a walk-in nobody
    knew (a new member of union-a) at the west gate.

    registered 8 (the walk-in too) · confirmed 6 (5 + walk-in) · waitlisted 1 ·
    cancelled 1 · checked in 4 · walk-ins 1 · no-shows 2 (both riders) · rate 2/6."""
    activity_id = await new_published(org, capacity=5, title="春风行动招聘会", campaign="春风行动")
    couriers = await workers(4)
    riders = [
        Person(
            await add_member(f"1370000010{i}", f"骑手{i}", "union-a", ["worker"], "food_delivery"),
            f"1370000010{i}",
            f"骑手{i}",
        )
        for i in range(2)
    ]
    late = Person(
        await add_member("13700000200", "迟到的快递员", "ent-a1", ["worker"], "courier"),
        "13700000200",
        "迟到的快递员",
    )
    codes: dict[str, str] = {}
    for person in [*couriers, *riders, late]:
        registration, _ = await activities.register(person.actor, activity_id)
        if registration.ticket_code:
            codes[person.phone] = registration.ticket_code
    mine = await activities.my_registration(couriers[1].actor, activity_id)
    assert mine is not None
    await activities.cancel_registration(couriers[1].actor, mine.id)
    await checkin.update_settings(
        org.organiser_a,
        activity_id,
        DoorSettingsIn(walk_ins_over_capacity=True, gates=["东门", "西门"]),
    )
    for minutes, person, gate in (
        (5, couriers[0], "东门"),
        (10, couriers[2], "东门"),
        (20, couriers[3], "西门"),
    ):
        with clock.frozen_at(START + timedelta(minutes=minutes)):
            done = await checkin.check_in(
                org.organiser_a, activity_id, codes[person.phone], gate=gate
            )
            assert done.result == "admitted", done
    with clock.frozen_at(START + timedelta(minutes=25)):
        done = await checkin.walk_in(
            org.organiser_a, activity_id, WALK_IN_PHONE, "路人甲", gate="西门"
        )
        assert done.result == "admitted", done
    return Scenario(activity_id, couriers, riders, late)


async def api_report(client: httpx.AsyncClient, activity_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/activities/{activity_id}/report")
    assert response.status_code == 200, response.text
    return response.json()


# --- the activity report ------------------------------------------------------------------


async def test_activity_report_shows_the_api_numbers_in_chinese(
    client: httpx.AsyncClient, org: Org
) -> None:
    case = await scenario(org)
    await sign_in(client, org.phones["organiser_a"])
    page = await client.get(f"/organise/activities/{case.activity_id}/report")
    assert page.status_code == 200, page.text
    html = page.text
    assert '<html lang="zh-CN">' in html
    api = await api_report(client, case.activity_id)

    shown = figures(html)
    expected = {
        "registered": 8,
        "confirmed": 6,
        "waitlisted": 1,
        "cancelled": 1,
        "checked_in": 4,
        "walk_ins": 1,
    }
    for name, value in expected.items():
        assert api[name] == value, name
        assert shown[name] == str(api[name]), name
    # The activity has not ended: no-shows may still come, so the page shows neither a
    # count nor a rate (the API's figures carry provisional=true).
    assert api["provisional"] is True
    assert api["no_shows"] == 2
    assert shown["no_shows"] == shown["no_show_rate"] == said("Not yet")
    assert "%" not in shown["no_show_rate"]
    assert said("No-shows are counted once the activity ends.") in html
    assert said("Held without scanning: attendance unknown, not zero.") not in html

    gates = {gate: int(n) for gate, n in table_rows(html, "gates-table")}
    assert gates == {g["gate"]: g["checked_in"] for g in api["by_gate"]} == {"东门": 2, "西门": 2}
    nodes = table_rows(html, "nodes-table")
    assert nodes == [[n["name"], str(n["confirmed"]), str(n["checked_in"])] for n in api["by_node"]]
    assert nodes == [
        ["测试县总工会", "6", "4"],
        ["甲镇总工会", "6", "4"],
        ["甲一快递站", "3", "3"],
    ]
    groups = table_rows(html, "groups-table")
    assert groups == [
        [zh("Courier"), "3", "3"],
        [zh("Food-delivery rider"), "2", "0"],
        [zh("Other"), "1", "1"],
    ]
    assert [g["group"] for g in api["by_group"]] == ["courier", "food_delivery", "other"]
    arrivals = table_rows(html, "arrivals-table")
    assert [int(n) for _, n in arrivals] == [b["checked_in"] for b in api["arrivals"]]
    assert sum(int(n) for _, n in arrivals) == 4
    first = START + timedelta(hours=8, minutes=5)  # the first scan, in Asia/Shanghai time
    first -= timedelta(minutes=first.minute % 15)
    assert arrivals[0][0] == first.strftime("%H:%M")  # local 15-minute buckets

    # Charts: server-drawn, labelled images, no script.
    assert html.count('role="img"') >= 4
    assert f'<title id="arrivals-title">{said("Arrivals every 15 minutes")}</title>' in html
    assert "<script" not in html.split("<main", 1)[1].split("</main>", 1)[0]
    # Walk-in's and everybody's phones are masked; nothing unmasked on the page.
    assert full_phones(html) == []
    # Not on yet (starts in three days): no polling.
    assert "hx-trigger" not in html


async def test_activity_report_in_english(client: httpx.AsyncClient, org: Org) -> None:
    case = await scenario(org)
    await sign_in(client, org.phones["organiser_a"])
    await post_form(client, "/language", {"language": "en", "next": "/"})
    html = (await client.get(f"/organise/activities/{case.activity_id}/report")).text
    assert '<html lang="en">' in html
    for text in ("Check-ins by gate", "By worker group", "Arrival curve", "No-show rate"):
        assert said_en(text) in html
    assert said_en("No-shows are counted once the activity ends.") in html
    assert figures(html)["no_show_rate"] == said_en("Not yet")


async def test_the_manage_page_links_to_the_report(client: httpx.AsyncClient, org: Org) -> None:
    activity_id = await new_published(org)
    await sign_in(client, org.phones["organiser_a"])
    manage = await client.get(f"/organise/activities/{activity_id}")
    assert f'href="/organise/activities/{activity_id}/report"' in manage.text
    listing = await client.get("/organise/activities")
    assert 'href="/organise/reports"' in listing.text


async def test_live_block_polls_while_on_and_returns_only_itself(
    client: httpx.AsyncClient, org: Org
) -> None:
    case = await scenario(org)
    await sign_in(client, org.phones["organiser_a"])
    live_url = f"/organise/activities/{case.activity_id}/live"
    with clock.frozen_at(START + timedelta(minutes=30)):
        page = await client.get(f"/organise/activities/{case.activity_id}/report")
        assert f'hx-get="{live_url}"' in page.text
        assert 'hx-trigger="every 10s"' in page.text
        assert said("Live: updates every %(n)s seconds.", n=10) in page.text

        headers = {"HX-Request": "true", "HX-Target": "live"}
        block = await client.get(live_url, headers=headers)
        assert block.status_code == 200
        text = block.text.strip()
        assert text.startswith('<section id="live"') and text.endswith("</section>")
        assert "<html" not in text and "nodes-table" not in text
        assert figures(text)["checked_in"] == "4"
        assert 'hx-trigger="every 10s"' in text
        assert "HX-Request" in block.headers.get("vary", "")

    # One more arrival: the figures are cached for a few seconds, then move.
    with clock.frozen_at(START + timedelta(minutes=35)):
        rider = await activities.my_registration(case.riders[0].actor, case.activity_id)
        assert rider is not None
        await checkin.admit_registration(org.organiser_a, case.activity_id, rider.id, gate="东门")
        cached = await client.get(live_url, headers=headers)
        assert figures(cached.text)["checked_in"] == "4"
        reports.clear_live_cache()
        fresh = await client.get(live_url, headers=headers)
        assert figures(fresh.text)["checked_in"] == "5"
        assert figures(fresh.text)["no_shows"] == said("Not yet")  # it is still on

    # Without htmx, the live address is the report page.
    plain = await client.get(live_url)
    assert plain.status_code in (301, 302, 303)
    assert plain.headers["location"].endswith(f"/organise/activities/{case.activity_id}/report")


async def test_after_the_end_the_report_is_final_and_stops_polling(
    client: httpx.AsyncClient, org: Org
) -> None:
    case = await scenario(org)
    await sign_in(client, org.phones["organiser_a"])
    with clock.frozen_at(END + timedelta(minutes=5)):
        html = (await client.get(f"/organise/activities/{case.activity_id}/report")).text
        api = await api_report(client, case.activity_id)
        block = await client.get(
            f"/organise/activities/{case.activity_id}/live",
            headers={"HX-Request": "true", "HX-Target": "live"},
        )
    assert api["provisional"] is False
    assert "hx-trigger" not in html and "hx-trigger" not in block.text
    assert said("No-shows are counted once the activity ends.") not in html
    assert figures(html)["no_shows"] == "2" == str(api["no_shows"])
    assert figures(block.text)["no_show_rate"] == "33.3%"


async def test_held_without_scanning_is_unknown_not_zero(
    client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await new_published(org, title="没有扫码的活动")
    for person in await workers(2):
        await activities.register(person.actor, activity_id)
    await sign_in(client, org.phones["organiser_a"])
    with clock.frozen_at(END + timedelta(hours=1)):
        html = (await client.get(f"/organise/activities/{activity_id}/report")).text
        api = await api_report(client, activity_id)
    assert api["attendance_unknown"] is True
    assert said("Held without scanning: attendance unknown, not zero.") in html
    assert figures(html)["no_shows"] == said("Unknown")
    assert figures(html)["checked_in"] == "0"


async def test_report_scope_worker_403_other_node_404(client: httpx.AsyncClient, org: Org) -> None:
    case = await scenario(org)
    await sign_in(client, org.phones["worker_a1"])
    for url in (
        f"/organise/activities/{case.activity_id}/report",
        f"/organise/activities/{case.activity_id}/live",
        "/organise/reports",
    ):
        response = await client.get(url, headers={"HX-Request": "true", "HX-Target": "live"})
        assert response.status_code == 403, url
    client.cookies.clear()
    await sign_in(client, org.phones["organiser_b"])
    for url in (
        f"/organise/activities/{case.activity_id}/report",
        f"/organise/activities/{case.activity_id}/live",
    ):
        response = await client.get(url, headers={"HX-Request": "true", "HX-Target": "live"})
        assert response.status_code == 404, url
        assert "春风行动招聘会" not in response.text


# --- across activities --------------------------------------------------------------------


def summary_query() -> dict[str, str]:
    return {
        "from": (START - timedelta(days=10)).strftime("%Y-%m-%d"),
        "to": (START + timedelta(days=1)).strftime("%Y-%m-%d"),
    }


async def test_summary_page_shows_the_api_numbers(client: httpx.AsyncClient, org: Org) -> None:
    await scenario(org)
    await sign_in(client, org.phones["organiser_a"])
    query = summary_query()
    with clock.frozen_at(END + timedelta(hours=1)):
        page = await client.get("/organise/reports", params=query)
        api = (await client.get("/api/v1/reports/summary", params=query)).json()
    assert page.status_code == 200, page.text
    html = page.text
    shown = figures(html)
    assert api["activities_held"] == 1 and shown["activities_held"] == "1"
    assert shown["checked_in"] == str(api["checked_in"]) == "4"
    assert shown["confirmed"] == str(api["confirmed"]) == "6"
    assert shown["no_shows"] == str(api["no_shows"]) == "2"
    assert shown["no_show_rate"] == percent(api["no_show_rate"]) == "33.3%"
    assert shown["members_reached"] == str(api["members_reached"])
    assert shown["reach_share"] == percent(api["reach_share"])
    assert shown["repeat_attendees"] == str(api["repeat_attendees"])
    kinds = table_rows(html, "kinds-table")
    assert kinds == [
        [zh("Job fair"), str(k["held"]), str(k["confirmed"]), str(k["checked_in"])]
        for k in api["by_kind"]
    ]
    months = table_rows(html, "months-table")
    assert months == [
        [
            m["month"],
            str(m["activities"]),
            str(m["confirmed"]),
            str(m["no_shows"]),
            percent(m["no_show_rate"]),
        ]
        for m in api["by_month"]
    ]
    top = table_rows(html, "top-table")
    assert top == [
        [n["name"], str(n["members"]), str(n["reached"]), percent(n["share"])]
        for n in api["top_nodes"]
    ]
    # The form keeps the filter (a GET form: the address is bookmarkable).
    assert f'value="{query["from"]}"' in html and f'value="{query["to"]}"' in html
    assert 'method="get" action="/organise/reports"' in html
    assert full_phones(html) == []


async def test_summary_page_filters_by_campaign(client: httpx.AsyncClient, org: Org) -> None:
    await scenario(org)
    await sign_in(client, org.phones["organiser_a"])
    with clock.frozen_at(END + timedelta(hours=1)):
        chosen, other = [
            await client.get("/organise/reports", params={**summary_query(), "campaign": name})
            for name in ("春风行动", "送清凉")
        ]
    assert chosen.status_code == other.status_code == 200
    assert figures(chosen.text)["activities_held"] == "1"
    assert '<option value="春风行动" selected>春风行动</option>' in chosen.text
    # A campaign with no activity in range: none held, the filter kept as chosen.
    assert figures(other.text)["activities_held"] == "0"
    assert '<option value="送清凉" selected>送清凉</option>' in other.text
    assert '<option value="春风行动" >春风行动</option>' in other.text


async def test_summary_defaults_to_the_organisers_node_and_last_year(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, org.phones["organiser_a"])
    page = await client.get("/organise/reports")
    assert page.status_code == 200
    assert '<option value="union-a" selected>' in page.text
    assert 'value="union-b"' not in page.text  # not in this organiser's subtree
    assert figures(page.text)["activities_held"] == "0"


@pytest.mark.parametrize(
    ("query", "field", "message", "params"),
    [
        (
            {"from": "2026-05-10", "to": "2026-05-01"},
            "to",
            "The end of the range must be after its start.",
            {},
        ),
        (
            {"from": "2019-01-01", "to": "2026-01-01"},
            "from",
            "Choose a range of at most 5 years.",
            {},
        ),
        ({"from": "soon"}, "from", "Enter a date such as 2026-05-01.", {}),
        (
            {"node": "nope"},
            "node",
            "There is no organisation with the code %(code)s.",
            {"code": "nope"},
        ),
        ({"node": "union-b"}, "node", "This organisation is outside your area.", {}),
        ({"kind": "party"}, "kind", "Choose an activity kind from the list.", {}),
        (
            {"campaign": "春" * 61},
            "campaign",
            "Keep this to %(limit)s characters or fewer.",
            {"limit": 60},
        ),
    ],
)
async def test_summary_bad_filters_are_shown_beside_the_form(
    client: httpx.AsyncClient,
    org: Org,
    query: dict[str, str],
    field: str,
    message: str,
    params: dict[str, str],
) -> None:
    await sign_in(client, org.phones["organiser_a"])
    page = await client.get("/organise/reports", params=query)
    assert page.status_code == 400
    assert field_error(page.text, field) == said(message, **params)
    assert 'data-figure="activities_held"' not in page.text
    await post_form(client, "/language", {"language": "en", "next": "/"})
    page = await client.get("/organise/reports", params=query)
    assert page.status_code == 400
    assert field_error(page.text, field) == said_en(message, **params)


# --- members ------------------------------------------------------------------------------


async def test_my_history_and_rate(client: httpx.AsyncClient, org: Org) -> None:
    case = await scenario(org)
    await sign_in(client, case.couriers[0].phone)
    mine = await client.get("/me/activities")
    assert 'href="/me/history"' in mine.text
    with clock.frozen_at(END + timedelta(hours=1)):
        page = await client.get("/me/history")
        api = (await client.get("/api/v1/me/history")).json()
    assert page.status_code == 200
    assert "春风行动招聘会" in page.text
    assert (
        said(
            "Came, checked in at %(time)s",
            time=(START + timedelta(hours=8, minutes=5)).strftime("%H:%M"),
        )
        in page.text
    )
    assert figures(page.text)["attendance_rate"] == percent(api["attendance_rate"]) == "100%"
    # The tile is two numbers, short enough for one line in both languages.
    assert re.sub(r"<[^>]+>", "", figures(page.text)["attended"]) == "1 / 1"
    assert full_phones(page.text) == []


async def test_organiser_sees_a_member_history_within_scope_only(
    client: httpx.AsyncClient, org: Org
) -> None:
    case = await scenario(org)
    rider = case.riders[0]
    url = f"/organise/members/{rider.actor.member_id}/history"
    await sign_in(client, org.phones["organiser_a"])
    member_page = await client.get(f"/admin/members/{rider.actor.member_id}")
    assert f'href="{url}"' in member_page.text
    with clock.frozen_at(END + timedelta(hours=1)):
        page = await client.get(url)
    assert page.status_code == 200
    assert "骑手0" in page.text and "137****0100" in page.text
    assert said("Did not come") in page.text
    assert figures(page.text)["attendance_rate"] == "0%"
    assert full_phones(page.text) == []

    client.cookies.clear()
    await sign_in(client, org.phones["organiser_b"])
    assert (await client.get(url)).status_code == 404
    client.cookies.clear()
    await sign_in(client, org.phones["worker_a1"])
    assert (await client.get(url)).status_code == 403


# --- charts -------------------------------------------------------------------------------


def test_charts_are_labelled_images_with_escaped_text() -> None:
    svg = charts.bars("x", "<b>&", [("<script>alert(1)</script>", 3)], totals=[5])
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert '<title id="x-title">&lt;b&gt;&amp;</title>' in svg
    assert 'aria-labelledby="x-title x-desc"' in svg
    assert 'font-size="16"' in svg
    line = charts.line("m", "rate", [("26-01", 0.5), ("26-02", None), ("26-03", 0.25)])
    assert line.count("<circle") == 2
    empty = charts.columns("a", "arrivals", [], empty="none <yet>")
    assert empty == '<p class="chart-empty">none &lt;yet&gt;</p>'


async def test_summary_opens_on_a_range_with_activities_and_says_so(
    client: httpx.AsyncClient, org: Org
) -> None:
    """With no dates the summary covers the last 90 days and the next 30: an activity
    held a week ago counts, where a range ending today would have read zero for a new
    union whose activities are all recent."""
    await scenario(org)
    await sign_in(client, org.phones["organiser_a"])
    with clock.frozen_at(END + timedelta(days=7)):
        html = (await client.get("/organise/reports")).text
        chosen = (await client.get("/organise/reports", params=summary_query())).text
    assert (
        said("Showing the last 90 days and the next 30 days. Choose dates to see another range.")
        in html
    )
    assert figures(html)["activities_held"] == "1"
    assert (
        said("Showing the last 90 days and the next 30 days. Choose dates to see another range.")
        not in chosen
    )
