"""`create_merchant --admin-email`: the operator's way to give a new merchant its first portal admin."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from merchants.models import Merchant, MerchantMembership
from tests.credentials import fetch_token
from tests.factories import UserFactory


def run(*args) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("create_merchant", *args, stdout=out)
    return json.loads(out.getvalue())


def portal_login(email: str, password: str) -> Client:
    client = Client()
    response = client.post("/portal/login/", {"username": email, "password": password})
    assert response.status_code == 302, "login refused"
    return client


@pytest.mark.django_db
def test_admin_email_and_password_make_a_portal_admin_who_can_log_in():
    result = run("Shop One", "--admin-email", "owner@shop.example", "--admin-password", "s3cret-enough-pass")

    merchant = Merchant.objects.get(pk=result["merchant_id"])
    assert result["admin_email"] == "owner@shop.example"
    membership = MerchantMembership.objects.get(merchant=merchant)
    assert (membership.user.username, membership.role) == ("owner@shop.example", "admin")
    client = portal_login("owner@shop.example", "s3cret-enough-pass")
    assert "Shop One" in client.get("/portal/").content.decode()
    assert client.get("/portal/credentials/").status_code == 200
    assert fetch_token(result["client_id"], result["client_secret"])["access_token"]


@pytest.mark.django_db
def test_the_password_can_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MERCHANT_ADMIN_PASSWORD", "from-the-environment")

    run("Shop Two", "--admin-email", "env@shop.example", "--no-client")

    portal_login("env@shop.example", "from-the-environment")


@pytest.mark.django_db
def test_an_existing_user_is_linked_as_admin_of_the_new_merchant_too():
    existing = UserFactory(username="multi@shop.example")
    run("First", "--admin-email", "multi@shop.example", "--admin-password", "first-pass-123", "--no-client")

    run("Second", "--admin-email", "MULTI@shop.example", "--admin-password", "second-pass-456", "--no-client")

    assert get_user_model().objects.filter(username__iexact="multi@shop.example").count() == 1
    assert sorted(existing.memberships.values_list("merchant__name", "role")) == [
        ("First", "admin"),
        ("Second", "admin"),
    ]
    portal_login("multi@shop.example", "second-pass-456")


@pytest.mark.django_db
def test_admin_email_without_any_password_is_refused_and_creates_nothing(monkeypatch):
    monkeypatch.delenv("MERCHANT_ADMIN_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="--admin-password or MERCHANT_ADMIN_PASSWORD"):
        run("Shop", "--admin-email", "x@shop.example")

    assert not Merchant.objects.exists()


@pytest.mark.django_db
def test_an_invalid_admin_email_is_refused_and_creates_nothing():
    with pytest.raises(CommandError, match="Must be a valid email address."):
        run("Shop", "--admin-email", "not an email", "--admin-password", "pw-123456")

    assert not Merchant.objects.exists()
