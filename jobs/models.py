from django.db import models


class WorkerHeartbeat(models.Model):
    """One running `manage.py worker` thread, as its jobs know it (`worker_ids` of django-tasks-db's results).

    The process refreshes `seen_at` every JOBS_HEARTBEAT_SECONDS. A job left running by a
    worker not seen for JOBS_WORKER_LEASE_SECONDS is put back in the queue (jobs/recovery.py).
    """

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}, pid {self.pid})"
