"""Reads of merchants, their clients and their staff."""

from django.db.models import QuerySet

from merchants.models import Merchant, MerchantMembership, OAuthClient


def user_memberships(*, user) -> QuerySet[MerchantMembership]:
    """The user's accepted memberships of active merchants, by merchant name. Empty for anonymous users.

    Pending invitations are not among them: they give no access until accepted.
    """
    if not user.is_authenticated:
        return MerchantMembership.objects.none()
    # Across merchants by nature: the memberships decide which merchant's scope the portal enters.
    return (
        MerchantMembership.objects.with_scopes_disabled()
        .filter(user=user, merchant__is_active=True, accepted_at__isnull=False)
        .select_related("merchant")
        .order_by("merchant__name", "merchant_id")
    )


def merchant_members(*, merchant: Merchant) -> QuerySet[MerchantMembership]:
    """The merchant's members and pending invitations."""
    return MerchantMembership.objects.filter(merchant=merchant).select_related("user").order_by("user__username")


def invitation_get(*, membership_id, token: str) -> MerchantMembership | None:
    """The pending invitation this link (membership id and token) is good for; None for any other link."""
    try:
        pk = int(membership_id)
    except (TypeError, ValueError):
        return None
    # The link, not a session, names the merchant: found before any merchant is in scope.
    membership = (
        MerchantMembership.objects.with_scopes_disabled().select_related("merchant", "user").filter(pk=pk).first()
    )
    if membership is None or not membership.invitation_link_is_live(token):
        return None
    return membership


def merchant_member_get(*, merchant: Merchant, membership_id) -> MerchantMembership:
    """MerchantMembership.DoesNotExist for another merchant's membership or a malformed id."""
    try:
        pk = int(membership_id)
    except (TypeError, ValueError):
        raise MerchantMembership.DoesNotExist from None
    return merchant_members(merchant=merchant).get(pk=pk)


def merchant_clients(*, merchant: Merchant) -> QuerySet[OAuthClient]:
    return OAuthClient.objects.filter(merchant=merchant).order_by("-created", "-id")


def merchant_client_get(*, merchant: Merchant, client_pk) -> OAuthClient:
    """OAuthClient.DoesNotExist for another merchant's client or a malformed id."""
    try:
        pk = int(client_pk)
    except (TypeError, ValueError):
        raise OAuthClient.DoesNotExist from None
    return merchant_clients(merchant=merchant).get(pk=pk)
