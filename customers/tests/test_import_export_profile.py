"""Phone, address and reference in the CSV import and export: the columns, updates by reference, a round trip."""

import io

from audit.models import AuditEntry
from audit.services import Actor
from customers.exports import customer_export_csv
from customers.imports import customer_import_csv
from customers.models import Customer
from customers.representation import customer_as_dict
from customers.services import customer_create
from events.models import CustomerEvent

ACTOR = Actor(AuditEntry.Door.CLI, "import_customers:tester")
HEADER = (
    "firstname,phone,address_line1,address_line2,address_city,address_region,address_postal_code,"
    "address_country,reference\n"
)
FILE = (
    HEADER + "Ada,020 7183 8750,10 Downing Street,,London,,sw1a 2aa,GBR,CUST-1\n"
    "Grace,+1 650 253 0000,1600 Amphitheatre Pkwy,Bldg 4,Mountain View,California,94043,USA,CUST-2\n"
    "Alan,,,,,,,,\n"
)


def import_text(merchant, text: str):
    return customer_import_csv(merchant=merchant, file=io.StringIO(text), actor=ACTOR)


def test_the_profile_columns_import_through_the_api_rules(merchant):
    report = import_text(merchant, FILE)

    assert (report.created, report.updated, report.failed) == (3, 0, 0)
    ada = customer_as_dict(Customer.objects.get(firstname="Ada"))
    assert ada["phone"] == "+442071838750"
    assert ada["address"] == {
        "line1": "10 Downing Street",
        "line2": None,
        "city": "London",
        "region": None,
        "postal_code": "SW1A 2AA",
    }
    assert ada["reference"] == "CUST-1"
    grace = Customer.objects.get(firstname="Grace")
    assert (grace.address_region, grace.address_line2, grace.phone) == ("CA", "Bldg 4", "+16502530000")
    alan = customer_as_dict(Customer.objects.get(firstname="Alan"))
    assert (alan["phone"], alan["address"], alan["reference"]) == (None, None, None)


def test_importing_the_same_file_twice_updates_by_reference_and_creates_nothing_twice(merchant):
    import_text(merchant, FILE)

    again = import_text(merchant, FILE.replace("Ada,", "Augusta,"))

    # Alan has no reference: he is a new customer each time, as duplicates are never merged.
    assert (again.created, again.updated, again.failed) == (1, 2, 0)
    assert Customer.objects.filter(reference="CUST-1").get().firstname == "Augusta"
    assert Customer.objects.filter(reference__isnull=False).count() == 2
    assert CustomerEvent.objects.filter(type="customer.updated").count() == 1  # Grace did not change


def test_a_reference_of_another_merchant_creates_a_customer_of_this_one(merchant, other_merchant):
    customer_create(merchant=other_merchant, data={"firstname": "Other", "reference": "CUST-1"})

    report = import_text(merchant, FILE)

    assert report.created == 3
    assert Customer.objects.filter(reference="CUST-1").count() == 2


def test_a_reference_twice_in_one_file_is_a_refused_row(merchant):
    report = import_text(merchant, "firstname,reference\nAda,R-1\nBob,R-1\n")

    assert (report.created, report.failed) == (1, 1)
    [row] = report.errors
    assert row.line == 3
    assert row.errors[0]["field"] == "reference"
    assert "line 2" in row.errors[0]["message"]


def test_bad_profile_cells_are_reported_by_their_column(merchant):
    report = import_text(
        merchant,
        HEADER + "Ada,020 7183 8750,,,,,,,\nBob,+44 20 7183 8750,1 Road,,London,,12345,GBR,\nCy,,,,,,,,has space\n",
    )

    assert report.created == 0
    fields = {row.line: [e["field"] for e in row.errors] for row in report.errors}
    assert fields == {2: ["phone"], 3: ["address_postal_code"], 4: ["reference"]}


def test_the_export_has_the_profile_columns_and_re_imports_as_updates(merchant):
    import_text(merchant, FILE)

    exported = "".join(customer_export_csv(merchant=merchant, oldest_first=True))

    header = exported.splitlines()[0]
    assert header == (
        "customer_id,firstname,lastname,email,company,phone,address_line1,address_line2,address_city,"
        "address_region,address_postal_code,address_country,reference,created_at,updated_at"
    )
    assert "'+442071838750,10 Downing Street,,London,,SW1A 2AA,GBR,CUST-1" in exported
    before = {c.pk: customer_as_dict(c) for c in Customer.objects.all()}

    report = import_text(merchant, exported)

    assert (report.created, report.updated, report.failed) == (0, 3, 0)
    assert {c.pk: customer_as_dict(c) for c in Customer.objects.all()} == before
