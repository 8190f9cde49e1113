"""Django admin for operators: customers saved through the domain layer, merchants, memberships."""

import re

import pytest
from django.contrib.admin.sites import site
from django.contrib.contenttypes.models import ContentType
from django.db.models import F
from django.test import RequestFactory

import customers.admin
from audit.models import AuditEntry
from core.paginators import LargeTablePaginator
from customers.admin import CustomerAdmin
from customers.models import Customer
from customers.services import customer_create
from events.models import CustomerEvent
from merchants.models import MerchantMembership, OAuthClient
from merchants.services import oauth_client_create
from tests.credentials import fetch_token
from tests.factories import CustomerFactory, MembershipFactory
from tests.form_helpers import customer_post


def test_an_operator_creates_a_customer_with_custom_fields_through_the_domain_layer(admin_site_client, merchant):
    response = admin_site_client.post(
        "/admin/customers/customer/add/",
        customer_post(
            merchant,
            rows=[
                {"name": "tier", "type": "integer", "value": "3"},
                {"name": "vip", "type": "boolean", "value": "true"},
            ],
            firstname="Ada",
            address_country="GBR",
        ),
    )

    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == "/admin/customers/customer/"
    assert (customer.merchant, customer.firstname, customer.address_country) == (merchant, "Ada", "GBR")
    assert [(f.name, f.type, f.value, f.position) for f in customer.custom_fields.all()] == [
        ("tier", "integer", "3", 0),
        ("vip", "boolean", "true", 1),
    ]
    audit = AuditEntry.objects.get(customer_id=customer.pk)
    assert audit.door == "admin"
    assert audit.actor == f"user:{admin_site_client.user.pk}:operator"
    assert CustomerEvent.objects.filter(customer_id=customer.pk, type="customer.created").count() == 1


def test_the_domain_errors_appear_in_the_admin_form_and_nothing_is_saved(admin_site_client, merchant):
    response = admin_site_client.post(
        "/admin/customers/customer/add/",
        customer_post(merchant, rows=[{"name": "tier", "type": "integer", "value": "three"}], email="nope"),
    )

    assert response.status_code == 200
    assert not Customer.objects.exists()
    form = response.context["adminform"].form
    assert form.errors["email"] == ["Must be a valid email address."]
    inline = response.context["inline_admin_formsets"][0].formset
    assert inline.forms[0].errors["value"] == ["Must be an integer, for example 42."]
    assert "Must be an integer, for example 42." in response.content.decode()


def test_the_at_least_one_field_rule_is_shown_in_admin(admin_site_client, merchant):
    response = admin_site_client.post("/admin/customers/customer/add/", customer_post(merchant, address_country="FRA"))

    assert response.status_code == 200
    assert "Provide at least one of firstname, lastname, email or company" in response.content.decode()
    assert not Customer.objects.exists()


def test_the_country_select_shows_names_and_submits_alpha3_codes(admin_site_client):
    html = admin_site_client.get("/admin/customers/customer/add/").content.decode()

    assert '<option value="DEU">Germany</option>' in html


def test_editing_in_admin_replaces_the_custom_fields_and_bumps_the_version(admin_site_client, merchant):
    customer = customer_create(
        merchant=merchant,
        data={"firstname": "Ada", "options": {"custom_fields": [{"name": "tier", "type": "integer", "value": "3"}]}},
    )
    field = customer.custom_fields.get()

    response = admin_site_client.post(
        f"/admin/customers/customer/{customer.pk}/change/",
        customer_post(
            rows=[
                {"id": str(field.pk), "customer": str(customer.pk), "name": "tier", "type": "integer", "value": "4"},
                {"customer": str(customer.pk), "name": "since", "type": "date", "value": "2020-01-31"},
            ],
            initial=1,
            firstname="Ada",
            lastname="Lovelace",
        ),
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.lastname, customer.version, customer.merchant) == ("Lovelace", 2, merchant)
    assert [(f.name, f.value) for f in customer.custom_fields.all()] == [("tier", "4"), ("since", "2020-01-31")]
    assert AuditEntry.objects.filter(customer_id=customer.pk, action="updated", door="admin").exists()


