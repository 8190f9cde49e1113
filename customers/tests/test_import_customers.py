"""The CSV bulk import: the API's rules per row, line numbers for bad rows, the same rows as a create."""

import copy
import io
import json

import pytest
from django.core.management import call_command

from audit.models import AuditEntry
from audit.services import Actor
from customers.imports import customer_import_csv
from customers.models import Customer, CustomField
from customers.representation import customer_as_dict
from events.models import CustomerEvent, EventDelivery, WebhookEndpoint

ACTOR = Actor(AuditEntry.Door.CLI, "import_customers:tester")


def import_text(merchant, text: str, **kwargs):
    return customer_import_csv(merchant=merchant, file=io.StringIO(text), actor=ACTOR, **kwargs)


def test_good_rows_become_customers_with_their_custom_fields(merchant):
    report = import_text(
        merchant,
        "firstname,lastname,email,company,address_country,tier,points:integer\n"
        "Ada,Lovelace,ada@example.com,Analytical,gbr,gold,42\n"
        "Grace,Hopper,,,,,\n",
    )

    assert (report.created, report.failed, report.errors) == (2, 0, [])
    ada = Customer.objects.get(merchant=merchant, firstname="Ada")
    assert (ada.lastname, ada.email, ada.company, ada.address_country) == (
        "Lovelace",
        "ada@example.com",
        "Analytical",
        "GBR",
    )
    fields = list(ada.custom_fields.values_list("name", "type", "value", "position"))
    assert fields == [("tier", "string", "gold", 0), ("points", "integer", "42", 1)]
    grace = Customer.objects.get(merchant=merchant, firstname="Grace")
    # Empty cells: no custom field at all, and empty standard fields are null like in the API.
    assert grace.custom_fields.count() == 0
    assert (grace.email, grace.company, grace.address_country) == (None, None, None)


def test_bad_rows_are_reported_with_their_line_and_reasons_and_good_rows_still_import(merchant):
    report = import_text(
        merchant,
        "firstname,email,address_country,points:integer\n"
        "Ada,ada@example.com,GBR,1\n"
        "Bad,not-an-email,XXX,\n"
        ",,,\n"
        "Grace,grace@example.com,USA,lots\n"
        "Alan,alan@example.com,DEU,7\n",
    )

    assert (report.created, report.failed) == (2, 3)
    by_line = {row.line: {(e["field"], e["code"]) for e in row.errors} for row in report.errors}
    assert by_line == {
        3: {("email", "invalid_email"), ("address_country", "invalid_country")},
        4: {(None, "required_one_of")},
        5: {("points:integer", "invalid_value")},
    }
    assert set(Customer.objects.filter(merchant=merchant).values_list("firstname", flat=True)) == {"Ada", "Alan"}


def test_line_numbers_are_physical_lines_across_quoted_line_breaks_and_blank_lines(merchant):
    report = import_text(
        merchant,
        'firstname,company\nAda,"Analytical\nEngines"\n\nBad,' + "x" * 300 + "\nGrace,\n",
    )

    assert report.created == 2
    assert [(row.line, row.errors[0]["field"], row.errors[0]["code"]) for row in report.errors] == [
        (5, "company", "max_length")
    ]
    assert Customer.objects.get(firstname="Ada").company == "Analytical\nEngines"


def test_a_row_with_the_wrong_number_of_cells_is_reported(merchant):
    report = import_text(merchant, "firstname,lastname\nAda\nGrace,Hopper,extra\nAlan,Turing\n")

    assert (report.created, report.failed) == (1, 2)
    assert [(row.line, row.errors[0]["code"]) for row in report.errors] == [
        (2, "wrong_cell_count"),
        (3, "wrong_cell_count"),
    ]


@pytest.mark.parametrize(
    ("header", "column", "code", "hint"),
    [
        ("firstname,first_name", "first_name", "unknown_column", "Did you mean 'firstname'?"),
        ("firstname,last name", "last name", "unknown_column", "Did you mean 'lastname'?"),
        ("firstname,age:int", "age:int", "invalid_type", "integer"),
        ("firstname,email,Email", "Email", "duplicate_column", "more than once"),
        ("firstname,,email", "column 2", "blank_header", "no header"),
    ],
)
def test_a_bad_header_fails_the_import_on_line_1_and_nothing_is_imported(merchant, header, column, code, hint):
    report = import_text(merchant, f"{header}\nAda,x,y\n")

    assert (report.created, report.failed, report.errors) == (0, 0, [])
    assert report.fatal.line == 1
    (error,) = report.fatal.errors
    assert (error["field"], error["code"]) == (column, code)
    assert hint in error["message"]
    assert not Customer.objects.exists()


def test_an_explicit_type_makes_a_near_miss_header_a_custom_field(merchant):
    report = import_text(merchant, "firstname,first_name:string\nAda,Augusta\n")

    assert report.created == 1
    assert list(CustomField.objects.values_list("name", "value")) == [("first_name", "Augusta")]


