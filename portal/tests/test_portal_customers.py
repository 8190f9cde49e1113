"""Customer pages of the portal: list, search, filters, keyset pages, create, edit, detail, delete."""

import datetime

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from customers.models import Customer
from customers.services import customer_create
from events.models import CustomerEvent
from tests.factories import CustomerFactory, CustomFieldFactory
from tests.form_helpers import form_data


def make_customers(merchant, count, **fields):
    """`count` customers of `merchant`, one second apart, oldest first."""
    start = timezone.now() - datetime.timedelta(days=1)
    customers = []
    for index in range(count):
        customer = CustomerFactory(merchant=merchant, firstname=f"Person{index:03d}", **fields)
        Customer.objects.filter(pk=customer.pk).update(created_at=start + datetime.timedelta(seconds=index))
        customers.append(customer)
    return customers


# --- list, search, filters, pages ---------------------------------------------------------------


def test_the_list_shows_the_merchants_customers_newest_first_and_no_one_elses(
    portal_staff_client, merchant, other_merchant
):
    make_customers(merchant, 3)
    CustomerFactory(merchant=other_merchant, firstname="Outsider")

    html = portal_staff_client.get("/portal/customers/").content.decode()

    assert html.index("Person002") < html.index("Person001") < html.index("Person000")
    assert "Outsider" not in html


def test_the_list_sorts_oldest_first_on_request(portal_staff_client, merchant):
    make_customers(merchant, 3)

    html = portal_staff_client.get("/portal/customers/?sort=oldest").content.decode()

    assert html.index("Person000") < html.index("Person001") < html.index("Person002")


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_next_page_links_walk_every_customer_once_in_both_orders(portal_staff_client, merchant, sort):
    make_customers(merchant, 60)
    seen, url = [], f"/portal/customers/?sort={sort}"
    while url:
        response = portal_staff_client.get(url)
        page = [customer.firstname for customer, _country in response.context["rows"]]
        seen += page
        next_query = response.context["next_page_query"]
        url = f"/portal/customers/?{next_query}" if next_query else None

    expected = [f"Person{index:03d}" for index in range(60)]
    assert seen == (expected if sort == "oldest" else expected[::-1])
    assert len(seen) == 60


