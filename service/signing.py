"""Typed signed codes for QR: a compact code that a phone can verify offline with a public
key (a ticket today; a site poster, a device link next). Shared: imports no room. A room
declares its code type here once, with `register_code_type`, and signs and verifies by
that type's name.

Layout (bytes, then upper-case base32 without padding, which QR encodes in alphanumeric
mode): header (format version in the high nibble, the type's tag in the low one), key id,
then the type's fields as unsigned varints, then the 64-byte Ed25519 signature over
everything before it. A ticket with ids below 2**28 and up to 127 reissues stays within
120 characters, and within 122 up to 16,383 reissues: QR version 7 at level M holds 122
alphanumeric characters (version 5 is typical).

The browser mirror is web/static/door-verify.js (CODE_TYPES there is tied to the
registrations here by tests/service/test_signing.py).

Keys: UNIONHALL_DATA_DIR/secrets/signing/N.key (hex of 32 private bytes). Every key
verifies, the highest N signs. Keys from before this module (secrets/ticket-signing/)
are moved here at first use.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from service import keys
from service.settings import get_settings

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
SIGNATURE_BYTES = 64
MAX_CODE_CHARS = 200  # anything longer is refused before decoding
MAX_ID = 2**28 - 1  # four varint bytes
MAX_FIELDS = 6  # keeps every type's largest code (6 × 4 bytes) inside MAX_CODE_CHARS
TAGS = range(1, 16)  # four bits; 0 stays unused, so an all-zero header is never a code

KEYS_FOLDER = "signing"
LEGACY_KEYS_FOLDER = "ticket-signing"  # where ticket keys lived before typed codes
# A legacy key whose number is taken by a different key here: kept as a verifying key
# under this prefix (it never signs: only numbered keys do).
LEGACY_PREFIX = "legacy-"


class BadCode(ValueError):
    """Not one of our codes: malformed, truncated, altered or signed by a stranger."""

    code = "invalid"


class WrongCodeType(BadCode):
    """A genuine code of ours, but of another type than the one expected (a site poster
    held up at a door). Callers that refuse every bad code alike catch BadCode."""

    code = "wrong_code_type"

    def __init__(self, expected: str, found: str) -> None:
        super().__init__(f"expected a {expected} code, got a {found} code")
        self.expected = expected
        self.found = found


@dataclass(frozen=True)
class CodeType:
    name: str
    tag: int
    fields: tuple[str, ...]


@dataclass(frozen=True)
class SignedCode:
    type: str  # the code type's registered name
    key_id: int
    fields: dict[str, int]


# --- the registry of code types -------------------------------------------------------------

_TYPES_BY_NAME: dict[str, CodeType] = {}
_TYPES_BY_TAG: dict[int, CodeType] = {}


def register_code_type(name: str, *, tag: int, fields: Sequence[str]) -> CodeType:
    """Declare a code type; called once by the room that owns it, at import. The tag is
    written in every code, so it is forever: never reuse a tag for another meaning.
    Registering the same definition again is harmless; a clash raises at import."""
    definition = CodeType(name=name, tag=tag, fields=tuple(fields))
    if tag not in TAGS:
        raise ValueError(f"code type tag must be in 1..15, got {tag}")
    if not definition.fields or len(definition.fields) > MAX_FIELDS:
        raise ValueError(f"a code type has 1..{MAX_FIELDS} fields, got {len(definition.fields)}")
    if len(set(definition.fields)) != len(definition.fields):
        raise ValueError(f"duplicate field names in {definition.fields}")
    for existing in (_TYPES_BY_NAME.get(name), _TYPES_BY_TAG.get(tag)):
        if existing is not None and existing != definition:
            raise ValueError(f"code type {definition} clashes with {existing}")
    _TYPES_BY_NAME[name] = _TYPES_BY_TAG[tag] = definition
    return definition


def unregister_code_type(name: str) -> None:
    """For tests that register a type of their own."""
    definition = _TYPES_BY_NAME.pop(name, None)
    if definition is not None:
        _TYPES_BY_TAG.pop(definition.tag, None)


def code_types() -> dict[str, CodeType]:
    return dict(_TYPES_BY_NAME)


def code_type(name: str) -> CodeType:
    """A registered type; KeyError for a name no room registered (a programming error,
    not bad input)."""
    return _TYPES_BY_NAME[name]


# --- varints --------------------------------------------------------------------------------


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
            raise BadCode("truncated")
        byte = data[offset]
        offset += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and shift:  # a non-minimal encoding: one value, one spelling
                raise BadCode("non-canonical")
            return value, offset
    raise BadCode("varint too long")


# --- keys -----------------------------------------------------------------------------------


def migrate_legacy_keys(legacy: Path, folder: Path) -> int:
    """Move the key files of `legacy` into `folder`; returns how many moved. Idempotent,
    and safe with both folders present or two processes at once: a file is hard-linked
    under its new name (which fails rather than overwrites) before the old name goes.
    The same key already there: the old copy is dropped. A different key under the same
    number: kept as a verifying-only key (codes signed with it exist), never a signer."""
    if not legacy.is_dir():
        return 0
    moved = 0
    for old in sorted(legacy.glob("*.key")):
        for name in (old.name, f"{LEGACY_PREFIX}{old.name}"):
            target = folder / name
            try:
                os.link(old, target)
            except FileExistsError:
                if _same_file_content(old, target):
                    break
                continue
            except FileNotFoundError:  # another process moved it first
                break
            os.chmod(target, 0o600)  # private here, whatever the old folder allowed
            moved += 1
            break
        else:
            log.error("signing key %s not migrated: %s and its legacy name are taken", old, folder)
            continue
        old.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty (a key that could not move), or gone
        legacy.rmdir()
    if moved:
        log.info("moved %d signing key(s) from %s to %s", moved, legacy, folder)
    return moved


def _same_file_content(one: Path, other: Path) -> bool:
    try:
        return one.read_bytes().strip() == other.read_bytes().strip()
    except FileNotFoundError:
        return True  # moved by another process meanwhile: nothing left to keep


def keys_folder() -> Path:
    folder = keys.secrets_folder(KEYS_FOLDER)
    migrate_legacy_keys(get_settings().data_dir / "secrets" / LEGACY_KEYS_FOLDER, folder)
    return folder


def key_id_of(public: Ed25519PublicKey) -> int:
    return hashlib.sha256(public_bytes(public)).digest()[0]


def public_bytes(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _signing_files(folder: Path) -> list[Path]:
    return sorted(
        (path for path in folder.glob("*.key") if path.stem.isdigit()),
        key=lambda path: int(path.stem),
    )


@cache
def _keyring() -> tuple[
    Ed25519PrivateKey, tuple[Ed25519PublicKey, ...], dict[int, tuple[Ed25519PublicKey, ...]]
]:
    """(the signing key, every valid public key, those keys by key id). The newest
    numbered key file signs; every key file verifies until it is removed (rotation). The
    key ids are worked out here once: verify() runs on every scan at the door."""
    folder = keys_folder()
    signers = _signing_files(folder)
    if not signers:
        create_signing_key()
        signers = _signing_files(folder)
    verify_only = sorted(path for path in folder.glob("*.key") if not path.stem.isdigit())

    def load(path: Path) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(path.read_text().strip()))

    privates = [load(path) for path in (*verify_only, *signers)]
    publics = tuple(private.public_key() for private in privates)
    by_id: dict[int, tuple[Ed25519PublicKey, ...]] = {}
    for public in publics:
        key_id = key_id_of(public)
        by_id[key_id] = (*by_id.get(key_id, ()), public)
    return privates[-1], publics, by_id


def create_signing_key() -> Path:
    """Write a new signing key, numbered after the existing ones; it signs from the next
    start (or cache reset) on, and the older keys keep verifying."""
    folder = keys_folder()
    numbers = [int(path.stem) for path in _signing_files(folder)]
    path = folder / f"{max(numbers, default=0) + 1}.key"
    new_key = Ed25519PrivateKey.generate().private_bytes_raw()
    if keys.write_once(path, lambda: new_key.hex().encode()):
        _keyring.cache_clear()
    return path


def public_keys() -> tuple[Ed25519PublicKey, ...]:
    return _keyring()[1]


def reset_keyring() -> None:
    _keyring.cache_clear()


# --- signing and parsing --------------------------------------------------------------------


def sign(type_name: str, **fields: int) -> str:
    """The code of a registered type with exactly its fields (ints in 0..MAX_ID)."""
    definition = code_type(type_name)
    if set(fields) != set(definition.fields):
        raise ValueError(f"{type_name} takes fields {definition.fields}, got {sorted(fields)}")
    private = _keyring()[0]
    body = bytes([FORMAT_VERSION << 4 | definition.tag, key_id_of(private.public_key())])
    body += b"".join(_varint(fields[name]) for name in definition.fields)
    return base64.b32encode(body + private.sign(body)).decode("ascii").rstrip("=")


def _decode(code: str) -> bytes:
    if not isinstance(code, str):
        raise BadCode("not a code")
    text = code.strip()
    # ASCII first: upper() would turn "ß" into "SS" and let two spellings read alike.
    if not text.isascii():
        raise BadCode("not a code")
    text = text.upper()
    if not text or len(text) > MAX_CODE_CHARS or not text.isalnum():
        raise BadCode("not a code")
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise BadCode("not base32") from None


def parse(code: str) -> SignedCode:
    """Structure only (no signature check): cheap, for refusing junk first."""
    return _parse(_decode(code))


def _parse(raw: bytes) -> SignedCode:
    if len(raw) < 2 + SIGNATURE_BYTES:
        raise BadCode("too short")
    header, key_id = raw[0], raw[1]
    definition = _TYPES_BY_TAG.get(header & 0x0F)
    if header >> 4 != FORMAT_VERSION or definition is None:
        raise BadCode("unknown version or type")
    offset, fields = 2, {}
    for name in definition.fields:
        fields[name], offset = _read_varint(raw, offset)
    if len(raw) - offset != SIGNATURE_BYTES:
        raise BadCode("wrong length")
    return SignedCode(type=definition.name, key_id=key_id, fields=fields)


def verify(code: str, expected_type: str) -> SignedCode:
    """The code's fields when it is a genuine code of `expected_type`. BadCode for
    anything not signed by one of our keys (checked first, so a forgery never learns
    which types exist); WrongCodeType for a genuine code of another registered type."""
    expected = code_type(expected_type).name  # KeyError: the caller's type is unregistered
    raw = _decode(code)
    parsed = _parse(raw)
    body, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    for public in _keyring()[2].get(parsed.key_id, ()):
        try:
            public.verify(signature, body)
        except InvalidSignature:
            continue
        if parsed.type != expected:
            raise WrongCodeType(expected=expected, found=parsed.type)
        return parsed
    raise BadCode("bad signature")
