"""Exports: the activity report and registration lists as CSV or XLSX, without HTTP.

Large lists never sit in memory whole: rows are read in keyset-paginated batches
(`WHERE r.id > last ORDER BY r.id LIMIT n`); CSV goes out as chunks of an async
generator, XLSX is written row by row by the streaming sheet writer (xlsx.py) to a file in the
data dir and sent from there. Phone numbers are masked unless an admin gives a reason;
every unmasked export leaves an ExportAudit row before any data leaves.

Long exports run as background jobs: `start_export` checks everything and enqueues,
the job (`run_export_job`, called by tasks/exports.py) re-reads the database, writes the
file under data_dir/exports/ and keeps its progress in Redis. The queue is arq today;
only `enqueue` knows that (arq is in maintenance mode upstream)."""

from __future__ import annotations

import asyncio
import codecs
import csv
import io
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from service import jobs, kinds
from service.activities.schemas import REGISTRATION_STATUS_LABELS, STATUS_LABELS
from service.errors import DomainError, Forbidden, NotFound
from service.i18n import current_language, gettext, language
from service.orgs import services as orgs
from service.orgs.schemas import GROUP_LABELS, Actor
from service.redis_client import get_redis
from service.reports import services as reports
from service.reports.schemas import ActivityReport
from service.reports.tables import ExportAudit
from service.reports.xlsx import SheetWriter
from service.settings import get_settings
from service.text import plain_text

FORMATS: tuple[str, ...] = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
REASON_MAX = 500
# Rows read per query and written per step: a few MB in memory at a time, and few enough
# round trips that the next batch's read hides behind this one's writing.
BATCH = 5_000
JOB_TTL_SECONDS = 24 * 3600  # job state in Redis, and files under data_dir/exports/
JOB_FUNCTION = "export_registrations"  # the name tasks/worker.py registers
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None
Row = list[Cell]

REPORT_LABELS: dict[str, str] = {
    "figure": "Figure",
    "value": "Value",
    "activity": "Activity",
    "kind": "Kind",
    "status": "Status",
    "starts_at": "Starts at",
    "ends_at": "Ends at",
    "registered": "Registered",
    "confirmed": "Confirmed",
    "waitlisted": "Waitlisted",
    "cancelled": "Cancelled",
    "checked_in": "Checked in",
    "walk_ins": "Walk-ins",
    "no_shows": "No-shows",
    "no_show_rate": "No-show rate",
    "provisional": "Provisional (not ended yet)",
    "attendance_unknown": "Attendance unknown (held without scanning)",
    "gate": "Gate",
    "interval": "15 minutes from",
    "node_code": "Organisation code",
    "node": "Organisation",
    "group": "Worker group",
}
COLUMN_LABELS: dict[str, str] = {
    "id": "Registration ID",
    "name": "Member name",
    "phone": "Phone",
    "node": "Organisation",
    "group": "Worker group",
    "status": "Status",
    "registered_at": "Registered at",
    "checked_in_at": "Checked in at",
    "gate": "Gate",
    "walk_in": "Walk-in",
}
SHEET_LABELS: dict[str, str] = {
    "report": "Report",
    "registrations": "Registrations",
}
ANSWER_LABELS: dict[str, str] = {"yes": "Yes", "no": "No"}

# The only interpolation is a constant of the reports room: the values are parameters,
# in the order registrations_params() gives them. `s.registration_id > last` follows from
# the join and `r.id > last`; said outright, it lets PostgreSQL start its walk of the
# admissions index at the batch instead of at the first admission of all (each batch
# cost as much as the whole index before).
REGISTRATIONS_SQL = (
    "SELECT r.id AS id, m.name AS name, m.phone AS phone, o.name AS node, "  # noqa: S608
    "m.worker_group AS grp, r.status AS status, r.created_at AS registered_at, "
    "s.scanned_at AS checked_in_at, s.gate AS gate, s.walk_in AS walk_in "
    "FROM activity_registration r JOIN org_member m ON m.id = r.member "
    "JOIN org_node o ON o.id = m.node "
    "LEFT JOIN checkin_scan s ON s.registration_id = r.id AND s.registration_id > {} "
    f"AND {reports.ADMITTED} "
    "WHERE r.activity = {} AND r.id > {} ORDER BY r.id LIMIT {}"
)


