"""The customer rules of customers/validation.py, said in JSON Schema for the OpenAPI description.

drf-spectacular describes the body shapes (customers/api/serializers.py); these
additions make them precise enough that a request the schema calls valid is
accepted and one it calls invalid is refused, which Schemathesis checks
(tests/test_schemathesis.py). Two rules no JSON Schema can say are left to
prose: custom field names are unique within a customer, and the length limits
apply after surrounding whitespace is trimmed.
"""

from django_countries import countries

from core.text import BLANK_PATTERN, NOT_BLANK_PATTERN, WHITESPACE_CLASS
from customers.contact import ADDRESS_MAX_LENGTHS, ADDRESS_PARTS, MAX_PHONE_INPUT_LENGTH, PHONE_PATTERN
from customers.validation import (
    CUSTOM_FIELD_TYPES,
    MAX_CUSTOM_FIELD_VALUE_LENGTH,
    MAX_CUSTOM_FIELDS,
    MAX_LENGTHS,
    NAME_FIELDS,
    normalize_country,
)

NO_NUL = "^[^\\u0000]*$"
BLANK = {"type": "string", "pattern": BLANK_PATTERN}
# A subset of what Django's EmailValidator accepts: a dot-atom local part and a DNS domain.
_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = f"^(?=[^@]{{1,64}}@){_ATOM}(\\.{_ATOM})*@({_LABEL}\\.)+[A-Za-z]{{2,63}}$"
URL_PATTERN = f"^https?://({_LABEL}\\.){{1,2}}[A-Za-z]{{2,63}}(:[0-9]{{1,5}})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?$"
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DATETIME_PATTERN = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?"
    "(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)

ALPHA3_CODES = sorted(
    {code for country in countries if (code := countries.alpha3(country.code)) and normalize_country(code) == code}
)
# `address_country`: a code in upper or lower case; blank or null for none.
COUNTRY = {
    "anyOf": [
        {"type": "string", "enum": ALPHA3_CODES},
        {"type": "string", "enum": [code.lower() for code in ALPHA3_CODES]},
        {**BLANK, "nullable": True},
    ],
    "description": "ISO 3166-1 alpha-3 code, any letter case (USA, gbr); blank or null for none.",
}


def _text(max_length: int) -> dict:
    return {"type": "string", "maxLength": max_length, "pattern": NO_NUL}


# What the schema can say of a phone: its characters. Whether it is a real number (libphonenumber's
# data) no JSON Schema says: an impossible one matching this is still a 400.
PHONE = {
    "anyOf": [
        {
            "type": "string",
            "maxLength": MAX_PHONE_INPUT_LENGTH,
            "pattern": f"^[{WHITESPACE_CLASS}]*{PHONE_PATTERN}[{WHITESPACE_CLASS}]*$",
        },
        {**BLANK, "nullable": True},
    ],
    "description": "International (+44 20 7183 8750) or, with address_country, national (020 7183 8750); "
    "stored in E.164. Blank or null for none.",
    "example": "+44 20 7183 8750",
}
REFERENCE = {
    "anyOf": [{"type": "string", "pattern": "^[A-Za-z0-9_.:/-]{1,128}$"}, {**BLANK, "nullable": True}],
    "description": "Your own id for the customer (letters, digits, _-.:/), unique among your customers; "
    "blank or null for none.",
    "example": "CUST-00042",
}
# The parts a country requires, its postal code format and region codes come from Google's address data,
# beyond what a schema says: such an address is a 400 naming the part.
ADDRESS = {
    "type": "object",
    "nullable": True,
    "additionalProperties": False,
    "properties": {part: {**_text(ADDRESS_MAX_LENGTHS[part]), "nullable": True} for part in ADDRESS_PARTS},
    "example": {"line1": "10 Downing Street", "city": "London", "postal_code": "SW1A 2AA"},
}


