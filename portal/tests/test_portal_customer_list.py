"""The customer list: previous and next pages, page sizes, sorts (with ties and missing values), the total,
how a customer without a name is listed, and the bulk export and delete of selected rows."""

import csv
import datetime
import io

import pytest
from django.utils import timezone

from customers.models import Customer
from customers.selectors import CustomerTotal
from portal.views.customers import total_in_words
from tests.factories import CustomerFactory
from tests.jobs import run_jobs

LIST = "/portal/customers/"


def make_customers(merchant, count, **fields):
    """`count` customers of `merchant`, one second apart, oldest first, named Person000, Person001, ..."""
    start = timezone.now() - datetime.timedelta(days=1)
    customers = []
    for index in range(count):
        customer = CustomerFactory(merchant=merchant, firstname=f"Person{index:03d}", **{"lastname": None, **fields})
        Customer.objects.filter(pk=customer.pk).update(created_at=start + datetime.timedelta(seconds=index))
        customers.append(customer)
    return customers


def shown(response) -> list[str]:
    return [customer.display_name for customer, _country in response.context["rows"]]


def follow(client, response, link: str):
    query = response.context[link]
    assert query, f"the page has no {link}"
    return client.get(f"{LIST}?{query}")


def walk_forward(client, url: str) -> list[list[str]]:
    pages, response = [], client.get(url)
    while True:
        pages.append(shown(response))
        if not response.context["next_page_query"]:
            return pages
        response = follow(client, response, "next_page_query")


# --- previous and next ---------------------------------------------------------------------------------------


def test_previous_from_page_three_shows_page_two_then_page_one(portal_staff_client, merchant):
    make_customers(merchant, 70)
    first = portal_staff_client.get(LIST)
    second = follow(portal_staff_client, first, "next_page_query")
    third = follow(portal_staff_client, second, "next_page_query")
    assert shown(third) == [f"Person{i:03d}" for i in range(19, -1, -1)]

    back_to_second = follow(portal_staff_client, third, "previous_page_query")
    back_to_first = follow(portal_staff_client, back_to_second, "previous_page_query")

    assert shown(back_to_second) == shown(second)
    assert shown(back_to_first) == shown(first)
    assert back_to_first.context["previous_page_query"] is None
    assert back_to_first.context["is_first_page"]
    assert "Previous page" not in back_to_first.content.decode()
    assert 'rel="prev"' in back_to_second.content.decode()
    # Previous and next of the same page lead to the same pages whichever way it was reached.
    assert shown(follow(portal_staff_client, back_to_second, "next_page_query")) == shown(third)


def test_the_first_page_has_no_previous_link(portal_staff_client, merchant):
    make_customers(merchant, 30)

    response = portal_staff_client.get(LIST)

    assert response.context["previous_page_query"] is None
    assert "Previous page" not in response.content.decode()


def test_previous_to_the_start_shows_a_full_first_page_after_customers_were_added(portal_staff_client, merchant):
    customers = make_customers(merchant, 60)
    second = follow(portal_staff_client, portal_staff_client.get(LIST), "next_page_query")
    Customer.objects.filter(pk=customers[-1].pk).delete()  # one fewer before page two: a short page would follow

    first = follow(portal_staff_client, second, "previous_page_query")

    assert len(shown(first)) == 25
    assert first.context["is_first_page"]


def test_a_next_link_past_every_remaining_customer_shows_the_first_page(portal_staff_client, merchant):
    customers = make_customers(merchant, 30)
    second_link = portal_staff_client.get(LIST).context["next_page_query"]
    Customer.objects.filter(pk__in=[c.pk for c in customers[:5]]).delete()  # all of page two

    response = portal_staff_client.get(f"{LIST}?{second_link}")

    assert len(shown(response)) == 25
    assert response.context["is_first_page"]


def test_a_forged_previous_link_shows_the_first_page_with_a_message(portal_staff_client, merchant):
    make_customers(merchant, 3)

    response = portal_staff_client.get(f"{LIST}?before=not-a-cursor")

    assert response.status_code == 200
    assert shown(response) == ["Person002", "Person001", "Person000"]
    assert "no longer valid" in response.content.decode()


def test_a_cursor_of_another_sort_is_refused_not_misread(portal_staff_client, merchant):
    make_customers(merchant, 30)
    newest = portal_staff_client.get(LIST)

    response = portal_staff_client.get(f"{LIST}?sort=name&{newest.context['next_page_query']}")

    assert response.status_code == 200
    assert "no longer valid" in response.content.decode()
    assert response.context["is_first_page"]