def test_a_customer_id_and_timestamps_are_read_only_and_the_merchant_fixed_once_created(admin_site_client, merchant):
    customer = CustomerFactory(merchant=merchant)

    form = admin_site_client.get(f"/admin/customers/customer/{customer.pk}/change/").context["adminform"].form

    assert "merchant" not in form.fields
    assert "customer_id" not in form.fields
    assert "created_at" not in form.fields


def test_search_finds_customers_by_name_email_company_or_id(admin_site_client, merchant):
    ada = CustomerFactory(merchant=merchant, firstname="Ada", email="ada@example.com", company="Engines")
    CustomerFactory(merchant=merchant, firstname="Grace", email="grace@example.com")

    def found(term):
        response = admin_site_client.get("/admin/customers/customer/", {"q": term})
        return [c.firstname for c in response.context["cl"].result_list]

    assert found("ada@") == ["Ada"]
    assert found("engin") == ["Ada"]
    assert found(str(ada.pk)) == ["Ada"]
    assert found(str(ada.pk).upper()) == ["Ada"]
    assert found("ÉNGINES") == ["Ada"]  # the API's search rules: accents and case ignored


def test_filters_on_merchant_and_country(admin_site_client, merchant, other_merchant):
    CustomerFactory(merchant=merchant, firstname="Brit", address_country="GBR")
    CustomerFactory(merchant=merchant, firstname="Yank", address_country="USA")
    CustomerFactory(merchant=other_merchant, firstname="Other", address_country="GBR")

    by_country = admin_site_client.get("/admin/customers/customer/", {"country": "GBR"})
    by_both = admin_site_client.get(
        "/admin/customers/customer/", {"country": "GBR", "merchant__id__exact": str(merchant.pk)}
    )

    assert sorted(c.firstname for c in by_country.context["cl"].result_list) == ["Brit", "Other"]
    assert [c.firstname for c in by_both.context["cl"].result_list] == ["Brit"]


def test_the_customer_list_never_counts_the_whole_table_nor_queries_per_row(
    admin_site_client, merchant, django_assert_max_num_queries
):
    for _ in range(30):
        CustomerFactory(merchant=merchant)

    with django_assert_max_num_queries(8) as captured:
        response = admin_site_client.get("/admin/customers/customer/")

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 30
    counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
    # The paginator's count is capped with a LIMIT; no uncapped COUNT of the table.
    assert counts
    assert all("LIMIT" in sql.upper() for sql in counts)


def test_the_large_table_paginator_stops_counting_at_its_limit(merchant, monkeypatch):
    for _ in range(5):
        CustomerFactory(merchant=merchant)
    monkeypatch.setattr(LargeTablePaginator, "EXACT_LIMIT", 3)

    paginator = LargeTablePaginator(Customer.objects.filter(merchant=merchant).order_by("pk"), 2)

    assert paginator.count == 4
    assert LargeTablePaginator(Customer.objects.filter(firstname="nobody").order_by("pk"), 2).count == 0


def test_the_customer_admin_is_configured_for_huge_tables():
    admin = CustomerAdmin(Customer, site)

    assert admin.show_full_result_count is False
    assert admin.paginator is LargeTablePaginator
    assert admin.get_list_select_related(RequestFactory().get("/")) == ["merchant"]


def test_the_merchant_page_shows_its_clients_and_members_inline(admin_site_client, merchant):
    issued = oauth_client_create(merchant=merchant, name="Checkout")
    MembershipFactory(merchant=merchant, role="admin")

    response = admin_site_client.get(f"/admin/merchants/merchant/{merchant.pk}/change/")

    html = response.content.decode()
    assert issued.client.client_id in html
    assert "Checkout" in html
    assert [f.formset.model for f in response.context["inline_admin_formsets"]] == [OAuthClient, MerchantMembership]


