"""HTML forms of the portal. They only carry input: every rule is checked by the domain layer."""

import datetime
import re

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from customers.contact import ADDRESS_COLUMNS, address_labels
from customers.countries import country_choices
from customers.filters import list_query_from_params
from customers.models import CustomField
from customers.selectors import CustomerFilters
from customers.validation import MAX_CUSTOM_FIELDS, PROFILE_FIELDS, payload_of_columns
from merchants.mail import password_reset_email_task
from merchants.models import MerchantMembership, OAuthClient
from merchants.services import time_zone_names

# One date format on every page and in every date input: ISO 8601's, as the API and the CSV files
# write dates. Chromium's own <input type="date"> shows dates in the browser's locale (mm/dd/yyyy
# under en-US) whatever the page says, so the portal's date inputs are text inputs in this format,
# and portal.js adds a button that opens the native calendar and writes the chosen day back here.
DATE_INPUT_FORMAT = "%Y-%m-%d"
DATETIME_INPUT_FORMAT = "%Y-%m-%d %H:%M"


class IsoDateInput(forms.DateInput):
    """A date typed as YYYY-MM-DD, with a calendar button when JavaScript runs (data-picker)."""

    def __init__(self, attrs=None):
        defaults = {
            "type": "text",
            "placeholder": "YYYY-MM-DD",
            "pattern": r"\d{4}-\d{2}-\d{2}",
            "autocomplete": "off",
            "data-picker": "date",
        }
        super().__init__(attrs=defaults | (attrs or {}), format=DATE_INPUT_FORMAT)


class EmailLoginForm(AuthenticationForm):
    """Django's login form; portal users log in with their email address (it is their username)."""

    username = forms.CharField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    # Django's sentence names the model's field ("username"); the field on the page is labelled Email.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Please enter a correct email and password. Note that the password is case-sensitive.",
    }


class QueuedPasswordResetForm(PasswordResetForm):
    """Django's password-reset form, whose save queues the email for the worker (merchants/mail.py).

    The request does the same for every address, known or not: it looks nothing up and sends
    nothing itself, so it answers as fast for an address with an account as for one without.
    """

    email = forms.EmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def save(self, *, domain_override=None, use_https=False, request=None, **kwargs):
        email = self.cleaned_data["email"]
        domain = domain_override or request.get_host()
        transaction.on_commit(
            lambda: password_reset_email_task.enqueue(email=email, domain=domain, use_https=use_https)
        )


