"""Django admin for operators who pick merchants by name, filter by country, and read ids at a glance."""

import re

import pytest
from django.contrib.admin.sites import site
from oauth2_provider.models import get_access_token_model, get_grant_model, get_id_token_model, get_refresh_token_model

from tests.factories import CustomerFactory, MerchantFactory


def test_adding_a_customer_picks_the_merchant_by_autocomplete_not_a_raw_uuid(admin_site_client, merchant):
    html = admin_site_client.get("/admin/customers/customer/add/").content.decode()

    merchant_select = re.search(r'<select name="merchant"[^>]*>', html)[0]
    assert "admin-autocomplete" in merchant_select
    assert 'data-model-name="customer"' in merchant_select or "data-field-name" in merchant_select
    assert "vForeignKeyRawIdAdminField" not in html


def test_the_merchant_autocomplete_finds_merchants_by_name(admin_site_client, merchant, other_merchant):
    response = admin_site_client.get(
        "/admin/autocomplete/",
        {"app_label": "customers", "model_name": "customer", "field_name": "merchant", "term": "acme"},
    )

    assert response.status_code == 200
    assert [(r["id"], r["text"]) for r in response.json()["results"]] == [(str(merchant.pk), "Acme Ltd")]


@pytest.mark.parametrize("field", ["merchant", "user"])
def test_a_membership_asks_for_its_merchant_and_user_by_autocomplete(admin_site_client, field):
    html = admin_site_client.get("/admin/merchants/merchantmembership/add/").content.decode()

    assert "admin-autocomplete" in re.search(rf'<select name="{field}"[^>]*>', html)[0]


def test_the_country_filter_is_one_drop_down_that_keeps_the_other_filters(admin_site_client, merchant):
    CustomerFactory(merchant=merchant, firstname="Brit", address_country="GBR")

    response = admin_site_client.get(
        "/admin/customers/customer/", {"merchant__id__exact": str(merchant.pk), "q": "brit", "country": "GBR"}
    )

    html = response.content.decode()
    assert "country=USA" not in html  # no link per country (the sort links keep the chosen one)
    form = re.search(r'<form method="get" class="vault-compact-filter">(.*?)</form>', html, re.S)[1]
    assert form.count("<option") > 200
    assert '<option value="GBR" selected>United Kingdom</option>' in form
    assert f'<input type="hidden" name="merchant__id__exact" value="{merchant.pk}">' in form
    assert '<input type="hidden" name="q" value="brit">' in form
    assert [c.firstname for c in response.context["cl"].result_list] == ["Brit"]


def test_choosing_all_countries_lists_every_country(admin_site_client, merchant):
    CustomerFactory(merchant=merchant, firstname="Brit", address_country="GBR")
    CustomerFactory(merchant=merchant, firstname="Yank", address_country="USA")

    response = admin_site_client.get("/admin/customers/customer/", {"country": ""})

    assert sorted(c.firstname for c in response.context["cl"].result_list) == ["Brit", "Yank"]


@pytest.mark.parametrize(
    "model", [get_access_token_model(), get_grant_model(), get_id_token_model(), get_refresh_token_model()]
)
def test_the_oauth_toolkits_tokens_and_grants_are_not_in_admin(admin_site_client, model):
    assert not site.is_registered(model)
    opts = model._meta
    assert admin_site_client.get(f"/admin/{opts.app_label}/{opts.model_name}/").status_code == 404
    assert opts.verbose_name_plural.title() not in admin_site_client.get("/admin/").content.decode()


def test_the_merchant_page_still_lists_and_revokes_its_api_clients(admin_site_client, merchant):
    """Clients are issued and revoked on the merchant page, which needs no toolkit admin page."""
    response = admin_site_client.get(f"/admin/merchants/merchant/{merchant.pk}/change/")

    assert response.status_code == 200
    assert "API clients (delete = revoke" in response.content.decode()


@pytest.mark.parametrize(
    ("path", "make"),
    [
        ("/admin/customers/customer/", lambda merchant: CustomerFactory(merchant=merchant).customer_id),
        ("/admin/merchants/merchant/", lambda merchant: merchant.pk),
    ],
)
def test_ids_show_in_a_monospace_column_that_does_not_wrap(admin_site_client, merchant, path, make):
    shown_id = make(merchant)

    html = admin_site_client.get(path).content.decode()

    assert f'<code class="vault-id">{shown_id}</code>' in html
    assert 'href="/static/css/admin.css"' in html


def test_many_merchants_are_one_search_away(admin_site_client):
    for index in range(30):
        MerchantFactory(name=f"Bakery {index:02d}")

    response = admin_site_client.get(
        "/admin/autocomplete/",
        {"app_label": "customers", "model_name": "customer", "field_name": "merchant", "term": "Bakery 07"},
    )

    assert [r["text"] for r in response.json()["results"]] == ["Bakery 07"]
