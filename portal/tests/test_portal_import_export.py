"""CSV import and export from the portal: jobs with progress, a report, a download link."""

import csv
import io

import pytest
from django.db.models import F

from audit.models import AuditEntry
from audit.services import SYSTEM
from customers import import_jobs
from customers.imports import customer_import_csv
from customers.models import Customer, CustomerExport, CustomerImport
from customers.services import customer_create
from tests.factories import CustomerFactory
from tests.form_helpers import upload
from tests.jobs import portal_export, run_jobs

GOOD_AND_BAD = (
    "firstname,lastname,email,company,address_country,loyalty_tier:integer,newsletter:boolean\r\n"
    "Ada,Lovelace,ada@example.com,,GBR,3,true\r\n"
    ",,,,,,\r\n"  # line 3: no name at all
    "Grace,Hopper,grace@example.com,,USA,three,\r\n"  # line 4: not an integer
    "Alan,Turing,,,XXX,,false\r\n"  # line 5: not a country
    "Edsger,Dijkstra,,,NLD,,\r\n"
)


@pytest.fixture
def run_imports_inline(django_capture_on_commit_callbacks):
    """Upload through the portal, then run the queued job in this thread (django-tasks-db's worker loop)."""

    def upload_and_run(client, text, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(client, text, **kwargs)
        run_jobs()
        return response

    return upload_and_run


@pytest.fixture
def export_csv(django_capture_on_commit_callbacks):
    """Start an export from the portal, run its job, and download the file from the link on its page."""

    def export(client, query: dict | None = None) -> str:
        download = portal_export(client, django_capture_on_commit_callbacks, query)
        assert download.status_code == 200
        assert download["Content-Type"] == "text/csv; charset=utf-8"
        assert download["Content-Disposition"].startswith('attachment; filename="customers-')
        return b"".join(download.streaming_content).decode()

    return export


def test_the_import_page_explains_the_columns(portal_staff_client):
    html = portal_staff_client.get("/portal/imports/").content.decode()

    assert "firstname,lastname,email,company,address_country" in html
    assert "NAME:TYPE" in html
    assert 'type="file"' in html
    assert 'enctype="multipart/form-data"' in html


def test_an_upload_imports_good_rows_and_reports_each_bad_line_with_its_reason(
    portal_staff_client, merchant, run_imports_inline
):
    response = run_imports_inline(portal_staff_client, GOOD_AND_BAD)

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


def test_the_error_report_downloads_as_csv(portal_staff_client, run_imports_inline):
    run_imports_inline(portal_staff_client, GOOD_AND_BAD)
    job = CustomerImport.objects.get()

    response = portal_staff_client.get(f"/portal/imports/{job.pk}/errors.csv")

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["line", "column", "code", "message"]
    assert ["4", "loyalty_tier:integer", "invalid_value", "Must be an integer, for example 42."] in rows
    assert {row[0] for row in rows[1:]} == {"3", "4", "5"}


def test_a_bad_header_is_a_failed_import_that_says_why_and_where(portal_staff_client, run_imports_inline):
    run_imports_inline(portal_staff_client, "first_name,email\r\nAda,ada@example.com\r\n")

    job = CustomerImport.objects.get()
    html = portal_staff_client.get(f"/portal/imports/{job.pk}/").content.decode()
    assert (job.status, job.created_count) == ("failed", 0)
    assert not Customer.objects.exists()
    assert "Line 1: Unknown column &#x27;first_name&#x27;. Did you mean &#x27;firstname&#x27;?" in html
    assert "Nothing was imported." in html
    assert "customers created" not in html


def test_a_queued_import_shows_its_progress_and_polls_a_json_status(portal_staff_client, merchant):
    job = CustomerImport.objects.create(merchant=merchant, filename="big.csv", rows_total=40000, rows_read=10000)

    html = portal_staff_client.get(f"/portal/imports/{job.pk}/").content.decode()
    state = portal_staff_client.get(f"/portal/imports/{job.pk}/status.json").json()

    assert "Waiting for a worker to start it" in html
    assert '<progress max="100" value="25"' in html
    assert f'data-poll="/portal/imports/{job.pk}/status.json"' in html
    assert 'http-equiv="refresh"' not in html
    assert state["status"] == "queued"
    assert (state["rows_done"], state["rows_total"], state["percent"], state["finished"]) == (10000, 40000, 25, False)


def test_an_unexpected_failure_is_recorded_on_the_import(portal_staff_client, monkeypatch, run_imports_inline):
    def explode(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(import_jobs, "customer_import_csv", explode)
    run_imports_inline(portal_staff_client, GOOD_AND_BAD)

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
    assert portal_staff_client.get(f"/portal/imports/{job.pk}/status.json").status_code == 404
    assert portal_staff_client.post(f"/portal/imports/{job.pk}/cancel/").status_code == 404
    assert not CustomerImport.objects.get(pk=job.pk).cancel_requested


# --- export -------------------------------------------------------------------------------------


def test_export_downloads_the_filtered_list_in_the_import_format(
    portal_staff_client, merchant, other_merchant, export_csv
):
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

    everything = export_csv(portal_staff_client)
    british = export_csv(portal_staff_client, {"country": "GBR"})

    rows = list(csv.reader(io.StringIO(everything)))
    standard = [
        "firstname",
        "lastname",
        "email",
        "company",
        "phone",
        "address_line1",
        "address_line2",
        "address_city",
        "address_region",
        "address_postal_code",
        "address_country",
        "reference",
    ]
    assert rows[0] == ["customer_id", *standard, "created_at", "updated_at", "tier:integer", "vip:boolean"]

    def shown(row, header=rows[0]):
        """The cells of a row but its timestamps and the profile columns none of these customers has."""
        kept = ("customer_id", "firstname", "lastname", "email", "company", "address_country")
        return [cell for name, cell in zip(header, row, strict=True) if name in kept or ":" in name]

    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    ada = Customer.objects.get(firstname="Ada")
    assert shown(list(by_id[str(ada.pk)].values()))[1:] == [
        "Ada",
        "Lovelace",
        "ada@example.com",
        "",
        "GBR",
        "3",
        "",
    ]
    assert by_id[str(ada.pk)]["created_at"] == ada.created_at.isoformat().replace("+00:00", "Z")
    assert by_id[str(ada.pk)]["updated_at"] == ada.updated_at.isoformat().replace("+00:00", "Z")
    assert ["", "", "", "Globex, Inc.", "", "", "true"] in [shown(row)[1:] for row in rows]
    assert len(rows) == 4
    british_rows = list(csv.reader(io.StringIO(british)))
    assert british_rows[0] == ["customer_id", *standard, "created_at", "updated_at", "tier:integer"]
    assert [shown(row, british_rows[0]) for row in british_rows[1:]] == [
        [str(ada.pk), "Ada", "Lovelace", "ada@example.com", "", "GBR", "3"]
    ]


def test_an_export_imported_back_updates_each_customer_instead_of_creating_another(
    portal_staff_client, merchant, export_csv, run_imports_inline
):
    ada = customer_create(
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
    customer_create(merchant=merchant, data={"firstname": "Grace"})
    header, *rows = list(csv.reader(io.StringIO(export_csv(portal_staff_client), newline="")))
    for row in rows:
        if row[1] == "Ada":
            row[3] = "ada@lovelace.example"  # edited in a spreadsheet
    rows.append(["", "Alan", *[""] * (len(header) - 2)])  # a new row, no customer_id
    edited = io.StringIO()
    csv.writer(edited).writerows([header, *rows])

    run_imports_inline(portal_staff_client, edited.getvalue(), name="edited.csv")

    job = CustomerImport.objects.get()
    assert (job.status, job.created_count, job.updated_count, job.failed_count) == ("done", 1, 2, 0)
    assert Customer.objects.filter(merchant=merchant).count() == 3
    ada.refresh_from_db()
    assert (ada.firstname, ada.email, ada.address_country, ada.version) == ("Ada", "ada@lovelace.example", "GBR", 2)
    assert sorted((f.name, f.type, f.value) for f in ada.custom_fields.all()) == [
        ("note", "string", 'says "hi",\nthen leaves'),
        ("tier", "integer", "3"),
    ]
    html = portal_staff_client.get(f"/portal/imports/{job.pk}/").content.decode()
    assert "<strong>1</strong> customer created, <strong>2</strong> updated, <strong>0</strong> rows refused." in html


def test_a_foreign_or_unknown_customer_id_is_a_refused_row(
    portal_staff_client, merchant, other_merchant, run_imports_inline
):
    theirs = customer_create(merchant=other_merchant, data={"firstname": "Theirs"})
    text = (
        "customer_id,firstname\r\n"
        f"{theirs.pk},Stolen\r\n"
        "0190c6a0-0000-7000-8000-000000000000,Ghost\r\n"
        "not-an-id,Typo\r\n"
        ",New\r\n"
    )

    run_imports_inline(portal_staff_client, text)

    job = CustomerImport.objects.get()
    assert (job.status, job.created_count, job.updated_count, job.failed_count) == ("done", 1, 0, 3)
    assert [(row["line"], row["errors"][0]["code"]) for row in job.errors] == [
        (2, "unknown_customer"),
        (3, "unknown_customer"),
        (4, "unknown_customer"),
    ]
    assert "is not the customer_id of one of your customers" in job.errors[0]["errors"][0]["message"]
    theirs.refresh_from_db()
    assert (theirs.firstname, theirs.version) == ("Theirs", 1)
    assert list(Customer.objects.filter(merchant=merchant).values_list("firstname", flat=True)) == ["New"]


def test_a_custom_field_name_used_with_two_types_exports_as_one_string_column(
    portal_staff_client, merchant, export_csv
):
    customer_create(
        merchant=merchant,
        data={"firstname": "A", "options": {"custom_fields": [{"name": "code", "type": "integer", "value": "7"}]}},
    )
    customer_create(
        merchant=merchant,
        data={"firstname": "B", "options": {"custom_fields": [{"name": "code", "type": "string", "value": "x7"}]}},
    )

    rows = list(csv.reader(io.StringIO(export_csv(portal_staff_client))))

    assert rows[0][-1] == "code:string"
    assert {row[1]: row[-1] for row in rows[1:]} == {"A": "7", "B": "x7"}


# --- spreadsheet formulas (OWASP CSV injection) --------------------------------------------------

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "'=1", "'"]


@pytest.mark.parametrize("value", FORMULAS)
def test_an_exported_cell_never_starts_with_a_formula_trigger_and_imports_back_to_its_value(
    portal_staff_client, merchant, export_csv, value
):
    # A custom field keeps its value as given; standard fields are stripped of surrounding white space.
    customer_create(
        merchant=merchant,
        data={"company": value, "options": {"custom_fields": [{"name": "-note", "type": "string", "value": value}]}},
    )
    company = Customer.objects.get(merchant=merchant).company

    exported = export_csv(portal_staff_client)
    header, row = list(csv.reader(io.StringIO(exported, newline="")))

    assert header[-1] == "'-note:string"
    assert row[-1] == "'" + value
    assert row[4] == ("'" + company if company.startswith(("=", "+", "-", "@", "'")) else company)
    assert not [cell for cell in header + row if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    # Imported back: the same customer, its values unchanged (an update that changes nothing).
    report = customer_import_csv(merchant=merchant, file=io.StringIO(exported, newline=""), actor=SYSTEM)
    assert (report.created, report.updated, report.failed) == (0, 1, 0), report.errors
    same = Customer.objects.get(merchant=merchant)
    assert (same.company, same.version) == (company, 1)
    assert [(f.name, f.value) for f in same.custom_fields.all()] == [("-note", value)]


def test_a_hand_written_cell_starting_with_an_apostrophe_imports_as_written(merchant):
    report = customer_import_csv(
        merchant=merchant, file=io.StringIO("lastname\r\n'Aisha\r\n", newline=""), actor=SYSTEM
    )

    assert report.created == 1
    assert Customer.objects.get(merchant=merchant).lastname == "'Aisha"


def test_the_error_report_neutralises_formulas_echoed_from_the_file(portal_staff_client, run_imports_inline):
    # A custom field whose name starts with "-" is allowed, and is echoed in the report's column cell.
    run_imports_inline(portal_staff_client, "firstname,-cmd:integer\r\nAda,x\r\n")
    job = CustomerImport.objects.get()

    rows = list(
        csv.reader(io.StringIO(portal_staff_client.get(f"/portal/imports/{job.pk}/errors.csv").content.decode()))
    )

    assert rows[1][1] == "'-cmd:integer"
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]


def test_another_merchants_export_is_a_404(portal_staff_client, other_merchant):
    export = CustomerExport.objects.create(merchant=other_merchant, status="done", file="exports/x/theirs.csv")

    for url in (f"/portal/exports/{export.pk}/", f"/portal/exports/{export.pk}/status.json"):
        assert portal_staff_client.get(url).status_code == 404
    assert portal_staff_client.get(f"/portal/exports/{export.pk}/download/").status_code == 404


def test_a_queued_export_waits_for_a_worker_and_shows_no_link(portal_staff_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        started = portal_staff_client.post("/portal/customers/export/", {})

    html = portal_staff_client.get(started["Location"]).content.decode()
    assert "Waiting for a worker to start it" in html
    assert "Download the CSV" not in html
    assert portal_staff_client.get("/portal/customers/export/").status_code == 405


def test_an_export_not_finished_has_no_download(portal_staff_client, merchant):
    export = CustomerExport.objects.create(merchant=merchant)

    assert portal_staff_client.get(f"/portal/exports/{export.pk}/download/").status_code == 404
    assert portal_staff_client.get(f"/portal/exports/{export.pk}/status.json").json()["download_url"] is None


# --- cancelling ------------------------------------------------------------------------------------------------


def test_a_staff_member_cancels_a_queued_import_and_nothing_is_imported(
    portal_staff_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(portal_staff_client, GOOD_AND_BAD)
    job = CustomerImport.objects.get()

    cancelled = portal_staff_client.post(f"/portal/imports/{job.pk}/cancel/")
    run_jobs()

    assert cancelled["Location"] == response["Location"]
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("cancelled", 0)
    assert not Customer.objects.exists()
    html = portal_staff_client.get(response["Location"]).content.decode()
    assert "Cancelled before it started: nothing was imported." in html


def test_a_running_import_stops_at_the_next_batch_when_cancelled_and_keeps_what_it_committed(
    portal_staff_client, merchant, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("customers.imports.BATCH_SIZE", 2)
    text = "firstname\r\n" + "".join(f"P{i}\r\n" for i in range(7))
    with django_capture_on_commit_callbacks(execute=True):
        upload(portal_staff_client, text)
    job = CustomerImport.objects.get()
    saved = []

    def cancel_after_the_first_batch(**kwargs):
        jobs = CustomerImport.objects.filter(pk=job.pk)
        real_checkpoint = kwargs["checkpoint"]

        def checkpoint(report):
            real_checkpoint(report)
            saved.append(report.rows_read)
            # The staff member presses "Cancel" while the first batch is being written.
            jobs.update(cancel_requested=True)

        return customer_import_csv(**{**kwargs, "checkpoint": checkpoint})

    monkeypatch.setattr(import_jobs, "customer_import_csv", cancel_after_the_first_batch)
    run_jobs()

    job.refresh_from_db()
    assert saved == [2]
    assert (job.status, job.rows_read, job.created_count) == ("cancelled", 2, 2)
    assert sorted(Customer.objects.filter(merchant=merchant).values_list("firstname", flat=True)) == ["P0", "P1"]
    html = portal_staff_client.get(f"/portal/imports/{job.pk}/").content.decode()
    assert "Cancelled after 2 rows. The customers imported from those rows are kept" in html
    assert "<strong>2</strong> customers created" in html


# --- corrupt uploads -------------------------------------------------------------------------------------------

CORRUPT = [
    pytest.param(
        "firstname,email\r\nAda,ada@example.com\r\n".encode("utf-16"),
        1,
        "not valid UTF-8",
        id="utf-16",
    ),
    pytest.param(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb6\x8a", 1, "not valid UTF-8", id="xlsx"),
    pytest.param(
        b"firstname;lastname;email\r\nAda;Lovelace;ada@example.com\r\n",
        1,
        "separated by semicolons",
        id="semicolons",
    ),
    pytest.param(b'{"customers": [{"firstname": "Ada"}]}\n', 1, "is neither a standard column", id="json"),
    pytest.param(
        b'firstname,email\r\nAda,ada@example.com\r\nGrace,"grace@example.com\r\nAlan,alan@example.com\r\n',
        3,
        "not valid CSV",
        id="unclosed-quote",
    ),
    pytest.param(
        b"firstname,email\r\nAda,ada@example.com\r\nGr\xe2ce,grace@example.com\r\n",
        3,
        "not valid UTF-8",
        id="latin-1-later",
    ),
]


@pytest.mark.parametrize(("content", "line", "reason"), CORRUPT)
def test_a_corrupt_upload_is_a_failed_import_with_the_reason_and_the_line(
    portal_staff_client, run_imports_inline, content, line, reason
):
    run_imports_inline(portal_staff_client, content)

    job = CustomerImport.objects.get()
    html = portal_staff_client.get(f"/portal/imports/{job.pk}/").content.decode()
    assert job.status == "failed", job.failure
    assert f"Line {line}: " in job.failure
    assert reason in job.failure
    assert "customers created" not in html
    assert job.failure in html.replace("&#x27;", "'").replace("&quot;", '"')


def test_an_import_cancelled_while_its_worker_was_dead_ends_cancelled_when_picked_up_again(
    portal_staff_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(portal_staff_client, GOOD_AND_BAD)
    job = CustomerImport.objects.get()
    # A worker started it, then died; meanwhile the staff member pressed "Cancel".
    CustomerImport.objects.filter(pk=job.pk).update(status="running")
    assert portal_staff_client.post(f"/portal/imports/{job.pk}/cancel/").status_code == 302

    run_jobs()

    job.refresh_from_db()
    assert (job.status, job.created_count, job.runs) == ("cancelled", 0, 0)
    assert not Customer.objects.exists()


def test_a_run_superseded_by_a_newer_one_commits_no_batch_after_it(
    portal_staff_client, merchant, monkeypatch, django_capture_on_commit_callbacks
):
    """A worker taken for dead (paused longer than its lease) while its job was started again elsewhere."""
    monkeypatch.setattr("customers.imports.BATCH_SIZE", 2)
    text = "firstname\r\n" + "".join(f"P{i}\r\n" for i in range(6))
    with django_capture_on_commit_callbacks(execute=True):
        upload(portal_staff_client, text)
    job = CustomerImport.objects.get()
    real_import = import_jobs.customer_import_csv

    def newer_run_starts_after_the_first_batch(**kwargs):
        def progress(report):
            kwargs["progress"](report)
            if report.rows_read == 2:
                # Another worker's recovery started a new run: it fences the import (runs + 1).
                CustomerImport.objects.filter(pk=job.pk).update(runs=F("runs") + 1)

        return real_import(**{**kwargs, "progress": progress})

    monkeypatch.setattr(import_jobs, "customer_import_csv", newer_run_starts_after_the_first_batch)
    run_jobs()

    job.refresh_from_db()
    # The old run kept its first batch and stopped at its second checkpoint, rolling that batch back;
    # the import stays with the newer run, which resumes after row 2.
    assert (job.status, job.rows_read, job.created_count) == ("running", 2, 2)
    assert sorted(Customer.objects.filter(merchant=merchant).values_list("firstname", flat=True)) == ["P0", "P1"]
    monkeypatch.setattr(import_jobs, "customer_import_csv", real_import)
    import_jobs.run_import(job.pk)
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 6)
    assert Customer.objects.filter(merchant=merchant).count() == 6
