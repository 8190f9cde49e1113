"""How the portal shows custom field values and their types."""

import datetime

from django import template
from django.utils import timezone

from customers.models import CustomField
from portal.forms import CUSTOM_FIELD_TYPE_LABELS, DATE_INPUT_FORMAT, datetime_for_input

register = template.Library()


@register.filter
def custom_field_type_label(type_: str) -> str:
    """ "Date and time" for datetime, "URL" for url: the words a person reads, not the API's names."""
    return CUSTOM_FIELD_TYPE_LABELS.get(type_, type_)


@register.filter
def custom_field_display(field: CustomField) -> str:
    """A value as the pages show it: dates in the one date format, date-times in the merchant's zone."""
    if field.type == CustomField.Type.DATE:
        try:
            return datetime.date.fromisoformat(field.value).strftime(DATE_INPUT_FORMAT)
        except ValueError:
            return field.value
    if field.type == CustomField.Type.DATETIME:
        shown = datetime_for_input(field.value)
        if shown == field.value:  # not a date-time with an offset: shown as stored
            return shown
        return f"{shown} {timezone.get_current_timezone_name()}"
    if field.type == CustomField.Type.BOOLEAN:
        return {"true": "Yes", "false": "No"}.get(field.value, field.value)
    return field.value


@register.filter
def web_link(value: str) -> str:
    """`value` when it is an http(s) URL, safe to put in an href; empty otherwise."""
    return value if value.lower().startswith(("https://", "http://")) else ""
