"""Tenant scoping by construction (django-scopes, as pretix does).

Every model that belongs to a merchant has `objects = ScopedManager(merchant=...)`:
its querysets answer only inside `merchant_scope(merchant)`, filtered to that
merchant, and raise ScopeError anywhere else. Where the merchant comes from:

- the API: the request's access token (api.views.MerchantAPIMixin enters its scope);
- the portal: the session's active membership (portal.access.portal_view);
- a background job or command: the merchant it was started for.

Opting out is explicit and rare: Django admin (core/admin_site.py), the event
worker, the token endpoint (the client is unknown until its secret is checked),
and the few reads that are across merchants by nature (a user's memberships),
each with `scopes_disabled()` or the manager's `with_scopes_disabled()`.
core.middleware.TenantScopeMiddleware starts every request with no merchant in scope.
"""

from django_scopes import ScopedManager, scope, scopes_disabled

__all__ = ["ScopedManager", "merchant_scope", "scopes_disabled"]


def merchant_scope(merchant):
    """The scope in which merchant-owned models answer for `merchant` alone.

    Refuses None: django-scopes reads a None dimension as "every merchant".
    """
    if merchant is None or getattr(merchant, "pk", None) is None:
        raise ValueError("merchant_scope needs a saved merchant.")
    return scope(merchant=merchant)
