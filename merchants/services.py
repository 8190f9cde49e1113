"""Writes to merchants, their OAuth2 clients and their staff memberships."""

import dataclasses

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from oauth2_provider.generators import generate_client_id, generate_client_secret

from merchants.models import Merchant, MerchantMembership, OAuthClient


@dataclasses.dataclass(frozen=True)
class IssuedClient:
    client: OAuthClient
    client_secret: str  # plain text: shown once, never stored


@transaction.atomic
def merchant_create(*, name: str) -> Merchant:
    name = name.strip()
    if not name:
        raise ValidationError({"name": ValidationError("A merchant needs a name.", code="required")})
    return Merchant.objects.create(name=name)


TOO_MANY_CLIENTS_MESSAGE = (
    "A merchant may have at most %(limit)d API clients, and this one has that many already: "
    "revoke a client it no longer uses first."
)


@transaction.atomic
def oauth_client_create(*, merchant: Merchant, name: str = "API client") -> IssuedClient:
    """A client-credentials client for `merchant`. The secret is stored hashed; keep the returned one.

    Raises ValidationError (code too_many_clients) when the merchant has MAX_API_CLIENTS_PER_MERCHANT
    clients already: each client has its own API rate limit, so clients must not multiply freely.
    """
    limit = settings.MAX_API_CLIENTS_PER_MERCHANT
    if limit:
        # Locked so that two concurrent creates cannot both pass the count (NO KEY: rows that
        # reference the merchant, such as its customers, can still be written meanwhile).
        list(Merchant.objects.select_for_update(no_key=True).filter(pk=merchant.pk).values_list("pk"))
        if OAuthClient.objects.filter(merchant=merchant).count() >= limit:
            raise ValidationError(TOO_MANY_CLIENTS_MESSAGE, code="too_many_clients", params={"limit": limit})
    secret = generate_client_secret()
    client = OAuthClient.objects.create(
        merchant=merchant,
        name=name[:255] or "API client",
        client_id=generate_client_id(),
        client_secret=secret,
        client_type=OAuthClient.CLIENT_CONFIDENTIAL,
        authorization_grant_type=OAuthClient.GRANT_CLIENT_CREDENTIALS,
        hash_client_secret=True,
    )
    return IssuedClient(client=client, client_secret=secret)


@transaction.atomic
def oauth_client_revoke(*, merchant: Merchant, client: OAuthClient) -> None:
    """Delete the client; its tokens go with it, so they stop working at once."""
    if client.merchant_id != merchant.pk:
        raise OAuthClient.DoesNotExist
    client.delete()


def _check_role(role: str) -> None:
    if role not in MerchantMembership.Role.values:
        choices = ", ".join(MerchantMembership.Role.values)
        raise ValidationError({"role": ValidationError(f"Must be one of: {choices}.", code="invalid_choice")})


def _clean_email(email: str) -> str:
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": ValidationError("Must be a valid email address.", code="invalid_email")})
    return email


def _find_user(email: str):
    User = get_user_model()
    return User.objects.filter(username__iexact=email).first() or User.objects.filter(email__iexact=email).first()


@transaction.atomic
def membership_add(*, merchant: Merchant, email: str, role: str, password: str | None = None) -> MerchantMembership:
    """Make the user with `email` (created when new) a member of `merchant` with `role`.

    A given `password` is set even on an existing user: only operators (CLI, demo) pass one.
    """
    User = get_user_model()
    _check_role(role)
    email = _clean_email(email)
    user = _find_user(email)
    if user is None:
        user = User(username=email, email=email)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    elif password:
        user.set_password(password)
        user.save(update_fields=["password"])
    membership, _ = MerchantMembership.objects.update_or_create(user=user, merchant=merchant, defaults={"role": role})
    return membership


@dataclasses.dataclass(frozen=True)
class Invitation:
    membership: MerchantMembership
    # The user was created by this invitation and has no password yet: hand them a set-password link.
    needs_password: bool


@transaction.atomic
def membership_invite(*, merchant: Merchant, email: str, role: str) -> Invitation:
    """Add a person to `merchant` from a portal: never touches an existing user's password.

    Raises ValidationError on `email` when the person is already a member.
    """
    _check_role(role)
    email = _clean_email(email)
    existing = _find_user(email)
    if existing is not None and MerchantMembership.objects.filter(merchant=merchant, user=existing).exists():
        raise ValidationError({"email": ValidationError("This person is already a member.", code="duplicate")})
    membership = membership_add(merchant=merchant, email=email, role=role)
    return Invitation(membership=membership, needs_password=existing is None)


def _other_admins_exist(membership: MerchantMembership) -> bool:
    return (
        MerchantMembership.objects.filter(merchant_id=membership.merchant_id, role=MerchantMembership.Role.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    )


def _locked_membership(merchant: Merchant, membership: MerchantMembership) -> MerchantMembership:
    if membership.merchant_id != merchant.pk:
        raise MerchantMembership.DoesNotExist
    # Lock the merchant's admins so two concurrent demotions cannot both pass the last-admin check.
    list(MerchantMembership.objects.select_for_update().filter(merchant=merchant, role=MerchantMembership.Role.ADMIN))
    return MerchantMembership.objects.select_related("user").get(pk=membership.pk)


LAST_ADMIN_MESSAGE = "A merchant keeps at least one admin: make someone else an admin first."


@transaction.atomic
def membership_set_role(*, merchant: Merchant, membership: MerchantMembership, role: str) -> MerchantMembership:
    """Change a member's role; the merchant's last admin cannot be demoted."""
    _check_role(role)
    membership = _locked_membership(merchant, membership)
    demoting = membership.role == MerchantMembership.Role.ADMIN and role != membership.role
    if demoting and not _other_admins_exist(membership):
        raise ValidationError({"role": ValidationError(LAST_ADMIN_MESSAGE, code="last_admin")})
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, merchant: Merchant, membership: MerchantMembership) -> None:
    """Remove a member from the merchant (the user account stays); never the last admin."""
    membership = _locked_membership(merchant, membership)
    if membership.role == MerchantMembership.Role.ADMIN and not _other_admins_exist(membership):
        raise ValidationError(LAST_ADMIN_MESSAGE, code="last_admin")
    membership.delete()
