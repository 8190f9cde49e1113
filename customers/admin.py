"""Django admin for operators. Customers are saved through the domain services, like every other door."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from audit.models import AuditEntry
from audit.selectors import audit_entries_of
from audit.services import Actor
from core.paginators import LargeTablePaginator
from customers.contact import phone_national
from customers.countries import country_choices
from customers.error_paths import custom_field_error_index, record_field_of_path
from customers.exceptions import ReferenceInUse, VersionMismatch
from customers.models import Customer, CustomField
from customers.search import MAX_QUERY_LENGTH, search_condition
from customers.services import RECORD_FIELDS, customer_create, customer_delete, customer_replace
from customers.validation import clean_customer_payload, payload_of_columns
from merchants.admin import AdminIdColumn, id_column


class CountryFilter(admin.SimpleListFilter):
    """One drop-down of country names (django-countries), not a 250-link list: no DISTINCT over the table either.

    Its template (admin/compact_filter.html) is a GET form without script; it keeps the list's other
    parameters (search, the other filters, the ordering) as hidden fields.
    """

    title = "country"
    parameter_name = "country"
    template = "admin/compact_filter.html"

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        # Every parameter but this filter's own and the page number (a new filter starts at page one).
        self.other_params = [
            (name, value)
            for name, values in request.GET.lists()
            if name not in (self.parameter_name, "p")
            for value in values
        ]

    def lookups(self, request, model_admin):
        return country_choices()

    def choices(self, changelist):
        yield {"value": "", "selected": self.value() is None, "display": "All countries"}
        for code, name in self.lookup_choices:
            yield {"value": code, "selected": self.value() == str(code), "display": name}

    def queryset(self, request, queryset):
        return queryset.filter(address_country=self.value()) if self.value() else queryset


CHANGED_MEANWHILE = (
    "Someone changed this customer since you opened this page, so nothing was saved. "
    "Open the customer again to see the current data, then redo your changes."
)


class CustomerAdminForm(forms.ModelForm):
    # Plain fields: the domain validation below says what is wrong, with its own messages.
    firstname = forms.CharField(required=False)
    lastname = forms.CharField(required=False)
    email = forms.CharField(required=False)
    company = forms.CharField(required=False)
    phone = forms.CharField(required=False, help_text="International (+44 20 7183 8750), or national with a country.")
    address_line1 = forms.CharField(required=False, label="Address line 1")
    address_line2 = forms.CharField(required=False, label="Address line 2")
    address_city = forms.CharField(required=False, label="City")
    address_region = forms.CharField(required=False, label="Region", help_text="State, province or county")
    address_postal_code = forms.CharField(required=False, label="Postal code")
    address_country = forms.CharField(required=False, label="Country", widget=forms.Select)
    reference = forms.CharField(required=False, help_text="Your own id for the customer, unique among yours.")
    # The version this page showed: saving refuses when the customer changed since (as the API's If-Match).
    based_on_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Customer
        fields = ["merchant", *RECORD_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address_country"].widget.choices = [("", "—"), *country_choices()]
        if not self.is_bound:
            self.fields["based_on_version"].initial = self.instance.version

    def payload(self) -> dict:
        return payload_of_columns({field: self.cleaned_data.get(field) or "" for field in RECORD_FIELDS})

    def clean(self):
        cleaned = super().clean()
        # None for a new customer (its id is not stored yet).
        stored = Customer.objects.filter(pk=self.instance.pk).values_list("version", flat=True).first()
        if stored is not None and cleaned.get("based_on_version") != stored:
            self.add_error(None, CHANGED_MEANWHILE)
        try:
            clean_customer_payload(self.payload())
        except ValidationError as error:
            for path, errors in error.error_dict.items():
                field = record_field_of_path(path)
                self.add_error(field if field in self.fields else None, errors)
        merchant = cleaned.get("merchant") or (self.instance.merchant if self.instance.pk else None)
        reference = (cleaned.get("reference") or "").strip()
        if reference and merchant and "reference" not in self.errors:
            holder = (
                Customer.objects.filter(merchant=merchant, reference=reference)
                .exclude(pk=self.instance.pk)
                .values_list("pk", flat=True)
                .first()
            )
            if holder is not None:
                self.add_error("reference", str(ReferenceInUse(reference, holder)))
        return cleaned


class CustomFieldInlineFormSet(BaseInlineFormSet):
    """Custom field rows, checked together with the customer by the domain validation."""

    def payload_items(self) -> tuple[list[dict], list[int]]:
        items, rows = [], []
        for index, form in enumerate(self.forms):
            data = getattr(form, "cleaned_data", None)
            if not data or self._should_delete_form(form):
                continue
            items.append({"name": data.get("name") or "", "type": data.get("type") or "string", "value": data["value"]})
            rows.append(index)
        return items, rows

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        items, rows = self.payload_items()
        # The customer form has already copied its cleaned values onto self.instance.
        payload = payload_of_columns({field: getattr(self.instance, field) or "" for field in RECORD_FIELDS})
        payload["options"] = {"custom_fields": items}
        try:
            clean_customer_payload(payload)
        except ValidationError as error:
            problems = []
            for path, errors in error.error_dict.items():
                position = custom_field_error_index(path)
                if position and position[0] < len(rows):
                    index = rows[position[0]]
                    form = self.forms[index]
                    form.add_error(position[1] if position[1] in form.fields else None, errors)
                    self._errors[index] = form.errors
                elif path.startswith("options"):
                    problems += [message for e in errors for message in e.messages]
                # Other paths belong to the customer form, which shows them itself.
            if problems:
                raise ValidationError(problems)


class CustomFieldInline(admin.TabularInline):
    model = CustomField
    formset = CustomFieldInlineFormSet
    fields = ["name", "type", "value"]
    extra = 1


@admin.register(Customer)
class CustomerAdmin(AdminIdColumn, admin.ModelAdmin):
    form = CustomerAdminForm
    inlines = [CustomFieldInline]
    list_display = [
        id_column("customer_id", "Customer ID"),
        "firstname",
        "lastname",
        "email",
        "company",
        "phone_number",
        "address_country",
        "reference",
        "merchant",
        "created_at",
    ]
    list_select_related = ["merchant"]
    list_filter = ["merchant", CountryFilter]
    search_fields = ["search_text"]  # shows the box; get_search_results applies the API's search rules
    search_help_text = (
        "The API's and portal's search: name (either order), email, company, phone (digits in any format) or "
        "reference, ignoring case and accents; or paste a customer id."
    )
    readonly_fields = ["customer_id", "version", "created_at", "updated_at", "audit_trail"]
    ordering = ["-created_at"]
    show_full_result_count = False
    paginator = LargeTablePaginator
    list_per_page = 50
    # Chosen by name from MerchantAdmin's search (never a pasted UUID).
    autocomplete_fields = ["merchant"]

    @admin.display(description="Phone", ordering="phone")
    def phone_number(self, obj):
        if not obj.phone:
            return "-"
        return format_html('<span title="{}">{}</span>', obj.phone, phone_national(obj.phone))

    def get_search_results(self, request, queryset, search_term):
        condition = search_condition(search_term[:MAX_QUERY_LENGTH])
        return (queryset if condition is None else queryset.filter(condition)), False

    @admin.display(description="Audit trail")
    def audit_trail(self, obj):
        if not obj or not obj.pk:
            return "-"
        url = reverse("admin:audit_auditentry_changelist") + f"?customer_id={obj.pk}"
        count = audit_entries_of(merchant=obj.merchant, customer_id=obj.pk).count()
        return format_html('<a href="{}">{} change(s): who, when, which door, which fields</a>', url, count)

    def get_readonly_fields(self, request, obj=None):
        # A customer never moves to another merchant.
        return [*self.readonly_fields, "merchant"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        """Nothing yet: save_related stores the customer and its custom fields in one domain call."""

    def save_formset(self, request, form, formset, change):
        """Custom fields are written by the domain service in save_related."""

    def save_related(self, request, form, formsets, change):
        custom_fields = next(f for f in formsets if isinstance(f, CustomFieldInlineFormSet))
        # Saves nothing: fills new/changed/deleted_objects for the admin's change message.
        custom_fields.save(commit=False)
        items, _rows = custom_fields.payload_items()
        payload = form.payload() | {"options": {"custom_fields": items}}
        actor = Actor.for_user(request.user, AuditEntry.Door.ADMIN)
        if change:
            # The service compares the version again under its row lock: a change that slipped in
            # after the form's check is refused there (changeform_view shows CHANGED_MEANWHILE).
            version = form.cleaned_data.get("based_on_version")
            saved = customer_replace(customer=form.instance, data=payload, actor=actor, expected_version=version)
        else:
            saved = customer_create(merchant=form.cleaned_data["merchant"], data=payload, actor=actor)
        # The admin logs and redirects to the object its form built: make it the stored customer.
        for field in ("customer_id", "version", "created_at", "updated_at", *RECORD_FIELDS):
            setattr(form.instance, field, getattr(saved, field))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except VersionMismatch:
            # Raised inside the admin's transaction, so nothing of this save was kept.
            self.message_user(request, CHANGED_MEANWHILE, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        except ReferenceInUse as error:
            # Another save took the reference after this form's check; nothing of this save was kept.
            self.message_user(request, f"{error} Nothing was saved.", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request, obj):
        customer_delete(customer=obj, actor=Actor.for_user(request.user, AuditEntry.Door.ADMIN))

    def delete_queryset(self, request, queryset):
        for customer in queryset:
            self.delete_model(request, customer)
