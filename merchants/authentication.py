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
    caches), so such a request is simply unauthenticated. The check is the
    toolkit's resource-server check (the token exists and has not expired; scopes
    are checked per action by HasRequiredScope) without oauthlib's request
    machinery around it, which cost more CPU than the rest of a retrieve.
    """

    www_authenticate_realm = "api"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.lower().startswith("bearer "):
            return None
        # Imported here: DRF loads this class while Django configures logging, before models can load.
        from merchants.selectors import access_token_lookup

        raw = _bearer_token(header)
        token = access_token_lookup(token=raw) if raw else None
        if token is None or token.is_expired():
            description = "The access token has expired." if token else "The access token is invalid."
            request.oauth2_error = {"error": "invalid_token", "error_description": description}
            raise AuthenticationFailed("The access token is invalid, expired or revoked.", code="invalid_token")
        client = token.application
        if client is None or not client.merchant.is_active:
            raise AuthenticationFailed("The access token's merchant is not active.", code="invalid_token")
        request.merchant = client.merchant
        # Client-credentials tokens have no user; DRF would otherwise store None.
        return (None, token)
