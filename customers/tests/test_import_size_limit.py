"""The size limit of a CSV import is the import's own rule, shown beside the file in the portal."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from customers import import_jobs
from customers.models import CustomerImport

TEXT = "firstname\nAda\nGrace\n"


@pytest.fixture
def limit_of_ten_bytes(monkeypatch):
    monkeypatch.setattr(import_jobs, "MAX_IMPORT_BYTES", 10)


def test_starting_an_import_of_a_file_over_the_limit_is_refused_on_the_file(
    merchant, portal_staff_client, limit_of_ten_bytes
):
    upload = SimpleUploadedFile("big.csv", TEXT.encode(), content_type="text/csv")

    with pytest.raises(ValidationError) as refused:
        import_jobs.import_start(merchant=merchant, user=portal_staff_client.user, upload=upload)

    assert list(refused.value.message_dict) == ["file"]
    assert not CustomerImport.objects.exists()


def test_the_portal_shows_the_size_limit_beside_the_file_and_starts_nothing(portal_staff_client, limit_of_ten_bytes):
    upload = SimpleUploadedFile("big.csv", TEXT.encode(), content_type="text/csv")

    response = portal_staff_client.post("/portal/imports/", {"file": upload})

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["The file is larger than 10\xa0bytes."]
    assert not CustomerImport.objects.exists()
