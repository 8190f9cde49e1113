"""CSV import (background job with progress and a report) and export from the portal."""

import csv
import datetime
import io
import time

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import SYSTEM
from customers import import_jobs
from customers.imports import customer_import_csv
from customers.models import Customer, CustomerImport
from customers.services import customer_create
from tests.factories import CustomerFactory
from tests.form_helpers import upload

GOOD_AND_BAD = (
    "firstname,lastname,email,company,address_country,loyalty_tier:integer,newsletter:boolean\r\n"
    "Ada,Lovelace,ada@example.com,,GBR,3,true\r\n"
    ",,,,,,\r\n"  # line 3: no name at all
    "Grace,Hopper,grace@example.com,,USA,three,\r\n"  # line 4: not an integer
    "Alan,Turing,,,XXX,,false\r\n"  # line 5: not a country
    "Edsger,Dijkstra,,,NLD,,\r\n"
)


@pytest.fixture
def run_imports_inline(monkeypatch):
    """Run the background import in the request's thread, so the test transaction sees it."""
    monkeypatch.setattr(import_jobs, "start_in_background", import_jobs.run_import)


def test_the_import_page_explains_the_columns(portal_staff_client):
    html = portal_staff_client.get("/portal/imports/").content.decode()

    assert "firstname,lastname,email,company,address_country" in html
    assert "NAME:TYPE" in html
    assert 'type="file"' in html
    assert 'enctype="multipart/form-data"' in html


