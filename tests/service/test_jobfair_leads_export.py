"""A booth's leads file (service/jobfairs/exports.py): the rows of the booth's own list,
with the full phone exactly where the booth's page shows it, for those who may see it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service import clock
from service.errors import DomainError
from service.i18n import language
from service.jobfairs import exports as jobfair_exports
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import BoothIn, EmployerIn, PostingIn
from service.orgs import services as orgs
from tests.conftest import Org, add_member
from tests.service.test_activities import published, workers
from tests.service.test_jobfairs import AT_FAIR, scan, tickets_for


async def test_the_leads_file_has_the_booths_rows_and_masks_as_the_page_does(org: Org) -> None:
    fair_id = await published(org, capacity=50)
    employer = await jobfairs.create_employer(org.organiser_a, fair_id, EmployerIn(name="顺达物流"))
    booth = await jobfairs.create_booth(
        org.organiser_a, fair_id, BoothIn(number="A1", employer_id=employer.id)
    )
    posting = await jobfairs.create_posting(
        org.organiser_a,
        fair_id,
        PostingIn(employer_id=employer.id, title="=分拣员", headcount=3, pay_min=1, pay_max=2),
    )
    people = await workers(4)
    tickets = await tickets_for(fair_id, 4, people)
    # intent + consent: full; intent without consent: masked; consent but only consulted:
    # masked; signed + consent: full.
    for index, ((member, _, code), stage, consent) in enumerate(
        zip(
            tickets,
            ("intent", "intent", "consulted", "signed"),
            (True, False, True, True),
            strict=True,
        )
    ):
        await jobfairs.set_consent(member, fair_id, consent)
        extra = {"posting_id": posting.id, "rating": 4, "note": "会开叉车"} if index == 0 else {}
        await scan(
            org.organiser_a,
            booth.id,
            code,
            stage,
            f"lead-{member.member_id:08d}",
            at=AT_FAIR + timedelta(minutes=index),
            **extra,
        )
    leads = await jobfairs.booth_leads(org.organiser_a, booth.id)
    with language("zh-CN"):
        rows = jobfair_exports.lead_rows(leads)
    assert rows[0] == [
        "姓名",
        "手机号",
        "职工群体",
        "岗位",
        "进展",
        "评分",
        "备注",
        "时间",
        "入口已签到",
    ]
    first = next(row for row in rows if row[0] == "职工0")
    # The posting title starts with "=": kept as text, never a formula.
    assert first[2:] == ["快递员", "'=分拣员", "初步意向", 4, "会开叉车", "2026-06-04 10:30", "否"]
    phones = {row[0]: row[1] for row in rows[1:]}
    full = {
        member.name: (await orgs.member_contact(member.member_id))["phone"]
        for member, *_ in tickets
    }
    assert phones == {
        "职工0": full["职工0"],
        "职工1": orgs.mask_phone(full["职工1"]),
        "职工2": orgs.mask_phone(full["职工2"]),
        "职工3": full["职工3"],
    }
    # Row for row the page's list: names in its order, the phone it shows.
    assert [row[0] for row in rows[1:]] == [lead.name for lead in leads]
    assert [row[1] for row in rows[1:]] == [lead.phone or lead.phone_masked for lead in leads]
    assert len(rows[0]) == len(rows[1]) == len(jobfair_exports.LEAD_COLUMN_LABELS)
    # Newest first, as the page lists them.
    assert [row[0] for row in rows[1:]] == ["职工3", "职工2", "职工1", "职工0"]


async def test_the_leads_file_is_for_the_booths_staff_device_and_organisers_only(
    org: Org,
) -> None:
    fair_id = await published(org, capacity=50)
    employer = await jobfairs.create_employer(org.organiser_a, fair_id, EmployerIn(name="顺达物流"))
    booth = await jobfairs.create_booth(
        org.organiser_a, fair_id, BoothIn(number="A1", employer_id=employer.id)
    )
    other = await jobfairs.create_booth(
        org.organiser_a,
        fair_id,
        BoothIn(
            number="A2",
            employer_id=(
                await jobfairs.create_employer(org.organiser_a, fair_id, EmployerIn(name="别家"))
            ).id,
        ),
    )
    hr = await add_member("13600000002", "企业HR", "union-a", ["worker"])
    await jobfairs.assign_booth_staff(org.organiser_a, booth.id, "13600000002")
    with clock.frozen_at(AT_FAIR):
        device = await jobfairs.booth_device(
            (await jobfairs.device_link(org.organiser_a, booth.id)).code
        )
    for allowed in (org.organiser_a, org.admin, hr, device):
        export = await jobfair_exports.booth_leads_export(allowed, booth.id, "xlsx")
        assert export.filename == f"booth-{booth.id}-leads.xlsx"
        assert export.path is not None and export.path.exists()
        export.path.unlink()
    for refused in (org.worker_a1, org.staff_a, org.organiser_b):
        with pytest.raises(DomainError) as caught:
            await jobfair_exports.booth_leads_export(refused, booth.id, "csv")
        assert caught.value.code == "forbidden", refused.name
    for refused in (hr, device):  # their own booth only
        with pytest.raises(DomainError) as caught:
            await jobfair_exports.booth_leads_export(refused, other.id, "csv")
        assert caught.value.code == "forbidden"
    with pytest.raises(DomainError) as caught:
        await jobfair_exports.booth_leads_export(org.organiser_a, booth.id, "pdf")
    assert caught.value.code == "validation_error"
