import uuid

from django.conf import settings
from django.db import models
from oauth2_provider.models import AbstractApplication


class Merchant(models.Model):
    """A merchant account: the tenant that owns customers, clients and staff."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OAuthClient(AbstractApplication):
    """An OAuth2 client (django-oauth-toolkit application) owned by one merchant.

    The token's client decides which merchant a request acts for; a request body
    never does.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="oauth_clients")

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        verbose_name = "OAuth2 client"


class MerchantMembership(models.Model):
    """Links a portal user to a merchant with a role."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        STAFF = "staff", "Staff"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="membership_unique_user_merchant")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.merchant} ({self.role})"
