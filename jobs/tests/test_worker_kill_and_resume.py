"""A real `manage.py worker`, killed (SIGKILL) or stopped (SIGTERM) mid-import, then started again.

The merchant must end with exactly one customer per good row of the file: none missing, none twice,
one event each, every bad row refused once, one report; and the import's page shows its progress
after the restart, from where it stopped.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.models import DBTaskResult

from customers import import_jobs
from customers.models import Customer, CustomerImport
from events.models import CustomerEvent
from tests.worker_process import WorkerProcess, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROWS = 60_000
BAD_EVERY = 1_000  # row 999, 1999, ...: not an integer


def csv_file() -> bytes:
    lines = ["firstname,email,visits:integer"]
    for i in range(ROWS):
        lines.append(f"P{i},p{i}@example.com,{'lots' if i % BAD_EVERY == BAD_EVERY - 1 else i}")
    return ("\r\n".join(lines) + "\r\n").encode()


GOOD = ROWS - ROWS // BAD_EVERY


@pytest.fixture
def job(portal_client_for, merchant):
    client = portal_client_for(merchant, "staff")
    started = import_jobs.import_start(
        merchant=merchant, user=client.user, upload=SimpleUploadedFile("big.csv", csv_file(), "text/csv")
    )
    return started, client


def progress(job_id) -> tuple[str, int]:
    return CustomerImport.objects.with_scopes_disabled().values_list("status", "rows_read").get(pk=job_id)


def assert_imported_exactly_once(merchant, job_id) -> CustomerImport:
    job = CustomerImport.objects.with_scopes_disabled().get(pk=job_id)
    assert (job.status, job.created_count, job.failed_count, job.rows_read) == ("done", GOOD, ROWS - GOOD, ROWS)
    customers = Customer.objects.with_scopes_disabled().filter(merchant=merchant)
    names = list(customers.values_list("firstname", flat=True))
    assert len(names) == GOOD
    assert set(names) == {f"P{i}" for i in range(ROWS) if i % BAD_EVERY != BAD_EVERY - 1}
    assert CustomerEvent.objects.filter(merchant=merchant).count() == GOOD
    # One report: each bad row once, in file order, on its own line.
    assert [row["line"] for row in job.errors] == [i + 2 for i in range(ROWS) if i % BAD_EVERY == BAD_EVERY - 1]
    return job


def test_a_worker_killed_mid_import_is_resumed_by_the_next_and_every_good_row_is_imported_once(job, merchant, tmp_path):
    started, client = job
    worker = WorkerProcess(tmp_path / "worker.log")
    worker.start()
    try:
        wait_for(
            lambda: 10_000 <= progress(started.pk)[1] < ROWS - 10_000,
            timeout=120,
            what="the import to be part way",
            worker=worker,
        )
        worker.kill()
        status, killed_at = progress(started.pk)
        assert status == "running"  # what the dead worker left
        assert 0 < killed_at < ROWS
        assert Customer.objects.with_scopes_disabled().filter(merchant=merchant).count() <= killed_at

        # The page still shows how far it got while no worker runs.
        state = client.get(f"/portal/imports/{started.pk}/status.json").json()
        assert (state["status"], state["rows_done"]) == ("running", killed_at)

        worker.start()
        seen = []

        def finished():
            state = client.get(f"/portal/imports/{started.pk}/status.json").json()
            seen.append(state)
            return state["finished"]

        wait_for(finished, timeout=180, interval=0.1, what="the resumed import to finish", worker=worker)
        # The worker records the job's outcome just after the job wrote its own.
        wait_for(
            lambda: DBTaskResult.objects.filter(status="SUCCESSFUL").exists(),
            timeout=30,
            what="the job's result",
            worker=worker,
        )
    finally:
        worker.kill()

    job = assert_imported_exactly_once(merchant, started.pk)
    assert job.runs == 2
    # Resumed, not restarted: the figures never went back below where the first worker died.
    assert all(state["rows_done"] >= killed_at for state in seen)
    # The dead worker's result was closed and the job queued again; the new run finished it.
    results = sorted(DBTaskResult.objects.values_list("status", "exception_class_path"))
    assert results == [("FAILED", "jobs.worker.WorkerLost"), ("SUCCESSFUL", "")]
    html = client.get(f"/portal/imports/{started.pk}/").content.decode()
    assert f"<strong>{GOOD}</strong> customers created" in html


def test_a_worker_stopped_with_sigterm_leaves_the_import_queued_at_its_checkpoint_and_the_next_finishes_it(
    job, merchant, tmp_path
):
    started, _client = job
    worker = WorkerProcess(tmp_path / "worker.log")
    worker.start()
    try:
        wait_for(
            lambda: 5_000 <= progress(started.pk)[1] < ROWS - 10_000,
            timeout=120,
            what="the import to be part way",
            worker=worker,
        )
        assert worker.terminate() == 0, worker.log()
        stopped_at = progress(started.pk)[1]
        assert 0 < stopped_at < ROWS
        # Queued again, not failed: the stop is not the job's fault.
        assert DBTaskResult.objects.get().status == "READY"
        assert Customer.objects.with_scopes_disabled().filter(merchant=merchant).count() == stopped_at - (
            stopped_at // BAD_EVERY
        )

        worker.start()
        wait_for(lambda: progress(started.pk)[0] == "done", timeout=180, what="the import to finish", worker=worker)
    finally:
        worker.kill()

    assert_imported_exactly_once(merchant, started.pk)
