"""config.settings.production passes Django's deployment checks and refuses to start without a secret key."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.production", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_security_deployment_checks():
    result = manage(
        "check", "--deploy", "--tag", "security", "--fail-level", "WARNING", SECRET_KEY=secrets.token_urlsafe(50)
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = manage("check")

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
