"""`manage.py worker`: its options, --once, and --concurrency running jobs side by side."""

import contextlib
import io
import os
import signal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tasks_db.models import DBTaskResult

from customers import import_jobs
from customers.models import Customer, CustomerImport
from tests.worker_process import WorkerProcess, wait_for


def upload(merchant, rows: int, name: str) -> CustomerImport:
    text = "firstname,email\r\n" + "".join(f"{name}{i},{name}{i}@example.com\r\n" for i in range(rows))
    return import_jobs.import_start(
        merchant=merchant, user=None, upload=SimpleUploadedFile(f"{name}.csv", text.encode(), "text/csv")
    )


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_concurrency_must_be_a_positive_number(value):
    with pytest.raises(CommandError):
        call_command("worker", "--concurrency", value)


@pytest.mark.django_db(transaction=True)
def test_once_runs_the_queued_jobs_then_exits(merchant):
    job = upload(merchant, 3, "once")
    out = io.StringIO()

    call_command("worker", "--once", "--no-events", stdout=out)

    assert "Done: 1 jobs run" in out.getvalue()
    assert CustomerImport.objects.with_scopes_disabled().get(pk=job.pk).status == "done"
    assert Customer.objects.with_scopes_disabled().count() == 3


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_with_concurrency_2_two_imports_run_on_two_threads_and_both_import_every_row(merchant, tmp_path):
    first, second = upload(merchant, 20_000, "a"), upload(merchant, 20_000, "b")
    worker = WorkerProcess(tmp_path / "worker.log", extra_args=["--concurrency", "2"])
    worker.start()
    try:
        wait_for(
            lambda: set(CustomerImport.objects.with_scopes_disabled().values_list("status", flat=True)) == {"done"},
            timeout=240,
            interval=0.2,
            what="both imports to finish",
            worker=worker,
        )
        assert worker.terminate() == 0, worker.log()
    finally:
        worker.kill()

    for job in (first, second):
        job = CustomerImport.objects.with_scopes_disabled().get(pk=job.pk)
        assert (job.created_count, job.failed_count) == (20_000, 0)
    assert Customer.objects.with_scopes_disabled().filter(merchant=merchant).count() == 40_000
    threads = {tuple(ids)[-1].rsplit("-", 1)[1] for ids in DBTaskResult.objects.values_list("worker_ids", flat=True)}
    assert threads == {"0", "1"}
    assert "Worker stopped." in worker.log()


@pytest.mark.django_db(transaction=True)
def test_ctrl_c_then_sigterm_in_quick_succession_still_stops_the_worker(tmp_path):
    # `manage.py demo` forwards SIGTERM to a worker that the terminal's Ctrl-C has just reached: a signal
    # handler that took a lock the main thread held (Event.set) deadlocked the worker for good.
    worker = WorkerProcess(tmp_path / "worker.log")
    worker.start()
    try:
        wait_for(lambda: "Worker running" in worker.log(), timeout=60, what="the worker to start", worker=worker)
        for _ in range(200):
            if worker.process.poll() is not None:
                break
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(worker.process.pid, sig)
        assert worker.process.wait(timeout=30) == 0, worker.log()
    finally:
        worker.kill()
    assert "Worker stopped." in worker.log()
