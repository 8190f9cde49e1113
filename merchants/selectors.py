"""Reads of merchants, their clients and their staff."""

import functools
import hashlib

from django.db import connection
from django.db.models import QuerySet
from oauth2_provider.models import get_access_token_model

from merchants.models import Merchant, MerchantMembership, OAuthClient


@functools.cache
def _access_token_sql() -> str:
    token, client, merchant = get_access_token_model()._meta, OAuthClient._meta, Merchant._meta
    q = connection.ops.quote_name

    def column(meta, name: str) -> str:
        return q(meta.get_field(name).column)

    # Identifiers come from model metadata, quoted by the backend; the checksum is a parameter.
    return (
        f"SELECT t.{column(token, 'id')}, t.{column(token, 'expires')}, t.{column(token, 'scope')}, "  # noqa: S608
        f"t.{column(token, 'application')}, c.{column(client, 'client_id')} AS client_client_id, "
        f"c.{column(client, 'merchant')} AS client_merchant_id, m.{column(merchant, 'name')} AS merchant_name, "
        f"m.{column(merchant, 'is_active')} AS merchant_is_active "
        f"FROM {q(token.db_table)} t "
        f"JOIN {q(client.db_table)} c ON c.{column(client, 'id')} = t.{column(token, 'application')} "
        f"JOIN {q(merchant.db_table)} m ON m.{column(merchant, 'id')} = c.{column(client, 'merchant')} "
        f"WHERE t.{column(token, 'token_checksum')} = %s"
    )


def access_token_lookup(*, token: str):
    """The access token with this value, its client and the client's merchant loaded; None when unknown.

    The same lookup as the toolkit's (by the SHA-256 checksum it stores), as one
    hand-written query because every API request makes it: building the ORM
    query with its joins cost four times the CPU of running it (docs/SCALING.md).
    Expiry is for the caller to check. Fields not selected load on access.
    """
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    found = list(get_access_token_model().objects.raw(_access_token_sql(), [checksum]))
    if not found:
        return None
    access_token = found[0]
    # Columns from the joined tables come back raw (e.g. SQLite's hex UUIDs and 0/1 booleans).
    merchant_pk = Merchant._meta.pk.to_python(access_token.client_merchant_id)
    merchant = Merchant.from_db(
        access_token._state.db,
        ["id", "name", "is_active"],
        [
            merchant_pk,
            access_token.merchant_name,
            Merchant._meta.get_field("is_active").to_python(access_token.merchant_is_active),
        ],
    )
    client = OAuthClient.from_db(
        access_token._state.db,
        ["id", "client_id", "merchant_id"],
        [access_token.application_id, access_token.client_client_id, merchant_pk],
    )
    client.merchant = merchant
    access_token.application = client
    return access_token


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
