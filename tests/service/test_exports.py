"""Exports through the service: the rows, masking, the unmasked audit, XLSX = CSV, empty
files with headers, scope, and keyset batches. A hand-built activity:

capacity 3; 职工0, 职工1, 职工2 confirmed, 职工3 waitlisted; at the door 职工0 (北门) and
职工1 (南门) are admitted, and a walk-in named "=1+2" (a formula, if Excel ran it) is
registered and admitted at 北门 over capacity. So: registered 5, confirmed 4, waitlisted 1,
cancelled 0, checked in 3, walk-ins 1, no-shows 1, no-show rate 0.25.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from service import clock
from service.activities import services as activities
from service.checkin import services as checkin
from service.checkin.schemas import DoorSettingsIn
from service.errors import DomainError
from service.i18n import language
from service.reports import exports
from service.reports import services as reports
from service.reports.tables import ExportAudit
from tests.conftest import Org
from tests.service.test_activities import NOW, published, workers

START = NOW + timedelta(days=3)
AT_DOOR = START - timedelta(minutes=10)
WALK_IN_PHONE = "13912345678"
WALK_IN_NAME = "=1+2"


@dataclass
class Door:
    activity_id: int
    phones: list[str]  # the five registrants' full numbers, in registration order


async def door_fixture(org: Org) -> Door:
    activity_id = await published(org, capacity=3)
    people = await workers(4)
    with clock.frozen_at(NOW):
        registrations = [(await activities.register(p, activity_id))[0] for p in people]
        await checkin.update_settings(
            org.organiser_a,
            activity_id,
            DoorSettingsIn(walk_ins_over_capacity=True, gates=["北门", "南门"]),
        )
    assert [r.status for r in registrations] == ["confirmed"] * 3 + ["waitlisted"]
    with clock.frozen_at(AT_DOOR):
        for registration, gate in zip(registrations[:2], ("北门", "南门"), strict=True):
            code = registration.ticket_code
            assert code
            verdict = await checkin.check_in(org.organiser_a, activity_id, code, gate=gate)
            assert verdict.result == "admitted"
        walk = await checkin.walk_in(
            org.organiser_a, activity_id, WALK_IN_PHONE, WALK_IN_NAME, gate="北门"
        )
        assert walk.result == "admitted"
    phones = [f"1370000{index:04d}" for index in range(4)] + [WALK_IN_PHONE]
    return Door(activity_id, phones)


# --- reading files back -------------------------------------------------------------------


async def body(export: exports.Export) -> bytes:
    if export.chunks is not None:
        return b"".join([chunk async for chunk in export.chunks])
    assert export.path is not None
    data = export.path.read_bytes()
    if export.temporary:
        export.path.unlink()
    return data


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8), "Excel needs the BOM to read UTF-8"
    return [row for row in csv.reader(io.StringIO(data[len(codecs.BOM_UTF8) :].decode()))]


def xlsx_rows(data: bytes) -> list[list[str]]:
    """Cells as the CSV writes them (None → "", numbers → str); trailing blanks cut."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    try:
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            cells = ["" if cell is None else str(cell) for cell in row]
            while cells and cells[-1] == "":
                cells.pop()
            rows.append(cells)
        return rows
    finally:
        book.close()


def normal(rows: list[list[str]]) -> list[list[str]]:
    out = []
    for row in rows:
        cells = list(row)
        while cells and cells[-1] == "":
            cells.pop()
        out.append(cells)
    return out


def headline(rows: list[list[str]]) -> dict[str, str]:
    """The first block of a report file: figure label → value."""
    figures = {}
    for row in rows[1:]:
        if not row:
            break
        figures[row[0]] = row[1] if len(row) > 1 else ""
    return figures


def by_label(report: Any) -> dict[str, str]:
    """The JSON report's headline figures under the labels the file uses."""
    rate = report.no_show_rate
    return {
        exports.gettext(exports.REPORT_LABELS[key]): str(value)
        for key, value in {
            "registered": report.registered,
            "confirmed": report.confirmed,
            "waitlisted": report.waitlisted,
            "cancelled": report.cancelled,
            "checked_in": report.checked_in,
            "walk_ins": report.walk_ins,
            "no_shows": report.no_shows,
            "no_show_rate": "" if rate is None else rate,
        }.items()
    }


# --- registration lists -------------------------------------------------------------------