def registrations_params(activity_id: int, last: int, limit: int) -> tuple[int, ...]:
    """REGISTRATIONS_SQL's parameters: the rows of `activity_id` after id `last`."""
    return (last, activity_id, last, limit)


# --- what the callers get ---------------------------------------------------------------


@dataclass
class Export:
    """A file ready to send: either `chunks` to stream, or a finished file at `path`
    (deleted once sent when `temporary`)."""

    filename: str
    media_type: str
    chunks: AsyncIterator[bytes] | None = None
    path: Path | None = None
    temporary: bool = False


class ExportJobIn(msgspec.Struct):
    format: str
    unmasked: bool = False
    reason: str = ""


class ExportJobOut(msgspec.Struct):
    job_id: str
    status_url: str
    page_url: str


class ExportJobStatus(msgspec.Struct):
    job_id: str
    status: str  # queued | running | done | failed
    progress: int  # per cent of rows written
    done: int
    total: int
    download_url: str | None
    message: str | None = None  # why it failed, in the asker's language


# --- checks -------------------------------------------------------------------------------


def parse_flag(raw: str | bool | None, field: str = "unmasked") -> bool:
    if isinstance(raw, bool):
        return raw
    word = (raw or "").strip().lower()
    if word in {"", "0", "false", "no"}:
        return False
    if word in {"1", "true", "yes"}:
        return True
    raise DomainError("validation_error", "Use 1 or 0 for this option.", field=field)


def check_options(actor: Actor | None, fmt: str, unmasked: bool, reason: str | None) -> str:
    """The format, and for full phone numbers: the admin role and a reason (returned
    cleaned). No actor: an asker who is no member (a booth's device), never unmasked."""
    if fmt not in FORMATS:
        raise DomainError("validation_error", "Choose CSV or XLSX.", field="format")
    cleaned = plain_text(reason, field="reason", limit=REASON_MAX)
    if not unmasked:
        return ""
    if actor is None or not actor.has("admin"):
        raise Forbidden("Only an admin may export full phone numbers.")
    if not cleaned:
        raise DomainError(
            "validation_error", "Say why you need the full phone numbers.", field="reason"
        )
    return cleaned


# --- cells --------------------------------------------------------------------------------


def _text(value: str | None) -> str:
    """Text people typed, never run as a formula by Excel (CSV/formula injection)."""
    text = value or ""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def _local(moment: Any) -> str:
    if moment is None or moment == "":
        return ""
    return reports._as_datetime(moment).astimezone(get_settings().zone).strftime("%Y-%m-%d %H:%M")


def _answer(flag: bool) -> str:
    return gettext(ANSWER_LABELS["yes"] if flag else ANSWER_LABELS["no"])


def _label(labels: dict[str, str], key: str) -> str:
    return gettext(labels[key]) if key in labels else key


# --- the activity report ------------------------------------------------------------------


def report_rows(report: ActivityReport) -> list[Row]:
    """The report as blocks of rows (a header row each, a blank row between), the same
    figures as the JSON report."""

    def label(key: str) -> str:
        return gettext(REPORT_LABELS[key])

    rate = report.no_show_rate
    rows: list[Row] = [
        [label("figure"), label("value")],
        [label("activity"), _text(report.title)],
        [label("kind"), _label(kinds.labels(), report.kind)],
        [label("status"), _label(STATUS_LABELS, report.status)],
        [label("starts_at"), _local(report.starts_at)],
        [label("ends_at"), _local(report.ends_at)],
        [label("registered"), report.registered],
        [label("confirmed"), report.confirmed],
        [label("waitlisted"), report.waitlisted],
        [label("cancelled"), report.cancelled],
        [label("checked_in"), report.checked_in],
        [label("walk_ins"), report.walk_ins],
        [label("no_shows"), report.no_shows],
        [label("no_show_rate"), rate],
        [label("provisional"), _answer(report.provisional)],
        [label("attendance_unknown"), _answer(report.attendance_unknown)],
        [],
        [label("gate"), label("checked_in")],
        *([_text(gate.gate), gate.checked_in] for gate in report.by_gate),
        [],
        [label("interval"), label("checked_in")],
        *([_local(bucket.start), bucket.checked_in] for bucket in report.arrivals),
        [],
        [label("node_code"), label("node"), label("confirmed"), label("checked_in")],
        *(
            [
                _text(node.code),
                _text("  " * node.depth + node.name),
                node.confirmed,
                node.checked_in,
            ]
            for node in report.by_node
        ),
        [],
        [label("group"), label("confirmed"), label("checked_in")],
        *(
            [_label(GROUP_LABELS, group.group), group.confirmed, group.checked_in]
            for group in report.by_group
        ),
    ]
    for section in report.sections:
        rows.append([])
        rows.append([_text(section.title)])
        rows.extend([_text(cell) for cell in row] for row in section.rows)
    return rows


