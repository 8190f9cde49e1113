"""`manage.py worker` as a real process on the test database, to kill and start again."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

PROJECT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the database this test runs on (the test database, once created)."""
    database = connection.settings_dict
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    return (
        f"postgres://{database['USER']}{password}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )


class WorkerProcess:
    """One `manage.py worker --no-events`, with a short lease so that a killed worker's job is soon taken back."""

    def __init__(self, log_path: Path, *, lease: float = 2.0, extra_args: list[str] | None = None):
        self.log_path, self.lease, self.process = log_path, lease, None
        self.extra_args = extra_args or []

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.django.test",
            "DATABASE_URL": database_url(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "JOBS_WORKER_LEASE_SECONDS": str(self.lease),
            "JOBS_HEARTBEAT_SECONDS": str(self.lease / 4),
        }
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--no-events", "--poll-interval", "0.2", *self.extra_args],
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a signal reaches it and nothing else
        )

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as when a machine dies."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, as a deploy sends it; returns the exit status."""
        os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def wait_for(condition, *, timeout: float, interval: float = 0.05, what: str = "the condition", worker=None):
    """Poll `condition()` until it returns something true; returns that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        if worker is not None and worker.process is not None and worker.process.poll() is not None:
            raise AssertionError(f"the worker exited ({worker.process.returncode}) before {what}:\n{worker.log()}")
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}" + (f":\n{worker.log()}" if worker else ""))
