import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from core.ids import uuid7
from core.indexes import PostgreSQLGinIndex
from core.scoping import ScopedManager
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
    # The API shows these five as the `address` object; flat here so that each is a CSV column too.
    address_line1 = models.CharField(max_length=200, null=True, blank=True)
    address_line2 = models.CharField(max_length=200, null=True, blank=True)
    address_city = models.CharField(max_length=100, null=True, blank=True)
    address_region = models.CharField(max_length=100, null=True, blank=True, help_text="Region code where one exists")
    address_postal_code = models.CharField(max_length=20, null=True, blank=True)
    phone = models.CharField(max_length=16, null=True, blank=True, help_text="E.164, e.g. +442071838750")
    reference = models.CharField(
        max_length=128, null=True, blank=True, help_text="The merchant's own id for the customer, unique per merchant"
    )
    # Kept by the service functions (customers/search.py says how), never typed in.
    search_text = models.TextField(default="", editable=False)
    company_key = models.CharField(max_length=255, null=True, editable=False, help_text="company, folded")
    # What the portal's list sorts by (customers.search.customer_sort_keys), kept by the services too.
    name_key = models.TextField(default="", editable=False)
    email_key = models.TextField(default="1", editable=False)
    # Bumped on every change; the API's ETag and If-Match compare it.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(_manager_class=models.Manager.from_queryset(CustomerQuerySet), merchant="merchant")

    class Meta:
        indexes = [
            # Keyset pagination: newest first, customer_id breaks ties.
            models.Index(fields=["merchant", "-created_at", "-customer_id"], name="customer_merchant_created"),
            # The portal's "Name" and "Email" sorts, keyset-paginated the same way.
            models.Index(fields=["merchant", "name_key", "customer_id"], name="customer_merchant_name"),
            models.Index(fields=["merchant", "email_key", "customer_id"], name="customer_merchant_email_order"),
            # Case-insensitive email lookup within one merchant.
            models.Index(models.F("merchant"), Lower("email"), name="customer_merchant_email_ci"),
            # `company=`: exact, ignoring case and accents.
            models.Index(fields=["merchant", "company_key"], name="customer_merchant_company"),
            # `q`: substring search by trigrams, within one merchant (PostgreSQL, with pg_trgm and
            # btree_gin; SQLite scans the merchant's rows). With the merchant in the same GIN index a
            # small merchant's search never reads the whole table's matches for a common term.
            PostgreSQLGinIndex(
                fields=["merchant", "search_text"], opclasses=["uuid_ops", "gin_trgm_ops"], name="customer_search_trgm"
            ),
        ]
        constraints = [
            # One customer per reference within a merchant; its index also serves `reference=`.
            models.UniqueConstraint(
                fields=["merchant", "reference"],
                condition=models.Q(reference__isnull=False),
                name="customer_merchant_reference",
            ),
        ]

    def __str__(self) -> str:
        name = " ".join(part for part in (self.firstname, self.lastname) if part)
        return name or self.email or self.company or str(self.customer_id)

    @property
    def display_name(self) -> str:
        """What the portal's list shows for the customer: the name, else the company, else the email."""
        name = " ".join(part for part in (self.firstname, self.lastname) if part)
        return name or self.company or self.email or str(self.customer_id)

    @property
    def custom_field_list(self) -> list["CustomField"]:
        """The customer's custom fields in order: as loaded with it, else read now.

        Selectors load them with the customer as `loaded_custom_fields` (a Prefetch's
        `to_attr`), and the services that write them set it too. No class attribute
        declares it: the prefetch would take one for "already loaded".
        """
        loaded = getattr(self, "loaded_custom_fields", None)
        return list(self.custom_fields.all()) if loaded is None else loaded


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
    # The customer's merchant, copied so that `custom_fields[NAME]=VALUE` reads one merchant's
    # part of the index, however many rows other merchants have under the same name.
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(max_length=64)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.STRING)
    value = models.CharField(max_length=500)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ScopedManager(merchant="merchant")

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["customer", "name"], name="customfield_unique_name")]
        # Searching one merchant's customers by custom field value.
        indexes = [models.Index(fields=["merchant", "name", "value"], name="customfield_merchant_value")]

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


def _import_path(instance, filename: str) -> str:
    return f"imports/{instance.merchant_id}/{instance.pk}.csv"


def _export_path(instance, filename: str) -> str:
    return f"exports/{instance.merchant_id}/{instance.pk}.csv"


class CustomerImport(models.Model):
    """One CSV upload from the portal: the file, its checkpoint and progress while it runs, then its report.

    The import is a job (customers/import_jobs.py) run by `manage.py worker`. The uploaded
    file is in Django's storage, so any worker on any machine can run it. Each batch of
    customers commits together with the checkpoint here (`rows_read`, the counts and the
    refused rows' errors), so an import stopped at any moment resumes after its last
    checkpoint: every good row is imported exactly once.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINISHED = (Status.DONE, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="customer_imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to=_import_path, max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(null=True, blank=True, help_text="Data rows in the file, counted first")
    rows_read = models.PositiveIntegerField(
        default=0, help_text="Checkpoint: data rows of the file done (imported or refused) and committed"
    )
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{line, errors: [{field, code, message}]}]")
    failure = models.TextField(blank=True, default="", help_text="Why the import stopped, when it did")
    cancel_requested = models.BooleanField(default=False)
    # Rows per second since the current run started, resumed or not: (rows_read - run_rows) / elapsed.
    run_started_at = models.DateTimeField(null=True, blank=True)
    run_rows = models.PositiveIntegerField(default=0, help_text="rows_read when the current run started")
    runs = models.PositiveSmallIntegerField(default=0, help_text="Times a worker started or resumed it")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(merchant="merchant")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="customer_import_recent")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.status})"


class CustomerExport(models.Model):
    """One CSV export from the portal, written by a job into Django's storage and downloaded through the portal.

    The file is a copy of personal data: it is deleted EXPORT_RETENTION_HOURS after it was written
    (customers.export_jobs.exports_expire, run by the worker), so a deleted customer does not live on in it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        EXPIRED = "expired"  # its file was deleted after EXPORT_RETENTION_HOURS

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="customer_exports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    filters = models.JSONField(default=dict, blank=True, help_text="The customer list's filters, as the form sent them")
    file = models.FileField(upload_to=_export_path, max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_written = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(merchant="merchant")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["merchant", "-created_at"], name="customer_export_recent")]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.status})"