async def report_export(actor: Actor, activity_id: int, fmt: str) -> Export:
    """The activity report as a file (scope-checked by reports.activity_report)."""
    report = await reports.activity_report(actor, activity_id)
    check_options(actor, fmt, False, None)
    rows = report_rows(report)

    async def one_batch() -> AsyncIterator[list[Row]]:
        yield rows[1:]

    return await _export(fmt, f"activity-{activity_id}-report", "report", rows[0], one_batch())


def text_cell(value: str | None) -> str:
    """Text people typed, as a cell of another room's report (never run as a formula)."""
    return _text(value)


def local_cell(moment: Any) -> str:
    """A time as the activity report's files show it: local, to the minute."""
    return _local(moment)


async def rows_export(actor: Actor | None, fmt: str, stem: str, rows: list[Row]) -> Export:
    """Another room's report, already built as blocks of rows (a header row first), as a
    CSV or XLSX file like the activity report's. The caller checks who may see it (and
    passes no actor for an asker who is no member, such as a booth's device)."""
    check_options(actor, fmt, False, None)

    async def one_batch() -> AsyncIterator[list[Row]]:
        yield rows[1:]

    return await _export(fmt, stem, "report", rows[0], one_batch())


# --- registration lists -------------------------------------------------------------------


def registration_header() -> Row:
    return [gettext(label) for label in COLUMN_LABELS.values()]


def _registration_rows(rows: Sequence[Any], unmasked: bool) -> list[Row]:
    """A batch of registrations as cells. What is the same for every row (the labels in
    the asker's language, the time zone) is looked up once a batch, not once a cell."""
    groups = {key: gettext(label) for key, label in GROUP_LABELS.items()}
    statuses = {key: gettext(label) for key, label in REGISTRATION_STATUS_LABELS.items()}
    answers = {True: _answer(True), False: _answer(False)}
    zone = get_settings().zone

    def local(moment: Any) -> str:
        if moment is None or moment == "":
            return ""
        at = reports._as_datetime(moment).astimezone(zone)
        # _local's format, without strftime's cost (timestamps here are after year 999).
        return f"{at.year:04d}-{at.month:02d}-{at.day:02d} {at.hour:02d}:{at.minute:02d}"

    mask = orgs.mask_phone
    out: list[Row] = []
    for row in rows:
        checked_in = row["checked_in_at"] is not None
        out.append(
            [
                int(row["id"]),
                _text(row["name"]),
                row["phone"] if unmasked else mask(row["phone"]),
                _text(row["node"]),
                groups.get(row["grp"], row["grp"]),
                statuses.get(row["status"], row["status"]),
                local(row["registered_at"]),
                local(row["checked_in_at"]) if checked_in else "",
                _text(row["gate"]) if checked_in else "",
                answers[bool(row["walk_in"])] if checked_in else "",
            ]
        )
    return out


async def _registration_batches(activity_id: int, unmasked: bool) -> AsyncIterator[list[Row]]:
    """One activity's registrations, BATCH rows at a time, by id (keyset pagination).
    The next batch is read while this one is turned into cells and written: the database
    works while Python does."""

    def fetch(last: int) -> asyncio.Task[list[dict[str, Any]]]:
        params = registrations_params(activity_id, last, BATCH)
        return asyncio.ensure_future(reports._rows(REGISTRATIONS_SQL, *params))

    pending: asyncio.Task[list[dict[str, Any]]] | None = fetch(0)
    try:
        while pending is not None:
            rows = await pending
            pending = fetch(int(rows[-1]["id"])) if len(rows) == BATCH else None
            cells = _registration_rows(rows, unmasked)
            # The driver's rows go before the cells are written, so at most two batches
            # are held at once: the cells being written and the rows being read ahead.
            del rows
            if cells:
                yield cells
    finally:
        if pending is not None:  # the reader stopped early: do not leave a read behind
            pending.cancel()


