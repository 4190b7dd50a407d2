from __future__ import annotations

import re
from datetime import date

import pytest

from service.i18n import (
    catalog,
    from_accept_language,
    gettext,
    language,
    localdate,
    ngettext,
    normalise_language,
)
from tests.unit.i18n_sources import all_messages

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_every_user_facing_string_has_a_chinese_translation() -> None:
    zh = catalog("zh-CN")
    missing = {text: where for text, where in all_messages().items() if not zh.get(text)}
    assert not missing, "untranslated (run `python -m tests.unit.i18n_sources`): " + "\n".join(
        f"{where}: {text}" for text, where in missing.items()
    )


def test_catalogue_has_no_stale_entries() -> None:
    stale = set(catalog("zh-CN")) - set(all_messages())
    assert not stale, f"translations for strings no longer used: {sorted(stale)}"


def test_translations_keep_their_placeholders() -> None:
    for source, translated in catalog("zh-CN").items():
        assert set(PLACEHOLDER.findall(source)) == set(PLACEHOLDER.findall(translated)), source


def test_gettext_follows_the_current_language() -> None:
    with language("zh-CN"):
        assert gettext("Sign in") == "登录"
        assert gettext("That code is not right. %(left)s tries left.", left=2) == (
            "验证码不正确，还可以再试 2 次。"
        )
    with language("en"):
        assert gettext("Sign in") == "Sign in"
        assert ngettext("%(num)s member", "%(num)s members", 3) == "3 members"
        assert ngettext("%(num)s member", "%(num)s members", 1) == "1 member"


def test_unknown_language_falls_back_to_chinese() -> None:
    with language("fr"):
        assert gettext("Sign in") == "登录"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("zh", "zh-CN"),
        ("zh_CN", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("en-GB", "en"),
        ("EN", "en"),
        ("fr", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_language(raw: str | None, expected: str | None) -> None:
    assert normalise_language(raw) == expected


def test_accept_language_takes_the_first_supported() -> None:
    assert from_accept_language("fr-FR,en;q=0.8,zh;q=0.5") == "en"
    assert from_accept_language("de") is None


def test_a_span_names_the_end_date_only_when_it_is_another_day() -> None:
    from datetime import UTC, datetime

    from service.i18n import language, local_span

    start = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    with language("en"):
        assert local_span(start, datetime(2026, 6, 1, 3, 0, tzinfo=UTC)) == (
            "Mon 1 Jun 09:00 – 11:00"
        )
        assert local_span(start, datetime(2026, 6, 3, 3, 0, tzinfo=UTC)) == (
            "Mon 1 Jun 09:00 – Wed 3 Jun 11:00"
        )


def test_a_day_reads_like_the_date_part_of_a_time_in_both_languages() -> None:
    with language("zh-CN"):
        assert localdate(date(2026, 12, 6)) == "12月6日 周日"
    with language("en"):
        assert localdate(date(2026, 12, 6)) == "Sun 6 Dec"
