"""Employer invite links: a fair's organisers send one link to the companies they want,
and a company enters itself (no account needed) for the organisers to approve. No HTTP.

The rules, in one place:
- a fair has one invite link at a time: the organisers create it (the same link until it
  is withdrawn) and may withdraw it; withdrawing bumps the version written in the link's
  code (a signed code of its own type), so every link handed out before stops working,
  and a link created afterwards is a new one;
- a link works until the fair ends, and never for a cancelled or closed fair;
- a company that enters itself is unapproved and marked as joined by the invite, so it
  shows in the organisers' employer list for them to check and approve (it gets no booth
  before that: services.py's booth rule);
- one employer of a name per fair (compared as people read it: full-width letters and
  case do not make another company): a name already there is refused, and two companies
  sending the same name at once make one employer;
- joins are limited per address and fair and per fair (JOINS_PER_ADDRESS, JOINS_PER_FAIR).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from service import clock, ratelimit, signing
from service.activities import services as activities
from service.activities.schemas import DoorActivity
from service.db import is_unique_violation, lock_key, write_transaction
from service.errors import DomainError, Forbidden, NotFound
from service.jobfairs import services as jobfairs
from service.jobfairs.schemas import (
    EmployerIn,
    EmployerInviteOut,
    EmployerJoinedOut,
    EmployerJoinIn,
    InvitedFairOut,
)
from service.jobfairs.tables import Employer, EmployerInvite
from service.orgs.schemas import Actor

# Tag 3: free until now (1 ticket, 2 booth device, 4 site poster). Written in every link
# handed out, so it is forever: never reuse it.
EMPLOYER_INVITE = signing.register_code_type(
    "employer_invite", tag=3, fields=("activity_id", "version")
)
INVITE_PATH = "/employer-invite/"
# (joins, seconds): a company retrying a form a few times fits easily; a script does not.
JOINS_PER_ADDRESS = (10, 600)  # per address and fair
JOINS_PER_FAIR = (200, 3600)
JOIN_UNAVAILABLE_REFUSAL = "Joining the fair is briefly unavailable. Try again in a minute."
NOT_AN_INVITE_REFUSAL = (
    "This is not an employer invite link. Check that the whole link was copied, "
    "or ask the fair's organiser to send it again."
)
WITHDRAWN_REFUSAL = (
    "This invite link was withdrawn by the organiser. Ask them for the current link."
)
FAIR_OVER_REFUSAL = "The fair is over: this invite link no longer works."
FAIR_CANCELLED_REFUSAL = "The fair was cancelled: this invite link no longer works."


def joining_closed(activity: DoorActivity) -> str | None:
    """Why employers can no longer join the fair, or None while they can."""
    if activity.status == "cancelled":
        return FAIR_CANCELLED_REFUSAL
    if activity.status == "closed" or clock.now() >= activity.ends_at:
        return FAIR_OVER_REFUSAL
    return None


async def _invite_row(activity_id: int) -> dict[str, Any] | None:
    return (
        await EmployerInvite.select().where(EmployerInvite.activity_id == activity_id).first().run()
    )


def _invite_out(activity: DoorActivity, row: dict[str, Any] | None) -> EmployerInviteOut:
    active = row is not None and bool(row["active"])
    version = row["version"] if row is not None else 1
    code = (
        signing.sign(EMPLOYER_INVITE.name, activity_id=activity.id, version=version)
        if active
        else None
    )
    return EmployerInviteOut(
        activity_id=activity.id,
        active=active,
        version=version,
        code=code,
        path=INVITE_PATH + code if code else None,
        valid_until=activity.ends_at,
    )


async def current_invite(actor: Actor, activity_id: int) -> EmployerInviteOut:
    """The fair's invite link as it stands (not active: none), for its organisers."""
    activity = await jobfairs.organised_fair(actor, activity_id)
    return _invite_out(activity, await _invite_row(activity_id))


async def create_invite(actor: Actor, activity_id: int) -> EmployerInviteOut:
    """The fair's invite link, created if there is none (the same link until it is
    withdrawn), for its organisers; refused once the fair is over."""
    activity = await jobfairs.organised_fair(actor, activity_id)
    reason = joining_closed(activity)
    if reason is not None:
        raise DomainError("conflict", reason)
    async with write_transaction():
        await lock_key(f"jobfair-invite:{activity_id}")
        row = await _invite_row(activity_id)
        if row is None:
            await EmployerInvite.insert(
                EmployerInvite(activity_id=activity_id, version=1, active=True)
            ).run()
        elif not row["active"]:
            await (
                EmployerInvite.update(
                    {EmployerInvite.active: True, EmployerInvite.updated_at: clock.now()}
                )
                .where(EmployerInvite.activity_id == activity_id)
                .run()
            )
    return _invite_out(activity, await _invite_row(activity_id))


