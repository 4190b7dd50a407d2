"""Phone sign-in codes, rate limits, sessions and API tokens (service layer)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import aiosqlite
import asyncpg
import pytest
from redis.asyncio import Redis

from service import clock, ratelimit
from service.accounts import services as accounts
from service.accounts.tables import ApiToken, Session, SignInCode
from service.errors import DomainError
from service.orgs import services as orgs
from service.orgs.tables import Member
from service.redis_client import get_redis
from service.settings import get_settings
from tests.conftest import Org

NEW_PHONE = "13912345678"
IP = "198.51.100.20"
URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def fresh_code(phone: str, ip: str = IP) -> str:
    requested = await accounts.request_code(phone, ip)
    assert requested.demo_code is not None
    assert re.fullmatch(r"\d{6}", requested.demo_code)
    return requested.demo_code


@pytest.fixture
def frozen_now() -> Iterator[None]:
    """Freeze the clock for the whole test, so 'six minutes later' is exact."""
    with clock.frozen_at(clock.now()):
        yield


async def refusal(call: object) -> DomainError:
    try:
        await call  # type: ignore[misc]
    except DomainError as error:
        return error
    raise AssertionError("expected a DomainError")


# --- codes ------------------------------------------------------------------------------


async def test_code_signs_in_a_normalised_phone(org: Org) -> None:
    requested = await accounts.request_code("+86 138-0000-0005", IP)
    assert requested.phone == org.phones["worker_a1"]
    assert requested.demo_code is not None
    phone = await accounts.verify_code("138 0000 0005", requested.demo_code, IP)
    assert phone == org.phones["worker_a1"]


async def test_bad_phone_gets_no_code() -> None:
    error = await refusal(accounts.request_code("12345", IP))
    assert (error.code, error.field) == ("validation_error", "phone")
    assert await SignInCode.count().run() == 0


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 345"])
async def test_malformed_code_is_refused_without_spending_a_try(code: str) -> None:
    await fresh_code(NEW_PHONE)
    error = await refusal(accounts.verify_code(NEW_PHONE, code, IP))
    assert (error.code, error.field) == ("validation_error", "code")
    row = await SignInCode.select(SignInCode.attempts).first().run()
    assert row is not None and row["attempts"] == 0


async def test_wrong_codes_count_down_then_even_the_right_code_is_refused() -> None:
    code = await fresh_code(NEW_PHONE)
    wrong = other_code(code)
    lefts = []
    for _ in range(4):
        error = await refusal(accounts.verify_code(NEW_PHONE, wrong, IP))
        assert error.code == "code_invalid"
        lefts.append(error.params["left"])
    assert lefts == [4, 3, 2, 1]
    fifth = await refusal(accounts.verify_code(NEW_PHONE, wrong, IP))
    assert fifth.code == "too_many_tries"
    right = await refusal(accounts.verify_code(NEW_PHONE, code, IP))
    assert right.code == "too_many_tries"


async def test_the_right_code_on_the_fifth_try_still_works() -> None:
    code = await fresh_code(NEW_PHONE)
    for _ in range(4):
        await refusal(accounts.verify_code(NEW_PHONE, other_code(code), IP))
    assert await accounts.verify_code(NEW_PHONE, code, IP) == NEW_PHONE


async def test_code_expires_after_five_minutes(frozen_now: None) -> None:
    code = await fresh_code(NEW_PHONE)
    with clock.frozen_at(clock.now() + timedelta(minutes=6)):
        error = await refusal(accounts.verify_code(NEW_PHONE, code, IP))
    assert error.code == "code_expired"


async def test_code_still_works_just_before_it_expires(frozen_now: None) -> None:
    code = await fresh_code(NEW_PHONE)
    with clock.frozen_at(clock.now() + timedelta(minutes=4, seconds=59)):
        assert await accounts.verify_code(NEW_PHONE, code, IP) == NEW_PHONE


async def test_a_code_works_once() -> None:
    code = await fresh_code(NEW_PHONE)
    await accounts.verify_code(NEW_PHONE, code, IP)
    error = await refusal(accounts.verify_code(NEW_PHONE, code, IP))
    assert error.code == "code_invalid"


async def test_verifying_without_any_code_is_refused() -> None:
    error = await refusal(accounts.verify_code(NEW_PHONE, "123456", IP))
    assert error.code == "code_invalid"


async def test_a_new_code_spends_the_old_one() -> None:
    old = await fresh_code(NEW_PHONE)
    new = await fresh_code(NEW_PHONE)
    while new == old:  # one chance in a million
        new = await fresh_code(NEW_PHONE)
    error = await refusal(accounts.verify_code(NEW_PHONE, old, IP))
    assert error.code == "code_invalid"
    assert await accounts.verify_code(NEW_PHONE, new, IP) == NEW_PHONE


async def test_codes_are_per_phone(org: Org) -> None:
    mine = await fresh_code(org.phones["worker_a1"])
    await fresh_code(org.phones["staff_a"])
    # Someone else's new code does not spend mine.
    assert await accounts.verify_code(org.phones["worker_a1"], mine, IP)


async def test_only_a_keyed_hash_of_the_code_is_stored() -> None:
    code = await fresh_code(NEW_PHONE)
    rows = await SignInCode.select().run()
    assert len(rows) == 1
    row = rows[0]
    assert code not in {str(value) for value in row.values()}
    assert re.fullmatch(r"[0-9a-f]{64}", row["code_hash"])
    # Not an unkeyed hash either: a million candidates would undo that in a second.
    for guessable in (code, f"{NEW_PHONE}:{code}", f"{NEW_PHONE}{code}"):
        assert row["code_hash"] != hashlib.sha256(guessable.encode()).hexdigest()


async def test_ten_concurrent_right_answers_sign_in_exactly_once() -> None:
    code = await fresh_code(NEW_PHONE)
    results = await asyncio.gather(
        *(accounts.verify_code(NEW_PHONE, code, IP) for _ in range(10)), return_exceptions=True
    )
    successes = [result for result in results if result == NEW_PHONE]
    failures = [result for result in results if isinstance(result, BaseException)]
    assert len(successes) == 1
    assert len(failures) == 9
    for failure in failures:
        # A refusal the person can read, never a database error.
        assert isinstance(failure, DomainError), repr(failure)
        assert failure.code in {"code_invalid", "too_many_tries"}, failure.code
    row = await SignInCode.select(SignInCode.spent_at).first().run()
    assert row is not None and row["spent_at"] is not None


async def test_a_code_spent_while_a_try_waits_is_reported_as_used() -> None:
    """Nobody typed a wrong code: the loser of a race was beaten to it, not locked out.

    Another connection spends the code and holds the row; verify_code starts, waits for
    it, and must then answer "already used", not "too many wrong codes".
    """
    code = await fresh_code(NEW_PHONE)
    async with spent_elsewhere(NEW_PHONE) as commit:
        attempt = asyncio.create_task(accounts.verify_code(NEW_PHONE, code, IP))
        await commit(attempt)
    error = await refusal(attempt)
    assert error.code == "code_invalid", (error.code, error.message)


@contextlib.asynccontextmanager
async def spent_elsewhere(phone: str) -> AsyncIterator[Any]:
    """Spend the phone's open code in another connection; `commit(task)` commits once the
    task is waiting on that write (PostgreSQL: a row lock; SQLite: the database lock)."""
    settings = get_settings()
    spend = "UPDATE account_signin_code SET spent_at = CURRENT_TIMESTAMP WHERE phone = {}"
    if settings.is_sqlite:
        connection = await aiosqlite.connect(settings.sqlite_path, isolation_level=None)
        await connection.execute("BEGIN IMMEDIATE")
        await connection.execute(spend.format("?"), (phone,))

        async def commit(task: asyncio.Task[Any]) -> None:
            await asyncio.sleep(0.2)  # the task queues behind the lock; order does not matter
            await connection.commit()

        try:
            yield commit
        finally:
            await connection.close()
        return
    connection = await asyncpg.connect(settings.database_url)
    transaction = connection.transaction()
    await transaction.start()
    await connection.execute(spend.format("$1"), phone)

    async def commit_pg(task: asyncio.Task[Any]) -> None:
        waiting = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        for _ in range(100):
            if task.done() or await connection.fetchval(waiting):
                break
            await asyncio.sleep(0.02)
        await transaction.commit()

    try:
        yield commit_pg
    finally:
        await connection.close()


# --- rate limits ------------------------------------------------------------------------


async def test_sixth_code_for_one_phone_from_one_requester_is_refused() -> None:
    for _ in range(5):
        await accounts.request_code(NEW_PHONE, IP)
    error = await refusal(accounts.request_code(NEW_PHONE, IP))
    assert error.code == "too_many_requests"
    assert await SignInCode.count().run() == 5
    # Another phone is not affected.
    assert (await accounts.request_code("13912345679", IP)).demo_code


async def test_a_stranger_cannot_lock_the_owner_out_of_sign_in() -> None:
    """Issue 16: five requests from anyone used to lock a phone's owner out for 15 minutes."""
    stranger, owner = "198.51.100.66", "203.0.113.20"
    for _ in range(5):
        await accounts.request_code(NEW_PHONE, stranger)
    for _ in range(20):  # hammering on: refused, and not spending the owner's ceiling
        assert (await refusal(accounts.request_code(NEW_PHONE, stranger))).code == (
            "too_many_requests"
        )
    for _ in range(5):
        assert (await accounts.request_code(NEW_PHONE, owner)).demo_code