# Per custom field type: the JSON values the rules accept (always stored as a string).
_VALUES_BY_TYPE = {
    "string": {"anyOf": [_text(MAX_CUSTOM_FIELD_VALUE_LENGTH), {"type": "number"}, {"type": "boolean"}]},
    "integer": {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[+-]?[0-9]{1,499}$"}]},
    "number": {
        "anyOf": [
            {"type": "number"},
            {
                "type": "string",
                "maxLength": MAX_CUSTOM_FIELD_VALUE_LENGTH,
                "pattern": "^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$",
            },
        ]
    },
    "boolean": {"anyOf": [{"type": "boolean"}, {"type": "string", "enum": ["true", "false"]}]},
    "date": {"type": "string", "format": "date", "pattern": DATE_PATTERN},
    "datetime": {"type": "string", "format": "date-time", "pattern": DATETIME_PATTERN},
    "email": {"type": "string", "maxLength": MAX_LENGTHS["email"], "pattern": EMAIL_PATTERN},
    "url": {"type": "string", "maxLength": MAX_CUSTOM_FIELD_VALUE_LENGTH, "pattern": URL_PATTERN},
}
assert set(_VALUES_BY_TYPE) == set(CUSTOM_FIELD_TYPES)


def _custom_field_variants() -> list[dict]:
    variants = []
    for type_, value in _VALUES_BY_TYPE.items():
        if type_ == "string":  # also when `type` is left out or null
            variants.append({"properties": {"type": {"enum": ["string", None], "nullable": True}, "value": value}})
        else:
            variants.append({"required": ["type"], "properties": {"type": {"enum": [type_]}, "value": value}})
    return variants


def describe_write_rules(schemas: dict) -> None:
    """Tighten the generated request shapes of create, replace and bulk to the real rules."""
    customer = schemas.get("Customer")
    if customer:
        # Inline: OpenAPI 3.0's `nullable` beside a $ref (drf-spectacular's allOf) does not make the ref nullable.
        customer["properties"]["address"] = {
            "type": "object",
            "nullable": True,
            "required": list(ADDRESS_PARTS),
            "properties": {
                part: {"type": "string", "nullable": True, "maxLength": ADDRESS_MAX_LENGTHS[part]}
                for part in ADDRESS_PARTS
            },
            "description": "The parts of the address, each null when not given; null when the customer has none.",
        }
    write = schemas.get("CustomerWriteRequest")
    if write:
        properties = write["properties"]
        for field in ("firstname", "lastname", "company"):
            properties[field] = {**_text(MAX_LENGTHS[field]), "nullable": True}
        properties["email"] = {
            "anyOf": [
                {"type": "string", "maxLength": MAX_LENGTHS["email"], "pattern": EMAIL_PATTERN},
                {**BLANK, "nullable": True},
            ]
        }
        properties["address_country"] = COUNTRY
        properties["phone"] = PHONE
        properties["reference"] = REFERENCE
        properties["address"] = {**ADDRESS, "description": write["properties"]["address"].get("description", "")}
        write["additionalProperties"] = False
        # At least one of the four, not blank.
        write["anyOf"] = [
            {"required": [field], "properties": {field: {"type": "string", "pattern": NOT_BLANK_PATTERN}}}
            for field in NAME_FIELDS
        ]
    options = schemas.get("CustomerOptionsInputRequest")
    if options:
        options["additionalProperties"] = False
        options["properties"]["custom_fields"]["maxItems"] = MAX_CUSTOM_FIELDS
    field = schemas.get("CustomFieldInputRequest")
    if field:
        field["additionalProperties"] = False
        field["anyOf"] = _custom_field_variants()
    patch = schemas.get("PatchedCustomerPatchRequest")
    if patch:
        patch["properties"].update(phone=PHONE, reference=REFERENCE, address={**ADDRESS})
    for name in (
        "PatchedCustomerPatchRequest",
        "CustomerOptionsPatchRequest",
        "CustomFieldPatchRequest",
        "AddressInputRequest",
        "AddressPatchRequest",
    ):
        if name in schemas:
            schemas[name]["additionalProperties"] = False
