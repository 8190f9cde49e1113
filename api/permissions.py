"""What a token must carry for an API action: its merchant's client (api.permissions) and a scope."""

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from core.problems import INSUFFICIENT_SCOPE
from merchants.models import READ_SCOPE, WRITE_SCOPE

__all__ = ["READ_SCOPE", "WRITE_SCOPE", "HasMerchantToken", "HasRequiredScope", "InsufficientScope"]


class InsufficientScope(PermissionDenied):
    problem = INSUFFICIENT_SCOPE

    def __init__(self, scope: str, granted: str):
        granted_text = f"it has: {granted}" if granted.strip() else "it has no scopes"
        super().__init__(f"This call needs the '{scope}' scope; the access token lacks it ({granted_text}).")
        self.problem_extra = {"required_scope": scope}
        # RFC 6750, section 3.1.
        self.problem_headers = {"WWW-Authenticate": f'Bearer realm="api", error="insufficient_scope", scope="{scope}"'}


class HasRequiredScope(BasePermission):
    """The token must carry the scope the view names for the action (`view.scopes_by_action`).

    Scopes do not imply each other: customers:write does not grant reading.
    Actions without an entry (OPTIONS, unsupported methods) need no scope.
    """

    def has_permission(self, request, view) -> bool:
        scope = getattr(view, "scopes_by_action", {}).get(getattr(view, "action", None))
        if scope is None:
            return True
        token = request.auth
        if token is None:
            return False
        if not token.allow_scopes([scope]):
            raise InsufficientScope(scope, token.scope or "")
        return True


class HasMerchantToken(BasePermission):
    """Requires a valid access token of an active merchant's OAuth2 client.

    Client-credentials tokens carry no user, so DRF's IsAuthenticated does not
    apply; the authentication class sets `request.merchant` when the token is good.
    """

    def has_permission(self, request, view) -> bool:
        return request.auth is not None and getattr(request, "merchant", None) is not None
