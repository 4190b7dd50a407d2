"""Typed signed codes (service/signing.py): a type registered by a room, a code of one type
never read as another, a stable error for every bad input, the key folder moved from its
former name without losing a key, and the browser verifier's types tied to the registry.

The ticket's own encoder and parser properties are in test_tickets.py.
"""

from __future__ import annotations

import ast
import base64
import importlib
import importlib.util
import json
import re
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service import rooms, signing
from service.settings import PROJECT_ROOT, get_settings
from service.tickets import tokens

DOOR_VERIFY_JS = PROJECT_ROOT / "web" / "static" / "door-verify.js"

# A ticket code made by the signer as it was before typed codes (main's
# service/tickets/tokens.py, commit 8da02c8) with this fixed key: ticket 7, activity 3,
# reissue 0. Codes like it are on members' phones and must keep verifying.
GOLDEN_KEY = bytes(range(32))
GOLDEN_CODE = (
    "CFLAOAYAWTUSPEJ62JPBOSFLAYYKPUE5K6G3TFV3DVKW3X6BJZQ2RMKRJJT4YZWVMF7CDX6UK4FLXKZ2Q2SG"
    "KVWCKHE7XBIPJT32H3P4OMMVMBI"
)
GOLDEN_LARGE_CODE = (  # ticket 2**28 - 1, activity 300, reissue 130: multi-byte varints
    "CFLP7777P6WAFAQBH46ZB6OGTQWFLSWBH2HG26OW5QR6K4Y5ICDF7SWBYS6Q3VDVHYAEOJCVN6Q7QU56446U2D"
    "WHNMYYNG6AMWTD3GOWPKIEWO4GBGQRYCI"
)


def raw(code: str) -> bytes:
    return base64.b32decode(code + "=" * (-len(code) % 8))


def encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def signed_by(private: Ed25519PrivateKey, header: int, key_id: int, *values: int) -> str:
    body = bytes([header, key_id]) + b"".join(signing._varint(value) for value in values)
    return encode(body + private.sign(body))


# --- the registry ---------------------------------------------------------------------------


def test_a_registered_type_signs_and_verifies_as_itself(poster: signing.CodeType) -> None:
    code = signing.sign("test_poster", site_id=41, campaign_id=7, version=2)
    assert re.fullmatch(r"[A-Z2-7]+", code) and len(code) <= 122
    verified = signing.verify(code, "test_poster")
    assert verified.type == "test_poster"
    assert verified.fields == {"site_id": 41, "campaign_id": 7, "version": 2}
    assert raw(code)[0] & 0x0F == poster.tag


def test_a_ticket_is_tag_1_with_its_three_fields() -> None:
    """Written in every ticket code handed out: never to change."""
    assert signing.code_type("ticket") == signing.CodeType(
        name="ticket", tag=1, fields=("ticket_id", "activity_id", "reissue")
    )


def test_the_ticket_codes_of_the_former_signer_are_made_byte_for_byte_the_same(
    golden_key_signs: None,
) -> None:
    assert tokens.ticket_code(7, 3, 0) == GOLDEN_CODE
    assert tokens.ticket_code(signing.MAX_ID, 300, 130) == GOLDEN_LARGE_CODE
    assert tokens.verify_ticket(GOLDEN_LARGE_CODE) == tokens.TicketToken(signing.MAX_ID, 300, 130)


def test_registering_the_same_type_twice_is_harmless(poster: signing.CodeType) -> None:
    again = signing.register_code_type("test_poster", tag=poster.tag, fields=poster.fields)
    assert again == poster


@pytest.mark.parametrize(
    ("name", "tag", "fields"),
    [
        ("ticket", 14, ("ticket_id", "activity_id", "reissue")),  # a name taken, other tag
        ("another_poster", "poster", ("site_id",)),  # the test poster's tag (filled in)
        ("test_poster", "poster", ("site_id", "version")),  # same name, other fields
        ("zero", 0, ("a",)),  # tag 0 is never a type
        ("too_big", 16, ("a",)),  # four bits
        ("no_fields", 13, ()),
        ("seven_fields", 13, tuple("abcdefg")),
        ("twice", 13, ("a", "a")),
    ],
)
def test_a_clashing_or_malformed_registration_fails_at_once(
    poster: signing.CodeType, name: str, tag: int | str, fields: tuple[str, ...]
) -> None:
    before = signing.code_types()
    with pytest.raises(ValueError):
        signing.register_code_type(name, tag=poster.tag if tag == "poster" else tag, fields=fields)
    assert signing.code_types() == before


