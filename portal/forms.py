"""HTML forms of the portal. They only carry input: every rule is checked by the domain layer."""

import datetime

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import QueryDict

from customers.countries import country_choices
from customers.filters import list_query_from_params
from customers.models import CustomField
from customers.selectors import CustomerFilters
from customers.validation import MAX_CUSTOM_FIELDS
from merchants.models import MerchantMembership


class EmailLoginForm(AuthenticationForm):
    """Django's login form; portal users log in with their email address (it is their username)."""

    username = forms.CharField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class CustomerForm(forms.Form):
    firstname = forms.CharField(label="First name", required=False)
    lastname = forms.CharField(label="Last name", required=False)
    email = forms.CharField(label="Email", required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    company = forms.CharField(label="Company", required=False)
    # A plain CharField, not a ChoiceField: the domain layer says what a valid country is.
    address_country = forms.CharField(label="Country", required=False, widget=forms.Select)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["address_country"].widget.choices = [("", "— No country —"), *country_choices()]

    def payload(self) -> dict:
        """The API-shaped fields of the customer (custom fields are added by the caller)."""
        return {name: self.cleaned_data.get(name, "") for name in ("firstname", "lastname", "email", "company")} | {
            "address_country": self.cleaned_data.get("address_country", "")
        }


class CustomFieldRowForm(forms.Form):
    name = forms.CharField(label="Name", required=False)
    type = forms.CharField(label="Type", required=False, widget=forms.Select(choices=CustomField.Type.choices))
    # Values keep their spaces, as the API keeps them.
    value = forms.CharField(label="Value", required=False, strip=False)


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
        name, value = data.get("name") or "", data.get("value") or ""
        if not name and not value:
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
        widget=forms.SearchInput(attrs={"placeholder": "Name, email, company or customer ID"}),
    )
    country = forms.CharField(label="Country", required=False, widget=forms.Select)
    created_from = forms.DateField(label="Created from", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(label="Created to", required=False, widget=forms.DateInput(attrs={"type": "date"}))
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
        values = {
            "q": data.get("q") or "",
            "address_country": data.get("country") or "",
            "created_after": start.isoformat() if start else "",
            # "Created to" includes that whole day.
            "created_before": (end + datetime.timedelta(days=1)).isoformat() if end and end < datetime.date.max else "",
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


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 CSV with a header line: firstname,lastname,email,company,address_country "
        "and one column per custom field (NAME or NAME:TYPE).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class ClientForm(forms.Form):
    name = forms.CharField(label="Name", max_length=255, required=False, help_text="For example: “Checkout server”.")


class InviteForm(forms.Form):
    email = forms.CharField(label="Email", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    role = forms.CharField(label="Role", widget=forms.Select(choices=MerchantMembership.Role.choices))


class RoleForm(forms.Form):
    role = forms.CharField(label="Role", widget=forms.Select(choices=MerchantMembership.Role.choices))
