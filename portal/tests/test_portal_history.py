"""A customer's history in words: who (by name), through which door, which fields; names read at once."""

import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditEntry
from audit.selectors import customer_history
from audit.services import Actor
from customers.services import customer_create, customer_replace, customer_update
from merchants.services import oauth_client_create, oauth_client_revoke
from tests.factories import UserFactory
from tests.form_helpers import upload
from tests.jobs import run_jobs


def sentences(client, customer) -> list[str]:
    response = client.get(f"/portal/customers/{customer.pk}/")
    return [f"{line.sentence}: {', '.join(line.changed_fields)}" for line in response.context["history"]]


@pytest.fixture
def ada_admin():
    return UserFactory(username="ada@demo.example", first_name="Ada", last_name="Admin")


def test_the_history_names_the_api_client_and_the_person(portal_admin_client, merchant, ada_admin):
    client = oauth_client_create(merchant=merchant, name="Demo client").client
    customer = customer_create(merchant=merchant, data={"email": "a@example.com"}, actor=Actor.for_client(client))
    customer_update(
        customer=customer,
        data={"email": "b@example.com", "options": {"custom_fields": [{"name": "loyalty_tier", "value": "3"}]}},
        actor=Actor.for_user(ada_admin, AuditEntry.Door.PORTAL),
    )

    shown = sentences(portal_admin_client, customer)

    assert shown == [
        "Changed by Ada Admin in the portal: email, loyalty_tier",
        "Created through the API by client Demo client: email",
    ]
    html = portal_admin_client.get(f"/portal/customers/{customer.pk}/").content.decode()
    assert "Changed by Ada Admin in the portal: email, loyalty_tier" in html
    assert client.client_id not in html
    assert "user:" not in html
    assert "options.custom_fields" not in html


def test_imports_admin_and_command_line_changes_read_as_such(portal_admin_client, merchant, ada_admin):
    customer = customer_create(merchant=merchant, data={"firstname": "A"}, actor=Actor.for_import(ada_admin))
    customer_replace(customer=customer, data={"firstname": "B"}, actor=Actor.for_user(ada_admin, AuditEntry.Door.ADMIN))
    customer_replace(
        customer=customer, data={"firstname": "C"}, actor=Actor(AuditEntry.Door.CLI, "import_customers:ops")
    )

    assert sentences(portal_admin_client, customer) == [
        "Changed by an import from the command line by ops: first name",
        "Changed by Ada Admin in Django admin: first name",
        "Imported by Ada Admin in the portal: first name",
    ]


def test_a_portal_import_reads_as_imported_by_the_person_who_uploaded_it(
    portal_admin_client, merchant, django_capture_on_commit_callbacks
):
    user = portal_admin_client.user
    user.first_name, user.last_name = "Ada", "Admin"
    user.save()
    with django_capture_on_commit_callbacks(execute=True):
        upload(portal_admin_client, "firstname,email\r\nGrace,grace@example.com\r\n")
    run_jobs()

    customer = merchant.customers.get(email="grace@example.com")
    assert sentences(portal_admin_client, customer) == ["Imported by Ada Admin in the portal: first name, email"]


def test_a_revoked_client_and_a_deleted_person_are_still_described(portal_admin_client, merchant):
    client = oauth_client_create(merchant=merchant, name="Old client").client
    person = UserFactory(username="gone@demo.example")
    customer = customer_create(merchant=merchant, data={"email": "a@example.com"}, actor=Actor.for_client(client))
    customer_replace(customer=customer, data={"company": "Co"}, actor=Actor.for_user(person, AuditEntry.Door.PORTAL))
    oauth_client_revoke(merchant=merchant, client=client)
    get_user_model().objects.filter(pk=person.pk).delete()

    assert sentences(portal_admin_client, customer) == [
        "Changed by gone@demo.example (no longer a user) in the portal: email, company",
        "Created through the API by a revoked API client: email",
    ]


def test_a_person_without_a_name_is_shown_by_their_email(portal_admin_client, merchant):
    person = UserFactory(username="plain@demo.example")
    customer = customer_create(
        merchant=merchant, data={"email": "a@example.com"}, actor=Actor.for_user(person, AuditEntry.Door.PORTAL)
    )

    assert sentences(portal_admin_client, customer) == ["Created by plain@demo.example in the portal: email"]