async def registration_count(activity_id: int) -> int:
    rows = await reports._rows(
        "SELECT COUNT(*) AS n FROM activity_registration WHERE activity = {}", activity_id
    )
    return int(rows[0]["n"])


async def _audit(actor: Actor, what: str, reason: str, rows: int) -> None:
    await ExportAudit.insert(
        ExportAudit(
            member_id=actor.member_id,
            member_name=actor.name[:50],
            what=what[:200],
            unmasked=True,
            reason=reason,
            row_count=rows,
        )
    ).run()


async def registrations_export(
    actor: Actor,
    activity_id: int,
    fmt: str,
    *,
    unmasked: bool = False,
    reason: str | None = None,
) -> Export:
    """One row per registration of an activity in the caller's subtree. Full phone
    numbers only for an admin with a reason, audited before any row is read."""
    activity = await reports._reported_activity(actor, activity_id)
    reason = check_options(actor, fmt, unmasked, reason)
    if unmasked:
        what = f"registrations.{fmt} activity {activity_id} {activity.title}"
        await _audit(actor, what, reason, await registration_count(activity_id))
    return await _export(
        fmt,
        f"activity-{activity_id}-registrations",
        "registrations",
        registration_header(),
        _registration_batches(activity_id, unmasked),
    )


# --- writing ------------------------------------------------------------------------------


def exports_dir() -> Path:
    folder = get_settings().data_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def _export(
    fmt: str, stem: str, sheet: str, header: Row, batches: AsyncIterator[list[Row]]
) -> Export:
    filename = f"{stem}.{fmt}"
    if fmt == "csv":
        return Export(filename, MEDIA_TYPES[fmt], chunks=csv_chunks(header, batches))
    path = exports_dir() / f"tmp-{uuid.uuid4().hex}.xlsx"
    try:
        await write_xlsx(path, _label(SHEET_LABELS, sheet), header, batches)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Export(filename, MEDIA_TYPES[fmt], path=path, temporary=True)