async def test_the_phone_ceiling_holds_across_requesters() -> None:
    for index in range(15):
        await accounts.request_code(NEW_PHONE, f"198.51.100.{index}")
    error = await refusal(accounts.request_code(NEW_PHONE, "198.51.100.99"))
    assert error.code == "too_many_requests"
    assert await SignInCode.count().run() == 15


async def test_the_phone_limit_holds_across_formats() -> None:
    for raw in ("13912345678", "+8613912345678", "139 1234 5678", "139-1234-5678", NEW_PHONE):
        await accounts.request_code(raw, IP)
    error = await refusal(accounts.request_code("+86 139 1234 5678", IP))
    assert error.code == "too_many_requests"


async def test_one_ip_gets_at_most_thirty_codes_in_the_window() -> None:
    for index in range(30):
        await accounts.request_code(f"139000{index:05d}", IP)
    error = await refusal(accounts.request_code("13700000000", IP))
    assert error.code == "too_many_requests"
    assert await SignInCode.count().run() == 30
    assert (await accounts.request_code("13700000000", "198.51.100.77")).demo_code


async def test_one_ip_gets_at_most_sixty_verifications_in_the_window() -> None:
    code = await fresh_code(NEW_PHONE)
    for _ in range(60):
        await refusal(accounts.verify_code(NEW_PHONE, other_code(code), IP))
    error = await refusal(accounts.verify_code(NEW_PHONE, code, IP))
    assert error.code == "too_many_requests"