class CustomerForm(forms.Form):
    firstname = forms.CharField(label="First name", required=False)
    lastname = forms.CharField(label="Last name", required=False)
    email = forms.CharField(label="Email", required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    company = forms.CharField(label="Company", required=False)
    phone = forms.CharField(
        label="Phone",
        required=False,
        help_text="With its country code (+44 20 7183 8750), or as dialled in the customer's country.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    reference = forms.CharField(
        label="Your reference",
        required=False,
        help_text="Your own id for this customer (letters, digits and _ - . : /), unique among your customers.",
    )
    # A plain CharField, not a ChoiceField: the domain layer says what a valid country is.
    address_country = forms.CharField(label="Country", required=False, widget=forms.Select)
    address_line1 = forms.CharField(label="Address line 1", required=False)
    address_line2 = forms.CharField(label="Address line 2", required=False)
    address_city = forms.CharField(label="City", required=False)
    address_region = forms.CharField(label="Region", required=False)
    address_postal_code = forms.CharField(label="Postal code", required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    ADDRESS_FIELDS = tuple(ADDRESS_COLUMNS.values())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address_country"].widget.choices = [("", "— No country —"), *country_choices()]
        self.fields["address_country"].widget.attrs["data-address-country"] = ""
        country = self.data.get("address_country") if self.is_bound else self.initial.get("address_country")
        self.label_address_for(str(country or "").strip().upper() or None)

    def label_address_for(self, country: str | None) -> None:
        """Name the address inputs as `country` does (Postcode, ZIP code, State, County...)."""
        labels = address_labels(country)
        for part, column in ADDRESS_COLUMNS.items():
            field = self.fields[column]
            field.label = getattr(labels, part)
            field.widget.attrs["data-address-part"] = part
        self.fields["address_postal_code"].help_text = (
            f"For example {labels.postal_code_example}." if labels.postal_code_example else ""
        )
        if labels.regions:
            examples = ", ".join(f"{code} ({name})" for code, name in labels.regions[:2])
            self.fields["address_region"].help_text = f"Code or name, for example {examples}."
        else:
            self.fields["address_region"].help_text = ""

    def payload(self) -> dict:
        """The API-shaped fields of the customer (custom fields are added by the caller)."""
        names = ("firstname", "lastname", "email", "company", *PROFILE_FIELDS)
        return payload_of_columns({name: self.cleaned_data.get(name, "") for name in names})


# What each custom field type is called on the pages; the API's names are the values.
CUSTOM_FIELD_TYPE_LABELS = {
    CustomField.Type.STRING: "Text",
    CustomField.Type.INTEGER: "Integer",
    CustomField.Type.NUMBER: "Decimal number",
    CustomField.Type.BOOLEAN: "Yes or no",
    CustomField.Type.DATE: "Date",
    CustomField.Type.DATETIME: "Date and time",
    CustomField.Type.EMAIL: "Email",
    CustomField.Type.URL: "URL",
}
CUSTOM_FIELD_TYPE_CHOICES = [(value, CUSTOM_FIELD_TYPE_LABELS[value]) for value in CustomField.Type.values]

# A "valid floating-point number" of HTML: the values an <input type="number"> keeps. Any other value
# (one the API refused, say) is shown in a text input, so that the person sees what to correct.
_HTML_NUMBER = re.compile(r"^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?\Z", re.ASCII)


class BooleanValueInput(forms.CheckboxInput):
    """A checkbox for a boolean custom field's value: checked sends "true", unchecked "false"."""

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, check_test=lambda value: value == "true")

    def format_value(self, value):
        return "true"

    def value_from_datadict(self, data, files, name):
        # Unchecked boxes are not sent. A typed "false" (the text box, without JavaScript) is kept.
        return data.get(name, "false")


def custom_field_value_widget(type_: str, value: str) -> forms.Widget:
    """The input of a custom field's value, by its type (portal.js swaps it when the type changes)."""
    attrs = {"data-cf-value": ""}
    if type_ in (CustomField.Type.INTEGER, CustomField.Type.NUMBER) and (not value or _HTML_NUMBER.match(value)):
        step = "1" if type_ == CustomField.Type.INTEGER else "any"
        return forms.NumberInput(attrs=attrs | {"step": step})
    if type_ == CustomField.Type.BOOLEAN and value in ("", "true", "false"):
        return BooleanValueInput(attrs=attrs)
    if type_ == CustomField.Type.DATE:
        return forms.TextInput(attrs=attrs | {"placeholder": "YYYY-MM-DD", "data-picker": "date"})
    if type_ == CustomField.Type.DATETIME:
        return forms.TextInput(attrs=attrs | {"placeholder": "YYYY-MM-DD HH:MM", "data-picker": "datetime"})
    if type_ == CustomField.Type.EMAIL:
        return forms.EmailInput(attrs=attrs)
    if type_ == CustomField.Type.URL:
        return forms.URLInput(attrs=attrs | {"placeholder": "https://"})
    return forms.TextInput(attrs=attrs)


def datetime_for_input(value: str) -> str:
    """A custom datetime value (ISO 8601 with an offset) as the portal shows it: in the active time zone."""
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    local = timezone.localtime(moment)
    if local.microsecond:
        return local.strftime(DATETIME_INPUT_FORMAT + ":%S.%f")
    return local.strftime(DATETIME_INPUT_FORMAT + (":%S" if local.second else ""))


def datetime_from_input(value: str, original: str = "") -> str:
    """The API's value of a typed date and time: one without an offset is in the active time zone.

    The stored text is kept when the moment did not change, so that opening and saving a customer
    changes nothing. Anything unreadable is passed on as typed, for the domain layer to refuse.
    """
    text = value.strip()
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return value
    if moment.tzinfo is None:
        if "T" not in text and " " not in text:
            return value  # a date alone: the domain's message asks for a time too
        moment = moment.replace(tzinfo=timezone.get_current_timezone())
        typed = moment.isoformat()
    else:
        typed = value
    try:
        unchanged = original and datetime.datetime.fromisoformat(original) == moment
    except (ValueError, TypeError):  # TypeError: an original without an offset
        unchanged = False
    return original if unchanged else typed


class CustomFieldRowForm(forms.Form):
    name = forms.CharField(label="Name", required=False)
    type = forms.CharField(label="Type", required=False, widget=forms.Select(choices=CUSTOM_FIELD_TYPE_CHOICES))
    # Values keep their spaces, as the API keeps them.
    value = forms.CharField(label="Value", required=False, strip=False)
    # A datetime's stored text: kept when the shown (local) time is saved unchanged.
    original = forms.CharField(required=False, strip=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:
            type_ = self.data.get(self.add_prefix("type"), "")
            value = self.data.get(self.add_prefix("value"), "")
        else:
            type_, value = self.initial.get("type", ""), self.initial.get("value", "")
            if type_ == CustomField.Type.DATETIME and value:
                self.initial = self.initial | {"value": datetime_for_input(value), "original": value}
        self.fields["value"].widget = custom_field_value_widget(type_, value)

    def add_error(self, field, error):
        # The API's message asks for ISO 8601 with an offset; here a date and time is typed in the merchant's zone.
        codes = {e.code for e in (error if isinstance(error, list) else [error]) if isinstance(e, ValidationError)}
        if field == "value" and codes == {"invalid_value"} and self.data.get(self.add_prefix("type")) == "datetime":
            error = ValidationError(
                f"Must be a date and time as YYYY-MM-DD HH:MM ({timezone.get_current_timezone_name()} time), "
                "for example 2024-05-31 14:30.",
                code="invalid_value",
            )
        super().add_error(field, error)

    def api_value(self) -> str:
        """The value as the API takes it (check is_valid() first)."""
        data = self.cleaned_data
        value = data.get("value") or ""
        if data.get("type") == CustomField.Type.DATETIME:
            return datetime_from_input(value, data.get("original") or "")
        return value


# Every custom field a customer may have, and room for blank and removed rows. The cap is applied
# before any row form is built, so a POST claiming a million rows costs no more than this.
MAX_CUSTOM_FIELD_ROWS = MAX_CUSTOM_FIELDS + 10


class CustomFieldRowsFormSet(forms.BaseFormSet):
    default_error_messages = {
        "too_many_forms": f"A customer has at most {MAX_CUSTOM_FIELDS} custom fields: "
        f"send at most {MAX_CUSTOM_FIELD_ROWS} rows, blank and removed ones included."
    }


def custom_field_formset(*, data=None, initial=None, extra: int = 2):
    """Rows of name/type/value. Blank rows are ignored; the 'Remove' box drops a row."""
    factory = forms.formset_factory(
        CustomFieldRowForm,
        formset=CustomFieldRowsFormSet,
        extra=extra,
        can_delete=True,
        max_num=MAX_CUSTOM_FIELD_ROWS,
        absolute_max=MAX_CUSTOM_FIELD_ROWS,
        validate_max=True,
    )
    return factory(data=data, initial=initial, prefix="cf")


def custom_fields_payload(formset) -> tuple[list[dict], list[int]]:
    """The API's custom_fields list from the rows, and for each item the index of its row in the formset."""
    items, rows = [], []
    for index, form in enumerate(formset.forms):
        data = getattr(form, "cleaned_data", {}) or {}
        if data.get("DELETE"):
            continue
        name, value = data.get("name") or "", form.api_value()
        # An unchecked box of a blank boolean row says "false": the row is still blank.
        if not name and value in ("", "false" if data.get("type") == CustomField.Type.BOOLEAN else ""):
            continue
        items.append({"name": name, "type": data.get("type") or CustomField.Type.STRING, "value": value})
        rows.append(index)
    return items, rows


def with_one_more_row(data):
    """A copy of POSTed formset data with one more (empty) row: the no-JavaScript 'Add a row' button."""
    data = data.copy()
    try:
        total = int(data.get("cf-TOTAL_FORMS", "0"))
    except ValueError:
        total = 0
    data["cf-TOTAL_FORMS"] = str(min(total + 1, MAX_CUSTOM_FIELD_ROWS))
    return data


class CustomerFilterForm(forms.Form):
    SORTS = [
        ("newest", "Newest first"),
        ("oldest", "Oldest first"),
        ("name", "Name (last name, A–Z)"),
        ("email", "Email (A–Z)"),
    ]
    SIZES = [("25", "25 per page"), ("50", "50 per page"), ("100", "100 per page")]

    q = forms.CharField(
        label="Search",
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": "Name, email, company, phone, reference or customer ID"}),
    )
    country = forms.CharField(label="Country", required=False, widget=forms.Select)
    created_from = forms.DateField(
        label="Created from", required=False, input_formats=[DATE_INPUT_FORMAT], widget=IsoDateInput
    )
    created_to = forms.DateField(
        label="Created to", required=False, input_formats=[DATE_INPUT_FORMAT], widget=IsoDateInput
    )
    sort = forms.ChoiceField(label="Sort", required=False, choices=SORTS)
    # The view makes an unknown size the default before the form sees it (portal.views.customers.page_size_of).
    size = forms.ChoiceField(label="Per page", required=False, choices=SIZES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].widget.choices = [("", "Any country"), *country_choices()]

    # The domain's parameter name for each input, to put its errors beside the right one.
    _PARAMETERS = {
        "q": "q",
        "address_country": "country",
        "created_after": "created_from",
        "created_before": "created_to",
    }

    def clean(self):
        data = super().clean()
        params = QueryDict(mutable=True)
        start, end = data.get("created_from"), data.get("created_to")
        last_day = end and end < datetime.date.max
        values = {
            "q": data.get("q") or "",
            "address_country": data.get("country") or "",
            "created_after": _start_of_day(start) if start else "",
            # "Created to" includes that whole day.
            "created_before": _start_of_day(end + datetime.timedelta(days=1)) if last_day else "",
        }
        for name, value in values.items():
            if value:
                params[name] = value
        try:
            self._filters = list_query_from_params(params).filters
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                self.add_error(self._PARAMETERS.get(name), errors)
        return data

    def filters(self) -> CustomerFilters | None:
        """The domain's filters; None (no filter) for an empty form. Check is_valid() first."""
        return self._filters if self.is_bound and self.is_valid() else None

    def oldest_first(self) -> bool:
        return self.chosen_sort() == "oldest"

    def chosen_sort(self) -> str | None:
        """One of customers.selectors.SORTS, or None for the default order."""
        return (self.is_bound and self.is_valid() and self.cleaned_data.get("sort")) or None


def _start_of_day(day: datetime.date) -> str:
    """When `day` begins in the active time zone (the merchant's, in the portal), as ISO 8601 with its offset."""
    try:
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone()).isoformat()
    except OverflowError:  # the first or last day Python has, in a zone with an offset: as in UTC
        return day.isoformat()


class MerchantSettingsForm(forms.Form):
    time_zone = forms.CharField(
        label="Time zone",
        help_text="The portal shows every time in this zone, and the list's date filters mean its days. "
        "The API always answers in UTC.",
        widget=forms.Select,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].widget.choices = [(name, name.replace("_", " ")) for name in time_zone_names()]


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 CSV with a header line: firstname,lastname,email,company,phone,address_line1,"
        "address_line2,address_city,address_region,address_postal_code,address_country,reference "
        "(any of them, in any order) and one column per custom field (NAME or NAME:TYPE). A row whose "
        "reference is one of your customers' updates that customer.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class ClientForm(forms.Form):
    name = forms.CharField(label="Name", max_length=255, required=False, help_text="For example: “Checkout server”.")
    access = forms.ChoiceField(
        label="Access",
        choices=OAuthClient.Access.choices,
        initial=OAuthClient.Access.READ_WRITE,
        # The page always sends a choice (one is checked); a form posted without one gets what clients
        # always had, read and write.
        required=False,
        widget=forms.RadioSelect,
        help_text="A read-only client can list and read customers and webhook endpoints; every write is refused.",
    )


class RollSecretForm(forms.Form):
    grace = forms.ChoiceField(
        label="The old secret stops working",
        choices=[("now", "Now"), ("1h", "In 1 hour"), ("24h", "In 24 hours"), ("7d", "In 7 days")],
        initial="24h",
        widget=forms.RadioSelect,
        help_text="Until then both secrets get tokens: deploy the new one, then let the old one lapse.",
    )


class InviteForm(forms.Form):
    email = forms.CharField(label="Email", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    # The least privileged role unless the admin chooses otherwise.
    role = forms.CharField(
        label="Role",
        initial=MerchantMembership.Role.STAFF,
        widget=forms.Select(choices=MerchantMembership.Role.choices),
    )


class RoleForm(forms.Form):
    role = forms.CharField(label="Role", widget=forms.Select(choices=MerchantMembership.Role.choices))