# --- page size -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [25, 50, 100])
def test_each_page_size_shows_that_many_and_keeps_it_in_the_page_links(portal_staff_client, merchant, size):
    make_customers(merchant, 120)

    response = portal_staff_client.get(f"{LIST}?size={size}")
    following = follow(portal_staff_client, response, "next_page_query")

    assert len(shown(response)) == size
    assert f"size={size}" in response.context["next_page_query"]
    assert len(shown(following)) == min(size, 120 - size)
    assert f"size={size}" in following.context["previous_page_query"]
    assert f'<option value="{size}" selected>' in response.content.decode()


@pytest.mark.parametrize("size", ["7", "1000", "abc", "", "-25", "25.0", "２５"])
def test_an_invalid_page_size_falls_back_to_the_default(portal_staff_client, merchant, size):
    make_customers(merchant, 30)

    response = portal_staff_client.get(LIST, {"size": size})

    assert response.status_code == 200
    assert len(shown(response)) == 25


# --- sorts ---------------------------------------------------------------------------------------------------


@pytest.fixture
def odd_customers(merchant):
    """Customers with tied last names, tied emails, and no name (a company only, an email only)."""
    people = [
        dict(firstname="Zoe", lastname="Smith", email="zoe@example.com"),
        dict(firstname="Adam", lastname="Smith", email="adam@example.com"),
        dict(firstname="Adam", lastname="Smith", email="same@example.com"),
        dict(firstname="Bea", lastname="Smith", email="same@example.com"),
        dict(firstname="Émile", lastname="Ångström", email=None),
        dict(firstname=None, lastname=None, email=None, company="Acme Ltd"),
        dict(firstname=None, lastname=None, email="nobody@example.com", company=None),
        dict(firstname="Cy", lastname=None, email="cy@example.com"),
        dict(firstname=None, lastname="Brown", email=None, company="Brown & Co"),
    ]
    return [CustomerFactory(merchant=merchant, **person) for person in people]


def test_sorting_by_name_orders_by_last_name_then_first_name_and_the_company_or_email_of_the_nameless(
    portal_staff_client, odd_customers
):
    pages = walk_forward(portal_staff_client, f"{LIST}?sort=name&size=25")

    assert pages == [
        ["Acme Ltd", "Émile Ångström", "Brown", "Cy", "nobody@example.com", "Adam Smith", "Adam Smith", "Bea Smith",
         "Zoe Smith"]
    ]  # fmt: skip


def test_sorting_by_email_puts_customers_without_an_email_last(portal_staff_client, odd_customers):
    response = portal_staff_client.get(f"{LIST}?sort=email")

    emails = [customer.email for customer, _country in response.context["rows"]]
    assert emails[:6] == [
        "adam@example.com",
        "cy@example.com",
        "nobody@example.com",
        "same@example.com",
        "same@example.com",
        "zoe@example.com",
    ]
    assert emails[6:] == [None, None, None]