async def test_rate_limit_windows_expire_after_fifteen_minutes() -> None:
    """A limit is a wait, not a ban: every counter carries the window as its expiry."""
    await accounts.request_code(NEW_PHONE, IP)
    redis = get_redis()
    for key in (f"ratelimit:code-phone:{NEW_PHONE}", f"ratelimit:code-ip:{IP}"):
        ttl = await redis.ttl(key)
        assert 14 * 60 < ttl <= 15 * 60, (key, ttl)


async def test_rate_limit_fails_closed_when_redis_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=1)
    monkeypatch.setattr(ratelimit, "get_redis", lambda: unreachable)
    try:
        error = await refusal(accounts.request_code(NEW_PHONE, IP))
    finally:
        await unreachable.aclose()
    assert error.code == "service_unavailable"
    assert await SignInCode.count().run() == 0


# --- sessions ---------------------------------------------------------------------------


async def test_session_token_is_a_256_bit_urlsafe_secret_stored_hashed(org: Org) -> None:
    token = await accounts.start_session(member_id=org.worker_a1.member_id)
    assert len(token) >= 43
    assert URLSAFE.match(token)
    rows = await Session.select().run()
    assert len(rows) == 1
    assert token not in {str(value) for value in rows[0].values()}
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    other = await accounts.start_session(member_id=org.worker_a1.member_id)
    assert other != token


