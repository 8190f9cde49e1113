from django.db import models

from core.scoping import ScopedManager
from merchants.models import Merchant


class IdempotencyRecord(models.Model):
    """What the API answered to a request with an `Idempotency-Key`, kept to replay it."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="idempotency_records")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body")
    # Lets erasure find the stored replays that hold a customer's data.
    customer_id = models.UUIDField(null=True, blank=True, db_index=True)
    completed = models.BooleanField(default=False)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    objects = ScopedManager(merchant="merchant")

    class Meta:
        # The table of the app this model came from (customers): moved without moving data.
        db_table = "customers_idempotencyrecord"
        constraints = [models.UniqueConstraint(fields=["merchant", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return self.key
