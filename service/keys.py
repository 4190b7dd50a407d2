"""Secret keys generated into the data dir on first start (never committed)."""

from __future__ import annotations

import os
import secrets
from functools import cache

from service.settings import get_settings

KEY_BYTES = 32  # 256 bits


@cache
def secret_key(name: str) -> bytes:
    """The named secret, created with 256 random bits if it does not exist yet."""
    folder = get_settings().data_dir / "secrets"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / name
    try:
        # O_EXCL: two processes starting at once cannot both write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(KEY_BYTES))
    return bytes.fromhex(path.read_text().strip())