async def test_session_state_resolves_the_member(org: Org) -> None:
    token = await accounts.start_session(member_id=org.worker_a1.member_id)
    state = await accounts.session_state(token)
    assert state.actor is not None
    assert state.actor.member_id == org.worker_a1.member_id
    assert state.actor.roles == frozenset({"worker"})
    assert state.verified_phone is None


@pytest.mark.parametrize("token", [None, "", "not-a-session", "x" * 200])
async def test_unknown_tokens_are_anonymous(org: Org, token: str | None) -> None:
    await accounts.start_session(member_id=org.worker_a1.member_id)
    state = await accounts.session_state(token)
    assert (state.actor, state.verified_phone) == (None, None)


async def test_replacing_a_session_deletes_the_old_one(org: Org) -> None:
    old = await accounts.start_session(member_id=None, verified_phone=NEW_PHONE)
    new = await accounts.start_session(member_id=org.worker_a1.member_id, replacing=old)
    assert new != old
    assert (await accounts.session_state(old)).verified_phone is None
    assert (await accounts.session_state(new)).actor is not None
    assert await Session.count().run() == 1


async def test_member_session_expires_after_thirty_days(org: Org, frozen_now: None) -> None:
    token = await accounts.start_session(member_id=org.worker_a1.member_id)
    with clock.frozen_at(clock.now() + timedelta(days=29)):
        assert (await accounts.session_state(token)).actor is not None
    with clock.frozen_at(clock.now() + timedelta(days=30, seconds=1)):
        assert (await accounts.session_state(token)).actor is None


async def test_signup_session_expires_after_thirty_minutes(frozen_now: None) -> None:
    token = await accounts.start_session(member_id=None, verified_phone=NEW_PHONE)
    assert (await accounts.session_state(token)).verified_phone == NEW_PHONE
    with clock.frozen_at(clock.now() + timedelta(minutes=31)):
        state = await accounts.session_state(token)
    assert (state.actor, state.verified_phone) == (None, None)


async def test_end_session_signs_out_that_session_only(org: Org) -> None:
    first = await accounts.start_session(member_id=org.worker_a1.member_id)
    second = await accounts.start_session(member_id=org.worker_a1.member_id)
    await accounts.end_session(first)
    assert (await accounts.session_state(first)).actor is None
    assert (await accounts.session_state(second)).actor is not None


async def test_end_all_sessions_signs_one_member_out_everywhere(org: Org) -> None:
    mine = [await accounts.start_session(member_id=org.worker_a1.member_id) for _ in range(3)]
    theirs = await accounts.start_session(member_id=org.staff_a.member_id)
    assert await accounts.end_all_sessions(org.worker_a1) == 3
    for token in mine:
        assert (await accounts.session_state(token)).actor is None
    state = await accounts.session_state(theirs)
    assert state.actor is not None and state.actor.member_id == org.staff_a.member_id


async def test_end_all_sessions_leaves_api_tokens_working(org: Org) -> None:
    """Its docstring: API tokens, made for integrations with the CLI, are not sessions."""
    browser = await accounts.start_session(member_id=org.worker_a1.member_id)
    token = await accounts.create_api_token(org.phones["worker_a1"])
    assert await accounts.end_all_sessions(org.worker_a1) == 1
    assert (await accounts.session_state(browser)).actor is None
    actor = await accounts.actor_for_api_token(token)
    assert actor is not None and actor.member_id == org.worker_a1.member_id


# --- signing in and signing up ----------------------------------------------------------


