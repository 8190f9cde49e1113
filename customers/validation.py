"""The rules a customer record must satisfy, in one place.

Every door (API, portal, admin, CSV import) hands the same JSON-shaped payload
to `clean_customer_payload`; it returns normalized values or raises one
`ValidationError` whose dict maps field paths (`email`,
`options.custom_fields[2].value`) to every error found, not just the first.
"""

import dataclasses
import datetime
import difflib
import functools
import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import EmailValidator, URLValidator
from django_countries import countries

from core.text import WHITESPACE, text_error
from customers.contact import (
    ADDRESS_COLUMNS,
    ADDRESS_MAX_LENGTHS,
    ADDRESS_PARTS,
    MAX_PHONE_INPUT_LENGTH,
    PhoneError,
    clean_address,
    clean_phone,
)
from customers.models import CustomField

NAME_FIELDS = ("firstname", "lastname", "email", "company")
MAX_LENGTHS = {"firstname": 100, "lastname": 100, "email": 254, "company": 255}
TOP_LEVEL_FIELDS = (*NAME_FIELDS, "phone", "address", "address_country", "reference", "options")
# The columns of the record besides the name fields, in the order the API shows them.
PROFILE_FIELDS = ("phone", *ADDRESS_COLUMNS.values(), "address_country", "reference")
MAX_REFERENCE_LENGTH = 128
REFERENCE_RE = re.compile(r"^[A-Za-z0-9_.:/-]{1,128}\Z", re.ASCII)
OPTIONS_FIELDS = ("custom_fields",)
CUSTOM_FIELD_KEYS = ("name", "type", "value")
MAX_CUSTOM_FIELDS = 50
MAX_CUSTOM_FIELD_VALUE_LENGTH = 500
# \Z, not $: "$" also matches before a trailing newline. re.ASCII: \d is 0-9 only.
CUSTOM_FIELD_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")
CUSTOM_FIELD_TYPES = tuple(CustomField.Type.values)
_INTEGER_RE = re.compile(r"^[+-]?\d+\Z", re.ASCII)
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z", re.ASCII)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z", re.ASCII)


class _EmailValidator(EmailValidator):
    """Django's, plus RFC 5321's limit of 64 characters before the "@" that Django does not check."""

    def __call__(self, value):
        super().__call__(value)
        if len(str(value).rpartition("@")[0]) > 64:
            raise ValidationError(self.message, code=self.code, params={"value": value})


_email_validator = _EmailValidator()
_url_validator = URLValidator(schemes=["http", "https"])


@dataclasses.dataclass(frozen=True)
class CustomFieldData:
    name: str
    type: str
    value: str | None  # None only in a partial (merge) payload: remove the field


@dataclasses.dataclass(frozen=True)
class CustomerData:
    """Normalized input. In a partial payload, `present` names the fields that were sent.

    `clear_custom_fields` is a merge patch's `"options": null` or `"options": {"custom_fields": null}`:
    remove every custom field (`custom_fields` is then None).
    """

    values: dict[str, str | None]
    custom_fields: list[CustomFieldData] | None
    present: frozenset[str]
    clear_custom_fields: bool = False


class _Errors:
    def __init__(self) -> None:
        self.by_field: dict[str, list[ValidationError]] = {}

    def add(self, field: str, message: str, code: str) -> None:
        self.by_field.setdefault(field, []).append(ValidationError(message, code=code))

    def raise_if_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def _unknown_field(errors: _Errors, path: str, key: str, known: tuple[str, ...]) -> None:
    message = f"Unknown field '{key}'."
    close = difflib.get_close_matches(str(key).lower(), known, n=1, cutoff=0.6)
    if not close and str(key).replace("_", "").lower() in known:
        close = [str(key).replace("_", "").lower()]
    if close:
        message += f" Did you mean '{close[0]}'?"
    errors.add(path, message, "unknown_field")


def _check_text(errors: _Errors, path: str, value: str) -> bool:
    error = text_error(value)
    if error is not None:
        errors.add(path, error.message, error.code)
    return error is None


def normalize_country(value: str) -> str | None:
    """Upper-cased ISO 3166-1 alpha-3 code, or None when `value` is not one."""
    code = value.strip(WHITESPACE).upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        return None
    return code if _is_alpha3(code) else None


@functools.cache
def _is_alpha3(code: str) -> bool:
    # django_countries walks its tables on every call (~30 us, half of a whole
    # payload's validation); the bulk import asks once per row. At most 26^3 keys.
    return countries.alpha3(code) == code


