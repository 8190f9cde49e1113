"""Writes to merchants, their OAuth2 clients and their staff memberships."""

import dataclasses
import datetime
import functools
import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from oauth2_provider.generators import generate_client_id, generate_client_secret

from merchants.models import Merchant, MerchantMembership, OAuthClient, invitation_token_digest


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


@functools.cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name this system knows (zoneinfo), sorted: the merchant's choices."""
    # "localtime" and "posixrules" are files of the zone database, not zones a person would choose.
    return tuple(sorted(name for name in zoneinfo.available_timezones() if name not in ("localtime", "posixrules")))


@transaction.atomic
def merchant_set_time_zone(*, merchant: Merchant, time_zone: str) -> Merchant:
    """Set the zone the portal shows the merchant's times in and reads its date filters in."""
    time_zone = time_zone.strip()
    if time_zone not in time_zone_names():
        raise ValidationError(
            {
                "time_zone": ValidationError(
                    "Choose a time zone from the list (an IANA name such as Europe/London or UTC).",
                    code="invalid_time_zone",
                )
            }
        )
    merchant.time_zone = time_zone
    merchant.save(update_fields=["time_zone", "updated_at"])
    return merchant


TOO_MANY_CLIENTS_MESSAGE = (
    "A merchant may have at most %(limit)d API clients, and this one has that many already: "
    "revoke a client it no longer uses first."
)


@transaction.atomic
def oauth_client_create(
    *, merchant: Merchant, name: str = "API client", access: str = OAuthClient.Access.READ_WRITE
) -> IssuedClient:
    """A client-credentials client for `merchant`. The secret is stored hashed; keep the returned one.

    `access` (OAuthClient.Access) is the most its tokens may carry: a read-only client's tokens have
    customers:read only, so every write answers 403 insufficient_scope.

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
    if access not in OAuthClient.Access.values:
        choices = ", ".join(OAuthClient.Access.labels)
        raise ValidationError({"access": ValidationError(f"Must be one of: {choices}.", code="invalid_choice")})
    secret = generate_client_secret()
    client = OAuthClient.objects.create(
        merchant=merchant,
        name=name[:255] or "API client",
        client_id=generate_client_id(),
        client_secret=secret,
        client_type=OAuthClient.CLIENT_CONFIDENTIAL,
        authorization_grant_type=OAuthClient.GRANT_CLIENT_CREDENTIALS,
        hash_client_secret=True,
        allowed_scopes=access,
    )
    return IssuedClient(client=client, client_secret=secret)


# The grace periods a portal offers when a secret is rolled: how long the old secret keeps working.
SECRET_GRACE_PERIODS = {
    "now": datetime.timedelta(0),
    "1h": datetime.timedelta(hours=1),
    "24h": datetime.timedelta(hours=24),
    "7d": datetime.timedelta(days=7),
}
LONGEST_SECRET_GRACE = max(SECRET_GRACE_PERIODS.values())


@transaction.atomic
def oauth_client_roll_secret(*, merchant: Merchant, client: OAuthClient, grace: datetime.timedelta) -> IssuedClient:
    """Give the client a new secret (returned once); the current one keeps working for `grace`, then stops.

    A zero `grace` stops the current secret now. Only one earlier secret is kept: rolling
    again during a grace period ends the older secret's at once. Tokens issued before keep
    their own expiry; revoking the client is how to stop them.
    """
    if client.merchant_id != merchant.pk:
        raise OAuthClient.DoesNotExist
    if not datetime.timedelta(0) <= grace <= LONGEST_SECRET_GRACE:
        raise ValidationError(
            {"grace": ValidationError("The old secret may keep working for at most 7 days.", code="max_value")}
        )
    client = OAuthClient.objects.select_for_update().get(pk=client.pk, merchant=merchant)
    now = timezone.now()
    if grace:
        # Stored as it is: hashed (ClientSecretField hashed it when it was set), or a legacy plain one.
        client.previous_client_secret = client.client_secret
        client.previous_secret_expires_at = now + grace
    else:
        client.previous_client_secret = ""
        client.previous_secret_expires_at = None
    secret = generate_client_secret()
    client.client_secret = secret  # hashed on save
    client.hash_client_secret = True
    client.save(
        update_fields=[
            "client_secret",
            "hash_client_secret",
            "previous_client_secret",
            "previous_secret_expires_at",
            "updated",
        ]
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
    # The address becomes the username of a new account.
    longest = min(get_user_model()._meta.get_field("username").max_length or 254, 254)
    if len(email) > longest:
        raise ValidationError({"email": ValidationError(f"At most {longest} characters.", code="max_length")})
    return email


def _find_user(email: str):
    User = get_user_model()
    return User.objects.filter(username__iexact=email).first() or User.objects.filter(email__iexact=email).first()


@transaction.atomic
def membership_add(*, merchant: Merchant, email: str, role: str, password: str | None = None) -> MerchantMembership:
    """Make the user with `email` (created when new) a member of `merchant` with `role`, accepted at once.

    For operators only (CLI, demo): the membership needs no acceptance, and a given
    `password` is set even on an existing user. Portals invite (membership_invite).
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
    membership, created = MerchantMembership.objects.get_or_create(
        user=user, merchant=merchant, defaults={"role": role}
    )
    if not created:
        membership.role = role
        if not membership.is_accepted:
            membership.accepted_at = timezone.now()
            _clear_invitation(membership)
        membership.save()
    return membership


