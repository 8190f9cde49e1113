from rest_framework.permissions import BasePermission


class HasMerchantToken(BasePermission):
    """Requires a valid access token of an active merchant's OAuth2 client.

    Client-credentials tokens carry no user, so DRF's IsAuthenticated does not
    apply; the authentication class sets `request.merchant` when the token is good.
    """

    def has_permission(self, request, view) -> bool:
        return request.auth is not None and getattr(request._request, "merchant", None) is not None
