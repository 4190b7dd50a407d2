"""Posting to addresses members hand over (push endpoints): outside demo mode, a host that
is or resolves to a loopback, private or link-local address is refused before any byte is
sent; the operator's own gateway (not public_only) may be anywhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service import outbound
from tests.reminder_sinks import SmsSink, channel_env

BODY = b'{"phone": "13700000000", "message": "hi", "key": "k"}'
HEADERS = {"Content-Type": "application/json"}


@pytest.fixture
def sink() -> Iterator[SmsSink]:
    started = SmsSink().start()
    yield started
    started.stop()


def by_name(url: str) -> str:
    """The sink's address with the name `localhost`, which the resolver must look up."""
    return url.replace("127.0.0.1", "localhost")


@pytest.mark.parametrize("address", ["name", "ip"])
async def test_outside_demo_mode_a_member_given_internal_address_is_refused(
    sink: SmsSink, address: str
) -> None:
    url = by_name(sink.url) if address == "name" else sink.url
    with channel_env(None, None, UNIONHALL_DEMO="0"):
        with pytest.raises(outbound.Unreachable, match="internal address refused"):
            await outbound.post(url, BODY, HEADERS, within=5, public_only=True)
        assert sink.raw_count == 0  # nothing reached it
        # The operator's gateway is not public_only: the same address is fine for it.
        assert await outbound.post(url, BODY, HEADERS, within=5) == 200
    assert sink.raw_count == 1


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.7/push", "http://169.254.169.254/latest", "http://[fd00::1]/x", "http://0.0.0.0/"],
)
async def test_private_and_link_local_literals_are_refused_even_in_demo_mode(url: str) -> None:
    with pytest.raises(outbound.Unreachable, match="internal address refused"):
        await outbound.post(url, BODY, HEADERS, within=5, public_only=True)


async def test_demo_mode_lets_a_member_address_reach_loopback(sink: SmsSink) -> None:
    # Where the tests' push service listens (UNIONHALL_DEMO=1 in the test settings).
    status = await outbound.post(by_name(sink.url), BODY, HEADERS, within=5, public_only=True)
    assert status == 200 and sink.raw_count == 1


async def test_a_shared_session_keeps_the_rule(sink: SmsSink) -> None:
    """The worker's keep-alive sessions: the public one refuses, the other does not."""
    with channel_env(None, None, UNIONHALL_DEMO="0"):
        await outbound.open_shared_session()
        try:
            with pytest.raises(outbound.Unreachable, match="internal address refused"):
                await outbound.post(by_name(sink.url), BODY, HEADERS, within=5, public_only=True)
            assert await outbound.post(by_name(sink.url), BODY, HEADERS, within=5) == 200
        finally:
            await outbound.close_shared_session()
    assert sink.raw_count == 1


async def test_a_redirect_is_not_followed(sink: SmsSink) -> None:
    """A member's endpoint answering 307 towards another address (an internal one, say,
    which the resolver never sees as an IP literal): the answer is the 307, no second
    request is made."""
    target = SmsSink().start()
    try:
        sink.status, sink.redirect_to = 307, target.url
        status = await outbound.post(sink.url, BODY, HEADERS, within=5, public_only=True)
        assert status == 307
        assert sink.raw_count == 1 and target.raw_count == 0
    finally:
        target.stop()
