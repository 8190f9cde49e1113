"""How the API knows which merchant a request acts for: the bearer token of one of its OAuth2 clients."""

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.exceptions import AuthenticationFailed


def _bearer_token(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, split as oauthlib splits it."""
    parts = header.split()
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1]
    return None


class MerchantTokenAuthentication(OAuth2Authentication):
    """Bearer tokens from the `Authorization` header only, of an active merchant's client.

    A token in the query string or body is ignored (it would leak into logs and
    caches), so such a request is simply unauthenticated. The token is judged by
    django-oauth-toolkit's own `AccessToken.is_valid()` (not expired; scopes are
    checked per action with `allow_scopes`), and its client's merchant must be
    active. Only the lookup is our own query (merchants/sql.py, measured), without
    oauthlib's request machinery around it; api/tests/test_token_contract.py holds
    every outcome equal to the project's validator (the toolkit's, plus the
    active-merchant rule).
    """

    www_authenticate_realm = "api"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.lower().startswith("bearer "):
            return None
        # Imported here: DRF loads this class while Django configures logging, before models can load.
        from merchants.sql import access_token_lookup

        raw = _bearer_token(header)
        token = access_token_lookup(token=raw) if raw else None
        if token is None or not token.is_valid():
            description = "The access token has expired." if token else "The access token is invalid."
            request.oauth2_error = {"error": "invalid_token", "error_description": description}
            raise AuthenticationFailed("The access token is invalid, expired or revoked.", code="invalid_token")
        client = token.application
        if client is None or not client.merchant.is_active:
            raise AuthenticationFailed("The access token's merchant is not active.", code="invalid_token")
        request.merchant = client.merchant
        # Client-credentials tokens have no user; DRF would otherwise store None.
        return (None, token)