async def test_registration_list_is_masked_and_in_chinese_by_default(org: Org) -> None:
    door = await door_fixture(org)
    export = await exports.registrations_export(org.organiser_a, door.activity_id, "csv")
    assert export.filename == f"activity-{door.activity_id}-registrations.csv"
    rows = csv_rows(await body(export))
    assert rows[0] == [
        "报名编号",
        "姓名",
        "手机号",
        "所属组织",
        "职工群体",
        "状态",
        "报名时间",
        "签到时间",
        "入口",
        "现场报名",
    ]
    assert len(rows) == 6
    text = "\n".join(",".join(row) for row in rows)
    for phone in door.phones:
        assert phone not in text
        assert f"{phone[:3]}****{phone[-4:]}" in text
    by_name = {row[1]: row for row in rows[1:]}
    assert [by_name[f"职工{i}"][4:6] for i in range(4)] == [["快递员", "已确认"]] * 3 + [
        ["快递员", "候补"]
    ]
    assert by_name["职工0"][3] == "甲一快递站"
    assert by_name["职工0"][7] == "2026-06-04 09:50"  # 01:50 UTC, in Shanghai
    assert by_name["职工0"][8] == "北门" and by_name["职工0"][9] == "否"
    assert by_name["职工1"][8] == "南门"
    assert by_name["职工2"][7:] == ["", "", ""]  # confirmed, not checked in
    assert by_name["职工3"][7:] == ["", "", ""]
    # A name that is a formula is written as text, never run by Excel.
    assert by_name[f"'{WALK_IN_NAME}"][9] == "是"
    assert [int(row[0]) for row in rows[1:]] == sorted(int(row[0]) for row in rows[1:])
    assert await ExportAudit.count().run() == 0  # masked exports are not audited


async def test_xlsx_reads_back_with_the_same_rows_as_the_csv(org: Org) -> None:
    door = await door_fixture(org)
    as_csv = csv_rows(
        await body(await exports.registrations_export(org.organiser_a, door.activity_id, "csv"))
    )
    export = await exports.registrations_export(org.organiser_a, door.activity_id, "xlsx")
    assert export.path is not None and export.temporary
    assert export.path.parent == exports.exports_dir()
    assert xlsx_rows(await body(export)) == normal(as_csv)


async def test_english_headers_for_an_english_user(org: Org) -> None:
    door = await door_fixture(org)
    with language("en"):
        export = await exports.registrations_export(org.organiser_a, door.activity_id, "csv")
        rows = csv_rows(await body(export))
    assert rows[0][:3] == ["Registration ID", "Member name", "Phone"]
    assert rows[0][-1] == "Walk-in"


async def test_unmasked_needs_an_admin_and_a_reason_and_is_audited(org: Org) -> None:
    door = await door_fixture(org)
    with pytest.raises(DomainError) as refused:
        await exports.registrations_export(
            org.organiser_a, door.activity_id, "csv", unmasked=True, reason="核对名单"
        )
    assert refused.value.code == "forbidden"
    for reason in (None, "", "   "):
        with pytest.raises(DomainError) as no_reason:
            await exports.registrations_export(
                org.admin, door.activity_id, "csv", unmasked=True, reason=reason
            )
        assert (no_reason.value.code, no_reason.value.field) == ("validation_error", "reason")
    assert await ExportAudit.count().run() == 0

    export = await exports.registrations_export(
        org.admin, door.activity_id, "xlsx", unmasked=True, reason="  上报县总工会核对名单 "
    )
    rows = xlsx_rows(await body(export))
    assert sorted(row[2] for row in rows[1:]) == sorted(door.phones)
    audits = await ExportAudit.select().run()
    assert len(audits) == 1
    audit = audits[0]
    assert audit["member_id"] == org.admin.member_id
    assert audit["member_name"] == org.admin.name
    assert audit["reason"] == "上报县总工会核对名单"
    assert audit["row_count"] == 5 and audit["unmasked"]
    assert f"activity {door.activity_id}" in audit["what"] and "xlsx" in audit["what"]
    assert audit["created_at"] is not None


async def test_bad_options_are_refused(org: Org) -> None:
    door = await door_fixture(org)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("pdf", {}, "format"),
        ("csv", {"unmasked": True, "reason": "x" * (exports.REASON_MAX + 1)}, "reason"),
        ("csv", {"unmasked": True, "reason": "why\x00"}, "reason"),
    ]
    for fmt, options, field in cases:
        with pytest.raises(DomainError) as error:
            await exports.registrations_export(org.admin, door.activity_id, fmt, **options)
        assert (error.value.code, error.value.field) == ("validation_error", field)
    with pytest.raises(DomainError):
        exports.parse_flag("maybe")
    assert exports.parse_flag("1") and not exports.parse_flag(None)
    assert await ExportAudit.count().run() == 0


