"""The mail backend comes from EMAIL_URL: console in development, SMTP in production, in memory in tests."""

import json

import pytest

from tests.test_settings import PRODUCTION, run

pytestmark = pytest.mark.slow

SHOW = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps([s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, "
    "s.EMAIL_USE_TLS, s.EMAIL_USE_SSL, s.DEFAULT_FROM_EMAIL]))"
)


def mail_settings(**env: str) -> list:
    result = run(["-c", SHOW], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_development_prints_mail_to_the_console():
    backend, *_ = mail_settings(DJANGO_SETTINGS_MODULE="config.django.base", EMAIL_URL="")

    assert backend == "django.core.mail.backends.console.EmailBackend"


def test_production_sends_by_smtp_to_a_local_relay_unless_told_otherwise():
    assert mail_settings(**PRODUCTION, EMAIL_URL="")[:3] == [
        "django.core.mail.backends.smtp.EmailBackend",
        "localhost",
        25,
    ]


def test_email_url_names_the_smtp_server_its_login_and_tls_and_the_sender_is_set_apart():
    shown = mail_settings(
        **PRODUCTION,
        EMAIL_URL="smtp+tls://mailer%40shop.example:p%40ss%2Fword@smtp.example.com:587",
        DEFAULT_FROM_EMAIL="Shop Vault <vault@shop.example>",
    )

    assert shown == [
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com",
        587,
        "mailer@shop.example",
        "p@ss/word",
        True,
        False,
        "Shop Vault <vault@shop.example>",
    ]