async def revoke_invite(actor: Actor, activity_id: int) -> EmployerInviteOut:
    """Withdraw the fair's invite link: every link handed out so far stops working at
    once. Withdrawing when there is no link changes nothing."""
    activity = await jobfairs.organised_fair(actor, activity_id)
    # One atomic write: two organisers withdrawing at once bump the version once.
    await (
        EmployerInvite.update(
            {
                EmployerInvite.version: EmployerInvite.version + 1,
                EmployerInvite.active: False,
                EmployerInvite.updated_at: clock.now(),
            }
        )
        .where(
            (EmployerInvite.activity_id == activity_id) & (EmployerInvite.active == True)  # noqa: E712 (a Piccolo expression)
        )
        .run()
    )
    return _invite_out(activity, await _invite_row(activity_id))


async def invited_fair(code: str | None) -> DoorActivity:
    """The fair a genuine, current invite link lets companies join; anything else (not a
    code, another type of code, withdrawn, the fair over) refused with its reason."""
    if not code:
        raise Forbidden(NOT_AN_INVITE_REFUSAL)
    try:
        found = signing.verify(code, EMPLOYER_INVITE.name)
    except signing.BadCode:  # forged, altered, truncated, or a booth's or ticket's code
        raise Forbidden(NOT_AN_INVITE_REFUSAL) from None
    activity_id = found.fields["activity_id"]
    row = await _invite_row(activity_id)
    if row is None:  # a genuine code of a fair since removed
        raise Forbidden(NOT_AN_INVITE_REFUSAL)
    if not row["active"] or row["version"] != found.fields["version"]:
        raise Forbidden(WITHDRAWN_REFUSAL)
    try:
        activity = await activities.door_activity(activity_id)
    except NotFound:
        raise Forbidden(NOT_AN_INVITE_REFUSAL) from None
    if activity.kind != jobfairs.KIND:
        raise Forbidden(NOT_AN_INVITE_REFUSAL)
    reason = joining_closed(activity)
    if reason is not None:
        raise Forbidden(reason)
    return activity


async def invite_page(code: str | None) -> InvitedFairOut:
    """What a company sees on opening the link: the fair's name, time and place."""
    activity = await invited_fair(code)
    return InvitedFairOut(
        fair_title=activity.title,
        starts_at=activity.starts_at,
        ends_at=activity.ends_at,
        venue_name=activity.venue_name,
    )


async def join_by_invite(code: str | None, data: EmployerJoinIn, *, ip: str) -> EmployerJoinedOut:
    """A company entering itself from the link, as the public page and API do: counted
    against the limits first (a bad code is refused before it counts)."""
    activity = await invited_fair(code)
    await ratelimit.hit(
        "employer-join-ip",
        f"{activity.id}:{ip}",
        limit=JOINS_PER_ADDRESS[0],
        window_seconds=JOINS_PER_ADDRESS[1],
        unavailable=JOIN_UNAVAILABLE_REFUSAL,
    )
    await ratelimit.hit(
        "employer-join-fair",
        str(activity.id),
        limit=JOINS_PER_FAIR[0],
        window_seconds=JOINS_PER_FAIR[1],
        unavailable=JOIN_UNAVAILABLE_REFUSAL,
    )
    return await _join(activity, data)


async def add_invited_employer(code: str | None, data: EmployerJoinIn) -> EmployerJoinedOut:
    """The same join with no limits counted: for the demo data, never for the public."""
    return await _join(await invited_fair(code), data)


def _same_name(one: str, other: str) -> bool:
    def folded(name: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", name).casefold().split())

    return folded(one) == folded(other)


def _name_taken() -> DomainError:
    return DomainError(
        "conflict",
        "A company of this name is already on the fair's list. If it is yours, there is "
        "nothing more to send; if not, add the branch or town to the name.",
        field="name",
    )


async def _join(activity: DoorActivity, data: EmployerJoinIn) -> EmployerJoinedOut:
    # The organisers' own rules for each field (length, characters, a mainland mobile),
    # then what a company entering itself must give besides.
    values = await jobfairs.employer_values(
        EmployerIn(
            name=data.name,
            industry=data.industry,
            contact_name=data.contact_name,
            contact_phone=data.contact_phone,
            enterprise_node=None,
            approved=False,
        )
    )
    if not values["contact_name"]:
        raise DomainError(
            "validation_error", "Enter the contact person's name.", field="contact_name"
        )
    if not values["contact_phone"]:
        raise DomainError(
            "validation_error",
            "Enter the contact person's mobile number.",
            field="contact_phone",
        )
    async with write_transaction():
        # Two companies sending one name at once: the second waits here, then sees it.
        await lock_key(f"jobfair-employer-name:{activity.id}")
        names = (
            await Employer.select(Employer.name).where(Employer.activity_id == activity.id).run()
        )
        if any(_same_name(row["name"], values["name"]) for row in names):
            raise _name_taken()
        try:
            await Employer.insert(
                Employer(activity_id=activity.id, via_invite=True, **values)
            ).run()
        except Exception as error:
            if is_unique_violation(error):
                raise _name_taken() from None
            raise
    return EmployerJoinedOut(name=values["name"], fair_title=activity.title, approved=False)