def test_the_issue_client_action_shows_a_working_secret_once(admin_site_client, merchant):
    response = admin_site_client.post(
        "/admin/merchants/merchant/", {"action": "issue_api_client", "_selected_action": [str(merchant.pk)]}
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    client = OAuthClient.objects.get(merchant=merchant)
    secret = re.search(r'<code class="client-secret">([^<]+)</code>', response.content.decode())[1]
    assert fetch_token(client.client_id, secret)["access_token"]


def test_the_issue_client_action_names_a_merchant_at_its_cap_and_still_issues_the_others(
    admin_site_client, merchant, other_merchant, settings
):
    settings.MAX_API_CLIENTS_PER_MERCHANT = 1
    oauth_client_create(merchant=merchant, name="The one allowed")

    response = admin_site_client.post(
        "/admin/merchants/merchant/",
        {"action": "issue_api_client", "_selected_action": [str(merchant.pk), str(other_merchant.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert f"{merchant.name}: " in html
    assert OAuthClient.objects.filter(merchant=merchant).count() == 1
    assert OAuthClient.objects.filter(merchant=other_merchant).count() == 1
    assert re.search(r'<code class="client-secret">([^<]+)</code>', html)


def test_deleting_a_client_inline_revokes_it(admin_site_client, merchant):
    issued = oauth_client_create(merchant=merchant, name="Old")
    page = admin_site_client.get(f"/admin/merchants/merchant/{merchant.pk}/change/")
    data = {
        "name": merchant.name,
        "is_active": "on",
        "oauth_clients-TOTAL_FORMS": "1",
        "oauth_clients-INITIAL_FORMS": "1",
        "oauth_clients-MIN_NUM_FORMS": "0",
        "oauth_clients-MAX_NUM_FORMS": "1000",
        "oauth_clients-0-id": str(issued.client.pk),
        "oauth_clients-0-merchant": str(merchant.pk),
        "oauth_clients-0-name": "Old",
        "oauth_clients-0-DELETE": "on",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    assert page.status_code == 200

    response = admin_site_client.post(f"/admin/merchants/merchant/{merchant.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert not OAuthClient.objects.filter(pk=issued.client.pk).exists()


def test_memberships_have_their_own_admin_list(admin_site_client, merchant):
    membership = MembershipFactory(merchant=merchant, role="staff")

    response = admin_site_client.get("/admin/merchants/merchantmembership/", {"q": membership.user.username})

    assert list(response.context["cl"].result_list) == [membership]


@pytest.mark.parametrize(
    "path", ["/admin/customers/customer/", "/admin/merchants/merchant/", "/admin/merchants/merchantmembership/"]
)
def test_portal_users_cannot_open_admin(portal_admin_client, path):
    response = portal_admin_client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- defects found in the redesign (issue 13), each with the test that failed before -------------


def test_an_admin_edit_of_a_customer_changed_meanwhile_is_refused_and_keeps_that_change(
    admin_site_client, api_client, merchant
):
    customer = customer_create(merchant=merchant, data={"firstname": "Ada", "company": "Engines"})
    page = admin_site_client.get(f"/admin/customers/customer/{customer.pk}/change/")
    shown_version = page.context["adminform"].form["based_on_version"].value()
    api_client.patch(f"/api/v1/customers/{customer.pk}", {"company": "Analytical Engines"}, format="json")

    response = admin_site_client.post(
        f"/admin/customers/customer/{customer.pk}/change/",
        customer_post(firstname="Ada", company="Engines", based_on_version=str(shown_version)),
    )

    assert response.status_code == 200
    assert "Someone changed this customer since you opened this page" in response.content.decode()
    customer.refresh_from_db()
    assert (customer.company, customer.version) == ("Analytical Engines", 2)


def test_a_change_that_slips_in_after_the_admin_forms_check_is_refused_by_the_service(
    admin_site_client, merchant, monkeypatch
):
    customer = customer_create(merchant=merchant, data={"firstname": "Ada"})
    real_replace = customers.admin.customer_replace

    def replace_after_another_change(*, customer, **kwargs):
        Customer.objects.filter(pk=customer.pk).update(version=F("version") + 1)  # between check and lock
        return real_replace(customer=customer, **kwargs)

    monkeypatch.setattr(customers.admin, "customer_replace", replace_after_another_change)

    response = admin_site_client.post(
        f"/admin/customers/customer/{customer.pk}/change/", customer_post(firstname="Grace"), follow=True
    )

    assert "Someone changed this customer since you opened this page" in response.content.decode()
    customer.refresh_from_db()
    assert customer.firstname == "Ada"
    assert not AuditEntry.objects.filter(customer_id=customer.pk, action="updated").exists()


def test_an_api_client_offers_no_view_on_site_link_and_the_shortcut_is_a_404_not_a_500(admin_site_client, merchant):
    issued = oauth_client_create(merchant=merchant, name="Checkout")
    content_type = ContentType.objects.get_for_model(OAuthClient)

    page = admin_site_client.get(f"/admin/merchants/merchant/{merchant.pk}/change/").content.decode()
    shortcut = admin_site_client.get(f"/admin/r/{content_type.pk}/{issued.client.pk}/")

    assert f"/admin/r/{content_type.pk}/{issued.client.pk}/" not in page
    assert shortcut.status_code == 404


def test_the_admin_index_names_event_deliveries_in_plural(admin_site_client):
    index = admin_site_client.get("/admin/").content.decode()

    assert "Event deliveries" in index
    assert "Event deliverys" not in index


@pytest.mark.postgres_only
def test_the_large_table_paginator_estimates_the_listed_models_own_table(merchant, monkeypatch):
    estimated = []

    def estimate(table: str) -> int:
        estimated.append(table)
        return 1_000_000

    monkeypatch.setattr("core.paginators.table_row_estimate", estimate)
    monkeypatch.setattr(LargeTablePaginator, "EXACT_LIMIT", 2)
    for _ in range(3):
        customer_create(merchant=merchant, data={"firstname": "Ada"})

    assert LargeTablePaginator(AuditEntry.objects.order_by("-id"), 50).count == 1_000_000
    assert estimated == [AuditEntry._meta.db_table]


def test_an_operator_enters_phone_address_and_reference_under_the_apis_rules(admin_site_client, merchant):
    response = admin_site_client.post(
        "/admin/customers/customer/add/",
        customer_post(
            merchant,
            firstname="Ada",
            phone="020 7183 8750",
            address_line1="10 Downing Street",
            address_city="London",
            address_postal_code="sw1a 2aa",
            address_country="GBR",
            reference="CUST-1",
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    customer = Customer.objects.get()
    assert (customer.phone, customer.address_postal_code, customer.reference) == ("+442071838750", "SW1A 2AA", "CUST-1")
    assert AuditEntry.objects.get(customer_id=customer.pk).door == "admin"


def test_admin_shows_profile_errors_beside_their_inputs(admin_site_client, merchant):
    CustomerFactory(merchant=merchant, reference="CUST-1")

    response = admin_site_client.post(
        "/admin/customers/customer/add/",
        customer_post(
            merchant,
            firstname="Ada",
            phone="12 34",
            address_line1="1 Road",
            address_city="London",
            address_postal_code="12345",
            address_country="GBR",
            reference="CUST-1",
        ),
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"phone", "address_postal_code", "reference"}
    assert "already used by customer" in errors["reference"][0]
    assert Customer.objects.count() == 1


def test_admin_search_finds_customers_by_phone_and_reference(admin_site_client, merchant):
    CustomerFactory(merchant=merchant, firstname="Ada", phone="+442071838750", reference="CUST-77")
    CustomerFactory(merchant=merchant, firstname="Grace", phone="+16502530000")

    def found(term):
        response = admin_site_client.get("/admin/customers/customer/", {"q": term})
        return [c.firstname for c in response.context["cl"].result_list]

    assert found("020 7183 8750") == ["Ada"]
    assert found("+1 650 253 0000") == ["Grace"]
    assert found("cust-77") == ["Ada"]
    page = admin_site_client.get("/admin/customers/customer/").content.decode()
    assert '<span title="+442071838750">020 7183 8750</span>' in page
