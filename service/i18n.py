"""zh-CN (default) and English. Source strings are English msgids; zh-CN comes from
web/locales/zh_CN/LC_MESSAGES/messages.po, read once at import.

The language of the current request or job lives in a context variable, so templates,
services' error messages and jobs all translate the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po

from service.settings import PROJECT_ROOT, get_settings

LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}
LOCALE_DIR = PROJECT_ROOT / "web" / "locales"

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language.replace("-", "_") / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=len(LANGUAGES))
def catalog(language: str) -> dict[str, str]:
    path = catalog_path(language)
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        po = read_po(handle)
    return {
        str(message.id): str(message.string)
        for message in po
        if message.id and message.string and not message.fuzzy
    }


def normalise_language(raw: str | None) -> str | None:
    """Map 'zh', 'zh-cn', 'zh_CN', 'en-GB' … to a supported language, or None."""
    if not raw:
        return None
    base = raw.strip().replace("_", "-").lower()
    if base.startswith("zh"):
        return "zh-CN"
    if base.startswith("en"):
        return "en"
    return None


def from_accept_language(header: str | None) -> str | None:
    for part in (header or "").split(","):
        language = normalise_language(part.split(";")[0])
        if language:
            return language
    return None


def gettext(message: str, **params: Any) -> str:
    translated = catalog(current_language.get()).get(message, message)
    return translated % params if params else translated


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    message = singular if n == 1 else plural
    params.setdefault("num", n)
    return gettext(message, **params)


@contextmanager
def language(code: str) -> Iterator[None]:
    token = current_language.set(code if code in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        current_language.reset(token)


def translated(code: str, message: str, **params: Any) -> str:
    """A message in a given language, whatever the current one."""
    with language(code):
        return gettext(message, **params)


def localtime(moment: datetime | None, *, short: bool = False) -> str:
    """A UTC time as people read it here: local zone, their language, no seconds."""
    if moment is None:
        return ""
    zh = current_language.get() == "zh-CN"
    pattern = "HH:mm" if short else ("M月d日 EEE HH:mm" if zh else "EEE d MMM HH:mm")
    return format_datetime(moment, pattern, tzinfo=get_settings().zone, locale=_babel_locale(zh))


def localdate(day: date) -> str:
    """A calendar day as `localtime` writes its date part: 12月6日 周日, Sun 6 Dec."""
    zh = current_language.get() == "zh-CN"
    return format_date(day, "M月d日 EEE" if zh else "EEE d MMM", locale=_babel_locale(zh))


@cache
def _babel_locale(zh: bool) -> Locale:
    # Parsed once: babel re-reads its locale data for a locale given as a string each call.
    return Locale.parse("zh_CN" if zh else "en_GB")


def local_span(start: datetime, end: datetime) -> str:
    """From start to end as people read it: the end's date only when it is another day."""
    zone = get_settings().zone
    same_day = start.astimezone(zone).date() == end.astimezone(zone).date()
    return f"{localtime(start)} – {localtime(end, short=same_day)}"