def test_signing_needs_exactly_the_types_fields(poster: signing.CodeType) -> None:
    with pytest.raises(ValueError):
        signing.sign("test_poster", site_id=1, campaign_id=2)
    with pytest.raises(ValueError):
        signing.sign("test_poster", site_id=1, campaign_id=2, version=3, extra=4)
    with pytest.raises(ValueError):
        signing.sign("test_poster", site_id=-1, campaign_id=2, version=3)
    with pytest.raises(KeyError):
        signing.sign("unregistered", a=1)
    with pytest.raises(KeyError):  # the caller's mistake, not bad input: no BadCode
        signing.verify(tokens.ticket_code(1, 2, 0), "unregistered")


def test_the_shared_module_imports_no_room() -> None:
    tree = ast.parse(Path(signing.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module + "." + alias.name if node.module == "service" else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("service")
        for alias in node.names
    }
    assert imported == {"service.keys", "service.settings"}


# --- a code of one type is never read as another -------------------------------------------


def test_a_poster_code_at_a_ticket_check_is_the_wrong_type_not_a_ticket(
    poster: signing.CodeType,
) -> None:
    code = signing.sign("test_poster", site_id=5, campaign_id=9, version=0)
    with pytest.raises(signing.WrongCodeType) as caught:
        signing.verify(code, "ticket")
    assert caught.value.code == "wrong_code_type"
    assert (caught.value.expected, caught.value.found) == ("ticket", "test_poster")
    # The door's own call refuses it like any other bad code (it answers "invalid").
    with pytest.raises(tokens.BadToken) as at_the_door:
        tokens.verify_ticket(code)
    assert at_the_door.value.code == "wrong_code_type"
    # And the other way round.
    with pytest.raises(signing.WrongCodeType):
        signing.verify(tokens.ticket_code(5, 9, 0), "test_poster")


def _forged_with_poster_tag(s: dict[str, str], poster: signing.CodeType) -> str:
    """A genuine ticket with its header changed to the poster's tag: the signature breaks,
    so it is a forgery, not a code of another type."""
    data = bytearray(raw(s["ticket"]))
    data[0] = signing.FORMAT_VERSION << 4 | poster.tag
    return encode(bytes(data))


def _flipped(code: str) -> str:
    data = bytearray(raw(code))
    data[3] ^= 0x01
    return encode(bytes(data))


def _our_key_id() -> int:
    return signing.key_id_of(signing._keyring()[0].public_key())


BAD_INPUT: dict[str, tuple[str, Callable[[dict[str, str], signing.CodeType], object]]] = {
    "a poster code": ("wrong_code_type", lambda s, p: s["poster"]),
    "a poster code in lower case": ("wrong_code_type", lambda s, p: s["poster"].lower()),
    "truncated": ("invalid", lambda s, p: s["ticket"][:-7]),
    "one character short": ("invalid", lambda s, p: s["ticket"][:-1]),
    "header only": ("invalid", lambda s, p: s["ticket"][:4]),
    "altered field": ("invalid", lambda s, p: _flipped(s["ticket"])),
    "altered poster": ("invalid", lambda s, p: _flipped(s["poster"])),
    "tag changed to the poster's": ("invalid", _forged_with_poster_tag),
    "forged key, ticket layout": (
        "invalid",
        lambda s, p: signed_by(Ed25519PrivateKey.generate(), 0x11, _our_key_id(), 1, 2, 0),
    ),
    "forged key, poster layout": (
        "invalid",
        lambda s, p: signed_by(Ed25519PrivateKey.generate(), 0x10 | p.tag, _our_key_id(), 1, 2, 0),
    ),
    "an unregistered tag, signed with our key": (
        "invalid",
        lambda s, p: signed_by(signing._keyring()[0], 0x10 | 13, _our_key_id(), 1, 2, 0),
    ),
    "empty": ("invalid", lambda s, p: ""),
    "blank": ("invalid", lambda s, p: " \n\t"),
    "4 KB junk": ("invalid", lambda s, p: "A7" * 2048),
    "4 KB random bytes": ("invalid", lambda s, p: bytes(range(256)).decode("latin-1") * 16),
    "non-ASCII": ("invalid", lambda s, p: "票" * 60),
    "non-ASCII that upper-cases to ASCII": ("invalid", lambda s, p: "ß" * 60),
    "a ticket with a non-ASCII letter": ("invalid", lambda s, p: s["ticket"][:-1] + "É"),
    "not a string": ("invalid", lambda s, p: raw(s["ticket"])),
    "None": ("invalid", lambda s, p: None),
}


@pytest.mark.parametrize(("name", "expected"), [(n, e) for n, (e, _) in BAD_INPUT.items()])
def test_bad_input_gets_a_stable_error_and_writes_nothing(
    poster: signing.CodeType, name: str, expected: str
) -> None:
    scene = {
        "ticket": tokens.ticket_code(31, 8, 0),
        "poster": signing.sign("test_poster", site_id=31, campaign_id=8, version=0),
    }
    code = BAD_INPUT[name][1](scene, poster)
    secrets = get_settings().data_dir / "secrets"
    files_before = {path: path.read_bytes() for path in secrets.rglob("*") if path.is_file()}

    with pytest.raises(signing.BadCode) as caught:
        signing.verify(code, "ticket")  # type: ignore[arg-type]  # wrong types on purpose

    assert caught.value.code == expected, (name, caught.value)
    wrong_type = isinstance(caught.value, signing.WrongCodeType)
    assert wrong_type == (expected == "wrong_code_type")
    files_after = {path: path.read_bytes() for path in secrets.rglob("*") if path.is_file()}
    assert files_after == files_before


def test_control_the_poster_reads_as_a_ticket_without_its_tag(poster: signing.CodeType) -> None:
    """Control: the poster code's fields are a real ticket's ids; only the type tag keeps a
    door from reading it as ticket 31 of activity 8."""
    code = signing.sign("test_poster", site_id=31, campaign_id=8, version=0)
    body = raw(code)[2 : -signing.SIGNATURE_BYTES]
    assert body == raw(tokens.ticket_code(31, 8, 0))[2 : -signing.SIGNATURE_BYTES]


# --- keys: the folder's former name ----------------------------------------------------------


SECRETS = get_settings().data_dir / "secrets"
FOLDER = SECRETS / signing.KEYS_FOLDER
LEGACY = SECRETS / signing.LEGACY_KEYS_FOLDER


@pytest.fixture
def keys_aside() -> Iterator[None]:
    """The session's key folder moved aside, so a test can lay the keys out as an older
    release left them; put back afterwards, whatever happens."""
    signing.keys_folder()
    backup = SECRETS / "signing-aside"
    FOLDER.rename(backup)
    signing.reset_keyring()
    try:
        yield
    finally:
        shutil.rmtree(FOLDER, ignore_errors=True)
        shutil.rmtree(LEGACY, ignore_errors=True)
        backup.rename(FOLDER)
        signing.reset_keyring()


@pytest.fixture
def golden_key_signs(keys_aside: None) -> None:
    FOLDER.mkdir(mode=0o700)
    (FOLDER / "1.key").write_text(GOLDEN_KEY.hex())


def write_key(folder: Path, name: str, private: bytes) -> None:
    folder.mkdir(mode=0o700, exist_ok=True)
    (folder / name).write_text(private.hex())


def test_keys_in_the_former_folder_are_moved_and_their_codes_still_verify(
    keys_aside: None,
) -> None:
    """An install from before typed codes: its only key is in secrets/ticket-signing/."""
    write_key(LEGACY, "1.key", GOLDEN_KEY)

    assert tokens.verify_ticket(GOLDEN_CODE) == tokens.TicketToken(7, 3, 0)

    assert not LEGACY.exists()
    assert sorted(path.name for path in FOLDER.iterdir()) == ["1.key"]
    assert (FOLDER / "1.key").read_text() == GOLDEN_KEY.hex()
    assert (FOLDER / "1.key").stat().st_mode & 0o077 == 0
    # The moved key goes on signing: the same ticket, the same code.
    assert tokens.ticket_code(7, 3, 0) == GOLDEN_CODE
    # Idempotent: a second start (or a second process) finds nothing to move.
    signing.reset_keyring()
    assert signing.migrate_legacy_keys(LEGACY, signing.keys_folder()) == 0
    assert tokens.verify_ticket(GOLDEN_CODE) == tokens.TicketToken(7, 3, 0)


def test_both_folders_present_every_key_is_kept_and_the_newest_number_signs(
    keys_aside: None,
) -> None:
    first, second, third = (Ed25519PrivateKey.generate().private_bytes_raw() for _ in range(3))
    write_key(FOLDER, "1.key", first)
    write_key(FOLDER, "2.key", second)
    write_key(LEGACY, "1.key", first)  # the same key: the old copy goes
    write_key(LEGACY, "2.key", GOLDEN_KEY)  # another key under a taken number
    write_key(LEGACY, "3.key", third)  # a number not taken yet
    first_private = Ed25519PrivateKey.from_private_bytes(first)
    by_first = signed_by(
        first_private, 0x11, signing.key_id_of(first_private.public_key()), 4, 5, 0
    )

    assert signing.migrate_legacy_keys(LEGACY, FOLDER) == 2

    assert not LEGACY.exists()
    assert sorted(path.name for path in FOLDER.iterdir()) == [
        "1.key",
        "2.key",
        "3.key",
        f"{signing.LEGACY_PREFIX}2.key",
    ]
    assert tokens.verify_ticket(GOLDEN_CODE) == tokens.TicketToken(7, 3, 0)
    newest = Ed25519PrivateKey.from_private_bytes(third).public_key()
    assert signing.parse(tokens.ticket_code(1, 1, 0)).key_id == signing.key_id_of(newest)
    assert len(signing.public_keys()) == 4
    assert tokens.verify_ticket(by_first) == tokens.TicketToken(4, 5, 0)
    assert signing.migrate_legacy_keys(LEGACY, FOLDER) == 0


def test_processes_moving_the_keys_at_once_keep_every_key_once(tmp_path: Path) -> None:
    legacy, folder = tmp_path / "ticket-signing", tmp_path / "signing"
    folder.mkdir()
    written = {f"{n}.key": Ed25519PrivateKey.generate().private_bytes_raw() for n in range(1, 31)}
    for name, private in written.items():
        write_key(legacy, name, private)

    with ThreadPoolExecutor(max_workers=4) as pool:
        moved = list(pool.map(lambda _: signing.migrate_legacy_keys(legacy, folder), range(4)))

    assert sum(moved) == len(written)
    assert not legacy.exists()
    assert {path.name: bytes.fromhex(path.read_text()) for path in folder.iterdir()} == written


def test_a_verify_only_key_never_signs(keys_aside: None) -> None:
    write_key(FOLDER, f"{signing.LEGACY_PREFIX}1.key", GOLDEN_KEY)
    code = tokens.ticket_code(7, 3, 0)  # no numbered key: a fresh one is made to sign
    assert code != GOLDEN_CODE
    assert (FOLDER / "1.key").exists()
    assert tokens.verify_ticket(GOLDEN_CODE) == tokens.verify_ticket(code)


# --- the browser verifier -------------------------------------------------------------------


def door_verify_constants() -> tuple[dict[str, dict[str, object]], dict[str, int]]:
    text = DOOR_VERIFY_JS.read_text(encoding="utf-8")
    found = re.search(r"/\* code-types \*/(.*?)/\* end code-types \*/", text, re.S)
    assert found, "CODE_TYPES markers missing in door-verify.js"
    numbers = {
        name: int(value) for name, value in re.findall(r"^const ([A-Z_]+) = (\d+);", text, re.M)
    }
    return json.loads(found.group(1)), numbers


def test_the_browser_verifier_reads_the_types_as_the_registry_defines_them() -> None:
    """door-verify.js carries its types as a constant (it must work offline, with what the
    service worker cached); this ties that constant to the Python registry."""
    js_types, numbers = door_verify_constants()
    assert {"ticket", "site_poster"} <= set(js_types)
    for room in rooms.ROOMS:  # every room's registrations, whatever this test run imported
        if importlib.util.find_spec(f"service.{room}.services") is not None:
            importlib.import_module(f"service.{room}.services")
    for name, definition in js_types.items():
        registered = signing.code_type(name)
        assert definition == {"tag": registered.tag, "fields": list(registered.fields)}, name
    assert numbers["FORMAT_VERSION"] == signing.FORMAT_VERSION
    assert numbers["SIGNATURE_BYTES"] == signing.SIGNATURE_BYTES
    assert numbers["MAX_CODE_CHARS"] == signing.MAX_CODE_CHARS