@pytest.mark.parametrize("search", ["", "&q=company"], ids=["all", "searched"])
@pytest.mark.parametrize("sort", ["newest", "oldest", "name", "email"])
def test_every_sort_pages_through_ties_and_missing_values_forwards_and_back_showing_each_customer_once(
    portal_staff_client, merchant, sort, search
):
    # Searched, the matches are few (counted exactly): sorted after the search, not by walking the sort's index.
    # 3 pages of 25 where the sort keys tie in runs that cross page boundaries, and some have no email or name.
    start = timezone.now() - datetime.timedelta(days=1)
    for index in range(70):
        person = {
            "firstname": f"P{index:02d}" if index % 7 else None,
            "lastname": ["Smith", "Jones", None][index % 3] if index % 7 else None,
            "email": None if index % 4 == 0 else f"shared{index % 5}@example.com",
            "company": f"Company {index % 2}",
        }
        customer = CustomerFactory(merchant=merchant, **person)
        # Ties in created_at too: five customers per second.
        Customer.objects.filter(pk=customer.pk).update(created_at=start + datetime.timedelta(seconds=index // 5))

    pages = walk_forward(portal_staff_client, f"{LIST}?sort={sort}{search}")
    ids = [str(c.customer_id) for c in Customer.objects.filter(merchant=merchant).order_by(*SORT_ORDERS[sort])]

    forward_ids = []
    response = portal_staff_client.get(f"{LIST}?sort={sort}{search}")
    forwards = [response]
    while response.context["next_page_query"]:
        response = follow(portal_staff_client, response, "next_page_query")
        forwards.append(response)
    for page in forwards:
        forward_ids += [str(c.customer_id) for c, _ in page.context["rows"]]
    assert [len(page) for page in pages] == [25, 25, 20]
    assert forward_ids == ids

    backwards = [forwards[-1]]
    while backwards[-1].context["previous_page_query"]:
        backwards.append(follow(portal_staff_client, backwards[-1], "previous_page_query"))
    assert [shown(page) for page in reversed(backwards)] == pages


SORT_ORDERS = {
    "newest": ("-created_at", "-customer_id"),
    "oldest": ("created_at", "customer_id"),
    "name": ("name_key", "customer_id"),
    "email": ("email_key", "customer_id"),
}


def test_search_and_filters_combine_with_a_sort_and_pages(portal_staff_client, merchant, other_merchant):
    for index in range(30):
        CustomerFactory(
            merchant=merchant,
            firstname=f"Ann{index:02d}",
            lastname="Baker",
            email=f"ann{index:02d}@example.com",
            address_country="GBR" if index % 2 else "FRA",
        )
    CustomerFactory(merchant=merchant, firstname="Bob", lastname="Baker", address_country="GBR")
    CustomerFactory(merchant=other_merchant, firstname="Ann99", lastname="Baker", address_country="GBR")

    first = portal_staff_client.get(LIST, {"q": "ann", "country": "GBR", "sort": "email", "size": "25"})
    assert shown(first) == [f"Ann{index:02d} Baker" for index in range(1, 30, 2)]
    assert "15 customers match these filters" in first.content.decode()

    pages = walk_forward(portal_staff_client, f"{LIST}?q=ann&country=GBR&sort=name&size=25")
    assert pages == [[f"Ann{index:02d} Baker" for index in range(1, 30, 2)]]
    small = portal_staff_client.get(LIST, {"q": "ann", "country": "FRA", "sort": "name", "size": "25"})
    assert "q=ann" in small.context["first_page_query"]
    assert "sort=name" in small.context["first_page_query"]


def test_an_unknown_sort_is_an_error_beside_the_sort_input_not_a_500(portal_staff_client, merchant):
    make_customers(merchant, 2)

    response = portal_staff_client.get(LIST, {"sort": "'; DROP TABLE"})

    assert response.status_code == 200
    assert response.context["filter_form"].errors["sort"]


# --- total ---------------------------------------------------------------------------------------------------


def test_the_total_is_an_exact_count_in_words_for_a_small_merchant(portal_staff_client, merchant, other_merchant):
    make_customers(merchant, 23)
    make_customers(other_merchant, 5)

    assert "23 customers" in portal_staff_client.get(LIST).content.decode()
    assert "1 customer matches these filters" in portal_staff_client.get(LIST, {"q": "Person007"}).content.decode()


def test_the_total_is_one_capped_count_and_never_a_count_of_every_row(
    portal_staff_client, merchant, django_assert_max_num_queries, monkeypatch
):
    monkeypatch.setattr("customers.selectors.EXACT_COUNT_LIMIT", 10)
    make_customers(merchant, 30)

    with django_assert_max_num_queries(6) as captured:
        response = portal_staff_client.get(LIST, {"q": "person"})

    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT 11" in counts[0].upper()
    explains = [q["sql"] for q in captured.captured_queries if q["sql"].upper().startswith("EXPLAIN")]
    if merchant_is_on_postgresql():
        assert len(explains) == 1  # the planner's estimate, nothing counted
        assert response.context["total"].startswith(("about", "more than"))
    else:
        assert explains == []
        assert "more than 10,000 customers" in response.content.decode()


def merchant_is_on_postgresql() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


@pytest.mark.parametrize(
    ("total", "words"),
    [
        (CustomerTotal(0, exact=True), "0 customers"),
        (CustomerTotal(1, exact=True), "1 customer"),
        (CustomerTotal(9412, exact=True), "9,412 customers"),
        (CustomerTotal(10_001, exact=False), "more than 10,000 customers"),
        (CustomerTotal(48_213, exact=False), "about 48,000 customers"),
        (CustomerTotal(1_234_567, exact=False), "about 1.2 million customers"),
        (CustomerTotal(3_000_000, exact=False), "about 3 million customers"),
        (CustomerTotal(2_450_000_000, exact=False), "about 2.5 billion customers"),
    ],
)
def test_a_total_reads_as_words(total, words):
    assert total_in_words(total) == words


# --- how a customer is listed --------------------------------------------------------------------------------


def test_a_customer_with_only_a_company_or_only_an_email_is_listed_by_it_not_as_no_name(portal_staff_client, merchant):
    CustomerFactory(merchant=merchant, firstname=None, lastname=None, email=None, company="Acme Ltd")
    CustomerFactory(merchant=merchant, firstname=None, lastname=None, email="solo@example.com", company=None)
    CustomerFactory(merchant=merchant, firstname=None, lastname=None, email="both@example.com", company="Both Inc")

    html = portal_staff_client.get(LIST).content.decode()

    assert "(no name)" not in html
    assert ">Acme Ltd</a>" in html
    assert ">solo@example.com</a>" in html
    assert ">Both Inc</a>" in html


# --- bulk export and delete ----------------------------------------------------------------------------------


def test_export_selected_exports_exactly_the_ticked_customers_and_ignores_another_merchants(
    portal_staff_client, merchant, other_merchant, django_capture_on_commit_callbacks
):
    ada, _bob, cy = make_customers(merchant, 3)
    theirs = CustomerFactory(merchant=other_merchant, firstname="Theirs")

    with django_capture_on_commit_callbacks(execute=True):
        started = portal_staff_client.post(
            "/portal/customers/selected/",
            {"action": "export", "customer_ids": [ada.pk, cy.pk, theirs.pk, "not-an-id"], "sort": "oldest"},
        )
    assert started.status_code == 302
    run_jobs()
    page = portal_staff_client.get(started["Location"])
    download = portal_staff_client.get(page.context["state"]["download_url"])
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))

    assert [row["customer_id"] for row in rows] == [str(ada.pk), str(cy.pk)]