async def test_member_signs_in_with_a_code_and_the_session_rotates(org: Org) -> None:
    anonymous = await accounts.start_session(member_id=None, verified_phone=None)
    code = await fresh_code(org.phones["organiser_a"])
    token, existing = await accounts.sign_in_with_code(
        org.phones["organiser_a"], code, IP, replacing=anonymous
    )
    assert existing is True
    assert token != anonymous
    state = await accounts.session_state(token)
    assert state.actor is not None and state.actor.member_id == org.organiser_a.member_id
    assert (
        await Session.count().where(Session.token_hash == accounts.token_hash(anonymous)).run() == 0
    )


async def test_new_phone_signs_up_as_a_worker_in_the_chosen_node(org: Org) -> None:
    code = await fresh_code("+86 139 1234 5678")
    pending, existing = await accounts.sign_in_with_code(NEW_PHONE, code, IP, replacing=None)
    assert existing is False
    state = await accounts.session_state(pending)
    assert (state.actor, state.verified_phone) == (None, NEW_PHONE)

    token = await accounts.complete_signup(pending, "  新 工人 ", "ent-a1", "food_delivery")
    assert token != pending
    assert (await accounts.session_state(pending)).verified_phone is None
    actor = (await accounts.session_state(token)).actor
    assert actor is not None
    assert actor.roles == frozenset({"worker"})
    assert actor.node_path == (await orgs.node_by_code("ent-a1")).path
    row = await Member.select().where(Member.phone == NEW_PHONE).first().run()
    assert row is not None
    assert (row["name"], row["worker_group"], row["roles"]) == (
        "新 工人",
        "food_delivery",
        "worker",
    )


async def test_signup_needs_a_verified_phone(org: Org) -> None:
    member_token = await accounts.start_session(member_id=org.worker_a1.member_id)
    before = await Member.count().run()
    for token in ("", "no-such-session", member_token):
        error = await refusal(accounts.complete_signup(token, "某人", "ent-a1", "other"))
        assert error.code == "not_signed_in"
    assert await Member.count().run() == before


async def test_signup_with_bad_details_keeps_the_pending_session(org: Org) -> None:
    pending = await accounts.start_session(member_id=None, verified_phone=NEW_PHONE)
    error = await refusal(accounts.complete_signup(pending, "某人", "ent-a1", "astronaut"))
    assert (error.code, error.field) == ("validation_error", "group")
    assert (await accounts.session_state(pending)).verified_phone == NEW_PHONE
    assert await Member.count().where(Member.phone == NEW_PHONE).run() == 0


async def test_signup_for_a_phone_that_is_already_a_member_keeps_that_member(org: Org) -> None:
    """A verified phone that already belongs to a member signs in as that member, unchanged."""
    pending = await accounts.start_session(member_id=None, verified_phone=org.phones["admin"])
    token = await accounts.complete_signup(pending, "冒名", "ent-a1", "courier")
    actor = (await accounts.session_state(token)).actor
    assert actor is not None and actor.member_id == org.admin.member_id
    assert (await orgs.get_member(org.admin, org.admin.member_id or 0)).name == "管理员"


# --- API tokens -------------------------------------------------------------------------


async def test_api_token_acts_as_its_member_and_is_stored_hashed(org: Org) -> None:
    token = await accounts.create_api_token("+86 138 0000 0002")
    assert len(token) >= 43 and URLSAFE.match(token)
    actor = await accounts.actor_for_api_token(token)
    assert actor is not None and actor.member_id == org.organiser_a.member_id
    rows = await ApiToken.select().run()
    assert len(rows) == 1
    assert token not in {str(value) for value in rows[0].values()}
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 200])
async def test_unknown_api_tokens_act_as_nobody(org: Org, token: str) -> None:
    await accounts.create_api_token(org.phones["admin"])
    assert await accounts.actor_for_api_token(token) is None


async def test_api_token_for_an_unknown_phone_is_not_found(org: Org) -> None:
    error = await refusal(accounts.create_api_token(NEW_PHONE))
    assert error.code == "not_found"
    assert await ApiToken.count().run() == 0
