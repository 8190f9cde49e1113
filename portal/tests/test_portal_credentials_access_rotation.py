"""The API credentials page: read-only clients, "last used", rolling a secret, and a reload that makes nothing."""

import base64
import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.models import OAuthClient
from merchants.services import oauth_client_create
from portal.tests.test_portal_credentials_staff import shown_credentials
from tests.credentials import fetch_token

pytestmark = pytest.mark.django_db

READ_ONLY = OAuthClient.Access.READ_ONLY.value
READ_WRITE = OAuthClient.Access.READ_WRITE.value


def token_status(client_id: str, secret: str) -> int:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = APIClient().post("/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}")
    return response.status_code


def test_reloading_the_page_that_shows_the_secret_creates_no_second_client(portal_admin_client, merchant):
    posted = portal_admin_client.post("/portal/credentials/", {"name": "Checkout", "access": READ_WRITE})
    shown = portal_admin_client.get(posted["Location"])

    reloaded = portal_admin_client.get(posted["Location"], follow=True)

    assert shown_credentials(shown)
    assert OAuthClient.objects.filter(merchant=merchant).count() == 1
    html = reloaded.content.decode()
    assert reloaded.redirect_chain == [("/portal/credentials/", 302)]
    assert "shown only once" in html
    assert 'id="client-secret"' not in html


def test_the_secret_waits_for_its_page_encrypted_in_the_session(portal_admin_client):
    posted = portal_admin_client.post("/portal/credentials/", {"name": "Checkout", "access": READ_WRITE})
    kept = dict(portal_admin_client.session)

    _, secret = shown_credentials(portal_admin_client.get(posted["Location"]))

    assert secret not in str(kept)
    assert not any(key.startswith("portal_shown_once:") for key, _ in portal_admin_client.session.items())


def test_a_client_created_read_only_gets_tokens_that_cannot_write(portal_admin_client, merchant):
    posted = portal_admin_client.post("/portal/credentials/", {"name": "Reports", "access": READ_ONLY})
    client_id, secret = shown_credentials(portal_admin_client.get(posted["Location"]))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {fetch_token(client_id, secret)['access_token']}")

    assert api.get("/api/v1/customers").status_code == 200
    assert api.post("/api/v1/customers", {"firstname": "Ada"}, format="json").status_code == 403
    assert "Read only" in portal_admin_client.get("/portal/credentials/").content.decode()


def test_an_unknown_access_choice_is_refused_beside_the_input(portal_admin_client, merchant):
    response = portal_admin_client.post("/portal/credentials/", {"name": "X", "access": "customers:admin"})

    assert response.status_code == 400
    assert 'id="id_access_error"' in response.content.decode()
    assert not OAuthClient.objects.filter(merchant=merchant).exists()


def test_the_list_shows_when_each_client_last_got_a_token(portal_admin_client, merchant):
    used = oauth_client_create(merchant=merchant, name="Used")
    oauth_client_create(merchant=merchant, name="Idle")
    fetch_token(used.client.client_id, used.client_secret)
    used.client.refresh_from_db()

    html = portal_admin_client.get("/portal/credentials/").content.decode()

    assert used.client.last_used_at.strftime("%Y-%m-%d %H:%M") in html
    assert "Never" in html


def test_rolling_a_secret_shows_the_new_one_once_and_the_old_one_works_until_the_grace_period_ends(
    portal_admin_client, merchant
):
    issued = oauth_client_create(merchant=merchant, name="Checkout")
    assert (
        "Roll the secret" in portal_admin_client.get(f"/portal/credentials/{issued.client.pk}/roll/").content.decode()
    )

    posted = portal_admin_client.post(f"/portal/credentials/{issued.client.pk}/roll/", {"grace": "24h"})
    client_id, new_secret = shown_credentials(portal_admin_client.get(posted["Location"]))

    assert client_id == issued.client.client_id
    assert token_status(client_id, new_secret) == 200
    assert token_status(client_id, issued.client_secret) == 200
    assert "Old secret works until" in portal_admin_client.get("/portal/credentials/").content.decode()
    OAuthClient.objects.filter(pk=issued.client.pk).update(
        previous_secret_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert token_status(client_id, issued.client_secret) == 401
    assert token_status(client_id, new_secret) == 200
    assert "Old secret works until" not in portal_admin_client.get("/portal/credentials/").content.decode()


def test_rolling_with_now_stops_the_old_secret_at_once(portal_admin_client, merchant):
    issued = oauth_client_create(merchant=merchant, name="Checkout")

    posted = portal_admin_client.post(f"/portal/credentials/{issued.client.pk}/roll/", {"grace": "now"})
    page = portal_admin_client.get(posted["Location"])

    assert "The old secret has stopped working." in page.content.decode()
    assert token_status(issued.client.client_id, issued.client_secret) == 401


def test_an_unknown_grace_period_is_refused_and_the_secret_stays(portal_admin_client, merchant):
    issued = oauth_client_create(merchant=merchant, name="Checkout")

    response = portal_admin_client.post(f"/portal/credentials/{issued.client.pk}/roll/", {"grace": "1y"})

    assert response.status_code == 400
    assert 'id="id_grace_error"' in response.content.decode()
    assert token_status(issued.client.client_id, issued.client_secret) == 200


def test_another_merchants_client_cannot_be_rolled(portal_admin_client, other_merchant):
    theirs = oauth_client_create(merchant=other_merchant, name="Theirs")

    assert (
        portal_admin_client.post(f"/portal/credentials/{theirs.client.pk}/roll/", {"grace": "now"}).status_code == 404
    )
    assert token_status(theirs.client.client_id, theirs.client_secret) == 200


def test_a_secret_not_shown_within_its_time_is_gone(portal_admin_client, merchant, monkeypatch):
    posted = portal_admin_client.post("/portal/credentials/", {"name": "Checkout", "access": READ_WRITE})
    monkeypatch.setattr("portal.shown_once.KEEP_SECONDS", -1)

    page = portal_admin_client.get(posted["Location"], follow=True)

    assert 'id="client-secret"' not in page.content.decode()
