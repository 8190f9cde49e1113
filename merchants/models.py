import datetime
import hashlib
import hmac
import uuid
import zoneinfo

from django.conf import settings
from django.db import models
from django.utils import timezone
from oauth2_provider.models import AbstractApplication, ApplicationManager

from core.scoping import ScopedManager

# The API's two scopes (api.permissions names them for the views; api is above merchants).
READ_SCOPE = "customers:read"
WRITE_SCOPE = "customers:write"


class Merchant(models.Model):
    """A merchant account: the tenant that owns customers, clients and staff."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    # An IANA zone name (zoneinfo): the portal shows times and reads date filters in it. The API
    # keeps UTC. Checked by merchants.services.merchant_set_time_zone, not by the column.
    time_zone = models.CharField(max_length=64, default="UTC")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The merchant's time zone; UTC if the stored name is not one this system knows (any more)."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")


class OAuthClientManager(ApplicationManager):
    def get_queryset(self):
        # With its merchant, in the same query: the token endpoint's client lookup (the toolkit's
        # own `objects.get(client_id=...)`) is followed by the merchant's is_active check.
        return super().get_queryset().select_related("merchant")


class OAuthClient(AbstractApplication):
    """An OAuth2 client (django-oauth-toolkit application) owned by one merchant.

    The token's client decides which merchant a request acts for; a request body
    never does.
    """

    class Access(models.TextChoices):
        # Values are the OAuth scopes the client may be granted, space-separated as in a token.
        READ_WRITE = f"{READ_SCOPE} {WRITE_SCOPE}", "Read and write"
        READ_ONLY = READ_SCOPE, "Read only"

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="oauth_clients")
    # The most its tokens may carry: /o/token/ grants these (or the subset asked for), never more.
    allowed_scopes = models.CharField(
        "access", max_length=255, choices=Access.choices, default=Access.READ_WRITE, editable=False
    )
    # When a token was last issued to it (at most once a token lifetime; no write per API request).
    last_used_at = models.DateTimeField("last token issued", null=True, blank=True, editable=False)
    # The secret it had before the last roll, hashed like client_secret, accepted until
    # previous_secret_expires_at (the grace period its admin chose); empty when none.
    previous_client_secret = models.CharField(max_length=255, blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ScopedManager(_manager_class=OAuthClientManager, merchant="merchant")

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        verbose_name = "OAuth2 client"

    @property
    def is_read_only(self) -> bool:
        return WRITE_SCOPE not in self.allowed_scopes.split()

    def previous_secret_is_live(self, now: datetime.datetime | None = None) -> bool:
        """Whether the secret before the last roll is still accepted (its grace period has not ended)."""
        expires = self.previous_secret_expires_at
        return bool(self.previous_client_secret) and expires is not None and (now or timezone.now()) < expires

    @property
    def get_absolute_url(self):
        # The toolkit's Application links to its own pages (namespace "oauth2_provider"), which the
        # vault does not serve: admin's "View on site" would be a 500. An API client has no page of
        # its own, and Django's shortcut view answers 404 for a model without the method.
        raise AttributeError("An API client has no page of its own.")


class MerchantMembership(models.Model):
    """Links a portal user to a merchant with a role.

    A membership is a pending invitation until the invited person accepts it
    (`accepted_at` set): only accepted memberships give access to the portal,
    appear in the merchant switcher and count as admins. Memberships made by
    operators (CLI, Django admin) are accepted when made; the portal makes
    pending ones (merchants.services.membership_invite).
    """

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        STAFF = "staff", "Staff"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)
    # None: a pending invitation. The default makes every membership made outside the invitation flow accepted.
    accepted_at = models.DateTimeField(null=True, blank=True, default=timezone.now, editable=False)
    # The address the inviting admin typed: a pending row shows it, never the account's own spelling of it.
    invited_email = models.CharField(max_length=254, blank=True, default="", editable=False)
    # The invitation link's token, as a SHA-256 hex digest; empty once used, withdrawn or cut off.
    invitation_token_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    invitation_issued_at = models.DateTimeField(null=True, blank=True, editable=False)

    # A membership is what puts a portal session in its merchant's scope, so the few reads that
    # find one before that (a user's merchants, an invitation link) opt out: with_scopes_disabled().
    objects = ScopedManager(merchant="merchant")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="membership_unique_user_merchant")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant} ({self.role}{'' if self.is_accepted else ', invited'})"

    @property
    def is_accepted(self) -> bool:
        return self.accepted_at is not None

    @property
    def state_label(self) -> str:
        return "Accepted" if self.is_accepted else "Invited (pending)"

    @property
    def shown_email(self) -> str:
        """Who the membership is for, as the merchant's admins may see it."""
        if not self.is_accepted and self.invited_email:
            return self.invited_email
        return self.user.get_username()

    def invitation_expires_at(self) -> datetime.datetime | None:
        if self.invitation_issued_at is None:
            return None
        return self.invitation_issued_at + datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)

    def invitation_link_is_live(self, token: str) -> bool:
        """Whether `token` is this pending invitation's current, unexpired link, to an active merchant."""
        if self.is_accepted or not self.invitation_token_hash or not self.merchant.is_active:
            return False
        expires_at = self.invitation_expires_at()
        if expires_at is None or expires_at <= timezone.now():
            return False
        return hmac.compare_digest(self.invitation_token_hash, invitation_token_digest(token))


def invitation_token_digest(token: str) -> str:
    """How an invitation link's token is stored: its SHA-256 digest, never the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
