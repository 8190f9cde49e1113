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


def test_a_job_whose_worker_stopped_beating_is_queued_again(settings):
    settings.JOBS_WORKER_LEASE_SECONDS = 60
    beat("dead", ago=300)
    beat("alive", ago=1)
    orphan = running_job("dead", started_ago=600)
    kept = running_job("alive", started_ago=600)
    never_beat = running_job("unknown", started_ago=600)

    assert requeue_abandoned() == 2

    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses == {orphan.pk: "READY", kept.pk: "RUNNING", never_beat.pk: "READY"}


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