async def test_scope_worker_forbidden_other_node_not_found(org: Org) -> None:
    door = await door_fixture(org)
    for call in (
        lambda actor: exports.registrations_export(actor, door.activity_id, "csv"),
        lambda actor: exports.report_export(actor, door.activity_id, "xlsx"),
        lambda actor: exports.start_export(actor, door.activity_id, "csv"),
    ):
        with pytest.raises(DomainError) as worker:
            await call(org.worker_a1)
        assert worker.value.code == "forbidden"
        with pytest.raises(DomainError) as outsider:
            await call(org.organiser_b)
        assert outsider.value.code == "not_found"
    # The federation's admin and the owning organiser both reach it.
    await body(await exports.registrations_export(org.admin, door.activity_id, "csv"))


async def test_rows_come_in_keyset_batches_without_gaps_or_repeats(
    org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    door = await door_fixture(org)
    monkeypatch.setattr(exports, "BATCH", 2)
    export = await exports.registrations_export(org.organiser_a, door.activity_id, "csv")
    assert export.chunks is not None
    chunks = [chunk async for chunk in export.chunks]
    assert len(chunks) == 1 + 3  # the header, then 2 + 2 + 1 rows
    rows = csv_rows(b"".join(chunks))[1:]
    ids = [int(row[0]) for row in rows]
    assert ids == sorted(set(ids)) and len(ids) == 5


async def test_an_empty_list_is_a_file_with_headers_only(org: Org) -> None:
    activity_id = await published(org)
    as_csv = csv_rows(
        await body(await exports.registrations_export(org.organiser_a, activity_id, "csv"))
    )
    as_xlsx = xlsx_rows(
        await body(await exports.registrations_export(org.organiser_a, activity_id, "xlsx"))
    )
    assert as_csv == [exports.registration_header()] == as_xlsx


# --- the report ---------------------------------------------------------------------------


async def test_report_file_has_the_json_figures(org: Org) -> None:
    door = await door_fixture(org)
    report = await reports.activity_report(org.organiser_a, door.activity_id)
    assert (report.registered, report.confirmed, report.waitlisted, report.cancelled) == (
        5,
        4,
        1,
        0,
    )
    assert (report.checked_in, report.walk_ins, report.no_shows) == (3, 1, 1)
    assert report.no_show_rate == 0.25
    as_csv = csv_rows(
        await body(await exports.report_export(org.organiser_a, door.activity_id, "csv"))
    )
    figures = headline(as_csv)
    for label, value in by_label(report).items():
        assert figures[label] == value, label
    assert figures["活动"] == report.title
    as_xlsx = xlsx_rows(
        await body(await exports.report_export(org.organiser_a, door.activity_id, "xlsx"))
    )
    assert as_xlsx == normal(as_csv)
    # The gate block: 北门 2 (a ticket and the walk-in), 南门 1.
    gate_header = as_csv.index(["入口", "已签到"])
    assert as_csv[gate_header + 1 : gate_header + 3] == [["北门", "2"], ["南门", "1"]]


async def test_an_empty_report_is_a_valid_file_with_headers(org: Org) -> None:
    activity_id = await published(org)
    for fmt in exports.FORMATS:
        data = await body(await exports.report_export(org.organiser_a, activity_id, fmt))
        rows = csv_rows(data) if fmt == "csv" else xlsx_rows(data)
        assert rows[0] == ["项目", "数值"]
        assert headline(rows)["报名人数"] == "0"
        assert ["入口", "已签到"] in rows


def test_exports_dir_is_under_the_data_dir() -> None:
    assert exports.exports_dir() == Path(exports.get_settings().data_dir) / "exports"


def test_the_sheet_writer_holds_a_few_hundred_rows_of_xml_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 16 (B6 peak memory): a batch of rows used to become one string and one bytes
    object of the whole batch's XML; now it goes into the file a few hundred rows at a
    time, whatever the batch, and the file is the same."""
    from service.reports import xlsx

    rows = [[index, f"职工{index}", "138****8000", None] for index in range(1, 1201)]
    path = tmp_path / "list.xlsx"
    with xlsx.SheetWriter(path, "Registrations") as sheet:
        writes: list[int] = []
        member = sheet._sheet
        original = member.write

        def counted(data: bytes) -> int:
            writes.append(len(data))
            return original(data)

        monkeypatch.setattr(member, "write", counted)
        sheet.write_rows(rows)
        monkeypatch.undo()
    assert len(writes) == -(-len(rows) // xlsx._ROWS_A_WRITE)  # 3 writes, not 1
    assert max(writes) < 128 * 1024, writes  # 1,200 rows are some 200 KB
    book = load_workbook(path, read_only=True)
    read = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    assert read == rows
