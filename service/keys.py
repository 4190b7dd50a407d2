"""Secret keys generated into the data dir on first start (never committed)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from functools import cache
from pathlib import Path

from service.settings import get_settings

KEY_BYTES = 32  # 256 bits


def secrets_folder(*parts: str) -> Path:
    folder = get_settings().data_dir.joinpath("secrets", *parts)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def write_once(path: Path, make: Callable[[], bytes]) -> bool:
    """Write `make()` to a new private file; False (nothing written) when it exists.
    O_EXCL: two processes starting at once cannot both write a different key there."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(make())
    return True


@cache
def secret_key(name: str) -> bytes:
    """The named secret, created with 256 random bits if it does not exist yet."""
    path = secrets_folder() / name
    write_once(path, lambda: secrets.token_hex(KEY_BYTES).encode())
    return bytes.fromhex(path.read_text().strip())
