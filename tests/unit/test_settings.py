from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import PROJECT_ROOT, SettingsError, load_settings


def test_defaults_are_the_embedded_setup() -> None:
    settings = load_settings({})
    assert settings.database_url == "sqlite:///var/unionhall.sqlite"
    assert settings.is_sqlite
    assert settings.sqlite_path == PROJECT_ROOT / "var" / "unionhall.sqlite"
    assert settings.redis_url is None
    assert settings.data_dir == PROJECT_ROOT / "var"
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.timezone == "Asia/Shanghai"
    assert settings.demo is False
    assert settings.sms_gateway_url is None


def test_values_are_read_from_the_environment() -> None:
    settings = load_settings(
        {
            "UNIONHALL_DATABASE_URL": "postgresql://root@127.0.0.1:5432/unionhall",
            "UNIONHALL_REDIS_URL": "redis://127.0.0.1:6379/2",
            "UNIONHALL_DATA_DIR": "/srv/unionhall",
            "UNIONHALL_HOST": "0.0.0.0",  # noqa: S104 - a value under test, not a bind
            "UNIONHALL_PORT": "9000",
            "UNIONHALL_TIMEZONE": "Asia/Urumqi",
            "UNIONHALL_DEMO": "yes",
            "UNIONHALL_SMS_GATEWAY_URL": "https://sms.example.cn/send",
            "UNIONHALL_SMTP_URL": "smtp://mail.example.cn:587",
            "UNIONHALL_MAIL_FROM": "县总工会 <notice@example.cn>",
        }
    )
    assert settings.smtp_url == "smtp://mail.example.cn:587"
    assert settings.mail_from == "县总工会 <notice@example.cn>"
    assert not settings.is_sqlite
    assert settings.redis_url == "redis://127.0.0.1:6379/2"
    assert settings.data_dir == Path("/srv/unionhall")
    assert settings.port == 9000
    assert settings.demo is True
    assert settings.zone.key == "Asia/Urumqi"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("UNIONHALL_DATABASE_URL", "mysql://root@localhost/db"),
        ("UNIONHALL_DATABASE_URL", "sqlite:///"),
        ("UNIONHALL_DATABASE_URL", "postgresql://host"),
        ("UNIONHALL_REDIS_URL", "http://localhost:6379"),
        ("UNIONHALL_PORT", "abc"),
        ("UNIONHALL_PORT", "0"),
        ("UNIONHALL_PORT", "70000"),
        ("UNIONHALL_TIMEZONE", "Mars/Olympus"),
        ("UNIONHALL_DEMO", "maybe"),
        ("UNIONHALL_SMS_GATEWAY_URL", "ftp://gateway"),
        ("UNIONHALL_SMTP_URL", "http://mail.example.cn"),
        ("UNIONHALL_MAIL_FROM", "no-at-sign"),
        ("UNIONHALL_HOST", "   "),
        ("UNIONHALL_TRUSTED_PROXIES", "10.0.0.5,proxy.example.cn"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value})
    message = str(caught.value)
    assert message.startswith(f"{name}:")
    assert "\n" not in message


def test_trusted_proxies_are_none_unless_named() -> None:
    assert load_settings({}).trusted_proxies == ()
    named = load_settings({"UNIONHALL_TRUSTED_PROXIES": " 10.0.0.5 , 10.1.0.0/16,::1"})
    assert named.trusted_proxies == ("10.0.0.5/32", "10.1.0.0/16", "::1/128")
