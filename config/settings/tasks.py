"""Background jobs (Django's Tasks API through django-tasks, queued in the database by django-tasks-db).

`python manage.py worker` runs them (jobs/); see docs/operations.md, "Running the worker".
"""

from config.env import env

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# A worker process writes a heartbeat every JOBS_HEARTBEAT_SECONDS. A job still marked running by a
# worker whose last heartbeat is older than JOBS_WORKER_LEASE_SECONDS (killed, its machine gone) is
# put back in the queue, and the next worker resumes it.
JOBS_HEARTBEAT_SECONDS = env.float("JOBS_HEARTBEAT_SECONDS", default=5.0)
JOBS_WORKER_LEASE_SECONDS = env.float("JOBS_WORKER_LEASE_SECONDS", default=60.0)
# Seconds a worker thread waits when no job is queued.
JOBS_POLL_SECONDS = env.float("JOBS_POLL_SECONDS", default=1.0)
# A finished export's file (a copy of customers' personal data) is deleted this many hours after it was written.
EXPORT_RETENTION_HOURS = env.float("EXPORT_RETENTION_HOURS", default=24.0)
