from portal.access import active_membership, portal_memberships


def portal(request):
    """The active merchant and the user's other merchants, for the header of every portal page."""
    if not request.path.startswith("/portal/") or not request.user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None) or active_membership(request)
    return {
        "portal_account": request.user,
        "portal_membership": membership,
        "portal_memberships": portal_memberships(request),
        "portal_is_admin": bool(membership and membership.role == "admin"),
        "portal_section": _section(request),
        "portal_time_zone": membership.merchant.zone.key if membership else "UTC",
    }


_SECTIONS = {
    "customer": "customers",
    "import": "imports",
    "client": "credentials",
    "staff": "staff",
    "webhook": "webhooks",
    "merchant": "settings",
}


def _section(request) -> str:
    """Which navigation entry the page belongs to, for aria-current."""
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match else ""
    return _SECTIONS.get((name or "").split("_")[0], name or "")
