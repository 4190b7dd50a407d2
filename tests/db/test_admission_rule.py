"""One rule for "a standing admission" (a scan that let its ticket in and was not undone):
the SQL every statement formats in, the ORM condition and the partial unique index that
guards "never admitted twice" select exactly the same scans, on this run's engine."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import pytest

from service.checkin.piccolo_migrations import checkin_2026_11_24t19_37_55_000000 as index_migration
from service.checkin.tables import Scan, standing_admission, standing_admission_sql
from service.db import run_sql

AT = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


async def scan(registration_id: int, result: str, *, undone: bool = False) -> int:
    row = Scan(
        activity_id=1,
        registration_id=registration_id,
        result=result,
        scanned_at=AT,
        undone_at=AT if undone else None,
    )
    await row.save().run()
    return int(row.id)


async def test_sql_orm_and_the_unique_index_agree_on_standing_admissions() -> None:
    standing = {await scan(1, "admitted"), await scan(6, "admitted")}
    await scan(2, "admitted", undone=True)  # undone: no longer stands
    await scan(1, "already_checked_in")
    await scan(3, "invalid_code")
    await scan(4, "not_registered", undone=True)
    standing.add(await scan(2, "admitted"))  # the undone one freed its ticket's slot

    by_orm = {row["id"] for row in await Scan.select(Scan.id).where(standing_admission())}
    by_sql = {
        row["id"]
        for row in await run_sql(
            f"SELECT s.id FROM checkin_scan s WHERE {standing_admission_sql('s')}"
        )
    }
    assert by_orm == by_sql == standing

    # The index admits no second standing admission of a ticket, and nothing else.
    with pytest.raises(Exception, match=r"(?i)unique"):
        await scan(1, "admitted")
    await scan(1, "admitted", undone=True)
    await scan(1, "already_checked_in")
    assert {row["id"] for row in await Scan.select(Scan.id).where(standing_admission())} == standing


def test_the_index_is_declared_with_the_same_rule() -> None:
    # ON CONFLICT ... WHERE <rule> must name the index's own predicate to find it.
    assert f"WHERE {standing_admission_sql()}" in inspect.getsource(index_migration)
