"""The keys the portal's list sorts by (customers.search.customer_sort_keys), kept by the services, and the
selector's pages in both directions; the API's cursors are what they were."""

import base64
import json

import pytest
from django.test.utils import CaptureQueriesContext

from customers.models import Customer
from customers.search import customer_sort_keys
from customers.selectors import SORTS, CustomerFilters, customer_list, customers_of
from customers.services import customer_create, customer_update
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("fields", "keys"),
    [
        (
            {"firstname": "Ada", "lastname": "Lovelace", "email": "Ada@Example.com"},
            ("lovelace ada", "0ada@example.com"),
        ),
        ({"firstname": "ÉMILE", "lastname": "Müller"}, ("muller emile", "1")),
        ({"lastname": "Smith"}, ("smith", "1")),
        ({"firstname": "Cy", "email": "cy@example.com"}, ("cy", "0cy@example.com")),
        ({"company": "Straße AG", "email": "info@example.com"}, ("strasse ag", "0info@example.com")),
        ({"email": "Solo@Example.com"}, ("solo@example.com", "0solo@example.com")),
    ],
)
def test_sort_keys_are_the_folded_last_then_first_name_else_the_company_else_the_email(fields, keys):
    values = {"firstname": None, "lastname": None, "email": None, "company": None, **fields}
    assert customer_sort_keys(**values) == keys


def test_a_customer_without_an_email_sorts_after_every_email_whatever_its_first_character():
    assert customer_sort_keys(firstname=None, lastname=None, email="~~~@example.com", company=None)[1] < "1"
    assert customer_sort_keys(firstname=None, lastname=None, email="zzz@example.com", company=None)[1] < "1"


def test_the_services_keep_the_sort_keys_on_create_and_on_every_change(merchant):
    customer = customer_create(merchant=merchant, data={"company": "Acme"})
    assert (Customer.objects.get().name_key, Customer.objects.get().email_key) == ("acme", "1")

    customer_update(customer=customer, data={"lastname": "Zed", "email": "z@example.com"})

    stored = Customer.objects.get()
    assert (stored.name_key, stored.email_key) == ("zed", "0z@example.com")


def test_the_apis_cursor_is_unchanged_a_created_at_and_an_id(merchant):
    for _ in range(3):
        CustomerFactory(merchant=merchant)

    page = customer_list(merchant=merchant, limit=2)

    created, pk = json.loads(base64.urlsafe_b64decode(page.next_cursor + "=="))
    assert pk == str(page.customers[-1].pk)
    assert created == page.customers[-1].created_at.isoformat()
    assert page.previous_cursor is None


@pytest.mark.parametrize("sort", list(SORTS))
def test_before_a_pages_first_row_is_the_page_before_it_in_every_sort(merchant, sort):
    for index in range(9):
        CustomerFactory(
            merchant=merchant, lastname=["Smith", None, "Jones"][index % 3], email=None if index % 2 else "a@x.org"
        )
    first = customer_list(merchant=merchant, limit=3, sort=sort)
    second = customer_list(merchant=merchant, limit=3, sort=sort, cursor=first.next_cursor)
    third = customer_list(merchant=merchant, limit=3, sort=sort, cursor=second.next_cursor)

    assert (
        customer_list(merchant=merchant, limit=3, sort=sort, before=third.previous_cursor).customers == second.customers
    )
    back = customer_list(merchant=merchant, limit=3, sort=sort, before=second.previous_cursor)
    assert back.customers == first.customers
    assert back.previous_cursor is None
    assert not third.has_more


def test_selected_ids_are_only_the_merchants_own_and_malformed_ones_are_ignored(merchant, other_merchant):
    mine = CustomerFactory(merchant=merchant)
    theirs = CustomerFactory(merchant=other_merchant)

    assert customers_of(merchant=merchant, customer_ids=[str(mine.pk), str(theirs.pk), "nope", ""]) == [mine]
    assert customers_of(merchant=merchant, customer_ids=[]) == []
    assert list(customer_list(merchant=merchant, filters=CustomerFilters(customer_ids=(theirs.pk,))).customers) == []


@pytest.mark.postgres_only
@pytest.mark.parametrize("sort", ["name", "email", "oldest"])
@pytest.mark.parametrize("backwards", [False, True], ids=["next", "previous"])
def test_postgresql_reads_a_page_after_a_cursor_as_one_range_of_the_sorts_index(merchant, sort, backwards):
    from django.db import connection

    from core.scoping import merchant_scope

    CustomerFactory.create_batch(3, merchant=merchant, lastname="Tied", email=None)
    with merchant_scope(merchant):
        first = customer_list(merchant=merchant, sort=sort, limit=2)
        page_of = {"before": first.next_cursor} if backwards else {"cursor": first.next_cursor}
        with connection.cursor() as cursor:
            # Whatever the table's statistics (the tests before this one shape them), only the index that has
            # the sort's order is left to choose: the question is whether the row value bounds its scan.
            for plan_kind in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
                cursor.execute(f"SET LOCAL {plan_kind} = off")
            with CaptureQueriesContext(connection) as captured:
                customer_list(merchant=merchant, sort=sort, limit=2, **page_of)
            page_query = next(q["sql"] for q in captured.captured_queries if "customers_customer" in q["sql"])
            cursor.execute(f"EXPLAIN {page_query}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
    # The row value is in the index condition: the scan starts at the cursor, not at the merchant's first row.
    assert "Index Cond" in plan, plan
    assert "ROW(" in plan.split("Index Cond", 1)[1].split("\n", 1)[0], plan
