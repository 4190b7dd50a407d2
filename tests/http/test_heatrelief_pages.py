"""Heat-relief pages without JavaScript (issue 14): the organiser adds sites, a team and
a plan through real forms, records stock movements; a team member records a delivery
from "today's deliveries"; the activity page and the report show it. Bad input comes
back beside its field; phones are masked."""

from __future__ import annotations

import re

import httpx

from service import clock
from service.heatrelief import services as relief
from service.heatrelief.schemas import ItemIn, MovementIn, SiteIn
from service.orgs import services as orgs
from tests.conftest import Org, add_member, post_form, sign_in
from tests.http.activity_helpers import browser
from tests.http.helpers import field_error, new_client, zh
from tests.http.test_heatrelief_api import campaign
from tests.service.test_heatrelief import NOW, sites_in_districts


async def test_an_organiser_sets_up_a_campaign_and_a_team_member_delivers(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await campaign(org)
    await add_member("13900000001", "送水员老李", "ent-a1", ["worker"])
    water = await relief.create_item(org.organiser_a, ItemIn(name="矿泉水", unit="瓶"))
    await relief.record_movement(
        org.organiser_a, water.id, MovementIn(reason="received", quantity=100)
    )
    await sign_in(client, org.phones["organiser_a"])
    base = f"/organise/activities/{activity_id}/heat-relief"
    manage = await client.get(f"/organise/activities/{activity_id}")
    assert f'href="{base}"' in manage.text  # reachable from the activity's own page
    hub = await client.get(base)
    assert hub.status_code == 200
    assert "添加站点" in hub.text  # zh-CN by default

    bad = await post_form(
        client, f"{base}/sites", {"name": "", "kind": "construction", "node": "ent-a1"}
    )
    assert bad.status_code == 400
    bad_phone = await post_form(
        client,
        f"{base}/sites",
        {"name": "一号工地", "kind": "construction", "node": "ent-a1", "contact_phone": "12345"},
    )
    assert bad_phone.status_code == 400 and 'id="contact_phone-error"' in bad_phone.text
    made = await post_form(
        client,
        f"{base}/sites",
        {
            "name": "一号工地",
            "kind": "construction",
            "node": "ent-a1",
            "district": "城关镇",
            "contact_phone": "13812345678",
            "head_count": "60",
        },
    )
    assert made.status_code in (200, 302, 303)
    hub = await client.get(base)
    assert "一号工地" in hub.text and "138****5678" in hub.text and "13812345678" not in hub.text

    team = await post_form(client, f"{base}/teams", {"name": "一队", "phones": "13900000001"})
    assert team.status_code in (200, 302, 303)
    team_id = (await relief.list_teams(org.organiser_a, activity_id))[0].id
    site_id = (await relief.list_sites(org.organiser_a, activity_id))[0].id

    issued = await post_form(
        client,
        f"/organise/supplies/{water.id}/movements",
        {"reason": "issued", "quantity": "30", "team_id": str(team_id)},
    )
    assert issued.status_code in (200, 302, 303)
    too_much = await post_form(
        client,
        f"/organise/supplies/{water.id}/movements",
        {"reason": "issued", "quantity": "71", "team_id": str(team_id)},
    )
    assert too_much.status_code == 409
    assert "70" in too_much.text  # what is left, in the message

    from service import clock
    from service.settings import get_settings

    today = clock.now().astimezone(get_settings().zone).date().isoformat()
    plan = await post_form(
        client,
        f"{base}/deliveries",
        {
            "site_id": str(site_id),
            "team_id": str(team_id),
            "planned_date": today,
            f"qty.{water.id}": "20",
        },
    )
    assert plan.status_code in (200, 302, 303)

    async with browser(app, "203.0.113.9") as phone:
        await sign_in(phone, "13900000001")
        page = await phone.get("/heat-relief/today")
        assert page.status_code == 200 and "一号工地" in page.text
        delivery_id = int(
            re.search(r'action="/heat-relief/deliveries/(\d+)/record"', page.text).group(1)
        )  # type: ignore[union-attr]
        client_id = re.search(r'name="client_id" value="(\w+)"', page.text).group(1)  # type: ignore[union-attr]
        form = {
            "client_id": client_id,
            f"qty.{water.id}": "31",
            "reached.construction": "45",
            "by_hand_reason": "海报被撕",
        }
        short = await post_form(phone, f"/heat-relief/deliveries/{delivery_id}/record", form)
        assert short.status_code == 409 and "30" in short.text
        form |= {"client_id": client_id + "b", f"qty.{water.id}": "18"}
        done = await post_form(phone, f"/heat-relief/deliveries/{delivery_id}/record", form)
        assert done.status_code == 200 and "已记录" in done.text
        again = await post_form(phone, f"/heat-relief/deliveries/{delivery_id}/record", form)
        assert again.status_code == 200  # the same form sent twice counts once
        assert (await phone.get(base)).status_code == 403

    assert await relief.balance_of(water.id, team_id) == 12
    report = await client.get(f"/organise/activities/{activity_id}/report")
    assert report.status_code == 200
    assert "站点覆盖" in report.text and "45" in report.text
    activity_page = await client.get(f"/activities/{activity_id}")
    assert "一号工地" in activity_page.text and "13812345678" not in activity_page.text
    ledger = await client.get(f"/organise/supplies/{water.id}")
    assert ledger.status_code == 200 and "送达" in ledger.text


async def test_posters_print_one_site_or_all_with_a_scannable_code(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    activity_id = await campaign(org)
    for name in ("一号工地", "环卫三所"):
        await relief.create_site(
            org.organiser_a,
            activity_id,
            SiteIn(name=name, kind="construction", node="ent-a1"),
        )
    sites = await relief.list_sites(org.organiser_a, activity_id)
    await sign_in(client, org.phones["organiser_a"])
    everything = await client.get(f"/organise/activities/{activity_id}/posters")
    assert everything.status_code == 200
    assert everything.text.count('class="poster"') == 2
    assert "@page { size: A4" in everything.text and "<svg" in everything.text
    from service.tickets.services import qr_svg

    for site in sites:
        # The QR holds the signed poster code (Ed25519 signs deterministically); the short
        # code to type by hand is printed under it.
        assert qr_svg(relief.poster_code(site)).decode() in everything.text
        assert site.code in everything.text
    one = await client.get(f"/organise/activities/{activity_id}/posters?site={sites[0].id}")
    assert one.text.count('class="poster"') == 1 and sites[0].name in one.text
    missing = await client.get(f"/organise/activities/{activity_id}/posters?site=999999")
    assert missing.status_code == 404
    async with browser(app, "203.0.113.10") as other:
        await sign_in(other, org.phones["organiser_b"])
        assert (await other.get(f"/organise/activities/{activity_id}/posters")).status_code == 404


async def test_a_worker_sees_the_sites_near_them_and_picks_a_district_without_javascript(
    app: object, client: httpx.AsyncClient, org: Org
) -> None:
    activity_id, _ = await sites_in_districts(org)
    phone = "13700000043"
    await add_member(phone, "职工己", "ent-a3", ["worker"])  # no site of its own
    await sign_in(client, phone)
    page_url = f"/activities/{activity_id}"
    with clock.frozen_at(NOW):
        unknown = await client.get(page_url)
        assert unknown.status_code == 200
        assert (
            zh(
                "We do not know which district you work in, so all sites are shown by when they "
                "are next planned. Choose your district to see its sites first."
            )
            in unknown.text
        )
        assert site_names(unknown.text) == [
            "城关二号",
            "开发区厂房",
            "城南工地",
            "城关一号",
            "开发区驿站",
        ]
        assert '<option value="开发区" >开发区</option>' in unknown.text

        no_token = await client.post("/heat-relief/district", data={"district": "开发区"})
        assert no_token.status_code == 403
        bad = await post_form(
            client, "/heat-relief/district", {"district": "火星街道", "activity_id": activity_id}
        )
        assert bad.status_code == 400
        assert field_error(bad.text, "district") == zh("Choose your district from the list.")
        picked = await post_form(
            client, "/heat-relief/district", {"district": "开发区", "activity_id": activity_id}
        )
        assert picked.status_code in (302, 303)
        assert picked.headers["location"] == f"/activities/{activity_id}#heat-relief"
        near = await client.get(page_url)
        assert (
            zh(
                "Sites in %(district)s, your district, come first; then those nearest your union.",
                district="开发区",
            )
            in near.text
        )
        assert site_names(near.text)[:2] == ["开发区厂房", "开发区驿站"]
        assert '<option value="开发区" selected>开发区</option>' in near.text
        await post_form(client, "/language", {"language": "en", "next": "/"})
        english = await client.get(page_url)
    assert "Sites in 开发区, your district, come first" in english.text
    async with new_client(app) as anonymous:
        refused = await anonymous.post("/heat-relief/district", data={"district": "城关街道"})
    assert refused.status_code in (401, 403)
    worker = await orgs.actor_for_member(await orgs.member_id_for_phone(phone) or 0)
    assert worker is not None
    assert await relief.picked_district(worker) == "开发区"


def site_names(html: str) -> list[str]:
    sites = html.split('<ul class="members sites">')[1].split("</ul>")[0]
    return re.findall(r"<strong>([^<]+)</strong>", sites)