def test_export_selected_with_nothing_of_the_merchants_selected_starts_nothing(portal_staff_client, other_merchant):
    theirs = CustomerFactory(merchant=other_merchant)

    response = portal_staff_client.post(
        "/portal/customers/selected/", {"action": "export", "customer_ids": [theirs.pk]}
    )

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not other_merchant.customer_exports.exists()
    assert not theirs.merchant.customer_exports.exists()


def test_delete_selected_asks_first_listing_what_will_be_deleted(portal_staff_client, merchant, other_merchant):
    ada, bob, cy = make_customers(merchant, 3)
    theirs = CustomerFactory(merchant=other_merchant, firstname="Theirs")

    response = portal_staff_client.post(
        "/portal/customers/selected/", {"action": "delete", "customer_ids": [ada.pk, cy.pk, theirs.pk]}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Delete 2 customers?" in html
    assert "Person000" in html
    assert "Person002" in html
    for not_shown in ("Person001", "Theirs", str(theirs.pk)):
        assert not_shown not in html
    assert Customer.objects.count() == 4  # nothing deleted yet


def test_confirming_deletes_the_selected_customers_through_the_service_and_never_another_merchants(
    portal_staff_client, merchant, other_merchant
):
    ada, bob, cy = make_customers(merchant, 3)
    theirs = CustomerFactory(merchant=other_merchant, firstname="Theirs")

    response = portal_staff_client.post(
        "/portal/customers/selected/delete/", {"customer_ids": [ada.pk, cy.pk, theirs.pk]}
    )

    assert response.status_code == 302
    assert set(Customer.objects.values_list("pk", flat=True)) == {bob.pk, theirs.pk}
    # Through customer_delete: a deletion event each (the service writes them).
    from events.models import CustomerEvent

    deleted = CustomerEvent.objects.filter(type=CustomerEvent.Type.DELETED).values_list("customer_id", flat=True)
    assert set(deleted) == {ada.pk, cy.pk}
    assert "2 customers deleted." in portal_staff_client.get(LIST).content.decode()


def test_selecting_nothing_deletes_nothing_and_says_so(portal_staff_client, merchant, other_merchant):
    make_customers(merchant, 2)
    theirs = CustomerFactory(merchant=other_merchant)

    for url in ("/portal/customers/selected/", "/portal/customers/selected/delete/"):
        response = portal_staff_client.post(url, {"action": "delete", "customer_ids": [theirs.pk]}, follow=True)
        assert "Select the customers to delete first." in response.content.decode()
    assert Customer.objects.count() == 3


def test_the_bulk_pages_answer_only_posts(portal_staff_client):
    assert portal_staff_client.get("/portal/customers/selected/").status_code == 405
    assert portal_staff_client.get("/portal/customers/selected/delete/").status_code == 405


def test_the_list_is_one_form_of_checkboxes_with_export_and_delete_buttons(portal_staff_client, merchant):
    ada, bob = make_customers(merchant, 2)

    html = portal_staff_client.get(LIST).content.decode()

    assert f'name="customer_ids" value="{ada.pk}"' in html
    assert 'name="action" value="export"' in html
    assert 'name="action" value="delete"' in html
    assert 'action="/portal/customers/selected/"' in html


def test_export_csv_follows_the_lists_sort_by_name(portal_staff_client, merchant, django_capture_on_commit_callbacks):
    from tests.jobs import portal_export

    CustomerFactory(merchant=merchant, firstname="Zed", lastname="Adams")
    CustomerFactory(merchant=merchant, firstname="Amy", lastname="Young")
    CustomerFactory(merchant=merchant, firstname=None, lastname=None, company="Middle Ltd", email=None)

    download = portal_export(portal_staff_client, django_capture_on_commit_callbacks, {"sort": "name"})
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))

    assert [row["lastname"] or row["company"] for row in rows] == ["Adams", "Middle Ltd", "Young"]
