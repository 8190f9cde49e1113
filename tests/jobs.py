"""Running queued jobs inside a test."""

from unittest import mock

from jobs.worker import run_queued_jobs


def run_jobs() -> int:
    """Run every queued job in this thread with django-tasks-db's worker loop; returns how many ran.

    The loop closes "old" database connections between jobs, as a request does; inside a test
    that would close the connection that holds the test's transaction, so only that is left out.
    """
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        return run_queued_jobs()
