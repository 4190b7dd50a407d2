"""The ticket code (service/tickets/tokens.py, signed by service/signing.py): property tests
of the encoder and parser, strangers' keys, key rotation and the size of the QR.

A code that is not exactly one of ours must be refused with BadToken, never with another
exception (the door answers "invalid", not a 500), and never read as a different ticket.
"""

from __future__ import annotations

import base64
import string
from collections.abc import Iterator

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from service import signing
from service.tickets import tokens
from service.tickets.services import qr_svg, qr_version

IDS = st.integers(min_value=0, max_value=signing.MAX_ID)
# The reissue counter grows by one per cancel or reissue: two varint bytes (16,383
# reissues) is far beyond any real ticket, and is what the QR size promise covers.
REALISTIC_REISSUE = 2**14 - 1
QR_7M_ALPHANUMERIC = 122
# Modest example counts: the whole suite runs on two cores, twice.
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
BASE32 = string.ascii_uppercase + "234567"


def fields(token: tokens.TicketToken) -> tuple[int, int, int]:
    return token.ticket_id, token.activity_id, token.reissue


def raw(code: str) -> bytes:
    return base64.b32decode(code + "=" * (-len(code) % 8))


def encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def forged(private: Ed25519PrivateKey, key_id: int, *ids: int) -> str:
    """A code laid out exactly like ours, signed by `private` under `key_id`."""
    body = bytes([signing.FORMAT_VERSION << 4 | tokens.TICKET.tag, key_id])
    body += b"".join(signing._varint(value) for value in ids)
    return encode(body + private.sign(body))


def refused_or_same(code: str, original: tuple[int, int, int]) -> None:
    """The one acceptable outcome for an altered code: BadToken, or the very same ticket."""
    try:
        token = tokens.verify_ticket(code)
    except tokens.BadToken:
        return
    assert fields(token) == original, f"{code!r} read as another ticket"


# --- the round trip -----------------------------------------------------------------------


@PROPERTY
@given(ticket_id=IDS, activity_id=IDS, reissue=IDS)
@example(ticket_id=0, activity_id=0, reissue=0)
@example(ticket_id=signing.MAX_ID, activity_id=signing.MAX_ID, reissue=signing.MAX_ID)
@example(ticket_id=127, activity_id=128, reissue=2**21)  # varint byte boundaries
def test_every_ticket_in_range_round_trips(ticket_id: int, activity_id: int, reissue: int) -> None:
    code = tokens.ticket_code(ticket_id, activity_id, reissue)
    # QR alphanumeric mode: upper-case letters and digits only, and short.
    assert set(code) <= set(BASE32)
    if reissue <= REALISTIC_REISSUE:
        assert len(code) <= QR_7M_ALPHANUMERIC
    assert fields(tokens.verify_ticket(code)) == (ticket_id, activity_id, reissue)
    parsed = signing.parse(code)
    assert parsed.type == tokens.TICKET.name == "ticket"
    assert parsed.fields == {"ticket_id": ticket_id, "activity_id": activity_id, "reissue": reissue}


@pytest.mark.parametrize("value", [-1, signing.MAX_ID + 1, 2**64])
def test_ids_out_of_range_are_not_signed(value: int) -> None:
    with pytest.raises(ValueError):
        tokens.ticket_code(value, 1, 0)
    with pytest.raises(ValueError):
        tokens.ticket_code(1, value, 0)


def test_different_tickets_get_different_codes() -> None:
    codes = {
        tokens.ticket_code(1, 2, 0),
        tokens.ticket_code(2, 1, 0),
        tokens.ticket_code(1, 2, 1),
        tokens.ticket_code(1, 3, 0),
    }
    assert len(codes) == 4


# --- altered codes ------------------------------------------------------------------------


@PROPERTY
@given(ids=st.tuples(IDS, IDS, IDS), data=st.data())
def test_a_truncated_code_is_refused(ids: tuple[int, int, int], data: st.DataObject) -> None:
    code = tokens.ticket_code(*ids)
    keep = data.draw(st.integers(min_value=0, max_value=len(code) - 1), label="keep")
    with pytest.raises(tokens.BadToken):
        tokens.verify_ticket(code[:keep])
    # Cut from the front instead: just as dead.
    with pytest.raises(tokens.BadToken):
        tokens.verify_ticket(code[len(code) - keep :])


