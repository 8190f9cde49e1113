"""`manage.py deliver_events` as a real process for the tests: its database, its start, what it recorded."""

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.db import connection

PROJECT_DIR = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def database_for_subprocess(tmp_path: Path):
    """A DATABASE_URL a worker process can open, holding what this test wrote.

    PostgreSQL: the test database itself. SQLite: the test database is in this
    process's memory, so it is copied to a file for the worker and copied back
    afterwards, for the test to look at what the worker recorded.
    """
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        credentials = quote(s["USER"] or "") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
        yield f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
        return
    path = tmp_path / "worker.sqlite3"
    connection.ensure_connection()
    with contextlib.closing(sqlite3.connect(path)) as copy:
        connection.connection.backup(copy)
    yield f"sqlite:///{path}"
    with contextlib.closing(sqlite3.connect(path)) as copy:
        copy.backup(connection.connection)


def start_worker(database_url: str, *args: str, **env: str) -> subprocess.Popen:
    """`manage.py deliver_events *args` with the test settings, this database and `env` on top."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "deliver_events", "--poll-interval", "0.2", *args],
        cwd=PROJECT_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.django.test", "DATABASE_URL": database_url, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.kill()
    worker.communicate(timeout=30)


def deliveries_as_recorded(database_url: str) -> list[tuple[str, int, bool]]:
    """(status, attempts, leased) of every delivery by id, read while the worker runs, on a connection of its own."""
    query = "SELECT status, attempts, claimed_until IS NOT NULL FROM customers_eventdelivery ORDER BY id"
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=20)) as db:
            rows = db.execute(query).fetchall()
    else:
        import psycopg

        with psycopg.connect(database_url) as db:
            rows = db.execute(query).fetchall()
    return [(status, attempts, bool(leased)) for status, attempts, leased in rows]


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)
