"""Who may see what in the portal: the active merchant of the session and the member's role."""

import functools

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from core.scoping import merchant_scope
from merchants.models import MerchantMembership
from merchants.selectors import user_memberships

ACTIVE_MERCHANT_SESSION_KEY = "portal_merchant_id"


def portal_memberships(request) -> list[MerchantMembership]:
    """The user's memberships of active merchants, read once per request."""
    if not hasattr(request, "_portal_memberships"):
        request._portal_memberships = list(user_memberships(user=request.user))
    return request._portal_memberships


def active_membership(request) -> MerchantMembership | None:
    """The membership of the merchant chosen in this session, else the user's first one; None for non-members."""
    memberships = portal_memberships(request)
    wanted = request.session.get(ACTIVE_MERCHANT_SESSION_KEY)
    for membership in memberships:
        if str(membership.merchant_id) == wanted:
            return membership
    return memberships[0] if memberships else None


def portal_view(view=None, *, admin_only: bool = False):
    """Decorate a portal view: login required, the active merchant set on `request.merchant`, its time zone active.

    A user who is a member of no active merchant gets a 403 page that says so; a
    staff member opening an admin-only page gets a 403 page too. Data of other
    merchants is never reachable: views look everything up through `request.merchant`.
    """
    if view is None:
        return functools.partial(portal_view, admin_only=admin_only)

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        membership = active_membership(request)
        if membership is None:
            return render(request, "portal/no_access.html", status=403)
        if admin_only and membership.role != MerchantMembership.Role.ADMIN:
            return render(request, "portal/forbidden.html", status=403)
        request.membership = membership
        request.merchant = membership.merchant
        # Every time on the page, and every date typed into a filter, is in the merchant's zone.
        with merchant_scope(request.merchant), timezone.override(request.merchant.zone):
            return view(request, *args, **kwargs)

    return wrapper
