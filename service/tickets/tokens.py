"""Signed codes for QR: a compact token that a phone can verify offline with a public key.

Layout (bytes, then upper-case base32 without padding, which QR encodes in alphanumeric
mode): header (format version in the high nibble, code type in the low one), key id,
then the type's fields as unsigned varints, then the 64-byte Ed25519 signature over
everything before it. A ticket with ids below 2**28 and up to 127 reissues stays within
120 characters, and within 122 up to 16,383 reissues: QR version 7 at level M holds 122
alphanumeric characters (version 5 is typical).

Other kinds of code (a heat-relief site poster, ROADMAP.md) get their own type tag and
field list; the signer and the parser are shared.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from service import keys

FORMAT_VERSION = 1
SIGNATURE_BYTES = 64
MAX_CODE_CHARS = 200  # anything longer is refused before decoding
MAX_ID = 2**28 - 1  # four varint bytes

# Code types and the fields each carries, in order.
TICKET = 1
FIELDS: dict[int, tuple[str, ...]] = {TICKET: ("ticket_id", "activity_id", "reissue")}


class BadToken(ValueError):
    """The code is not one of ours: malformed, truncated, altered or signed by a stranger."""


@dataclass(frozen=True)
class SignedCode:
    type: int
    key_id: int
    fields: dict[str, int]


@dataclass(frozen=True)
class TicketToken:
    ticket_id: int
    activity_id: int
    reissue: int


# --- varints ------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    if not 0 <= value <= MAX_ID:
        raise ValueError(f"value out of range: {value}")
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _read_varint(data: bytes, offset: int) -> tuple[int, int]:
    value = 0
    for shift in range(0, 28, 7):
        if offset >= len(data):
            raise BadToken("truncated")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and shift:  # a non-minimal encoding: one value, one spelling
                raise BadToken("non-canonical")
            return value, offset
    raise BadToken("varint too long")


# --- keys ---------------------------------------------------------------------------------


def _keys_folder() -> Path:
    return keys.secrets_folder("ticket-signing")


def key_id_of(public: Ed25519PublicKey) -> int:
    return hashlib.sha256(public_bytes(public)).digest()[0]


def public_bytes(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


@cache
def _keyring() -> tuple[
    Ed25519PrivateKey, tuple[Ed25519PublicKey, ...], dict[int, tuple[Ed25519PublicKey, ...]]
]:
    """(the signing key, every valid public key, those keys by key id). The newest key
    file signs; older ones still verify until their file is removed (rotation). The key
    ids are worked out here once: verify() runs on every scan at the door."""
    folder = _keys_folder()
    files = sorted(folder.glob("*.key"), key=lambda path: int(path.stem))
    if not files:
        create_signing_key()
        files = sorted(folder.glob("*.key"), key=lambda path: int(path.stem))
    privates = [Ed25519PrivateKey.from_private_bytes(bytes.fromhex(p.read_text())) for p in files]
    publics = tuple(private.public_key() for private in privates)
    by_id: dict[int, tuple[Ed25519PublicKey, ...]] = {}
    for public in publics:
        key_id = key_id_of(public)
        by_id[key_id] = (*by_id.get(key_id, ()), public)
    return privates[-1], publics, by_id


def create_signing_key() -> Path:
    """Write a new signing key, numbered after the existing ones; it signs from the next
    start (or cache reset) on, and the older keys keep verifying."""
    folder = _keys_folder()
    numbers = [int(path.stem) for path in folder.glob("*.key") if path.stem.isdigit()]
    path = folder / f"{max(numbers, default=0) + 1}.key"
    new_key = Ed25519PrivateKey.generate().private_bytes_raw()
    if keys.write_once(path, lambda: new_key.hex().encode()):
        _keyring.cache_clear()
    return path


def public_keys() -> tuple[Ed25519PublicKey, ...]:
    return _keyring()[1]


def reset_keyring() -> None:
    _keyring.cache_clear()


# --- signing and parsing ------------------------------------------------------------------


def sign(code_type: int, **fields: int) -> str:
    private = _keyring()[0]
    names = FIELDS[code_type]
    body = bytes([FORMAT_VERSION << 4 | code_type, key_id_of(private.public_key())])
    body += b"".join(_varint(fields[name]) for name in names)
    return base64.b32encode(body + private.sign(body)).decode("ascii").rstrip("=")


def ticket_code(ticket_id: int, activity_id: int, reissue: int) -> str:
    return sign(TICKET, ticket_id=ticket_id, activity_id=activity_id, reissue=reissue)


def _decode(code: str) -> bytes:
    text = code.strip()
    # ASCII first: upper() would turn "ß" into "SS" and let two spellings read alike.
    if not text.isascii():
        raise BadToken("not a code")
    text = text.upper()
    if not text or len(text) > MAX_CODE_CHARS or not text.isalnum():
        raise BadToken("not a code")
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise BadToken("not base32") from None


def parse(code: str) -> SignedCode:
    """Structure only (no signature check): cheap, for refusing junk first."""
    return _parse(_decode(code))


def _parse(raw: bytes) -> SignedCode:
    if len(raw) < 2 + SIGNATURE_BYTES:
        raise BadToken("too short")
    header, key_id = raw[0], raw[1]
    if header >> 4 != FORMAT_VERSION or (header & 0x0F) not in FIELDS:
        raise BadToken("unknown version or type")
    offset, fields = 2, {}
    for name in FIELDS[header & 0x0F]:
        fields[name], offset = _read_varint(raw, offset)
    if len(raw) - offset != SIGNATURE_BYTES:
        raise BadToken("wrong length")
    return SignedCode(type=header & 0x0F, key_id=key_id, fields=fields)


def verify(code: str) -> SignedCode:
    """Parse and check the signature against every valid key with the code's key id."""
    raw = _decode(code)
    parsed = _parse(raw)
    body, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    for public in _keyring()[2].get(parsed.key_id, ()):
        try:
            public.verify(signature, body)
        except InvalidSignature:
            continue
        return parsed
    raise BadToken("bad signature")


def verify_ticket(code: str) -> TicketToken:
    parsed = verify(code)
    if parsed.type != TICKET:
        raise BadToken("not a ticket")
    return TicketToken(**parsed.fields)
