"""Phone sign-in with one-time codes, server-side sessions and API tokens.

Codes: 6 digits from a CSPRNG, valid 5 minutes, single use, at most 5 wrong tries, rate
limited per phone and requester, per phone and per IP in Redis; only a keyed hash is
stored and compared in constant time. Sessions and tokens are 256-bit random strings;
only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from service import clock, ratelimit
from service.accounts.sms import code_sender
from service.accounts.tables import ApiToken, Session, SignInCode
from service.db import lock_key, run_sql, write_transaction
from service.errors import DomainError
from service.keys import secret_key
from service.orgs import services as orgs
from service.orgs.schemas import Actor

CODE_TTL = timedelta(minutes=5)
CODE_MAX_TRIES = 5
SESSION_TTL = timedelta(days=30)
SIGNUP_SESSION_TTL = timedelta(minutes=30)
# Code requests, each (limit, window seconds). One requester (an address) gets 5 codes a
# phone: enough for typos and a slow SMS. The phone's own ceiling is three times that, in
# the same window, so a stranger asking for someone else's phone spends at most a third of
# it and the owner, from their own address, still gets codes; locking a worker out takes
# three addresses, each itself held to 30 codes. The ceiling caps what one phone can cost
# in SMS at 15 a quarter hour. Refused requests count only where they were refused.
CODES_PER_PHONE_AND_REQUESTER = (5, 15 * 60)
CODES_PER_PHONE = (15, 15 * 60)
CODES_PER_IP = (30, 15 * 60)
VERIFY_PER_IP = (60, 15 * 60)
# What a limit answers when its store (Redis) cannot be reached: sign-in fails closed.
SIGNIN_UNAVAILABLE_REFUSAL = "Sign-in is briefly unavailable. Try again in a minute."


def _code_hash(phone: str, code: str) -> str:
    return hmac.new(secret_key("signin-codes"), f"{phone}:{code}".encode(), "sha256").hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


@dataclass(frozen=True)
class CodeRequested:
    phone: str
    demo_code: str | None  # shown on screen only in demo mode


async def request_code(raw_phone: str, ip: str) -> CodeRequested:
    phone = orgs.normalise_phone(raw_phone)
    await ratelimit.hit(
        "code-ip",
        ip,
        limit=CODES_PER_IP[0],
        window_seconds=CODES_PER_IP[1],
        unavailable=SIGNIN_UNAVAILABLE_REFUSAL,
    )
    await ratelimit.hit(
        "code-phone-ip",
        f"{phone}:{ip}",
        limit=CODES_PER_PHONE_AND_REQUESTER[0],
        window_seconds=CODES_PER_PHONE_AND_REQUESTER[1],
        unavailable=SIGNIN_UNAVAILABLE_REFUSAL,
    )
    await ratelimit.hit(
        "code-phone",
        phone,
        limit=CODES_PER_PHONE[0],
        window_seconds=CODES_PER_PHONE[1],
        unavailable=SIGNIN_UNAVAILABLE_REFUSAL,
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = clock.now()
    async with write_transaction():
        await lock_key(f"signin-code:{phone}")
        # A new code spends every earlier one for this phone.
        await (
            SignInCode.update({SignInCode.spent_at: now})
            .where((SignInCode.phone == phone) & SignInCode.spent_at.is_null())
            .run()
        )
        await SignInCode.insert(
            SignInCode(phone=phone, code_hash=_code_hash(phone, code), expires_at=now + CODE_TTL)
        ).run()
    shown = await code_sender().send(phone, code)
    return CodeRequested(phone=phone, demo_code=shown)


async def verify_code(raw_phone: str, code: str, ip: str) -> str:
    """Spend the phone's current code if `code` matches; return the verified phone."""
    phone = orgs.normalise_phone(raw_phone)
    code = (code or "").strip()
    if not (len(code) == 6 and code.isdigit()):
        raise DomainError("validation_error", "Enter the 6-digit code from the SMS.", field="code")
    await ratelimit.hit(
        "verify-ip",
        ip,
        limit=VERIFY_PER_IP[0],
        window_seconds=VERIFY_PER_IP[1],
        unavailable=SIGNIN_UNAVAILABLE_REFUSAL,
    )
    async with write_transaction():
        refusal = await _spend_code(phone, code, clock.now())
    # Raised after the commit, so a wrong try stays counted.
    if refusal is not None:
        raise refusal
    return phone


