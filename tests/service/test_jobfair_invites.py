"""Employer invite links through the services (service/jobfairs/invites.py): the organiser's
link (the same until withdrawn, a new one after), a company entering itself unapproved
and marked as invited, every refused link (forged, altered, another code type, withdrawn,
the fair over or cancelled), bad company details, a name already at the fair (also when
two companies send it at once), and the join limits."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from service import clock
from service.activities import services as activities
from service.errors import DomainError
from service.jobfairs import invites
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import BoothIn, EmployerIn, EmployerJoinIn
from service.jobfairs.tables import Employer, EmployerInvite
from tests.conftest import Org
from tests.service.test_activities import NOW, draft, published, workers

END = NOW + timedelta(days=3, hours=3)  # test_activities.draft's fair ends here
IP = "198.51.100.7"


@pytest.fixture(autouse=True)
def before_the_fair() -> Iterator[None]:
    """The fairs here start three days after NOW: every step happens before then, unless
    a test moves the clock on."""
    with clock.frozen_at(NOW):
        yield


def company(name: str = "惠民电子装配厂", **changes: str) -> EmployerJoinIn:
    values = {
        "name": name,
        "industry": "电子制造",
        "contact_name": "林主管",
        "contact_phone": "139 1111 0011",
    }
    values.update(changes)
    return EmployerJoinIn(**values)


async def fair_with_invite(org: Org, **overrides: Any) -> tuple[int, str]:
    fair_id = await published(org, capacity=50, **overrides)
    invite = await invites.create_invite(org.organiser_a, fair_id)
    assert invite.active and invite.code is not None
    return fair_id, invite.code


def altered(code: str, at: int = 20) -> str:
    """The code with one character changed (inside it: the last one's low bits may be
    padding, which decoding drops)."""
    return code[:at] + ("A" if code[at] != "A" else "B") + code[at + 1 :]


async def employers_of(fair_id: int) -> list[dict[str, Any]]:
    return list(
        await Employer.select().where(Employer.activity_id == fair_id).order_by(Employer.id).run()
    )


# --- the organiser's link ------------------------------------------------------------------


async def test_the_link_stays_the_same_until_withdrawn_and_a_new_one_follows(org: Org) -> None:
    fair_id = await published(org, capacity=50)
    before = await invites.current_invite(org.organiser_a, fair_id)
    assert not before.active and before.code is None and before.path is None
    assert await EmployerInvite.count().run() == 0  # looking writes nothing

    first = await invites.create_invite(org.organiser_a, fair_id)
    assert first.active and first.code and first.path == f"/employer-invite/{first.code}"
    assert first.valid_until == END
    again = await invites.create_invite(org.organiser_a, fair_id)
    assert again.code == first.code  # the same link to send twice
    assert (await invites.invite_page(first.code)).fair_title == "春风行动招聘会"

    withdrawn = await invites.revoke_invite(org.organiser_a, fair_id)
    assert not withdrawn.active and withdrawn.code is None
    assert withdrawn.version == first.version + 1
    with pytest.raises(DomainError) as caught:
        await invites.invite_page(first.code)
    assert caught.value.code == "forbidden"
    assert caught.value.message == invites.WITHDRAWN_REFUSAL
    # Withdrawing again changes nothing.
    assert (await invites.revoke_invite(org.organiser_a, fair_id)).version == withdrawn.version

    fresh = await invites.create_invite(org.organiser_a, fair_id)
    assert fresh.active and fresh.code != first.code
    assert (await invites.invite_page(fresh.code)).fair_title == "春风行动招聘会"
    with pytest.raises(DomainError):  # the withdrawn link stays withdrawn
        await invites.invite_page(first.code)


async def test_only_the_fairs_organisers_create_or_withdraw_the_link(org: Org) -> None:
    fair_id = await published(org, capacity=50)
    for actor, code in (
        (org.worker_a1, "forbidden"),
        (org.staff_a, "forbidden"),
        (org.organiser_b, "not_found"),  # another union's organiser: not in their reach
    ):
        for action in (invites.create_invite, invites.revoke_invite, invites.current_invite):
            with pytest.raises(DomainError) as caught:
                await action(actor, fair_id)
            assert caught.value.code == code, (actor.name, action.__name__)
    assert await EmployerInvite.count().run() == 0
    link = await invites.create_invite(org.admin, fair_id)  # the admin reaches every fair
    assert link.active
    with pytest.raises(DomainError):
        await invites.revoke_invite(org.organiser_b, fair_id)
    assert (await invites.current_invite(org.organiser_a, fair_id)).code == link.code


async def test_two_organisers_withdrawing_at_once_bump_the_version_once(org: Org) -> None:
    fair_id, _ = await fair_with_invite(org)
    answers = await asyncio.gather(
        invites.revoke_invite(org.organiser_a, fair_id),
        invites.revoke_invite(org.admin, fair_id),
    )
    assert {answer.version for answer in answers} == {2}
    row = await EmployerInvite.select().first().run()
    assert row is not None and row["version"] == 2 and not row["active"]


async def test_no_link_for_a_fair_that_is_over_or_for_another_kind(org: Org) -> None:
    fair_id = await published(org, capacity=50)
    with clock.frozen_at(END), pytest.raises(DomainError) as caught:
        await invites.create_invite(org.organiser_a, fair_id)
    assert caught.value.code == "conflict" and caught.value.message == invites.FAIR_OVER_REFUSAL
    reading = await published(org, kind="reading_session", capacity=5)
    with pytest.raises(DomainError) as caught:
        await invites.create_invite(org.organiser_a, reading)
    assert caught.value.code == "not_found"
    assert await EmployerInvite.count().run() == 0


# --- a company entering itself -------------------------------------------------------------


async def test_a_company_joins_unapproved_marked_as_invited_and_gets_no_booth_yet(
    org: Org,
) -> None:
    fair_id, code = await fair_with_invite(org)
    joined = await invites.join_by_invite(code, company(), ip=IP)
    assert joined.name == "惠民电子装配厂" and not joined.approved
    (row,) = await employers_of(fair_id)
    assert row["via_invite"] and not row["approved"]
    assert row["contact_phone"] == "13911110011"  # checked and kept like the organisers'
    assert row["industry"] == "电子制造" and row["contact_name"] == "林主管"

    (listed,) = await jobfairs.list_employers(org.organiser_a, fair_id)
    assert listed.via_invite and not listed.approved
    assert listed.contact_phone_masked == "139****0011"
    with pytest.raises(DomainError) as caught:
        await jobfairs.create_booth(
            org.organiser_a, fair_id, BoothIn(number="C1", employer_id=listed.id)
        )
    assert caught.value.field == "employer_id"
    approved = await jobfairs.set_approved(org.organiser_a, listed.id, True)
    assert approved.approved and approved.via_invite
    booth = await jobfairs.create_booth(
        org.organiser_a, fair_id, BoothIn(number="C1", employer_id=listed.id)
    )
    assert booth.employer_name == "惠民电子装配厂"
    # An organiser's own entry is never marked as invited.
    entered = await jobfairs.create_employer(org.organiser_a, fair_id, EmployerIn(name="别家"))
    assert not entered.via_invite


async def test_the_industry_may_be_left_empty(org: Org) -> None:
    fair_id, code = await fair_with_invite(org)
    await invites.join_by_invite(code, company(industry=""), ip=IP)
    assert (await employers_of(fair_id))[0]["industry"] == ""


async def test_a_draft_fair_takes_companies_too(org: Org) -> None:
    draft_id = (await activities.create_activity(org.organiser_a, draft())).id
    invite = await invites.create_invite(org.organiser_a, draft_id)
    assert invite.code
    await invites.join_by_invite(invite.code, company(), ip=IP)
    assert len(await employers_of(draft_id)) == 1


async def refused_link(code: str | None, message: str) -> None:
    for attempt in (
        invites.invite_page(code),
        invites.join_by_invite(code, company(), ip=IP),
    ):
        with pytest.raises(DomainError) as caught:
            await attempt
        assert caught.value.code == "forbidden", code
        assert caught.value.message == message, code


async def test_forged_altered_and_foreign_codes_are_refused_and_write_nothing(
    org: Org,
) -> None:
    fair_id, code = await fair_with_invite(org)
    employer = await jobfairs.create_employer(org.organiser_a, fair_id, EmployerIn(name="顺达物流"))
    booth = await jobfairs.create_booth(
        org.organiser_a, fair_id, BoothIn(number="A1", employer_id=employer.id)
    )
    device_code = (await jobfairs.device_link(org.organiser_a, booth.id)).code
    (person,) = await workers(1)
    registration, _ = await activities.register(person, fair_id)
    assert registration.ticket_code
    for bad in (
        None,
        "",
        "   ",
        altered(code, 3),  # the fields altered: the signature fails
        altered(code),  # the signature altered
        code[:-10],  # truncated
        code + "AAAA",  # lengthened
        "not-a-code",
        "😀" * 10,
        "A" * 5000,  # oversized
        device_code,  # a genuine code of another type: a booth device's
        registration.ticket_code,  # and a ticket's
    ):
        await refused_link(bad, invites.NOT_AN_INVITE_REFUSAL)
    assert [row["name"] for row in await employers_of(fair_id)] == ["顺达物流"]


async def test_a_withdrawn_link_an_ended_fair_and_a_cancelled_fair_refuse_companies(
    org: Org,
) -> None:
    fair_id, code = await fair_with_invite(org)
    with clock.frozen_at(END - timedelta(minutes=1)):
        await invites.join_by_invite(code, company("赶在结束前"), ip=IP)
    with clock.frozen_at(END):
        await refused_link(code, invites.FAIR_OVER_REFUSAL)
    await invites.revoke_invite(org.organiser_a, fair_id)
    await refused_link(code, invites.WITHDRAWN_REFUSAL)

    cancelled_id, cancelled_code = await fair_with_invite(org, title="取消的招聘会")
    await activities.cancel(org.organiser_a, cancelled_id, "场地维修，改期另行通知")
    await refused_link(cancelled_code, invites.FAIR_CANCELLED_REFUSAL)
    assert [row["name"] for row in await employers_of(fair_id)] == ["赶在结束前"]
    assert await employers_of(cancelled_id) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"contact_phone": "12345"}, "contact_phone"),
        ({"contact_phone": "1391111001１1"}, "contact_phone"),  # 12 digits
        ({"contact_phone": "电话 13911110011"}, "contact_phone"),
        ({"contact_phone": ""}, "contact_phone"),
        ({"contact_phone": "1" * 10_000}, "contact_phone"),
        ({"contact_name": "  "}, "contact_name"),
        ({"contact_name": "林" * 51}, "contact_name"),
        ({"name": ""}, "name"),
        ({"name": "厂" * 101}, "name"),
        ({"name": "惠民\x00电子"}, "name"),
        ({"name": "惠民\n电子"}, "name"),
        ({"industry": "电" * 61}, "industry"),
    ],
)
async def test_bad_company_details_are_refused_beside_their_field_and_write_nothing(
    org: Org, changes: dict[str, str], field: str
) -> None:
    fair_id, code = await fair_with_invite(org)
    with pytest.raises(DomainError) as caught:
        await invites.join_by_invite(code, company(**changes), ip=IP)
    assert caught.value.code == "validation_error" and caught.value.field == field
    assert await employers_of(fair_id) == []


async def test_full_width_digits_and_a_plus_86_are_a_valid_phone(org: Org) -> None:
    fair_id, code = await fair_with_invite(org)
    await invites.join_by_invite(code, company(contact_phone="+86 １３９１１１１００１１"), ip=IP)
    assert (await employers_of(fair_id))[0]["contact_phone"] == "13911110011"


async def test_a_name_already_at_the_fair_is_refused_however_it_is_typed(org: Org) -> None:
    fair_id, code = await fair_with_invite(org)
    await jobfairs.create_employer(org.organiser_a, fair_id, EmployerIn(name="ABC 物流"))
    await invites.join_by_invite(code, company("惠民电子"), ip=IP)
    for same in ("ABC 物流", "abc  物流", "ＡＢＣ 物流", " ABC 物流 ", "惠民电子"):
        with pytest.raises(DomainError) as caught:
            await invites.join_by_invite(code, company(same), ip=IP)
        assert caught.value.code == "conflict" and caught.value.field == "name", same
    assert [row["name"] for row in await employers_of(fair_id)] == ["ABC 物流", "惠民电子"]
    # The same name at another fair is another company's business.
    other_id, other_code = await fair_with_invite(org, title="秋季招聘会")
    await invites.join_by_invite(other_code, company("惠民电子"), ip=IP)
    assert len(await employers_of(other_id)) == 1


async def test_two_companies_sending_one_name_at_once_make_one_employer(org: Org) -> None:
    fair_id, code = await fair_with_invite(org)
    outcomes = await asyncio.gather(
        *(
            invites.join_by_invite(code, company("同名公司", contact_name=f"联系人{i}"), ip=IP)
            for i in range(5)
        ),
        return_exceptions=True,
    )
    joined = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(joined) == 1, outcomes
    for error in refused:
        assert isinstance(error, DomainError) and error.code == "conflict", error
    assert [row["name"] for row in await employers_of(fair_id)] == ["同名公司"]


async def test_different_names_at_once_all_join(org: Org) -> None:
    fair_id, code = await fair_with_invite(org)
    await asyncio.gather(
        *(invites.join_by_invite(code, company(f"公司{i}"), ip=IP) for i in range(5))
    )
    assert len(await employers_of(fair_id)) == 5


# --- the limits ----------------------------------------------------------------------------


async def test_joins_are_limited_per_address_and_fair(org: Org) -> None:
    fair_id, code = await fair_with_invite(org)
    limit = invites.JOINS_PER_ADDRESS[0]
    # A link refused before counting (forged) uses up no one's tries.
    for _ in range(limit + 5):
        with pytest.raises(DomainError):
            await invites.join_by_invite(altered(code), company(), ip=IP)
    for index in range(limit):
        await invites.join_by_invite(code, company(f"公司{index}"), ip=IP)
    with pytest.raises(DomainError) as caught:
        await invites.join_by_invite(code, company("再来一家"), ip=IP)
    assert caught.value.code == "too_many_requests" and caught.value.status_code == 429
    assert len(await employers_of(fair_id)) == limit
    # Another address, or the same address at another fair, is not held back.
    await invites.join_by_invite(code, company("另一台电脑"), ip="198.51.100.8")
    _, other_code = await fair_with_invite(org, title="秋季招聘会")
    await invites.join_by_invite(other_code, company("再来一家"), ip=IP)
    assert len(await employers_of(fair_id)) == limit + 1


async def test_joins_are_limited_per_fair(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(invites, "JOINS_PER_FAIR", (3, 3600))
    fair_id, code = await fair_with_invite(org)
    for index in range(3):
        await invites.join_by_invite(code, company(f"公司{index}"), ip=f"198.51.100.{index}")
    with pytest.raises(DomainError) as caught:
        await invites.join_by_invite(code, company("第四家"), ip="198.51.100.99")
    assert caught.value.code == "too_many_requests"
    assert len(await employers_of(fair_id)) == 3


async def test_the_demo_path_joins_without_counting(org: Org) -> None:
    fair_id, code = await fair_with_invite(org)
    for index in range(invites.JOINS_PER_ADDRESS[0] + 1):
        await invites.add_invited_employer(code, company(f"公司{index}"))
    assert len(await employers_of(fair_id)) == invites.JOINS_PER_ADDRESS[0] + 1
    await invites.join_by_invite(code, company("公开报名"), ip=IP)  # nothing was counted
