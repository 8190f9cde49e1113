from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauth2_provider.settings import oauth2_settings
from rest_framework.exceptions import AuthenticationFailed


class _HeaderTokenCore(OAuthLibCore):
    """The toolkit's token check, reading headers only.

    The stock core reads `request.POST` to look for a token in a form body; on
    a DRF request that parses the body during authentication, so a bad body
    would answer 400/415 before a bad token answers 401, and a multipart body
    would be consumed. The token is only ever taken from the header here.
    """

    def extract_body(self, request):
        return []


def _header_token_core() -> _HeaderTokenCore:
    server = oauth2_settings.OAUTH2_SERVER_CLASS(
        oauth2_settings.OAUTH2_VALIDATOR_CLASS(), **oauth2_settings.server_kwargs
    )
    return _HeaderTokenCore(server)


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
        try:
            valid, oauth_request = _header_token_core().verify_request(request, scopes=[])
        except ValueError:  # oauthlib refusing a malformed query string
            valid, oauth_request = False, None
        if not valid:
            request.oauth2_error = getattr(oauth_request, "oauth2_error", {})
            raise AuthenticationFailed("The access token is invalid, expired or revoked.", code="invalid_token")
        token = oauth_request.access_token
        client = token.application
        if client is None or not client.merchant.is_active:
            raise AuthenticationFailed("The access token's merchant is not active.", code="invalid_token")
        request._request.merchant = client.merchant
        # Client-credentials tokens have no user; DRF would otherwise store None.
        return (None, token)