async def _spend_code(phone: str, code: str, now: datetime) -> DomainError | None:
    """Inside a write transaction: count one try and spend the code if it matches."""
    used = DomainError(
        "code_invalid",
        "This code has already been used or replaced. Ask for a new one.",
        field="code",
    )
    too_many = DomainError(
        "too_many_tries", "Too many wrong codes. Ask for a new code.", field="code"
    )
    current = (
        await SignInCode.select()
        .where((SignInCode.phone == phone) & SignInCode.spent_at.is_null())
        .order_by(SignInCode.id, ascending=False)
        .first()
        .run()
    )
    if current is None:
        return used
    if current["expires_at"] <= now:
        return DomainError(
            "code_expired", "This code has expired. Ask for a new one.", field="code"
        )
    # Count the try first, conditionally: two requests racing cannot both get try #5.
    counted = (
        await SignInCode.update({SignInCode.attempts: SignInCode.attempts + 1})
        .where(
            (SignInCode.id == current["id"])
            & (SignInCode.attempts < CODE_MAX_TRIES)
            & SignInCode.spent_at.is_null()
        )
        .returning(SignInCode.attempts)
        .run()
    )
    if not counted:
        # Either the tries ran out, or another request spent the code while this one
        # waited for the row: say which.
        spent = (
            await SignInCode.exists()
            .where((SignInCode.id == current["id"]) & SignInCode.spent_at.is_not_null())
            .run()
        )
        return used if spent else too_many
    if not hmac.compare_digest(current["code_hash"], _code_hash(phone, code)):
        left = CODE_MAX_TRIES - counted[0]["attempts"]
        if left <= 0:
            return too_many
        return DomainError(
            "code_invalid", "That code is not right. %(left)s tries left.", field="code", left=left
        )
    spent = (
        await SignInCode.update({SignInCode.spent_at: now})
        .where((SignInCode.id == current["id"]) & SignInCode.spent_at.is_null())
        .returning(SignInCode.id)
        .run()
    )
    if not spent:
        return used
    # Codes requested at the same moment may all be live: one sign-in spends them all.
    await (
        SignInCode.update({SignInCode.spent_at: now})
        .where((SignInCode.phone == phone) & SignInCode.spent_at.is_null())
        .run()
    )
    return None


# --- sessions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionState:
    actor: Actor | None
    verified_phone: str | None  # set between code verification and self-registration


async def start_session(
    *, member_id: int | None, verified_phone: str | None = None, replacing: str | None = None
) -> str:
    """A fresh session id (rotation: the session it replaces is deleted)."""
    token = new_token()
    ttl = SESSION_TTL if member_id is not None else SIGNUP_SESSION_TTL
    async with write_transaction():
        if replacing:
            await Session.delete().where(Session.token_hash == token_hash(replacing)).run()
        await Session.insert(
            Session(
                token_hash=token_hash(token),
                member=member_id,
                verified_phone=verified_phone,
                expires_at=clock.now() + ttl,
            )
        ).run()
    return token


async def sign_in_with_code(
    raw_phone: str, code: str, ip: str, *, replacing: str | None, language: str | None = None
) -> tuple[str, bool]:
    """Verify the code and open a session; returns (session token, is an existing member).

    `language` is what the person chose before signing in; it becomes the member's own.
    """
    phone = await verify_code(raw_phone, code, ip)
    member_id = await orgs.member_id_for_phone(phone)
    if member_id is not None and language is not None:
        await orgs.set_language(member_id, language)
    token = await start_session(
        member_id=member_id, verified_phone=None if member_id else phone, replacing=replacing
    )
    return token, member_id is not None


async def session_state(token: str | None) -> SessionState:
    if not token or len(token) > 128:
        return SessionState(actor=None, verified_phone=None)
    row = await Session.select().where(Session.token_hash == token_hash(token)).first().run()
    if row is None or row["expires_at"] <= clock.now():
        return SessionState(actor=None, verified_phone=None)
    actor = await orgs.actor_for_member(row["member"]) if row["member"] else None
    return SessionState(actor=actor, verified_phone=row["verified_phone"])


async def complete_signup(
    token: str, name: str, node_code: str, group: str, language: str | None = None
) -> str:
    """Create the member for a verified phone and rotate the session to them."""
    state = await session_state(token)
    if state.verified_phone is None:
        raise DomainError(
            "not_signed_in", "Your sign-in has expired. Enter your phone number again."
        )
    # A worker joining says where they belong and what they do: nothing is assumed.
    if not node_code.strip():
        raise DomainError("validation_error", "Choose your union or workplace.", field="node")
    await orgs.node_by_code(node_code)  # an unknown code is named beside its field
    if not group.strip():
        raise DomainError("validation_error", "Choose the work you do.", field="group")
    member_id = await orgs.register_self(state.verified_phone, name, node_code, group, language)
    return await start_session(member_id=member_id, replacing=token)


async def end_session(token: str | None) -> None:
    if token:
        async with write_transaction():
            await Session.delete().where(Session.token_hash == token_hash(token)).run()


async def end_all_sessions(actor: Actor) -> int:
    """Sign out everywhere: every browser session of this member ends (API tokens, made
    for integrations with the CLI, are not sessions and stay)."""
    async with write_transaction():
        removed = (
            await Session.delete()
            .where(Session.member == actor.member_id)
            .returning(Session.id)
            .run()
        )
    return len(removed)


# --- API tokens -------------------------------------------------------------------------


async def create_api_token(raw_phone: str) -> str:
    phone = orgs.normalise_phone(raw_phone)
    member_id = await orgs.member_id_for_phone(phone)
    if member_id is None:
        raise DomainError("not_found", "No member has the phone number %(phone)s.", phone=phone)
    token = new_token()
    async with write_transaction():
        await ApiToken.insert(ApiToken(token_hash=token_hash(token), member=member_id)).run()
    return token


async def actor_for_api_token(token: str) -> Actor | None:
    if not token or len(token) > 128:
        return None
    # One statement, token to actor (orgs.actor_for_member's columns, read through the
    # token): it runs on every API call, and a second round trip cost more CPU than the
    # query (QUALITY.md B3, tests/bench/profile_door.py).
    rows = await run_sql(
        "SELECT m.id, m.name, m.worker_group, m.roles, m.language, n.id AS node_id, "
        "n.path AS node_path FROM account_api_token t JOIN org_member m ON m.id = t.member "
        "JOIN org_node n ON n.id = m.node WHERE t.token_hash = {}",
        token_hash(token),
    )
    return orgs.actor_from_row(rows[0]) if rows else None
