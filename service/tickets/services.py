"""Tickets: the signed code of a confirmed registration, its reissue counter and the
revocation list. The ticket code is in tokens.py (on service/signing.py); nothing here
speaks HTTP."""

from __future__ import annotations

import base64
import io
from datetime import datetime
from functools import lru_cache

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

from service import clock, signing
from service.db import run_sql
from service.tickets import tokens
from service.tickets.schemas import RevocationOut, RevocationsOut, TicketKey, TicketKeysOut
from service.tickets.tables import Revocation, TicketState

REVOCATIONS_PAGE = 5000


# A ticket's reissue counter (no row: 0).
REISSUE_READ = "SELECT reissue FROM ticket_state WHERE registration_id = {}"


async def current_reissue(ticket_id: int) -> int:
    # Raw SQL: read on every scan at the door.
    rows = await run_sql(REISSUE_READ, ticket_id)
    return int(rows[0]["reissue"]) if rows else 0


async def reissues(ticket_ids: list[int]) -> dict[int, int]:
    """Current counters of many tickets (0 for those never revoked)."""
    if not ticket_ids:
        return {}
    rows = (
        await TicketState.select(TicketState.registration_id, TicketState.reissue)
        .where(TicketState.registration_id.is_in(ticket_ids))
        .run()
    )
    found = {row["registration_id"]: int(row["reissue"]) for row in rows}
    return {ticket_id: found.get(ticket_id, 0) for ticket_id in ticket_ids}


async def code_for(ticket_id: int, activity_id: int, reissue: int | None = None) -> str:
    """The ticket's code; `reissue` when the caller has just read the counter itself."""
    if reissue is None:
        reissue = await current_reissue(ticket_id)
    return tokens.ticket_code(ticket_id, activity_id, reissue)


async def revoke(ticket_id: int, activity_id: int, reason: str) -> int:
    """Inside the caller's write_transaction(): invalidate every code handed out so far
    for this ticket; returns the new counter (the next code is signed with it)."""
    rows = await TicketState.raw(
        "INSERT INTO ticket_state (registration_id, activity_id, reissue, updated_at) "
        "VALUES ({}, {}, 1, {}) ON CONFLICT (registration_id) "
        "DO UPDATE SET reissue = ticket_state.reissue + 1, updated_at = excluded.updated_at "
        "RETURNING reissue",
        ticket_id,
        activity_id,
        clock.now(),
    ).run()
    counter = int(rows[0]["reissue"])
    await Revocation.insert(
        Revocation(
            activity_id=activity_id,
            registration_id=ticket_id,
            below_reissue=counter,
            reason=reason,
            created_at=clock.now(),
        )
    ).run()
    return counter


async def changed_since(activity_id: int, moment: datetime) -> list[int]:
    """Tickets of an activity whose counter moved at or after the moment."""
    rows = (
        await TicketState.select(TicketState.registration_id)
        .where((TicketState.activity_id == activity_id) & (TicketState.updated_at >= moment))
        .run()
    )
    return [row["registration_id"] for row in rows]


async def revocations(activity_id: int, since: int = 0) -> RevocationsOut:
    rows = (
        await Revocation.select()
        .where((Revocation.activity_id == activity_id) & (Revocation.id > since))
        .order_by(Revocation.id)
        .limit(REVOCATIONS_PAGE)
        .run()
    )
    return RevocationsOut(
        cursor=rows[-1]["id"] if rows else since,
        items=[
            RevocationOut(
                ticket_id=row["registration_id"],
                below_reissue=row["below_reissue"],
                reason=row["reason"],
                created_at=row["created_at"],
            )
            for row in rows
        ],
    )


def keys() -> TicketKeysOut:
    return TicketKeysOut(
        keys=[
            TicketKey(
                key_id=signing.key_id_of(public),
                alg="Ed25519",
                public_key=base64.urlsafe_b64encode(signing.public_bytes(public))
                .decode("ascii")
                .rstrip("="),
            )
            for public in signing.public_keys()
        ]
    )


@lru_cache(maxsize=2048)
def qr_svg(code: str) -> bytes:
    """The QR of a code as SVG (about 10 ms to draw: cached here and by HTTP ETags)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    qr.add_data(qrcode.util.QRData(code, mode=qrcode.util.MODE_ALPHA_NUM))
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image(image_factory=qrcode.image.svg.SvgPathImage).save(out)
    return out.getvalue()


def qr_version(code: str) -> int:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M)
    qr.add_data(qrcode.util.QRData(code, mode=qrcode.util.MODE_ALPHA_NUM))
    qr.make(fit=True)
    return int(qr.version)