def test_an_empty_file_is_reported(merchant):
    report = import_text(merchant, "")

    assert report.created == 0
    assert (report.fatal.line, report.fatal.errors[0]["code"]) == (1, "empty_file")


def test_each_imported_customer_gets_the_event_deliveries_and_audit_entry_a_create_writes(merchant):
    WebhookEndpoint.objects.create(
        merchant=merchant, url="https://hooks.example.com/a", enabled_events=["customer.created"], secret="s"
    )
    WebhookEndpoint.objects.create(
        merchant=merchant, url="https://hooks.example.com/b", enabled_events=["customer.deleted"], secret="s"
    )

    import_text(merchant, "firstname,email,vip:boolean\nAda,ada@example.com,true\nGrace,,\n")

    ada = Customer.objects.get(firstname="Ada")
    event = CustomerEvent.objects.get(customer_id=ada.customer_id)
    assert event.type == "customer.created"
    assert event.merchant_id == merchant.pk
    assert event.payload == json.loads(json.dumps(customer_as_dict(ada)))
    destinations = sorted(
        (d.destination, d.endpoint.url if d.endpoint else None, d.status) for d in event.deliveries.all()
    )
    assert destinations == [("gateway", None, "pending"), ("webhook", "https://hooks.example.com/a", "pending")]
    audit = AuditEntry.objects.get(customer_id=ada.customer_id)
    assert (audit.action, audit.door, audit.actor) == ("created", "cli", "import_customers:tester")
    assert audit.changed_fields == ["firstname", "email", "options.custom_fields.vip"]
    assert (CustomerEvent.objects.count(), AuditEntry.objects.count()) == (2, 2)
    assert EventDelivery.objects.count() == 4  # gateway + subscribed webhook, for each customer


def test_events_of_one_import_are_ordered_like_the_file(merchant):
    import_text(merchant, "firstname\n" + "".join(f"row{i}\n" for i in range(5)))

    names = [event.payload["firstname"] for event in CustomerEvent.objects.order_by("id")]
    assert names == [f"row{i}" for i in range(5)]


def test_rows_are_written_in_batches_and_progress_is_reported(merchant, monkeypatch):
    monkeypatch.setattr("customers.imports.BATCH_SIZE", 2)
    seen = []

    report = import_text(
        merchant, "firstname\n" + "".join(f"row{i}\n" for i in range(5)), progress=lambda r: seen.append(r.rows_read)
    )

    assert report.created == 5
    assert seen[-1] == 5
    assert seen == sorted(seen)
    assert Customer.objects.filter(merchant=merchant).count() == 5


def test_progress_is_reported_when_the_row_ending_a_batch_is_bad(merchant, monkeypatch):
    monkeypatch.setattr("customers.imports.BATCH_SIZE", 2)
    seen = []

    # Rows 2 and 4 are bad: one has no name at all, the other too many cells.
    report = import_text(
        merchant, 'firstname\nrow0\n""\nrow2\na,b\nrow4\n', progress=lambda r: seen.append(r.rows_read)
    )

    assert (report.created, report.failed) == (3, 2)
    assert seen == [2, 4, 5]


def test_only_the_given_merchant_gets_the_customers(merchant, other_merchant):
    import_text(merchant, "firstname\nAda\n")

    assert Customer.objects.filter(merchant=other_merchant).count() == 0
    assert Customer.objects.filter(merchant=merchant).count() == 1


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("Ada,ada@@example.com", "email"),
        ("x" * 101 + ",", "firstname"),
        ("Ada,\x00", "email"),
    ],
)
def test_a_row_fails_exactly_when_the_api_would_refuse_the_same_customer(merchant, api_client, row, field):
    first, email = row.split(",")
    api = api_client.post("/api/v1/customers", {"firstname": first, "email": email}, format="json")

    report = import_text(merchant, f"firstname,email\n{row}\n")

    assert api.status_code == 400
    api_fields = {e["field"] for e in api.json()["errors"]}
    assert {e["field"] for e in report.errors[0].errors} == api_fields == {field}
    assert report.created == 0