def test_an_upload_imports_good_rows_and_reports_each_bad_line_with_its_reason(
    portal_staff_client, merchant, run_imports_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(portal_staff_client, GOOD_AND_BAD)

    job = CustomerImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/portal/imports/{job.pk}/"
    assert (job.status, job.created_count, job.failed_count, job.rows_total, job.rows_read) == ("done", 2, 3, 5, 5)
    assert sorted(Customer.objects.filter(merchant=merchant).values_list("firstname", flat=True)) == ["Ada", "Edsger"]
    ada = Customer.objects.get(firstname="Ada")
    assert [(f.name, f.type, f.value) for f in ada.custom_fields.all()] == [
        ("loyalty_tier", "integer", "3"),
        ("newsletter", "boolean", "true"),
    ]
    assert AuditEntry.objects.get(customer_id=ada.pk).door == "portal"

    page = portal_staff_client.get(response["Location"])
    html = page.content.decode()
    assert "<strong>2</strong> customers created, <strong>3</strong> rows refused." in html
    assert [row["line"] for row in page.context["errors"]] == [3, 4, 5]
    assert "Must be an integer, for example 42." in html
    assert "loyalty_tier:integer" in html
    assert "is not an ISO 3166-1 alpha-3 country code" in html
    assert 'http-equiv="refresh"' not in html


def test_the_error_report_downloads_as_csv(portal_staff_client, run_imports_inline, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        upload(portal_staff_client, GOOD_AND_BAD)
    job = CustomerImport.objects.get()

    response = portal_staff_client.get(f"/portal/imports/{job.pk}/errors.csv")

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["line", "column", "code", "message"]
    assert ["4", "loyalty_tier:integer", "invalid_value", "Must be an integer, for example 42."] in rows
    assert {row[0] for row in rows[1:]} == {"3", "4", "5"}


def test_a_bad_header_imports_nothing_and_says_why(
    portal_staff_client, run_imports_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(portal_staff_client, "first_name,email\r\nAda,ada@example.com\r\n")

    job = CustomerImport.objects.get()
    html = portal_staff_client.get(f"/portal/imports/{job.pk}/").content.decode()
    assert job.created_count == 0
    assert not Customer.objects.exists()
    assert "Did you mean &#x27;firstname&#x27;?" in html


def test_a_running_import_shows_its_progress_and_refreshes_itself(portal_staff_client, merchant):
    job = CustomerImport.objects.create(merchant=merchant, filename="big.csv", rows_total=40000, rows_read=10000)

    html = portal_staff_client.get(f"/portal/imports/{job.pk}/").content.decode()

    assert "Importing… 10000 of 40000 rows read (25%)" in html
    assert '<progress max="100" value="25"' in html
    assert '<meta http-equiv="refresh" content="2">' in html


def test_an_import_that_stopped_moving_is_reported_as_stalled(portal_staff_client, merchant):
    job = CustomerImport.objects.create(merchant=merchant, filename="big.csv")
    CustomerImport.objects.filter(pk=job.pk).update(updated_at=timezone.now() - datetime.timedelta(hours=1))

    html = portal_staff_client.get(f"/portal/imports/{job.pk}/").content.decode()

    assert "has not moved for a long time" in html
    assert 'http-equiv="refresh"' not in html


def test_an_unexpected_failure_is_recorded_on_the_import(
    portal_staff_client, monkeypatch, run_imports_inline, django_capture_on_commit_callbacks
):
    def explode(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(import_jobs, "customer_import_csv", explode)
    with django_capture_on_commit_callbacks(execute=True):
        upload(portal_staff_client, GOOD_AND_BAD)

    job = CustomerImport.objects.get()
    assert job.status == "failed"
    assert (
        "unexpected error stopped the import" in portal_staff_client.get(f"/portal/imports/{job.pk}/").content.decode()
    )


def test_uploading_without_a_file_is_a_400_with_the_reason(portal_staff_client):
    response = portal_staff_client.post("/portal/imports/", {})

    assert response.status_code == 400
    assert response.context["form"].errors["file"] == ["This field is required."]


def test_another_merchants_import_is_a_404(portal_staff_client, other_merchant):
    job = CustomerImport.objects.create(merchant=other_merchant, filename="theirs.csv")

    assert portal_staff_client.get(f"/portal/imports/{job.pk}/").status_code == 404
    assert portal_staff_client.get(f"/portal/imports/{job.pk}/errors.csv").status_code == 404


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_large_file_is_imported_by_a_background_thread_while_the_status_page_answers(client, monkeypatch):
    """The real thing: 12,000 rows, a real thread, a committed database, progress saved after each batch."""
    from tests.factories import MembershipFactory

    membership = MembershipFactory(role="staff")
    client.force_login(membership.user)
    lines = ["firstname,email,visits:integer"] + [f"P{i},p{i}@example.com,{i}" for i in range(12000)]
    saved_progress = []

    def import_recording_saved_progress(*, progress, **kwargs):
        def progress_then_read_back(rows_read):
            progress(rows_read)
            saved_progress.append(CustomerImport.objects.values_list("status", "rows_read", "rows_total").get())

        return customer_import_csv(progress=progress_then_read_back, **kwargs)

    monkeypatch.setattr(import_jobs, "customer_import_csv", import_recording_saved_progress)

    response = upload(client, "\r\n".join(lines) + "\r\n", name="big.csv")
    status_url = response["Location"]
    assert client.get(status_url).status_code == 200
    deadline = time.monotonic() + 120
    while CustomerImport.objects.get().status == "running" and time.monotonic() < deadline:
        time.sleep(0.2)

    job = CustomerImport.objects.get()
    assert (job.status, job.created_count, job.failed_count, job.rows_total) == ("done", 12000, 0, 12000)
    assert Customer.objects.filter(merchant=membership.merchant).count() == 12000
    assert "<strong>12000</strong> customers created" in client.get(status_url).content.decode()
    # One save per batch of 5,000 rows and one at the end, each while the job still runs.
    assert saved_progress == [("running", 5000, 12000), ("running", 10000, 12000), ("running", 12000, 12000)]


# --- export -------------------------------------------------------------------------------------


def test_export_downloads_the_filtered_list_in_the_import_format(portal_staff_client, merchant, other_merchant):
    customer_create(
        merchant=merchant,
        data={
            "firstname": "Ada",
            "lastname": "Lovelace",
            "email": "ada@example.com",
            "address_country": "GBR",
            "options": {"custom_fields": [{"name": "tier", "type": "integer", "value": "3"}]},
        },
    )
    customer_create(
        merchant=merchant,
        data={
            "company": "Globex, Inc.",
            "options": {"custom_fields": [{"name": "vip", "type": "boolean", "value": "true"}]},
        },
    )
    CustomerFactory(merchant=merchant, firstname="American", address_country="USA")
    CustomerFactory(merchant=other_merchant, firstname="Outsider", address_country="GBR")

    everything = portal_staff_client.get("/portal/customers/export.csv")
    british = portal_staff_client.get("/portal/customers/export.csv", {"country": "GBR"})

    assert everything["Content-Type"] == "text/csv; charset=utf-8"
    assert everything["Content-Disposition"].startswith('attachment; filename="customers-')
    rows = list(csv.reader(io.StringIO(b"".join(everything.streaming_content).decode())))
    assert rows[0] == ["firstname", "lastname", "email", "company", "address_country", "tier:integer", "vip:boolean"]
    assert ["", "", "", "Globex, Inc.", "", "", "true"] in rows
    assert ["Ada", "Lovelace", "ada@example.com", "", "GBR", "3", ""] in rows
    assert len(rows) == 4
    british_rows = list(csv.reader(io.StringIO(b"".join(british.streaming_content).decode())))
    assert british_rows == [
        ["firstname", "lastname", "email", "company", "address_country", "tier:integer"],
        ["Ada", "Lovelace", "ada@example.com", "", "GBR", "3"],
    ]


def test_an_export_imports_back_unchanged(portal_staff_client, merchant, other_merchant):
    customer_create(
        merchant=merchant,
        data={
            "firstname": "Ada",
            "email": "ada@example.com",
            "address_country": "GBR",
            "options": {
                "custom_fields": [
                    {"name": "tier", "type": "integer", "value": "3"},
                    {"name": "note", "type": "string", "value": 'says "hi",\nthen leaves'},
                ]
            },
        },
    )
    exported = b"".join(portal_staff_client.get("/portal/customers/export.csv").streaming_content).decode()

    report = customer_import_csv(merchant=other_merchant, file=io.StringIO(exported, newline=""), actor=SYSTEM)

    assert (report.created, report.failed) == (1, 0)
    copy = Customer.objects.get(merchant=other_merchant)
    assert (copy.firstname, copy.email, copy.address_country) == ("Ada", "ada@example.com", "GBR")
    assert sorted((f.name, f.type, f.value) for f in copy.custom_fields.all()) == [
        ("note", "string", 'says "hi",\nthen leaves'),
        ("tier", "integer", "3"),
    ]


def test_a_custom_field_name_used_with_two_types_exports_as_one_string_column(portal_staff_client, merchant):
    customer_create(
        merchant=merchant,
        data={"firstname": "A", "options": {"custom_fields": [{"name": "code", "type": "integer", "value": "7"}]}},
    )
    customer_create(
        merchant=merchant,
        data={"firstname": "B", "options": {"custom_fields": [{"name": "code", "type": "string", "value": "x7"}]}},
    )

    rows = list(
        csv.reader(
            io.StringIO(b"".join(portal_staff_client.get("/portal/customers/export.csv").streaming_content).decode())
        )
    )

    assert rows[0][-1] == "code:string"
    assert {row[0]: row[-1] for row in rows[1:]} == {"A": "7", "B": "x7"}


# --- spreadsheet formulas (OWASP CSV injection) --------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "'=1", "'"]


def export_rows(client) -> list[list[str]]:
    content = b"".join(client.get("/portal/customers/export.csv").streaming_content).decode()
    return list(csv.reader(io.StringIO(content, newline="")))


@pytest.mark.parametrize("value", FORMULAS)
def test_an_exported_cell_never_starts_with_a_formula_trigger_and_imports_back_to_its_value(
    portal_staff_client, merchant, other_merchant, value
):
    # A custom field keeps its value as given; standard fields are stripped of surrounding white space.
    customer_create(
        merchant=merchant,
        data={"company": value, "options": {"custom_fields": [{"name": "-note", "type": "string", "value": value}]}},
    )
    company = Customer.objects.get(merchant=merchant).company

    header, row = export_rows(portal_staff_client)

    assert header[-1] == "'-note:string"
    assert row[-1] == "'" + value
    assert row[3] == ("'" + company if company.startswith(("=", "+", "-", "@", "'")) else company)
    exported = b"".join(portal_staff_client.get("/portal/customers/export.csv").streaming_content).decode()
    report = customer_import_csv(merchant=other_merchant, file=io.StringIO(exported, newline=""), actor=SYSTEM)
    assert (report.created, report.failed) == (1, 0), report.errors
    copy = Customer.objects.get(merchant=other_merchant)
    assert copy.company == company
    assert [(f.name, f.value) for f in copy.custom_fields.all()] == [("-note", value)]


def test_a_hand_written_cell_starting_with_an_apostrophe_imports_as_written(merchant):
    report = customer_import_csv(
        merchant=merchant, file=io.StringIO("lastname\r\n'Aisha\r\n", newline=""), actor=SYSTEM
    )

    assert report.created == 1
    assert Customer.objects.get(merchant=merchant).lastname == "'Aisha"


def test_the_error_report_neutralises_formulas_echoed_from_the_file(
    portal_staff_client, run_imports_inline, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(portal_staff_client, 'firstname,=HYPERLINK("http://evil.example")\r\nAda,x\r\n')
    job = CustomerImport.objects.get()

    rows = list(
        csv.reader(io.StringIO(portal_staff_client.get(f"/portal/imports/{job.pk}/errors.csv").content.decode()))
    )

    assert rows[1][1] == '\'=HYPERLINK("http://evil.example")'
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
