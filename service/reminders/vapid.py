"""The VAPID key pair (EC P-256) that signs Web Push requests: generated into the data dir
on first use, like service/keys.py, and never committed. Browsers subscribe with the public
key; pushes are signed with the private one."""

from __future__ import annotations

import base64
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from service import keys

FILE_NAME = "vapid_private.pem"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Base64url with or without padding; ValueError on anything else."""
    if not text or any(c not in _ALPHABET for c in text.rstrip("=")):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))


_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@cache
def private_pem() -> bytes:
    """The private key (PKCS#8 PEM), created if it does not exist yet."""
    path = keys.secrets_folder() / FILE_NAME
    keys.write_once(
        path,
        lambda: ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    return path.read_bytes()


@cache
def public_key() -> str:
    """The application server key browsers subscribe with: base64url, uncompressed point."""
    key = serialization.load_pem_private_key(private_pem(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return b64url(
        key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