@dataclasses.dataclass(frozen=True)
class IssuedInvitation:
    membership: MerchantMembership
    token: str  # plain text: goes into the link shown once, stored only as its SHA-256 digest
    email: str  # the address as the admin typed it (cleaned)


def _clear_invitation(membership: MerchantMembership) -> None:
    membership.invitation_token_hash = ""
    membership.invitation_issued_at = None


ALREADY_A_MEMBER = "This person is already a member."


@transaction.atomic
def membership_invite(*, merchant: Merchant, email: str, role: str) -> IssuedInvitation:
    """Invite the person with `email` to `merchant` from a portal: a pending membership and a fresh link.

    Known and unknown addresses are answered alike: a new address gets an account
    without a password, an existing account is never changed, and nobody is a
    member before accepting (invitation_accept). Inviting a pending person again
    replaces their link (and sets the role). When the account has never had a
    password, every other merchant's link for it stops working: whoever sets
    that password gets the account, so only the newest link may do it.

    Raises ValidationError on `email` when the person has already accepted.
    """
    User = get_user_model()
    _check_role(role)
    email = _clean_email(email)
    user = _find_user(email)
    if user is None:
        user = User(username=email, email=email)
        user.set_unusable_password()
        user.save()
    else:
        # One invitation of this account at a time, from any merchant: they are decided under this lock.
        user = User.objects.select_for_update().get(pk=user.pk)
    membership = MerchantMembership.objects.select_for_update().filter(user=user, merchant=merchant).first()
    if membership is not None and membership.is_accepted:
        raise ValidationError({"email": ValidationError(ALREADY_A_MEMBER, code="duplicate")})
    if membership is None:
        membership = MerchantMembership(user=user, merchant=merchant, accepted_at=None)
    membership.role = role
    membership.invited_email = email
    return _issue_link(membership)


@transaction.atomic
def invitation_reissue(*, merchant: Merchant, membership: MerchantMembership) -> IssuedInvitation:
    """A fresh link for a pending invitation of `merchant`, replacing its earlier one."""
    if membership.merchant_id != merchant.pk:
        raise MerchantMembership.DoesNotExist
    get_user_model().objects.select_for_update().filter(pk=membership.user_id).first()
    membership = MerchantMembership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    if membership.is_accepted:
        raise ValidationError(ALREADY_A_MEMBER, code="duplicate")
    return _issue_link(membership)


