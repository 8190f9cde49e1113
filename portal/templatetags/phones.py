"""`{{ customer.phone|national_phone }}`: a stored E.164 number as its own country writes it."""

from django import template

from customers.contact import phone_national

register = template.Library()


@register.filter
def national_phone(e164: str | None) -> str:
    return phone_national(e164)