def _clean_name_field(errors: _Errors, field: str, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        errors.add(field, "Must be a string.", "invalid_type")
        return None
    if not _check_text(errors, field, raw):
        return None
    value = raw.strip(WHITESPACE)
    if not value:
        return None
    limit = MAX_LENGTHS[field]
    if len(value) > limit:
        errors.add(field, f"Must be at most {limit} characters (it has {len(value)}).", "max_length")
        return None
    if field == "email":
        try:
            _email_validator(value)
        except ValidationError:
            errors.add(field, "Must be a valid email address.", "invalid_email")
            return None
    return value


def _clean_country(errors: _Errors, raw: Any) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        errors.add("address_country", "Must be a string.", "invalid_type")
        return None
    if not _check_text(errors, "address_country", raw):
        return None
    if not raw.strip(WHITESPACE):
        return None
    code = normalize_country(raw)
    if code is None:
        errors.add(
            "address_country",
            f"'{raw[:20]}' is not an ISO 3166-1 alpha-3 country code (for example USA, GBR, DEU).",
            "invalid_country",
        )
    return code


def _clean_text(errors: _Errors, path: str, raw: Any, limit: int) -> str | None:
    """A trimmed string of at most `limit` characters; None for null or blank (and after an error)."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        errors.add(path, "Must be a string.", "invalid_type")
        return None
    if not _check_text(errors, path, raw):
        return None
    value = raw.strip(WHITESPACE)
    if len(value) > limit:
        errors.add(path, f"Must be at most {limit} characters (it has {len(value)}).", "max_length")
        return None
    return value or None


def _clean_reference(errors: _Errors, raw: Any) -> str | None:
    """The reference exactly as given (white space is never part of one); blank or null is none."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        errors.add("reference", "Must be a string.", "invalid_type")
        return None
    if not _check_text(errors, "reference", raw):
        return None
    if not raw.strip(WHITESPACE):
        return None
    if not REFERENCE_RE.match(raw):
        errors.add(
            "reference",
            f"Must be 1-{MAX_REFERENCE_LENGTH} characters of letters, digits and _ - . : / "
            f"(no spaces; it has {len(raw)}).",
            "invalid_reference",
        )
        return None
    return raw


def _clean_address_parts(errors: _Errors, raw: Any) -> dict[str, str | None] | None:
    """The parts present in an `address` object, text-checked; None when it is not an object."""
    if not isinstance(raw, Mapping):
        errors.add(
            "address", "Must be an object with line1, line2, city, region and postal_code, or null.", "invalid_type"
        )
        return None
    parts = {}
    for key in raw:
        if key not in ADDRESS_PARTS:
            _unknown_field(errors, f"address.{key}", key, ADDRESS_PARTS)
    for part in ADDRESS_PARTS:
        if part in raw:
            parts[part] = _clean_text(errors, f"address.{part}", raw[part], ADDRESS_MAX_LENGTHS[part])
    return parts


def check_contact(errors: "_Errors | None", values: dict[str, Any], *, check_phone: bool, check_address: bool) -> None:
    """The rules that need the country: the phone to E.164, the address for its country (in place).

    `values` holds the record's columns (a whole record: create, replace, or a patch merged
    with the stored customer). Raises when `errors` is None and there are any.
    """
    own = errors or _Errors()
    country = values.get("address_country")
    if check_phone and values.get("phone"):
        try:
            values["phone"] = clean_phone(values["phone"], country)
        except PhoneError as exc:
            own.add("phone", exc.message, exc.code)
    if check_address:
        parts = {part: values.get(column) for part, column in ADDRESS_COLUMNS.items()}
        cleaned, problems = clean_address(parts, country)
        for part, message in problems.items():
            own.add(f"address.{part}", message, "invalid_address")
        for part, column in ADDRESS_COLUMNS.items():
            values[column] = cleaned[part]
    if errors is None:
        own.raise_if_any()


def _value_as_string(raw: Any) -> str | None:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return repr(raw) if math.isfinite(raw) else None
    if isinstance(raw, str):
        return raw
    return None


def _type_error(type_: str, value: str) -> str | None:
    """Why `value` is not a valid `type_`, or None when it is."""
    if type_ == "string":
        return None
    if type_ == "integer":
        return None if _INTEGER_RE.match(value) else "Must be an integer, for example 42."
    if type_ == "number":
        if not _NUMBER_RE.match(value):
            return "Must be a number, for example 3.14."
        try:
            return None if Decimal(value).is_finite() else "Must be a finite number."
        except InvalidOperation:
            return "Must be a number, for example 3.14."
    if type_ == "boolean":
        return None if value in ("true", "false") else "Must be true or false."
    if type_ == "date":
        try:
            if not _DATE_RE.match(value):
                raise ValueError
            datetime.date.fromisoformat(value)
        except ValueError:
            return "Must be a date as YYYY-MM-DD, for example 2024-05-31."
        return None
    if type_ == "datetime":
        message = "Must be an ISO 8601 date-time with a UTC offset, for example 2024-05-31T14:30:00+02:00."
        try:
            if "T" not in value and " " not in value:
                raise ValueError
            parsed = datetime.datetime.fromisoformat(value)
        except ValueError:
            return message
        return None if parsed.tzinfo is not None else message
    if type_ == "email":
        try:
            _email_validator(value)
        except ValidationError:
            return "Must be a valid email address."
        return None
    if type_ == "url":
        try:
            _url_validator(value)
        except ValidationError:
            return "Must be a valid http(s) URL."
        return None
    raise AssertionError(type_)


def _clean_custom_field(errors: _Errors, path: str, item: Any, *, partial: bool) -> CustomFieldData | None:
    if not isinstance(item, Mapping):
        errors.add(path, "Must be an object with name, type and value.", "invalid_type")
        return None
    ok = True
    for key in item:
        if key not in CUSTOM_FIELD_KEYS:
            _unknown_field(errors, f"{path}.{key}", key, CUSTOM_FIELD_KEYS)
            ok = False

    name = item.get("name")
    if name is None:
        errors.add(f"{path}.name", "This field is required.", "required")
        ok = False
    elif not isinstance(name, str):
        errors.add(f"{path}.name", "Must be a string.", "invalid_type")
        ok = False
    elif not CUSTOM_FIELD_NAME_RE.match(name):
        errors.add(
            f"{path}.name",
            "Must be 1-64 characters of letters, digits, '_', '-' or '.'.",
            "invalid_name",
        )
        ok = False

    type_ = item.get("type", "string")
    if type_ is None:
        type_ = "string"
    if not isinstance(type_, str) or type_ not in CUSTOM_FIELD_TYPES:
        errors.add(f"{path}.type", f"Must be one of: {', '.join(CUSTOM_FIELD_TYPES)}.", "invalid_choice")
        ok = False

    if "value" not in item:
        errors.add(f"{path}.value", "This field is required.", "required")
        return None
    raw = item["value"]
    if raw is None:
        if partial:
            return CustomFieldData(name=name, type=type_, value=None) if ok else None
        errors.add(f"{path}.value", "This field is required; it may not be null.", "required")
        return None
    if isinstance(raw, int) and raw.bit_length() > 4 * MAX_CUSTOM_FIELD_VALUE_LENGTH:
        # Far too many digits; str() itself refuses ints past 4,300 digits.
        errors.add(f"{path}.value", f"Must be at most {MAX_CUSTOM_FIELD_VALUE_LENGTH} characters.", "max_length")
        return None
    value = _value_as_string(raw)
    if value is None:
        errors.add(f"{path}.value", "Must be a string, a number or a boolean.", "invalid_type")
        return None
    if not _check_text(errors, f"{path}.value", value):
        return None
    if len(value) > MAX_CUSTOM_FIELD_VALUE_LENGTH:
        errors.add(
            f"{path}.value",
            f"Must be at most {MAX_CUSTOM_FIELD_VALUE_LENGTH} characters (it has {len(value)}).",
            "max_length",
        )
        return None
    if not ok:
        return None
    problem = _type_error(type_, value)
    if problem:
        errors.add(f"{path}.value", problem, "invalid_value")
        return None
    return CustomFieldData(name=name, type=type_, value=value)


def _clean_custom_fields(errors: _Errors, raw: Any, *, partial: bool) -> list[CustomFieldData] | None:
    path = "options.custom_fields"
    if raw is None:
        return [] if not partial else None
    if not isinstance(raw, list):
        errors.add(path, "Must be a list of custom fields.", "invalid_type")
        return None
    if len(raw) > MAX_CUSTOM_FIELDS:
        errors.add(path, f"At most {MAX_CUSTOM_FIELDS} custom fields are allowed (got {len(raw)}).", "max_items")
        return None
    cleaned: list[CustomFieldData] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(raw):
        field = _clean_custom_field(errors, f"{path}[{index}]", item, partial=partial)
        name = item.get("name") if isinstance(item, Mapping) else None
        if isinstance(name, str):
            if name in seen:
                errors.add(
                    f"{path}[{index}].name",
                    f"Duplicate custom field name '{name}' (also at index {seen[name]}).",
                    "duplicate",
                )
                continue
            seen[name] = index
        if field is not None:
            cleaned.append(field)
    return cleaned


def clean_customer_payload(payload: Any, *, partial: bool = False) -> CustomerData:
    """Validate and normalize a customer payload in the API's JSON shape.

    `partial=True` is JSON Merge Patch input: only the keys present are
    returned in `present`, `null` means clear, and a custom field whose value
    is `null` means remove it. The "at least one name field" rule is checked by
    the caller on the merged result (see `check_has_identity`).
    """
    errors = _Errors()
    if not isinstance(payload, Mapping):
        errors.add(NON_FIELD_ERRORS, "The request body must be a JSON object.", "invalid_type")
        errors.raise_if_any()

    for key in payload:
        if key not in TOP_LEVEL_FIELDS:
            _unknown_field(errors, str(key), key, TOP_LEVEL_FIELDS)

    values: dict[str, str | None] = {}
    for field in NAME_FIELDS:
        if field in payload:
            values[field] = _clean_name_field(errors, field, payload[field])
    if "address_country" in payload:
        values["address_country"] = _clean_country(errors, payload["address_country"])
    if "phone" in payload:
        values["phone"] = _clean_text(errors, "phone", payload["phone"], MAX_PHONE_INPUT_LENGTH)
    if "reference" in payload:
        values["reference"] = _clean_reference(errors, payload["reference"])
    address_present: frozenset[str] = frozenset()
    if "address" in payload:
        raw_address = payload["address"]
        parts = (
            {part: None for part in ADDRESS_PARTS} if raw_address is None else _clean_address_parts(errors, raw_address)
        )
        if parts is not None:
            values.update({ADDRESS_COLUMNS[part]: value for part, value in parts.items()})
            address_present = frozenset(ADDRESS_COLUMNS[part] for part in parts)

    custom_fields = None if partial else []
    clear_custom_fields = False
    options = payload.get("options")
    if "options" in payload and options is not None:
        if not isinstance(options, Mapping):
            errors.add("options", "Must be an object.", "invalid_type")
        else:
            for key in options:
                if key not in OPTIONS_FIELDS:
                    _unknown_field(errors, f"options.{key}", key, OPTIONS_FIELDS)
            if "custom_fields" in options:
                custom_fields = _clean_custom_fields(errors, options["custom_fields"], partial=partial)
                clear_custom_fields = partial and options["custom_fields"] is None
    elif partial and "options" in payload:
        # `"options": null` in a merge patch clears every custom field.
        clear_custom_fields = True

    present = frozenset(key for key in payload if key in TOP_LEVEL_FIELDS) | address_present
    if not partial:
        for field in (*NAME_FIELDS, *PROFILE_FIELDS):
            values.setdefault(field, None)
        if "address_country" not in errors.by_field:
            address_ok = not any(path.split(".")[0] == "address" for path in errors.by_field)
            check_contact(errors, values, check_phone="phone" not in errors.by_field, check_address=address_ok)
        # A name field that was sent but is invalid already has its own error;
        # "provide at least one" beside it would only confuse.
        if not any(field in errors.by_field for field in NAME_FIELDS):
            check_has_identity(errors, values)
    errors.raise_if_any()
    return CustomerData(
        values=values, custom_fields=custom_fields, present=present, clear_custom_fields=clear_custom_fields
    )


def check_has_identity(errors: "_Errors | None", values: Mapping[str, Any]) -> None:
    """At least one of firstname, lastname, email, company must have a value."""
    if any(values.get(field) for field in NAME_FIELDS):
        return
    own = errors or _Errors()
    own.add(
        NON_FIELD_ERRORS,
        "Provide at least one of firstname, lastname, email or company (not blank).",
        "required_one_of",
    )
    if errors is None:
        own.raise_if_any()


def payload_of_columns(values: Mapping[str, Any]) -> dict[str, Any]:
    """The API-shaped payload of a customer's columns (a form's fields): address_city goes to `address.city`."""
    columns = set(ADDRESS_COLUMNS.values())
    payload = {field: value for field, value in values.items() if field not in columns}
    if any(column in values for column in columns):
        payload["address"] = {part: values.get(column) for part, column in ADDRESS_COLUMNS.items()}
    return payload
