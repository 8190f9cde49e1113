import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from customers.ids import uuid7
from merchants.models import Merchant


class CustomerQuerySet(models.QuerySet):
    def for_merchant(self, merchant: Merchant) -> "CustomerQuerySet":
        if merchant is None:
            raise ValueError("A merchant is required to query customers.")
        return self.filter(merchant=merchant)


class Customer(models.Model):
    """A merchant's customer record. `customer_id` is assigned here, never taken from input."""

    # Time-ordered (UUIDv7) so that inserts append to the primary key index.
    customer_id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="customers")
    firstname = models.CharField(max_length=100, null=True, blank=True)
    lastname = models.CharField(max_length=100, null=True, blank=True)
    email = models.CharField(max_length=254, null=True, blank=True)
    company = models.CharField(max_length=255, null=True, blank=True)
    address_country = models.CharField(max_length=3, null=True, blank=True, help_text="ISO 3166-1 alpha-3")
    # Bumped on every change; the API's ETag and If-Match compare it.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        indexes = [
            # Keyset pagination: newest first, customer_id breaks ties.
            models.Index(fields=["merchant", "-created_at", "-customer_id"], name="customer_merchant_created"),
            # Case-insensitive email lookup within one merchant.
            models.Index(models.F("merchant"), Lower("email"), name="customer_merchant_email_ci"),
        ]

    def __str__(self) -> str:
        name = " ".join(part for part in (self.firstname, self.lastname) if part)
        return name or self.email or self.company or str(self.customer_id)

    def cache_custom_fields(self, fields: list["CustomField"]) -> None:
        """Make `self.custom_fields.all()` answer `fields` without a query, as prefetch_related does.

        For callers that already hold the customer's fields (just written, or read
        by hand); `fields` must be all of them, in order.
        """
        cached = self.custom_fields.all()
        cached._result_cache = fields
        cached._prefetch_done = True
        for field in fields:
            field._state.fields_cache["customer"] = self
        self._prefetched_objects_cache = {**getattr(self, "_prefetched_objects_cache", {}), "custom_fields": cached}


class CustomField(models.Model):
    """One custom field of one customer; the value is always stored as text."""

    class Type(models.TextChoices):
        STRING = "string"
        INTEGER = "integer"
        NUMBER = "number"
        BOOLEAN = "boolean"
        DATE = "date"
        DATETIME = "datetime"
        EMAIL = "email"
        URL = "url"

    # No index of its own: the unique (customer, name) constraint's index starts with it.
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="custom_fields", db_index=False)
    name = models.CharField(max_length=64)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.STRING)
    value = models.CharField(max_length=500)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["customer", "name"], name="customfield_unique_name")]
        # Searching customers by custom field value.
        indexes = [models.Index(fields=["name", "value"], name="customfield_name_value")]

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class CustomerEvent(models.Model):
    """Transactional outbox: written in the same transaction as the change it describes."""

    class Type(models.TextChoices):
        CREATED = "customer.created"
        UPDATED = "customer.updated"
        DELETED = "customer.deleted"

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

    class Meta:
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
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.event} -> {self.destination} ({self.status})"


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

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return self.key


class AuditEntry(models.Model):
    """Who changed which customer, when, through which door, and which fields (names only)."""

    class Door(models.TextChoices):
        API = "api"
        PORTAL = "portal"
        ADMIN = "admin"
        CLI = "cli"

    id = models.BigAutoField(primary_key=True)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="audit_entries")
    customer_id = models.UUIDField(db_index=True)
    action = models.CharField(max_length=16)  # created / updated / deleted
    door = models.CharField(max_length=16, choices=Door.choices)
    actor = models.CharField(max_length=255, help_text="API client id, or portal/admin user id and username")
    changed_fields = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.customer_id} by {self.actor} via {self.door}"


class CustomerImport(models.Model):
    """One CSV upload from the portal: its progress while it runs, then its report.

    The import itself runs in a background thread (see customers/portal/import_jobs.py);
    this row is how the status page, in any process, sees how far it got.
    """

    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="customer_imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    filename = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    rows_total = models.PositiveIntegerField(null=True, blank=True, help_text="Data rows in the file, counted first")
    rows_read = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{line, errors: [{field, code, message}]}]")
    failure = models.TextField(blank=True, default="", help_text="Why the import stopped, when it did")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="customer_import_recent")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"
