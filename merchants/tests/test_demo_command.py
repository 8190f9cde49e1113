"""`manage.py demo`: the demo merchant and one working demo API client, however often it starts."""

import io

import pytest
from django.core.management import call_command

from merchants.models import Merchant, OAuthClient
from merchants.services import oauth_client_create

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", "--no-server", stdout=out)
    return out.getvalue()


def test_each_start_replaces_the_previous_demo_client_and_keeps_the_merchants_other_clients(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    run_demo()
    merchant = Merchant.objects.get(name="Demo Merchant")
    kept = oauth_client_create(merchant=merchant, name="Checkout server").client

    output = run_demo()
    run_demo()
    last = run_demo()

    demo_clients = OAuthClient.objects.filter(merchant=merchant, name="Demo client")
    assert demo_clients.count() == 1
    assert demo_clients.get().client_id in last
    assert demo_clients.get().client_id not in output
    assert OAuthClient.objects.filter(pk=kept.pk).exists()