def test_a_list_page_costs_a_fixed_number_of_queries(portal_staff_client, merchant, django_assert_max_num_queries):
    for customer in make_customers(merchant, 30):
        CustomFieldFactory(customer=customer)

    # session, user, memberships, customers, the capped total: never one query per row, never a full COUNT.
    with django_assert_max_num_queries(5) as captured:
        response = portal_staff_client.get("/portal/customers/?sort=oldest")

    assert response.status_code == 200
    counts = [query["sql"].upper() for query in captured.captured_queries if "COUNT(" in query["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT 10001" in counts[0]
    assert not any("OFFSET" in query["sql"].upper() for query in captured.captured_queries)


def test_a_stale_or_forged_page_link_shows_the_first_page_with_a_message(portal_staff_client, merchant):
    make_customers(merchant, 2)

    response = portal_staff_client.get("/portal/customers/?cursor=garbage")

    assert response.status_code == 200
    assert "no longer valid" in response.content.decode()
    assert len(response.context["rows"]) == 2


def test_search_finds_customers_by_name_email_or_company(portal_staff_client, merchant):
    CustomerFactory(merchant=merchant, firstname="Grace", lastname="Hopper", email="grace@navy.example", company=None)
    CustomerFactory(
        merchant=merchant, firstname="Alan", lastname="Turing", email="alan@bletchley.example", company="GCHQ"
    )

    def names(query):
        response = portal_staff_client.get("/portal/customers/", {"q": query})
        return [customer.firstname for customer, _ in response.context["rows"]]

    assert names("hopper") == ["Grace"]
    assert names("BLETCHLEY") == ["Alan"]
    assert names("gchq") == ["Alan"]
    assert names("nobody") == []


def test_the_country_filter_uses_alpha3_codes_and_shows_country_names(portal_staff_client, merchant):
    CustomerFactory(merchant=merchant, firstname="Brit", address_country="GBR")
    CustomerFactory(merchant=merchant, firstname="Yank", address_country="USA")

    response = portal_staff_client.get("/portal/customers/", {"country": "GBR"})

    assert [c.firstname for c, _ in response.context["rows"]] == ["Brit"]
    html = response.content.decode()
    assert "United Kingdom" in html
    assert '<option value="GBR" selected>United Kingdom</option>' in html


def test_the_created_range_filter_includes_both_end_days(portal_staff_client, merchant):
    for day, name in [(1, "Before"), (2, "First"), (3, "Last"), (4, "After")]:
        customer = CustomerFactory(merchant=merchant, firstname=name)
        when = datetime.datetime(2026, 3, day, 23, 30, tzinfo=datetime.UTC)
        Customer.objects.filter(pk=customer.pk).update(created_at=when)

    response = portal_staff_client.get(
        "/portal/customers/", {"created_from": "2026-03-02", "created_to": "2026-03-03", "sort": "oldest"}
    )

    assert [c.firstname for c, _ in response.context["rows"]] == ["First", "Last"]


def test_an_invalid_date_filter_is_reported_beside_its_input(portal_staff_client):
    response = portal_staff_client.get("/portal/customers/", {"created_from": "31/02/2026"})

    assert response.status_code == 200
    assert response.context["filter_form"].errors["created_from"] == ["Enter a valid date."]


def test_an_empty_list_invites_to_create_or_import(portal_staff_client):
    html = portal_staff_client.get("/portal/customers/").content.decode()

    assert "No customers yet." in html
    assert "/portal/customers/new/" in html
    assert "/portal/imports/" in html


# --- create ------------------------------------------------------------------------------------


def test_the_create_form_has_a_country_select_showing_names_and_submitting_alpha3_codes(portal_staff_client):
    html = portal_staff_client.get("/portal/customers/new/").content.decode()

    assert '<select name="address_country" data-address-country="" id="id_address_country">' in html
    assert '<option value="DEU">Germany</option>' in html
    assert '<option value="USA">United States of America</option>' in html
    assert '<label for="id_cf-0-name">Name</label>' in html
    assert 'name="add_row"' in html


def test_creating_a_customer_with_custom_fields_goes_through_the_domain_layer(portal_staff_client, merchant):
    data = form_data(
        firstname="Ada",
        lastname="Lovelace",
        email="ada@example.com",
        address_country="GBR",
        **{
            "cf-0-name": "loyalty_tier",
            "cf-0-type": "integer",
            "cf-0-value": "3",
            "cf-2-name": "birthday",
            "cf-2-type": "date",
            "cf-2-value": "1815-12-10",
        },
    )

    response = portal_staff_client.post("/portal/customers/new/", data)

    customer = Customer.objects.get(merchant=merchant)
    assert response.status_code == 302
    assert response["Location"] == f"/portal/customers/{customer.pk}/"
    assert (customer.firstname, customer.address_country) == ("Ada", "GBR")
    assert [(f.name, f.type, f.value) for f in customer.custom_fields.all()] == [
        ("loyalty_tier", "integer", "3"),
        ("birthday", "date", "1815-12-10"),
    ]
    audit = AuditEntry.objects.get(customer_id=customer.pk)
    assert audit.door == "portal"
    assert audit.actor == f"user:{portal_staff_client.user.pk}:{portal_staff_client.user.username}"
    assert CustomerEvent.objects.filter(customer_id=customer.pk, type="customer.created").exists()
    detail = portal_staff_client.get(response["Location"]).content.decode()
    assert "Customer “Ada Lovelace” created." in detail
    assert "loyalty_tier" in detail
    assert "1815-12-10" in detail
    assert "United Kingdom (GBR)" in detail


def test_a_bad_custom_field_value_is_shown_beside_its_row_and_the_input_is_kept(portal_staff_client, merchant):
    data = form_data(
        firstname="Ada",
        email="not-an-email",
        **{
            "cf-0-name": "nickname",
            "cf-0-value": "Countess",
            # Row 1 is left blank: payload item 1 is row 2.
            "cf-2-name": "loyalty_tier",
            "cf-2-type": "integer",
            "cf-2-value": "three",
        },
    )

    response = portal_staff_client.post("/portal/customers/new/", data)

    assert response.status_code == 400
    assert not Customer.objects.exists()
    form, formset = response.context["form"], response.context["formset"]
    assert form.errors["email"] == ["Must be a valid email address."]
    assert formset.forms[2].errors["value"] == ["Must be an integer, for example 42."]
    assert not formset.forms[0].errors
    assert not formset.forms[1].errors
    html = response.content.decode()
    assert 'value="three"' in html
    assert 'value="Countess"' in html
    assert 'value="not-an-email"' in html
    # The message sits inside row 2's markup, after its value input.
    row_2 = html[html.index('name="cf-2-name"') : html.index('name="cf-2-DELETE"')]
    assert "Must be an integer, for example 42." in row_2


def test_the_at_least_one_field_rule_is_shown_at_the_top_of_the_form(portal_staff_client):
    response = portal_staff_client.post("/portal/customers/new/", form_data(address_country="FRA"))

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Provide at least one of firstname, lastname, email or company (not blank)."
    ]
    assert '<option value="FRA" selected>France</option>' in response.content.decode()


def test_a_forged_country_code_is_refused_by_the_domain_rules(portal_staff_client):
    response = portal_staff_client.post("/portal/customers/new/", form_data(firstname="Ada", address_country="XXX"))

    assert response.status_code == 400
    assert "is not an ISO 3166-1 alpha-3 country code" in response.context["form"].errors["address_country"][0]


def test_duplicate_and_invalid_custom_field_names_are_shown_on_their_rows(portal_staff_client):
    data = form_data(
        firstname="Ada",
        **{"cf-0-name": "tier", "cf-0-value": "1", "cf-1-name": "tier", "cf-1-value": "2", "cf-2-name": "bad name!"},
    )

    response = portal_staff_client.post("/portal/customers/new/", data)

    rows = response.context["formset"].forms
    assert "Duplicate custom field name 'tier'" in rows[1].errors["name"][0]
    assert rows[2].errors["name"] == ["Must be 1-64 characters of letters, digits, '_', '-' or '.'."]


def test_the_add_a_row_button_redraws_the_form_with_one_more_row_and_saves_nothing(portal_staff_client):
    data = form_data(firstname="Ada", **{"cf-0-name": "tier", "cf-0-value": "1", "add_row": "1"})

    response = portal_staff_client.post("/portal/customers/new/", data)

    assert response.status_code == 200
    assert not Customer.objects.exists()
    assert len(response.context["formset"].forms) == 4
    html = response.content.decode()
    assert 'name="cf-3-name"' in html
    assert 'value="Ada"' in html
    assert 'value="tier"' in html
    assert not response.context["form"].errors


def test_a_row_ticked_remove_is_not_saved(portal_staff_client, merchant):
    data = form_data(
        firstname="Ada",
        **{"cf-0-name": "keep", "cf-0-value": "1", "cf-1-name": "drop", "cf-1-value": "x", "cf-1-DELETE": "on"},
    )

    portal_staff_client.post("/portal/customers/new/", data)

    assert list(Customer.objects.get().custom_fields.values_list("name", flat=True)) == ["keep"]


# --- detail, edit, delete ----------------------------------------------------------------------


@pytest.fixture
def ada(merchant):
    return customer_create(
        merchant=merchant,
        data={
            "firstname": "Ada",
            "email": "ada@example.com",
            "options": {"custom_fields": [{"name": "tier", "type": "integer", "value": "3"}]},
        },
    )


def test_the_detail_page_shows_the_customer_its_custom_fields_and_history(portal_admin_client, ada):
    # The history (audit trail) is shown to the merchant's admins only: test_security_audit_erasure.py.
    html = portal_admin_client.get(f"/portal/customers/{ada.pk}/").content.decode()

    assert str(ada.pk) in html
    assert "ada@example.com" in html
    assert "tier" in html
    assert "Integer" in html
    assert "History" in html
    assert "created" in html


def test_the_edit_form_is_filled_with_the_customer_and_its_custom_fields(portal_staff_client, ada):
    response = portal_staff_client.get(f"/portal/customers/{ada.pk}/edit/")

    html = response.content.decode()
    assert 'value="Ada"' in html
    assert 'name="cf-0-name" value="tier"' in html.replace('type="text" ', "")
    assert len(response.context["formset"].forms) == 2  # the field and one empty row
    assert response.context["form"]["version"].value() == 1


def test_editing_replaces_the_record_and_its_custom_fields(portal_staff_client, ada):
    data = form_data(
        firstname="Augusta Ada",
        email="ada@example.com",
        company="Analytical Engines",
        version="1",
        **{"cf-INITIAL_FORMS": "1", "cf-0-name": "vip", "cf-0-type": "boolean", "cf-0-value": "true"},
    )

    response = portal_staff_client.post(f"/portal/customers/{ada.pk}/edit/", data)

    assert response.status_code == 302
    ada.refresh_from_db()
    assert (ada.firstname, ada.company, ada.version) == ("Augusta Ada", "Analytical Engines", 2)
    assert [(f.name, f.value) for f in ada.custom_fields.all()] == [("vip", "true")]
    entry = AuditEntry.objects.filter(customer_id=ada.pk, action="updated").get()
    assert entry.door == "portal"
    assert set(entry.changed_fields) >= {
        "firstname",
        "company",
        "options.custom_fields.tier",
        "options.custom_fields.vip",
    }


def test_editing_a_customer_someone_else_changed_meanwhile_keeps_the_input_and_saves_nothing(portal_staff_client, ada):
    from customers.services import customer_update

    customer_update(customer=ada, data={"lastname": "Byron"})  # version 2 now

    response = portal_staff_client.post(
        f"/portal/customers/{ada.pk}/edit/", form_data(firstname="Mine", email="ada@example.com", version="1")
    )

    assert response.status_code == 400
    assert "Someone changed this customer since you opened this page" in response.content.decode()
    assert 'value="Mine"' in response.content.decode()
    ada.refresh_from_db()
    assert (ada.firstname, ada.lastname) == ("Ada", "Byron")


def test_an_edit_breaking_a_rule_shows_the_error_and_changes_nothing(portal_staff_client, ada):
    response = portal_staff_client.post(
        f"/portal/customers/{ada.pk}/edit/",
        form_data(version="1", **{"cf-0-name": "tier", "cf-0-type": "integer", "cf-0-value": "3.5"}),
    )

    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert response.context["formset"].forms[0].errors["value"] == ["Must be an integer, for example 42."]
    ada.refresh_from_db()
    assert ada.firstname == "Ada"
    assert ada.version == 1


def test_deleting_asks_for_confirmation_first(portal_staff_client, ada):
    response = portal_staff_client.get(f"/portal/customers/{ada.pk}/delete/")

    assert response.status_code == 200
    assert "cannot be undone" in response.content.decode()
    assert Customer.objects.filter(pk=ada.pk).exists()


def test_deleting_removes_the_customer_through_the_domain_layer(portal_staff_client, ada):
    response = portal_staff_client.post(f"/portal/customers/{ada.pk}/delete/", follow=True)

    assert not Customer.objects.filter(pk=ada.pk).exists()
    assert "Customer “Ada” deleted." in response.content.decode()
    assert AuditEntry.objects.filter(customer_id=ada.pk, action="deleted", door="portal").exists()
    assert CustomerEvent.objects.filter(customer_id=ada.pk, type="customer.deleted").exists()
    assert portal_staff_client.get(f"/portal/customers/{ada.pk}/").status_code == 404


@pytest.mark.parametrize("extra", [{}, {"add_row": "1"}], ids=["save", "add-a-row"])
def test_a_form_claiming_a_million_custom_field_rows_is_refused_before_building_them(
    portal_staff_client, merchant, extra
):
    data = form_data(firstname="Ada", **{"cf-TOTAL_FORMS": "1000000"}, **extra)

    response = portal_staff_client.post("/portal/customers/new/", data)

    html = response.content.decode()
    # At most 60 rows and the blank row the page keeps for "Add a row" (name, type, value, a datetime's stored
    # text, remove), 4 management inputs.
    assert html.count('name="cf-') <= 5 * (60 + 1) + 4
    assert len(html) < 200_000
    if not extra:
        assert response.status_code == 400
        assert "A customer has at most 50 custom fields" in html
    assert not Customer.objects.filter(merchant=merchant).exists()
