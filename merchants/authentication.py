from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.exceptions import AuthenticationFailed


class MerchantTokenAuthentication(OAuth2Authentication):
    """Bearer tokens from the `Authorization` header only, of an active merchant's client.

    A token in the query string or body is ignored (it would leak into logs and
    caches), so such a request is simply unauthenticated.
    """

    www_authenticate_realm = "api"

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.lower().startswith("bearer "):
            return None
        result = super().authenticate(request)
        if result is None:
            raise AuthenticationFailed("The access token is invalid, expired or revoked.", code="invalid_token")
        _user, token = result
        client = token.application
        if client is None or not client.merchant.is_active:
            raise AuthenticationFailed("The access token's merchant is not active.", code="invalid_token")
        request._request.merchant = client.merchant
        # Client-credentials tokens have no user; DRF would otherwise store None.
        return (None, token)
