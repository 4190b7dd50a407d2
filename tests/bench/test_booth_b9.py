"""Job-fair booth scans, offline (QUALITY.md B9): 30 booths × 2 devices, each device
syncing an offline batch of 200 scans, all 60 batches at once, in process, on the
suite's engine (UNIONHALL_TEST_ENGINE picks SQLite or PostgreSQL).

Seed (through the services): one fair with 30 approved employers, a booth each, and
WORKERS confirmed registrations. Each booth's two devices saw the same 100 workers; each
device scanned each of them twice (two stages, the second further), and the two devices
disagree on how far each worker got: the furthest stage of the four must win.

Baseline in the same run: the door's batch path (check_in_batch) with the same number of
scans in batches of 200, 60 at once.

Asserted: 0 duplicates (one lead per booth and worker, one log row per client id), the
furthest stage kept for every lead, a resend of every batch writing nothing. Printed and
written to tests/bench/results/booth-<timestamp>.json: time to sync, scans per second,
and the ratio to the door batch per scan (target: no slower).

    .venv/bin/python -m pytest tests/bench/test_booth_b9.py -p no:cacheprovider -s
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from service import clock
from service.activities import services as activities
from service.activities.schemas import ActivityIn, VenueIn
from service.checkin import services as checkin
from service.checkin.schemas import BatchScan
from service.checkin.tables import Scan
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import STAGES, BoothIn, BoothScanItem, EmployerIn
from service.jobfairs.tables import Lead, StageScan
from tests.conftest import Org, add_member

BOOTHS = 30
DEVICES = 2
BATCH = 200
PER_BOOTH = BATCH // 2  # workers a booth saw; each device scanned each of them twice
WORKERS = 300
RESULTS = Path(__file__).parent / "results"


async def _seed(org: Org) -> tuple[int, list[int], list[str]]:
    starts = clock.now().replace(second=0, microsecond=0) + timedelta(minutes=30)
    fair = await activities.create_activity(
        org.organiser_a,
        ActivityIn(
            kind="job_fair",
            title="B9 招聘会",
            starts_at=starts,
            ends_at=starts + timedelta(hours=4),
            capacity=WORKERS,
            venue=VenueIn(name="县人力资源市场", address="人民路 1 号"),
        ),
    )
    await activities.publish(org.organiser_a, fair.id)
    booths = []
    for index in range(BOOTHS):
        employer = await jobfairs.create_employer(
            org.organiser_a, fair.id, EmployerIn(name=f"企业{index:02d}")
        )
        booth = await jobfairs.create_booth(
            org.organiser_a, fair.id, BoothIn(number=f"A{index:02d}", employer_id=employer.id)
        )
        booths.append(booth.id)
    codes = []
    for index in range(WORKERS):
        member = await add_member(f"1350000{index:04d}", f"职工{index}", "ent-a1", ["worker"])
        registration, _ = await activities.register(member, fair.id)
        assert registration.ticket_code
        codes.append(registration.ticket_code)
    return fair.id, booths, codes


def _device_batches(
    booths: list[int], codes: list[str], rng: random.Random
) -> tuple[list[tuple[int, list[BoothScanItem]]], dict[tuple[int, str], str]]:
    """Every device's batch, and the furthest stage each (booth, ticket) must end at."""
    base = datetime.now(UTC) - timedelta(minutes=50)
    batches, furthest = [], {}
    positive = STAGES[:5]
    for booth_id in booths:
        seen = rng.sample(codes, PER_BOOTH)
        for device in range(DEVICES):
            scans = []
            for index, code in enumerate(seen):
                first, second = sorted(rng.sample(range(len(positive)), 2))
                for step, stage_index in enumerate((first, second)):
                    stage = positive[stage_index]
                    scans.append(
                        BoothScanItem(
                            code=code,
                            stage=stage,
                            client_id=f"b{booth_id}-d{device}-{index}-{step}",
                            scanned_at=base + timedelta(seconds=index * 5 + step + device),
                        )
                    )
                    key = (booth_id, code)
                    if STAGES.index(stage) > STAGES.index(furthest.get(key, "consulted")):
                        furthest[key] = stage
                    furthest.setdefault(key, stage)
            batches.append((booth_id, scans))
    return batches, furthest


async def test_booth_batches_sync_without_duplicates_and_keep_the_furthest_stage(
    org: Org,
) -> None:
    fair_id, booths, codes = await _seed(org)
    rng = random.Random(9)
    batches, furthest = _device_batches(booths, codes, rng)
    scans = sum(len(batch) for _, batch in batches)

    started = time.perf_counter()
    answers = await asyncio.gather(
        *(jobfairs.record_batch(org.organiser_a, booth_id, batch) for booth_id, batch in batches)
    )
    booth_s = time.perf_counter() - started
    results = [answer["result"] for batch in answers for answer in batch]
    assert set(results) <= {"recorded", "already", "superseded"}, set(results)

    leads = await Lead.select(Lead.booth_id, Lead.registration_id, Lead.stage).run()
    assert len(leads) == len({(lead["booth_id"], lead["registration_id"]) for lead in leads})
    assert len(leads) == BOOTHS * PER_BOOTH
    assert await StageScan.count() == scans
    by_ticket = {code: jobfairs_ticket_id(code) for code in codes}
    ends = {(lead["booth_id"], lead["registration_id"]): lead["stage"] for lead in leads}
    wrong = [key for key, stage in furthest.items() if ends[(key[0], by_ticket[key[1]])] != stage]
    assert wrong == []

    resent = await asyncio.gather(
        *(jobfairs.record_batch(org.organiser_a, booth_id, batch) for booth_id, batch in batches)
    )
    assert [a["scan_id"] for b in resent for a in b] == [a["scan_id"] for b in answers for a in b]
    assert await StageScan.count() == scans

    door_batches = [
        [BatchScan(code=rng.choice(codes), client_id=f"door-{n}-{i}") for i in range(BATCH)]
        for n in range(BOOTHS * DEVICES)
    ]
    started = time.perf_counter()
    await asyncio.gather(
        *(checkin.check_in_batch(org.organiser_a, fair_id, batch) for batch in door_batches)
    )
    door_s = time.perf_counter() - started
    assert await Scan.count() == BOOTHS * DEVICES * BATCH

    figures = {
        "engine": _engine(),
        "booths": BOOTHS,
        "devices": DEVICES,
        "batch": BATCH,
        "scans": scans,
        "booth_sync_s": round(booth_s, 2),
        "booth_scans_per_s": round(scans / booth_s, 1),
        "door_batch_s": round(door_s, 2),
        "door_scans_per_s": round(scans / door_s, 1),
        "booth_vs_door_per_scan": round(booth_s / door_s, 2),
        "duplicates": 0,
        "furthest_stage_kept": True,
    }
    print("\nB9 booth scans:", json.dumps(figures, ensure_ascii=False))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (RESULTS / f"booth-{stamp}.json").write_text(json.dumps(figures, indent=2))


def jobfairs_ticket_id(code: str) -> int:
    from service.tickets import tokens

    return tokens.verify_ticket(code).ticket_id


def _engine() -> str:
    from service.db import is_postgres

    return "postgres" if is_postgres() else "sqlite"
