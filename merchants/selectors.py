"""Reads of merchants, their clients and their staff."""

import functools
import hashlib

from django.db import connection
from django.db.models import QuerySet
from oauth2_provider.models import get_access_token_model

from core.sql import column_list, fetch_all, model_from_row
from merchants.models import Merchant, MerchantMembership, OAuthClient

_TOKEN_FIELDS = ("id", "expires", "scope", "application_id")
_CLIENT_FIELDS = ("id", "client_id", "merchant_id")
_MERCHANT_FIELDS = ("id", "name", "is_active")


@functools.cache
def _access_token_sql() -> str:
    token, client, merchant = get_access_token_model(), OAuthClient, Merchant
    q = connection.ops.quote_name

    def column(model, name: str) -> str:
        return q(model._meta.get_field(name).column)

    # Identifiers come from model metadata, quoted by the backend; the checksum is a parameter.
    return (
        f"SELECT {column_list(token, _TOKEN_FIELDS, 't')}, {column_list(client, _CLIENT_FIELDS, 'c')}, "  # noqa: S608
        f"{column_list(merchant, _MERCHANT_FIELDS, 'm')} "
        f"FROM {q(token._meta.db_table)} t "
        f"JOIN {q(client._meta.db_table)} c ON c.{column(client, 'id')} = t.{column(token, 'application')} "
        f"JOIN {q(merchant._meta.db_table)} m ON m.{column(merchant, 'id')} = c.{column(client, 'merchant')} "
        f"WHERE t.{column(token, 'token_checksum')} = %s"
    )


def access_token_lookup(*, token: str):
    """The access token with this value, its client and the client's merchant loaded; None when unknown.

    The same lookup as the toolkit's (by the SHA-256 checksum it stores), as one
    hand-written query because every API request makes it: building the ORM
    query with its joins cost four times the CPU of running it (config/sql.py).
    Expiry is for the caller to check. Fields not selected load on access.
    """
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    rows = fetch_all(_access_token_sql(), [checksum])
    if not rows:
        return None
    row = rows[0]
    ends = (len(_TOKEN_FIELDS), len(_TOKEN_FIELDS) + len(_CLIENT_FIELDS))
    access_token = model_from_row(get_access_token_model(), _TOKEN_FIELDS, row[: ends[0]])
    client = model_from_row(OAuthClient, _CLIENT_FIELDS, row[ends[0] : ends[1]])
    client.merchant = model_from_row(Merchant, _MERCHANT_FIELDS, row[ends[1] :])
    access_token.application = client
    return access_token


def user_memberships(*, user) -> QuerySet[MerchantMembership]:
    """The user's accepted memberships of active merchants, by merchant name. Empty for anonymous users.

    Pending invitations are not among them: they give no access until accepted.
    """
    if not user.is_authenticated:
        return MerchantMembership.objects.none()
    return (
        MerchantMembership.objects.filter(user=user, merchant__is_active=True, accepted_at__isnull=False)
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
    membership = MerchantMembership.objects.select_related("merchant", "user").filter(pk=pk).first()
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
