"""An export's file holds personal data: it is deleted after EXPORT_RETENTION_HOURS."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from customers.export_jobs import exports_expire
from customers.models import CustomerExport

pytestmark = pytest.mark.django_db


def finished(merchant, hours_ago: float) -> CustomerExport:
    export = CustomerExport(merchant=merchant, status="done", finished_at=timezone.now())
    export.file.name = default_storage.save(f"exports/{merchant.pk}/{export.pk}.csv", ContentFile(b"Ada\r\n"))
    export.save()
    CustomerExport.objects.filter(pk=export.pk).update(finished_at=timezone.now() - datetime.timedelta(hours=hours_ago))
    return export


def test_an_export_older_than_the_retention_loses_its_file_and_says_so(settings, merchant, portal_staff_client):
    settings.EXPORT_RETENTION_HOURS = 24
    old, recent = finished(merchant, hours_ago=25), finished(merchant, hours_ago=1)

    assert exports_expire() == 1

    assert not default_storage.exists(old.file.name)
    assert default_storage.exists(recent.file.name)
    assert CustomerExport.objects.get(pk=old.pk).status == "expired"
    assert portal_staff_client.get(f"/portal/exports/{old.pk}/download/").status_code == 404
    assert (
        "was deleted, as every export is 24 hours"
        in portal_staff_client.get(f"/portal/exports/{old.pk}/").content.decode()
    )
    assert portal_staff_client.get(f"/portal/exports/{recent.pk}/download/").status_code == 200
