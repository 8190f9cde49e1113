"""Credentials for tests: portal passwords and API access tokens, got for real or stored directly."""

import base64
import datetime
import secrets

from django.utils import timezone
from oauth2_provider.models import get_access_token_model, set_token_value
from oauth2_provider.settings import oauth2_settings
from rest_framework.test import APIClient

USER_PASSWORD = "correct horse battery staple"


def fetch_token(client_id: str, client_secret: str, scope: str | None = None) -> dict:
    """A real client-credentials token from POST /o/token/ (HTTP Basic)."""
    basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    response = APIClient().post("/o/token/", data, HTTP_AUTHORIZATION=f"Basic {basic}")
    assert response.status_code == 200, response.content
    return response.json()


def issue_token(client, scope: str | None = None) -> str:
    """An access token of `client` stored as /o/token/ stores one, without the HTTP call.

    For the tests that are not about authentication; those that are use `fetch_token`.
    """
    raw = secrets.token_urlsafe(32)
    token = get_access_token_model()(
        application=client,
        expires=timezone.now() + datetime.timedelta(seconds=oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS),
        scope=scope or " ".join(oauth2_settings.DEFAULT_SCOPES),
    )
    set_token_value(token, raw)
    token.save()
    return raw