def _issue_link(membership: MerchantMembership) -> IssuedInvitation:
    token = secrets.token_urlsafe(32)
    membership.invitation_token_hash = invitation_token_digest(token)
    membership.invitation_issued_at = timezone.now()
    membership.save()
    if not membership.user.has_usable_password():
        # The account's pending invitations from every merchant (its next password decides all of them).
        MerchantMembership.objects.with_scopes_disabled().filter(
            user_id=membership.user_id, accepted_at__isnull=True
        ).exclude(pk=membership.pk).update(invitation_token_hash="", invitation_issued_at=None)
    return IssuedInvitation(
        membership=membership, token=token, email=membership.invited_email or membership.user.get_username()
    )


def account_may_be_claimed(user) -> bool:
    """Whether an invitation link may set this account's first password (and so hand the account over).

    Only a fresh account may: no password yet, active, no operator rights, and a
    member of no merchant. Anything else would give the link's holder more than
    the one invitation.
    """
    return (
        not user.has_usable_password()
        and user.is_active
        and not user.is_staff
        and not user.is_superuser
        and not MerchantMembership.objects.with_scopes_disabled().filter(user=user, accepted_at__isnull=False).exists()
    )


class InvitationRefused(Exception):
    """The link is not (or no longer) good for this: used, replaced, withdrawn, expired, or the wrong account."""


@transaction.atomic
def invitation_accept(*, membership_id: int, token: str, user=None, password: str | None = None) -> MerchantMembership:
    """Accept one pending invitation with its link's `token`; no other membership of the account changes.

    Either `user` is the logged-in account the invitation is for, or `password`
    (already validated) becomes the first password of an account that may be
    claimed (account_may_be_claimed). Raises InvitationRefused otherwise.
    """
    User = get_user_model()
    # The account first, then the membership: the order membership_invite locks them in.
    # The link names the merchant; no session is in its scope yet.
    memberships = MerchantMembership.objects.with_scopes_disabled()
    user_id = memberships.filter(pk=membership_id).values_list("user_id", flat=True).first()
    invitee = User.objects.select_for_update().filter(pk=user_id).first() if user_id is not None else None
    membership = memberships.select_for_update().filter(pk=membership_id, user=invitee).first()
    if invitee is None or membership is None or not membership.invitation_link_is_live(token):
        raise InvitationRefused
    if password is not None:
        if user is not None or not account_may_be_claimed(invitee):
            raise InvitationRefused
        invitee.set_password(password)
        invitee.save(update_fields=["password"])
    elif user is None or user.pk != invitee.pk or not invitee.has_usable_password():
        raise InvitationRefused
    membership.accepted_at = timezone.now()
    _clear_invitation(membership)
    membership.save(update_fields=["accepted_at", "invitation_token_hash", "invitation_issued_at"])
    membership.user = invitee
    return membership


def _accepted_admins(merchant_id):
    """The admins the last-admin rule counts: pending invitations are nobody's access yet."""
    return MerchantMembership.objects.filter(
        merchant_id=merchant_id, role=MerchantMembership.Role.ADMIN, accepted_at__isnull=False
    )


def _other_admins_exist(membership: MerchantMembership) -> bool:
    return _accepted_admins(membership.merchant_id).exclude(pk=membership.pk).exists()


def _counts_as_admin(membership: MerchantMembership) -> bool:
    return membership.role == MerchantMembership.Role.ADMIN and membership.is_accepted


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
    demoting = _counts_as_admin(membership) and role != membership.role
    if demoting and not _other_admins_exist(membership):
        raise ValidationError({"role": ValidationError(LAST_ADMIN_MESSAGE, code="last_admin")})
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, merchant: Merchant, membership: MerchantMembership) -> None:
    """Remove a member, or withdraw an invitation (its link stops working); never the last admin.

    The user account stays.
    """
    membership = _locked_membership(merchant, membership)
    if _counts_as_admin(membership) and not _other_admins_exist(membership):
        raise ValidationError(LAST_ADMIN_MESSAGE, code="last_admin")
    membership.delete()