def test_names_are_read_in_three_queries_however_many_entries_and_actors(merchant, django_assert_num_queries):
    clients = [oauth_client_create(merchant=merchant, name=f"Client {n}").client for n in range(3)]
    people = [UserFactory(first_name=f"Person{n}") for n in range(3)]
    customer = customer_create(merchant=merchant, data={"firstname": "A"}, actor=Actor.for_client(clients[0]))
    for n in range(12):
        actor = Actor.for_client(clients[n % 3]) if n % 2 else Actor.for_user(people[n % 3], AuditEntry.Door.PORTAL)
        customer_replace(customer=customer, data={"firstname": f"A{n}"}, actor=actor)

    with django_assert_num_queries(3):  # the entries, their clients, their people
        history = customer_history(merchant=merchant, customer_id=customer.pk)

    assert len(history) == 13
    assert {line.sentence.split(" by ")[1] for line in history} == {
        "client Client 0",
        "client Client 1",
        "client Client 2",
        "Person0 in the portal",
        "Person1 in the portal",
        "Person2 in the portal",
    }


def test_another_merchants_client_of_the_same_id_is_never_named(portal_admin_client, merchant, other_merchant):
    theirs = oauth_client_create(merchant=other_merchant, name="Their secret client").client
    customer = customer_create(merchant=merchant, data={"email": "a@example.com"}, actor=Actor.for_client(theirs))

    assert sentences(portal_admin_client, customer) == ["Created through the API by a revoked API client: email"]


def test_the_detail_page_with_its_history_costs_a_fixed_number_of_queries(
    portal_admin_client, merchant, django_assert_num_queries
):
    client = oauth_client_create(merchant=merchant, name="Demo client").client
    customer = customer_create(merchant=merchant, data={"email": "a@example.com"}, actor=Actor.for_client(client))
    for n in range(5):
        customer_replace(customer=customer, data={"email": f"{n}@example.com"}, actor=Actor.for_client(client))
    portal_admin_client.get(f"/portal/customers/{customer.pk}/")

    # session, user, memberships, the customer and its custom fields, the history: entries, their clients
    with django_assert_num_queries(7):
        portal_admin_client.get(f"/portal/customers/{customer.pk}/")


@pytest.mark.parametrize("changes", [1, 10])
def test_django_admins_audit_list_says_who_in_words_in_a_fixed_number_of_queries(
    admin_site_client, merchant, other_merchant, changes, django_assert_num_queries
):
    client = oauth_client_create(merchant=merchant, name="Demo client").client
    person = UserFactory(first_name="Ada", last_name="Admin")
    customer = customer_create(merchant=merchant, data={"firstname": "A"}, actor=Actor.for_client(client))
    for n in range(changes):
        customer_replace(
            customer=customer, data={"firstname": f"A{n}"}, actor=Actor.for_user(person, AuditEntry.Door.PORTAL)
        )
    customer_create(merchant=other_merchant, data={"firstname": "B"}, actor=Actor.for_client(client))
    admin_site_client.get("/admin/audit/auditentry/")

    # session, user, the merchant filter, the capped count, the entries, their clients, their people, the action filter
    with django_assert_num_queries(8):
        html = admin_site_client.get("/admin/audit/auditentry/").content.decode()

    assert "Created through the API by client Demo client" in html
    assert "Changed by Ada Admin in the portal" in html
    assert "Created through the API by a revoked API client" in html  # not that merchant's client
    assert f"client:{client.client_id}" not in html


def test_address_parts_and_the_phone_read_as_words_in_the_history(portal_admin_client, merchant, ada_admin):
    customer = customer_create(
        merchant=merchant, data={"email": "a@example.com"}, actor=Actor.for_user(ada_admin, AuditEntry.Door.PORTAL)
    )
    customer_update(
        customer=customer,
        data={"phone": "+442079460958", "address": {"line1": "12 St James's Square", "postal_code": "SW1Y 4LB"}},
        actor=Actor.for_user(ada_admin, AuditEntry.Door.PORTAL),
    )
    assert sentences(portal_admin_client, customer)[0] == (
        "Changed by Ada Admin in the portal: phone, address line 1, postal code"
    )
