"""Jobs a dead worker left running go back to the queue; a live worker's stay with it."""

import datetime

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from customers.import_jobs import customer_import_task
from jobs.models import WorkerHeartbeat
from jobs.worker import requeue_abandoned

pytestmark = pytest.mark.django_db


def running_job(worker_id: str, started_ago: float) -> DBTaskResult:
    result = customer_import_task.enqueue("00000000-0000-0000-0000-000000000000")
    row = DBTaskResult.objects.get(pk=result.id)
    row.claim(worker_id)
    DBTaskResult.objects.filter(pk=row.pk).update(started_at=timezone.now() - datetime.timedelta(seconds=started_ago))
    return row


def beat(worker_id: str, ago: float) -> None:
    seen = timezone.now() - datetime.timedelta(seconds=ago)
    WorkerHeartbeat.objects.create(worker_id=worker_id, hostname="h", pid=1, started_at=seen, seen_at=seen)


def test_a_job_whose_worker_stopped_beating_is_queued_again_as_a_new_result(settings):
    settings.JOBS_WORKER_LEASE_SECONDS = 60
    beat("dead", ago=300)
    beat("alive", ago=1)
    orphan = running_job("dead", started_ago=600)
    kept = running_job("alive", started_ago=600)
    never_beat = running_job("unknown", started_ago=600)
    mine = running_job("this-process", started_ago=600)

    assert requeue_abandoned(own=frozenset({"this-process"})) == 2

    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    # The abandoned results are closed (a late finish of the old run cannot overwrite the new one) ...
    assert {pk: statuses.pop(pk) for pk in (orphan.pk, kept.pk, never_beat.pk, mine.pk)} == {
        orphan.pk: "FAILED",
        kept.pk: "RUNNING",
        never_beat.pk: "FAILED",
        mine.pk: "RUNNING",
    }
    assert DBTaskResult.objects.get(pk=orphan.pk).exception_class_path == "jobs.worker.WorkerLost"
    # ... and the same task with the same arguments is queued again.
    assert list(statuses.values()) == ["READY", "READY"]
    assert {r.task_path for r in DBTaskResult.objects.filter(pk__in=statuses)} == {orphan.task_path}
    assert {str(r.args_kwargs) for r in DBTaskResult.objects.filter(pk__in=statuses)} == {str(orphan.args_kwargs)}


def test_a_job_claimed_less_than_a_lease_ago_is_left_alone_whatever_the_heartbeats_say(settings):
    settings.JOBS_WORKER_LEASE_SECONDS = 60
    just_claimed = running_job("not-yet-beating", started_ago=5)

    assert requeue_abandoned() == 0

    assert DBTaskResult.objects.get(pk=just_claimed.pk).status == "RUNNING"


def test_heartbeats_of_workers_long_gone_are_removed(settings):
    settings.JOBS_WORKER_LEASE_SECONDS = 60
    beat("ancient", ago=3600)
    beat("recent", ago=120)

    requeue_abandoned()

    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["recent"]
