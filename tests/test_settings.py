"""Production settings refuse to start without what they need; the servers' entry points refuse the development key."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
# Everything production needs; each test leaves out what it is about.
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.django.production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "vault.example.com",
    "DATABASE_URL": "postgres://vault@db.example.com:5432/vault",
    "REDIS_URL": "redis://cache.example.com:6379/0",
}
OURS = ("SECRET_KEY", "DJANGO_SETTINGS_MODULE", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "CACHE_URL")


def run(args: list[str], **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in OURS}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_every_deployment_check():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"])
def test_production_settings_refuse_to_start_naming_the_variable_that_is_missing(missing):
    env = {name: value for name, value in PRODUCTION.items() if name != missing}

    result = run(["manage.py", "check"], **env)

    assert result.returncode != 0
    assert f"Set the {missing} environment variable" in result.stderr


def test_production_refuses_a_database_that_is_not_postgresql():
    result = run(["manage.py", "check"], **{**PRODUCTION, "DATABASE_URL": "sqlite:////tmp/vault.sqlite3"})

    assert result.returncode != 0
    assert "DATABASE_URL must name a PostgreSQL database" in result.stderr


@pytest.mark.parametrize("entry_point", ["config.wsgi", "config.asgi"])
@pytest.mark.parametrize("settings_module", ["config.django.production", "config.django.base", None])
def test_the_servers_entry_points_refuse_to_load_without_a_secret_key(entry_point, settings_module):
    # `gunicorn config.wsgi` with or without `-c gunicorn.conf.py`, whatever the settings module.
    env = {name: value for name, value in PRODUCTION.items() if name not in ("SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    if settings_module:
        env["DJANGO_SETTINGS_MODULE"] = settings_module

    result = run(["-c", f"import {entry_point}"], **env)

    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable before serving" in result.stderr


def test_manage_py_commands_run_with_the_development_defaults():
    result = run(["manage.py", "check"])

    assert result.returncode == 0, result.stderr
