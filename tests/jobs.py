"""Running queued jobs inside a test."""

import urllib.parse
from unittest import mock

from jobs.worker import run_queued_jobs


def run_jobs() -> int:
    """Run every queued job in this thread with django-tasks-db's worker loop; returns how many ran.

    The loop closes "old" database connections between jobs, as a request does; inside a test
    that would close the connection that holds the test's transaction, so only that is left out.
    """
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        return run_queued_jobs()


def portal_export(client, capture_on_commit, query: dict | None = None):
    """Start an export from the portal as `client`, run its job, and return the download's response.

    `capture_on_commit` is pytest-django's `django_capture_on_commit_callbacks` (the job is queued on commit).
    """
    url = "/portal/customers/export/" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    with capture_on_commit(execute=True):
        started = client.post(url)
    assert started.status_code == 302, (started.status_code, started.content[:300])
    run_jobs()
    page = client.get(started["Location"])
    return client.get(page.context["state"]["download_url"])
