"""Reads of merchants, their clients and their staff."""

from django.db.models import QuerySet

from merchants.models import Merchant, MerchantMembership, OAuthClient


def user_memberships(*, user) -> QuerySet[MerchantMembership]:
    """The user's memberships of active merchants, by merchant name. Empty for anonymous users."""
    if not user.is_authenticated:
        return MerchantMembership.objects.none()
    return (
        MerchantMembership.objects.filter(user=user, merchant__is_active=True)
        .select_related("merchant")
        .order_by("merchant__name", "merchant_id")
    )


def merchant_members(*, merchant: Merchant) -> QuerySet[MerchantMembership]:
    return MerchantMembership.objects.filter(merchant=merchant).select_related("user").order_by("user__username")


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