def test_the_command_imports_and_prints_a_summary_and_the_bad_rows(merchant, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("firstname,email\nAda,ada@example.com\nBad,nope\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(SystemExit) as exit_info:
        call_command("import_customers", str(path), "--merchant", str(merchant.pk), stdout=out, stderr=err)

    assert exit_info.value.code == 1
    assert "Imported 1 customers" in out.getvalue()
    assert "1 bad rows" in out.getvalue()
    assert "line 3: email: Must be a valid email address. [invalid_email]" in out.getvalue()
    # Progress goes to stderr, as plain lines when it is not a terminal.
    assert "2 rows done (100% of the file), 1 refused, " in err.getvalue()
    assert " rows/s, 0 s left" in err.getvalue()
    assert "\r" not in err.getvalue()
    audit = AuditEntry.objects.get()
    assert (audit.door, audit.actor.startswith("import_customers:")) == ("cli", True)


def test_the_command_exits_0_when_every_row_imported_and_reads_a_utf8_bom(merchant, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes("\ufefffirstname,company\nZoë,Café Ltd\n".encode())

    call_command(
        "import_customers", str(path), "--merchant", str(merchant.pk), stdout=io.StringIO(), stderr=io.StringIO()
    )

    assert Customer.objects.get().company == "Café Ltd"


def test_the_command_reports_a_file_that_is_not_utf8(merchant, tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(b"firstname\nAda\n" + "Zoë\n".encode("latin-1"))
    out = io.StringIO()

    with pytest.raises(SystemExit):
        call_command("import_customers", str(path), "--merchant", str(merchant.pk), stdout=out, stderr=io.StringIO())

    assert "not valid UTF-8" in out.getvalue()


def test_the_command_refuses_an_unknown_merchant(db, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "customers.csv"
    path.write_text("firstname\nAda\n")

    with pytest.raises(CommandError, match="No merchant with id"):
        call_command("import_customers", str(path), "--merchant", "00000000-0000-0000-0000-000000000000")


@pytest.mark.django_db(transaction=True)
def test_an_import_outside_a_transaction_commits_every_batch_with_its_events(monkeypatch):
    # Outside a transaction (the command, the portal's background job) PostgreSQL batches
    # are written by a second thread on its own connection while the next batch is validated.
    from tests.factories import MerchantFactory

    monkeypatch.setattr("customers.imports.BATCH_SIZE", 3)
    merchant = MerchantFactory()

    report = import_text(merchant, "firstname,n:integer\n" + "".join(f"row{i},{i}\n" for i in range(10)) + "Bad,x\n")

    assert (report.created, report.failed) == (10, 1)
    assert report.errors[0].line == 12
    assert Customer.objects.filter(merchant=merchant).count() == 10
    assert CustomField.objects.filter(customer__merchant=merchant).count() == 10
    events = CustomerEvent.objects.filter(merchant=merchant).order_by("id")
    assert [e.payload["firstname"] for e in events] == [f"row{i}" for i in range(10)]
    assert EventDelivery.objects.filter(event__merchant=merchant).count() == 10
    assert AuditEntry.objects.filter(merchant=merchant).count() == 10


@pytest.mark.postgres_only
def test_a_large_import_refreshes_the_planners_statistics(merchant, monkeypatch):
    # Without it a fresh bulk load is planned with the old row counts (a sequential scan of
    # every custom field to prefetch one page), until autovacuum gets to the table.
    from django.db import connection

    monkeypatch.setattr("customers.imports.ANALYZE_AFTER", 3)

    import_text(merchant, "firstname,tier\nAda,gold\nGrace,silver\nAlan,bronze\n")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class WHERE relname IN ('customers_customer', 'customers_customfield')"
        )
        assert dict(cursor.fetchall()) == {"customers_customer": 3, "customers_customfield": 3}


# --- resumable imports (the portal's job: customers/import_jobs.py) ---------------------------------------------


class Killed(Exception):
    pass


def test_an_import_stopped_between_batches_resumes_after_its_checkpoint_exactly_once(merchant, monkeypatch):
    monkeypatch.setattr("customers.imports.BATCH_SIZE", 2)
    text = "firstname,points:integer\n" + "".join(f"row{i},{'x' if i == 4 else i}\n" for i in range(7))
    checkpoints = []

    def stop_after_two_batches(report):
        if report.rows_read == 4:
            raise Killed  # after the second batch committed: the worker dies there

    with pytest.raises(Killed):
        import_text(
            merchant,
            text,
            checkpoint=lambda report: checkpoints.append(copy.deepcopy(report)),
            progress=stop_after_two_batches,
        )
    assert [c.rows_read for c in checkpoints] == [2, 4]
    assert Customer.objects.count() == 4

    report = import_text(merchant, text, resume=checkpoints[-1], checkpoint=checkpoints.append)

    assert (report.created, report.failed, report.rows_read) == (6, 1, 7)
    assert [row.line for row in report.errors] == [6]  # row4: its line in the file, counted from the header
    assert sorted(Customer.objects.values_list("firstname", flat=True)) == [f"row{i}" for i in range(7) if i != 4]
    assert CustomerEvent.objects.count() == 6


def test_a_batch_and_its_checkpoint_commit_together(merchant, monkeypatch):
    """A checkpoint that fails takes its batch's customers with it: nothing is committed without its checkpoint."""
    monkeypatch.setattr("customers.imports.BATCH_SIZE", 2)

    def checkpoint(report):
        if report.rows_read == 4:
            raise Killed

    with pytest.raises(Killed):
        import_text(merchant, "firstname\n" + "".join(f"row{i}\n" for i in range(5)), checkpoint=checkpoint)

    assert sorted(Customer.objects.values_list("firstname", flat=True)) == ["row0", "row1"]