def _csv_text(rows: Sequence[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(["" if cell is None else cell for cell in row] for row in rows)
    return buffer.getvalue()


async def csv_chunks(header: Row, batches: AsyncIterator[list[Row]]) -> AsyncIterator[bytes]:
    """UTF-8 with a BOM (so Excel reads Chinese right), a header, then a chunk a batch."""
    yield codecs.BOM_UTF8 + _csv_text([header]).encode()
    async for rows in batches:
        yield _csv_text(rows).encode()


Progress = Callable[[int], Awaitable[None]]


async def write_csv(
    path: Path, header: Row, batches: AsyncIterator[list[Row]], progress: Progress | None = None
) -> int:
    written = 0
    with path.open("wb") as handle:
        handle.write(codecs.BOM_UTF8 + _csv_text([header]).encode())
        async for rows in batches:
            handle.write(_csv_text(rows).encode())
            written += len(rows)
            if progress:
                await progress(written)
    return written


async def write_xlsx(
    path: Path,
    title: str,
    header: Row,
    batches: AsyncIterator[list[Row]],
    progress: Progress | None = None,
) -> int:
    """Rows go into the file a batch at a time (service/reports/xlsx.py), the writing in a
    thread, so memory stays flat and the event loop keeps serving."""
    written = 0
    with SheetWriter(path, title) as sheet:
        sheet.write_rows([header])
        async for rows in batches:
            await asyncio.to_thread(sheet.write_rows, rows)
            written += len(rows)
            if progress:
                await progress(written)
    return written


# --- background jobs ----------------------------------------------------------------------


def _job_key(job_id: str) -> str:
    return f"unionhall:export:{job_id}"


async def start_export(
    actor: Actor,
    activity_id: int,
    fmt: str,
    *,
    unmasked: bool = False,
    reason: str | None = None,
) -> ExportJobOut:
    """Check the request now (so the asker hears of a mistake at once) and queue it."""
    await reports._reported_activity(actor, activity_id)
    reason = check_options(actor, fmt, unmasked, reason)
    job_id = uuid.uuid4().hex
    key = _job_key(job_id)
    redis = get_redis()
    await redis.hset(
        key,
        mapping={
            "member_id": actor.member_id or 0,
            "activity_id": activity_id,
            "format": fmt,
            "status": "queued",
            "done": 0,
            "total": 0,
            "file": "",
            "message": "",
        },
    )
    await redis.expire(key, JOB_TTL_SECONDS)
    await jobs.enqueue(
        JOB_FUNCTION,
        job_id,
        actor.member_id,
        activity_id,
        fmt,
        unmasked,
        reason,
        current_language.get(),
        job_id=job_id,
    )
    return ExportJobOut(
        job_id=job_id,
        status_url=f"/api/v1/exports/{job_id}",
        page_url=f"/organise/exports/{job_id}",
    )


def _clean_old_files() -> None:
    cutoff = time.time() - JOB_TTL_SECONDS
    for path in exports_dir().iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


async def run_export_job(
    job_id: str,
    member_id: int,
    activity_id: int,
    fmt: str,
    unmasked: bool,
    reason: str,
    lang: str,
) -> str:
    """The job: who asked is re-read and re-checked (roles and scope may have changed
    since), then the file is written with its progress in Redis. Returns the status."""
    redis = get_redis()
    key = _job_key(job_id)
    if not await redis.exists(key):
        return "expired"
    with language(lang):
        try:
            actor = await orgs.actor_for_member(member_id)
            if actor is None:
                raise NotFound("There is no such member.")
            activity = await reports._reported_activity(actor, activity_id)
            reason = check_options(actor, fmt, unmasked, reason)
        except DomainError as error:
            message = gettext(error.message, **error.params)
            await redis.hset(key, mapping={"status": "failed", "message": message})
            return "failed"
        _clean_old_files()
        total = await registration_count(activity_id)
        await redis.hset(key, mapping={"status": "running", "total": total, "done": 0})
        if unmasked:
            what = f"registrations.{fmt} activity {activity_id} {activity.title} (job {job_id})"
            await _audit(actor, what, reason, total)

        async def progress(done: int) -> None:
            await redis.hset(key, mapping={"done": done, "total": max(total, done)})

        final = exports_dir() / f"{job_id}.{fmt}"
        partial = final.with_name(f"{job_id}.part")
        batches = _registration_batches(activity_id, unmasked)
        try:
            if fmt == "csv":
                written = await write_csv(partial, registration_header(), batches, progress)
            else:
                title = _label(SHEET_LABELS, "registrations")
                written = await write_xlsx(partial, title, registration_header(), batches, progress)
            partial.replace(final)
        except Exception:
            partial.unlink(missing_ok=True)
            await redis.hset(
                key,
                mapping={
                    "status": "failed",
                    "message": gettext("The export failed. Try again in a minute."),
                },
            )
            raise
        await redis.hset(
            key,
            mapping={"status": "done", "done": written, "total": written, "file": final.name},
        )
        await redis.expire(key, JOB_TTL_SECONDS)
        return "done"


async def _job(actor: Actor, job_id: str) -> dict[str, str]:
    """A job's state, only for the member who asked for it (anyone else: not found)."""
    if not JOB_ID.match(job_id):
        raise NotFound("There is no such export.")
    raw = await get_redis().hgetall(_job_key(job_id))
    state = {key.decode(): value.decode() for key, value in raw.items()}
    if not state or actor.member_id is None or state.get("member_id") != str(actor.member_id):
        raise NotFound("There is no such export.")
    return state


async def export_status(actor: Actor, job_id: str) -> ExportJobStatus:
    state = await _job(actor, job_id)
    done, total = int(state.get("done", 0)), int(state.get("total", 0))
    status = state.get("status", "queued")
    progress = min(99, done * 100 // total) if total else 0
    if status == "done":
        progress = 100
    return ExportJobStatus(
        job_id=job_id,
        status=status,
        progress=progress,
        done=done,
        total=total,
        download_url=f"/api/v1/exports/{job_id}/download" if status == "done" else None,
        message=state.get("message") or None,
    )


async def export_download(actor: Actor, job_id: str) -> Export:
    state = await _job(actor, job_id)
    if state.get("status") != "done":
        raise DomainError("conflict", "The export is not ready yet.")
    path = exports_dir() / state["file"]
    if not path.is_file():
        raise NotFound("There is no such export.")
    fmt = state["format"]
    return Export(
        f"activity-{state['activity_id']}-registrations.{fmt}", MEDIA_TYPES[fmt], path=path
    )
