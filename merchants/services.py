"""Writes to merchants, their OAuth2 clients and their staff memberships."""

import dataclasses

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
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


@transaction.atomic
def oauth_client_create(*, merchant: Merchant, name: str = "API client") -> IssuedClient:
    """A client-credentials client for `merchant`. The secret is stored hashed; keep the returned one."""
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


@transaction.atomic
def membership_add(*, merchant: Merchant, email: str, role: str, password: str | None = None) -> MerchantMembership:
    """Make the user with `email` (created when new) a member of `merchant` with `role`."""
    User = get_user_model()
    email = email.strip()
    user = User.objects.filter(username__iexact=email).first() or User.objects.filter(email__iexact=email).first()
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
