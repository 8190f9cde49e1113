"""The API's token check decides every case as django-oauth-toolkit's own validator does.

MerchantTokenAuthentication finds the token with its own query (merchants/sql.py, measured in
bench/hot_paths.py) and judges it with the toolkit's methods; here the same tokens go through
the toolkit's `validate_bearer_token` too, and every outcome must agree.
"""

import datetime

import pytest
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauthlib.common import Request as OAuthlibRequest
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIRequestFactory

from api.permissions import READ_SCOPE, WRITE_SCOPE
from merchants.authentication import MerchantTokenAuthentication
from merchants.oauth_validators import MerchantOAuth2Validator
from merchants.services import oauth_client_create
from tests.credentials import issue_token


def ours(raw: str, scope: str) -> bool:
    request = APIRequestFactory().get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {raw}")
    try:
        result = MerchantTokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return False
    token = result[1]
    return token.allow_scopes([scope])  # what api.permissions.HasRequiredScope asks


def toolkits(raw: str, scope: str) -> bool:
    return MerchantOAuth2Validator().validate_bearer_token(raw, [scope], OAuthlibRequest("/api/v1/customers"))


def _expire(raw_token: str) -> None:
    get_access_token_model().objects.filter(expires__gt=timezone.now() - datetime.timedelta(days=1)).update(
        expires=timezone.now() - datetime.timedelta(seconds=1)
    )


CASES = {
    "valid": lambda client, raw: None,
    "expired": lambda client, raw: _expire(raw),
    "revoked": lambda client, raw: get_access_token_model().objects.all().delete(),
    "inactive merchant": lambda client, raw: (
        type(client.merchant).objects.filter(pk=client.merchant_id).update(is_active=False)
    ),
    "deleted client": lambda client, raw: client.delete(),
}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize(
    ("granted", "needed"), [(READ_SCOPE, READ_SCOPE), (READ_SCOPE, WRITE_SCOPE), (None, WRITE_SCOPE)]
)
def test_the_api_and_the_toolkit_agree_on_every_token(merchant, case, granted, needed):
    client = oauth_client_create(merchant=merchant, name="contract").client
    raw = issue_token(client, granted)
    CASES[case](client, raw)

    assert ours(raw, needed) == toolkits(raw, needed)


def test_the_cases_cover_both_answers(merchant):
    client = oauth_client_create(merchant=merchant, name="contract").client
    good, read_only = issue_token(client), issue_token(client, READ_SCOPE)

    assert (ours(good, WRITE_SCOPE), toolkits(good, WRITE_SCOPE)) == (True, True)
    assert (ours(read_only, WRITE_SCOPE), toolkits(read_only, WRITE_SCOPE)) == (False, False)
    assert (ours("no-such-token", READ_SCOPE), toolkits("no-such-token", READ_SCOPE)) == (False, False)
