"""The outbox: events of customer changes, merchants' webhook endpoints, and deliveries to each destination.

The tables keep the names of the app these models came from (customers), so an
existing installation moved them without moving data.
"""

import uuid

from django.db import models

from core.ids import uuid7
from core.scoping import ScopedManager
from merchants.models import Merchant


class CustomerEvent(models.Model):
    """Transactional outbox: written in the same transaction as the change it describes."""

    class Type(models.TextChoices):
        CREATED = "customer.created"
        UPDATED = "customer.updated"
        DELETED = "customer.deleted"
        # A test event an admin sends to one webhook endpoint from the portal; its subject is the endpoint.
        PING = "ping"

    # The auto-increment id orders events; deliveries of one customer follow it.
    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(default=uuid7, unique=True, editable=False)
    # No index of its own: event_merchant_recent (merchant, -id) starts with it.
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="customer_events", db_index=False)
    # Not a foreign key: the event outlives a deleted customer.
    customer_id = models.UUIDField(db_index=True)
    type = models.CharField(max_length=32, choices=Type.choices)
    payload = models.JSONField(help_text="Snapshot of the customer at the time of the event")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(merchant="merchant")

    class Meta:
        db_table = "customers_customerevent"
        ordering = ["id"]
        indexes = [models.Index(fields=["merchant", "-id"], name="event_merchant_recent")]

    def __str__(self) -> str:
        return f"{self.type} {self.customer_id}"


class WebhookEndpoint(models.Model):
    """A merchant's own URL that receives customer events, signed with its secret."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True, default="")
    enabled_events = models.JSONField(default=list, help_text="Event types delivered to this endpoint")
    # Kept in clear text: signing needs it. Shown to the merchant once, at creation.
    secret = models.CharField(max_length=128, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(merchant="merchant")

    class Meta:
        db_table = "customers_webhookendpoint"

    def __str__(self) -> str:
        return self.url


class EventDelivery(models.Model):
    """One event on its way to one destination: the gateway or a webhook endpoint."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        # Never sent: the customer was erased before this event went out.
        SKIPPED = "skipped"

    GATEWAY = "gateway"
    WEBHOOK = "webhook"

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(CustomerEvent, on_delete=models.CASCADE, related_name="deliveries")
    destination = models.CharField(max_length=16, choices=[(GATEWAY, "Gateway"), (WEBHOOK, "Webhook")])
    # No index of its own: delivery_endpoint_recent (endpoint, -id) starts with it.
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries", db_index=False
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    # A worker's lease: it is sending this delivery until then. Past it (the worker died),
    # the delivery is due again; the outcome is recorded only by the claim that still holds it.
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(merchant="event__merchant")

    class Meta:
        db_table = "customers_eventdelivery"
        ordering = ["id"]
        indexes = [
            # The queue: one destination's (the gateway's: no endpoint) deliveries of one status, in event
            # order. The worker claims pending ones from it, the backlog metrics count them. Not a partial
            # index (WHERE status = 'pending'): a prepared statement's generic plan could not use it.
            models.Index(fields=["status", "endpoint", "id"], name="delivery_queue"),
            # An endpoint's delivery log, newest first, a page at a time (events.selectors.endpoint_delivery_log).
            models.Index(fields=["endpoint", "-id"], name="delivery_endpoint_recent"),
        ]
        verbose_name_plural = "event deliveries"

    def __str__(self) -> str:
        return f"{self.event} -> {self.destination} ({self.status})"
