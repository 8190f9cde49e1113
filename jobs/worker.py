"""`manage.py worker`: every background job and the event delivery, in one process.

- N threads run django-tasks-db's own worker loop (its `Worker`, reused as it is), each with its
  own worker id. A job that stops because the process is shutting down (core.jobs.WorkerStopping)
  is put back in the queue instead of being marked failed.
- One thread runs the event delivery (events.worker.Worker).
- One thread writes this process's heartbeat (jobs.models.WorkerHeartbeat) and, at start and at
  every beat, puts back in the queue the jobs that a dead worker left running (`requeue_abandoned`):
  django-tasks-db alone would leave a job claimed by a worker killed with SIGKILL running forever.
  It also deletes the files of exports older than EXPORT_RETENTION_HOURS (personal data).
"""

import datetime
import logging
import os
import socket
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker as DatabaseWorker
from django_tasks_db.models import DBTaskResult

from core.jobs import WorkerStopping, worker_stopping
from customers.export_jobs import exports_expire
from events.worker import Worker as EventWorker
from jobs.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

STOPPING_PATH = f"{WorkerStopping.__module__}.{WorkerStopping.__qualname__}"


class JobWorker(DatabaseWorker):
    """django-tasks-db's worker loop over every queue; a job interrupted by the worker's stop is queued again."""

    def __init__(self, *, worker_id: str, interval: float, batch: bool = False):
        super().__init__(
            queue_names=["*"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        self.jobs_run = 0

    def run_task(self, db_task_result: DBTaskResult) -> None:
        super().run_task(db_task_result)
        self.jobs_run += 1
        if db_task_result.status == TaskResultStatus.FAILED and db_task_result.exception_class_path == STOPPING_PATH:
            DBTaskResult.objects.filter(pk=db_task_result.pk).update(
                status=TaskResultStatus.READY, started_at=None, finished_at=None, exception_class_path="", traceback=""
            )
            logger.info("Job %s stopped with the worker at a checkpoint; queued again.", db_task_result.pk)


ABANDONED_NOTE = "jobs.worker.WorkerLost"


def requeue_abandoned(now: datetime.datetime | None = None, *, own: frozenset[str] = frozenset()) -> int:
    """Queue again the jobs left running by a worker no longer alive; returns how many.

    Alive: its heartbeat is younger than JOBS_WORKER_LEASE_SECONDS, or it is one of `own` (this
    process's threads, alive by definition). Only jobs started longer ago than a lease are looked at,
    so a job just claimed is never taken for abandoned.

    The abandoned result is closed as failed and the task is enqueued afresh (a new result), rather
    than the same result set back to ready: should the worker only have been slow (a pause longer
    than the lease) and still finish its run, it writes its outcome to the old result, never over
    the new run's. The jobs themselves must tolerate a second run starting while a first still
    goes on (the import fences its checkpoints: customers/import_jobs.py).
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.JOBS_WORKER_LEASE_SECONDS)
    alive = set(WorkerHeartbeat.objects.filter(seen_at__gte=cutoff).values_list("worker_id", flat=True)) | own
    requeued = 0
    for result in DBTaskResult.objects.running().filter(started_at__lt=cutoff):
        if result.worker_ids and result.worker_ids[-1] in alive:
            continue
        with transaction.atomic():
            # Compare and set: another worker's recovery may be doing the same at this moment.
            closed = DBTaskResult.objects.filter(
                pk=result.pk, status=TaskResultStatus.RUNNING, started_at=result.started_at
            ).update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=ABANDONED_NOTE,
                traceback=f"The worker running this job ({result.worker_ids[-1:]}) stopped beating; queued again.",
            )
            if closed:
                result.task.enqueue(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
                requeued += 1
                logger.warning("Job %s was left running by a worker that is gone; queued again.", result.pk)
    # Heartbeats of workers long gone are of no use to anyone.
    WorkerHeartbeat.objects.filter(seen_at__lt=now - 10 * (now - cutoff)).delete()
    return requeued


class WorkerProcess:
    """The threads of one `manage.py worker`: `concurrency` job loops, the event delivery, the heartbeat."""

    def __init__(self, *, concurrency: int | None = None, poll_interval: float | None = None, events: bool = True):
        """`concurrency`: job threads and deliveries in flight per destination; None: one job thread and
        EVENT_DELIVERY_CONCURRENCY deliveries (one job thread suffices for a queue of imports and exports,
        and on SQLite more would only take turns at its single write lock)."""
        self.poll_interval = settings.JOBS_POLL_SECONDS if poll_interval is None else poll_interval
        prefix = f"{socket.gethostname()[:30]}-{os.getpid()}-{get_random_string(8)}"
        self.job_workers = [
            JobWorker(worker_id=f"{prefix}-{i}"[:64], interval=self.poll_interval) for i in range(concurrency or 1)
        ]
        self.event_worker = (
            EventWorker(
                poll_interval=self.poll_interval, concurrency=concurrency or settings.EVENT_DELIVERY_CONCURRENCY
            )
            if events
            else None
        )
        self.own_ids = frozenset(worker.worker_id for worker in self.job_workers)
        self.stopped = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        worker_stopping.clear()
        self.beat()
        requeue_abandoned(own=self.own_ids)
        for index, worker in enumerate(self.job_workers):
            self._thread(self._keep_running(worker), f"job-{index}")
        if self.event_worker:
            self._thread(self.event_worker.run, "events")
        self._thread(self._heartbeat_loop, "heartbeat")

    def _keep_running(self, worker: JobWorker) -> Callable[[], None]:
        """django-tasks-db's loop, started again after an error (a database restart) until the worker stops."""

        def loop() -> None:
            while not self.stopped.is_set():
                try:
                    worker.run()
                except Exception:
                    logger.exception("Job loop %s failed; starting it again after a pause", worker.worker_id)
                    connection.close()
                    self.stopped.wait(max(self.poll_interval, 1.0))
                else:
                    return

        return loop

    def _thread(self, target: Callable[[], None], name: str) -> None:
        def main():
            try:
                target()
            except Exception:
                logger.exception("Worker thread %s stopped on an error; stopping the worker", name)
                self.request_stop()
            finally:
                connection.close()  # this thread's own connection

        thread = threading.Thread(target=main, name=f"worker-{name}")
        thread.start()
        self.threads.append(thread)

    def beat(self) -> None:
        now = timezone.now()
        for worker in self.job_workers:
            WorkerHeartbeat.objects.update_or_create(
                worker_id=worker.worker_id,
                defaults={"seen_at": now},
                create_defaults={
                    "seen_at": now,
                    "started_at": now,
                    "hostname": socket.gethostname()[:255],
                    "pid": os.getpid(),
                },
            )

    def _heartbeat_loop(self) -> None:
        while not self.stopped.wait(settings.JOBS_HEARTBEAT_SECONDS):
            try:
                self.beat()
                requeue_abandoned(own=self.own_ids)
                exports_expire()
            except Exception:
                # A database restart: the next beat tries again; the lease is several beats long.
                logger.exception("Worker heartbeat failed")
                connection.close()

    def request_stop(self) -> None:
        """Sets flags only (Event.set takes a lock: not for a signal handler). Jobs stop at their next checkpoint."""
        worker_stopping.set()
        self.stopped.set()
        for worker in self.job_workers:
            worker.running = False
        if self.event_worker:
            self.event_worker.request_stop()

    def join(self, timeout: float = 0.5) -> bool:
        """Wait up to `timeout` for the threads; True once all have ended."""
        for thread in self.threads:
            thread.join(timeout)
        return not any(thread.is_alive() for thread in self.threads)

    def close(self) -> None:
        WorkerHeartbeat.objects.filter(worker_id__in=[w.worker_id for w in self.job_workers]).delete()


def run_queued_jobs() -> int:
    """Run every queued job in this thread, then return how many ran (the worker's --once, and tests)."""
    worker = JobWorker(worker_id=f"once-{os.getpid()}-{get_random_string(8)}", interval=0, batch=True)
    worker.run()
    return worker.jobs_run