@PROPERTY
@given(ids=st.tuples(IDS, IDS, IDS), data=st.data())
def test_a_flipped_bit_in_the_payload_is_refused(
    ids: tuple[int, int, int], data: st.DataObject
) -> None:
    """Every byte is covered: header, key id, the fields and the signature itself."""
    code = tokens.ticket_code(*ids)
    payload = bytearray(raw(code))
    bit = data.draw(st.integers(min_value=0, max_value=len(payload) * 8 - 1), label="bit")
    payload[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(tokens.BadToken):
        tokens.verify_ticket(encode(bytes(payload)))


@PROPERTY
@given(ids=st.tuples(IDS, IDS, IDS), data=st.data())
def test_a_changed_character_is_refused_or_reads_the_same(
    ids: tuple[int, int, int], data: st.DataObject
) -> None:
    """A character replaced by any other (base32 or not). The last character carries a
    few padding bits that base32 ignores, so that one may read as the same ticket."""
    code = tokens.ticket_code(*ids)
    at = data.draw(st.integers(min_value=0, max_value=len(code) - 1), label="at")
    other = data.draw(
        st.one_of(st.sampled_from(BASE32), st.characters()).filter(lambda c: c != code[at]),
        label="char",
    )
    altered = code[:at] + other + code[at + 1 :]
    refused_or_same(altered, ids)
    if at < len(code) - 1 and other.upper() in set(BASE32) and other.upper() != code[at]:
        with pytest.raises(tokens.BadToken):
            tokens.verify_ticket(altered)


@PROPERTY
@given(
    ids=st.tuples(IDS, IDS, IDS),
    extra=st.text(min_size=1, max_size=300),
    where=st.sampled_from(["start", "middle", "end"]),
)
def test_extra_characters_are_refused_or_read_the_same(
    ids: tuple[int, int, int], extra: str, where: str
) -> None:
    code = tokens.ticket_code(*ids)
    middle = len(code) // 2
    altered = {
        "start": extra + code,
        "middle": code[:middle] + extra + code[middle:],
        "end": code + extra,
    }[where]
    refused_or_same(altered, ids)
    if extra.strip() and extra.isascii():
        # Real characters added (not just surrounding white space): never accepted.
        with pytest.raises(tokens.BadToken):
            tokens.verify_ticket(altered)


@PROPERTY
@given(ids=st.tuples(IDS, IDS, IDS), data=st.data())
def test_lower_case_reads_as_the_same_ticket(
    ids: tuple[int, int, int], data: st.DataObject
) -> None:
    """A hardware scanner with caps lock off: accepted, as exactly the same ticket."""
    code = tokens.ticket_code(*ids)
    mask = data.draw(st.lists(st.booleans(), min_size=len(code), max_size=len(code)))
    mixed = "".join(c.lower() if low else c for c, low in zip(code, mask, strict=True))
    assert fields(tokens.verify_ticket(mixed)) == ids
    assert fields(tokens.verify_ticket(f"  {code.lower()}\n")) == ids


@PROPERTY
@given(junk=st.one_of(st.text(max_size=400), st.text(alphabet=BASE32, max_size=200)))
@example(junk="")
@example(junk="' OR 1=1; DROP TABLE checkin_scan; --")
@example(junk="<script>alert(1)</script>")
@example(junk="A" * 4096)
@example(junk="\x00" * 10)
@example(junk="ß" * 60)  # upper-cases to ASCII letters
def test_any_text_is_refused_with_bad_token_only(junk: str) -> None:
    """Whatever a camera or a keyboard hands over: BadToken, nothing else."""
    with pytest.raises(tokens.BadToken):
        tokens.verify_ticket(junk)


@PROPERTY
@given(blob=st.binary(min_size=0, max_size=200))
def test_any_bytes_in_base32_are_refused(blob: bytes) -> None:
    """Well-formed base32 of arbitrary bytes: structure or signature refuses it."""
    with pytest.raises(tokens.BadToken):
        tokens.verify_ticket(encode(blob))


def test_a_non_canonical_varint_is_refused_even_when_signed() -> None:
    """One ticket, one spelling: 5 written as two bytes (0x85 0x00) is not a code we make,
    even with a valid signature from our own key."""
    private = signing._keyring()[0]
    key_id = signing.key_id_of(private.public_key())
    body = bytes([signing.FORMAT_VERSION << 4 | tokens.TICKET.tag, key_id, 0x85, 0x00, 1, 0])
    with pytest.raises(tokens.BadToken):
        tokens.verify_ticket(encode(body + private.sign(body)))


def test_another_version_or_type_is_refused_even_when_signed() -> None:
    private = signing._keyring()[0]
    key_id = signing.key_id_of(private.public_key())
    for header in (
        (signing.FORMAT_VERSION + 1) << 4 | tokens.TICKET.tag,
        signing.FORMAT_VERSION << 4,
    ):
        body = bytes([header, key_id, 5, 1, 0])
        with pytest.raises(tokens.BadToken):
            tokens.verify_ticket(encode(body + private.sign(body)))


# --- strangers' keys ----------------------------------------------------------------------


@PROPERTY
@given(ids=st.tuples(IDS, IDS, IDS), key_id=st.integers(0, 255))
def test_a_code_signed_by_an_unknown_key_is_refused(ids: tuple[int, int, int], key_id: int) -> None:
    """Even under one of our key ids (the id is one byte: collisions are expected)."""
    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(tokens.BadToken):
        tokens.verify_ticket(forged(stranger, key_id, *ids))


def test_the_stranger_forges_our_key_id_and_the_layout_exactly() -> None:
    ours = signing._keyring()[0]
    key_id = signing.key_id_of(ours.public_key())
    stranger = Ed25519PrivateKey.generate()
    code = forged(stranger, key_id, 7, 8, 0)
    assert signing.parse(code).key_id == key_id  # well-formed: only the signature is wrong
    with pytest.raises(tokens.BadToken):
        tokens.verify_ticket(code)
    # The same forger with our key really does make a valid code (the forger is faithful).
    assert fields(tokens.verify_ticket(forged(ours, key_id, 7, 8, 0))) == (7, 8, 0)


# --- rotation -----------------------------------------------------------------------------


@pytest.fixture
def rotation() -> Iterator[list[str]]:
    """New key files written by the test; removed afterwards so later tests sign with the
    session's first key again."""
    created: list[str] = []
    yield created
    folder = signing.keys_folder()
    for name in created:
        (folder / name).unlink(missing_ok=True)
    signing.reset_keyring()


def verifies_with(code: str, public: Ed25519PublicKey) -> bool:
    data = raw(code)
    try:
        public.verify(data[-signing.SIGNATURE_BYTES :], data[: -signing.SIGNATURE_BYTES])
    except InvalidSignature:
        return False
    return True


def test_rotation_keeps_old_codes_and_signs_new_ones_with_the_new_key(
    rotation: list[str],
) -> None:
    signing.reset_keyring()
    first_public = signing.public_keys()[-1]
    old = tokens.ticket_code(11, 22, 0)
    assert verifies_with(old, first_public)

    second = signing.create_signing_key()
    rotation.append(second.name)
    signing.reset_keyring()
    keys = signing.public_keys()
    assert len(keys) >= 2
    second_public = keys[-1]
    assert signing.public_bytes(second_public) != signing.public_bytes(first_public)

    new = tokens.ticket_code(11, 22, 1)
    assert signing.parse(new).key_id == signing.key_id_of(second_public)
    assert verifies_with(new, second_public) and not verifies_with(new, first_public)
    assert fields(tokens.verify_ticket(old)) == (11, 22, 0)
    assert fields(tokens.verify_ticket(new)) == (11, 22, 1)

    # A third key, then the second one's file removed: its codes stop verifying, the
    # first key's and the third key's still do.
    third = signing.create_signing_key()
    rotation.append(third.name)
    signing.reset_keyring()
    newest = tokens.ticket_code(11, 22, 2)
    (signing.keys_folder() / second.name).unlink()
    signing.reset_keyring()
    with pytest.raises(tokens.BadToken):
        tokens.verify_ticket(new)
    assert fields(tokens.verify_ticket(old)) == (11, 22, 0)
    assert fields(tokens.verify_ticket(newest)) == (11, 22, 2)


def test_signing_key_file_is_private() -> None:
    files = list(signing.keys_folder().glob("*.key"))
    assert files
    for path in files:
        assert path.stat().st_mode & 0o077 == 0, path
        assert len(bytes.fromhex(path.read_text())) == 32


# --- the QR -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ids",
    [
        (signing.MAX_ID, signing.MAX_ID, REALISTIC_REISSUE),
        (signing.MAX_ID, signing.MAX_ID, 0),
        (0, 0, 0),
    ],
)
def test_the_largest_codes_fit_qr_version_7_at_level_m(ids: tuple[int, int, int]) -> None:
    code = tokens.ticket_code(*ids)
    assert len(code) <= QR_7M_ALPHANUMERIC
    assert qr_version(code) <= 7
    svg = qr_svg(code)
    assert b"<svg" in svg and b"<path" in svg
