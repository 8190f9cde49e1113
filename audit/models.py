from django.db import models

from core.scoping import ScopedManager
from merchants.models import Merchant


class AuditEntry(models.Model):
    """Who changed which customer, when, through which door, and which fields (names only).

    It holds ids and field names, never values, so it may outlive the customer's erasure.
    """

    class Door(models.TextChoices):
        API = "api"
        PORTAL = "portal"
        ADMIN = "admin"
        CLI = "cli"

    id = models.BigAutoField(primary_key=True)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="audit_entries")
    # Not a foreign key: the entry outlives the deleted customer.
    customer_id = models.UUIDField(db_index=True)
    action = models.CharField(max_length=16)  # created / updated / deleted
    door = models.CharField(max_length=16, choices=Door.choices)
    actor = models.CharField(max_length=255, help_text="API client id, or portal/admin user id and username")
    changed_fields = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(merchant="merchant")

    class Meta:
        # The table of the app this model came from (customers): moved without moving data.
        db_table = "customers_auditentry"
        ordering = ["-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.customer_id} by {self.actor} via {self.door}"
