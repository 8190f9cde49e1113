"""Shapes of the API's bodies, for the OpenAPI schema only.

The views never validate with these: the rules live in customers/validation.py
and every door calls them. Keep these in step with customer_as_dict and
clean_customer_payload; tests/test_openapi.py checks real responses against them.
"""

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from api.schema import FieldErrorSerializer
from customers.bulk import MAX_BULK_ITEMS
from customers.contact import ADDRESS_MAX_LENGTHS, MAX_PHONE_INPUT_LENGTH
from customers.validation import MAX_CUSTOM_FIELD_VALUE_LENGTH, MAX_CUSTOM_FIELDS, MAX_LENGTHS, MAX_REFERENCE_LENGTH

CUSTOM_FIELD_TYPES = ("string", "integer", "number", "boolean", "date", "datetime", "email", "url")
CUSTOM_FIELD_NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


def _name_field(name: str, **kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=MAX_LENGTHS[name], allow_null=True, **kwargs)


REFERENCE_PATTERN = r"^[A-Za-z0-9_.:/-]{1,128}$"
_ADDRESS_HELP = {
    "line1": "Street and number (required where the country requires it).",
    "line2": "Flat, floor, building.",
    "city": "City, post town or locality, as the country names it.",
    "region": "State, province, county... where the country has them: stored as its code (CA, ON) when the "
    "country has a list of codes; refused for a country that has none.",
    "postal_code": "Postal code in the country's format, stored upper case (SW1A 2AA, 10115, 94043).",
}


def _address_part(part: str, **kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=ADDRESS_MAX_LENGTHS[part], allow_null=True, help_text=_ADDRESS_HELP[part], **kwargs
    )


class AddressSerializer(serializers.Serializer):
    line1 = _address_part("line1")
    line2 = _address_part("line2")
    city = _address_part("city")
    region = _address_part("region")
    postal_code = _address_part("postal_code")


class AddressInputSerializer(serializers.Serializer):
    """Validated for the customer's `address_country` with Google's address data (required parts, postal code
    format, region codes); without a country, for its structure only. Unknown keys are a 400."""

    line1 = _address_part("line1", required=False)
    line2 = _address_part("line2", required=False)
    city = _address_part("city", required=False)
    region = _address_part("region", required=False)
    postal_code = _address_part("postal_code", required=False)


class AddressPatchSerializer(AddressInputSerializer):
    """Merged part by part: a part present is set (`null` clears it), a part left out stays. The merged
    address is checked for the customer's country."""


_PHONE_OUT_HELP = "E.164, for example +442071838750; null when none."
_PHONE_IN_HELP = (
    "Any usual writing of the number: international (`+44 20 7183 8750`), or national (`020 7183 8750`) when "
    "`address_country` says whose. Validated with Google's libphonenumber and stored in E.164."
)
_REFERENCE_HELP = (
    f"Your own id for the customer: 1-{MAX_REFERENCE_LENGTH} letters, digits and `_-.:/`, unique among your "
    "customers (409 `reference-in-use` names the customer that has it). `GET /api/v1/customers?reference=` finds it."
)


def _phone_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=MAX_PHONE_INPUT_LENGTH, allow_null=True, help_text=_PHONE_IN_HELP, **kwargs)


def _reference_field(**kwargs) -> serializers.RegexField:
    return serializers.RegexField(REFERENCE_PATTERN, allow_null=True, help_text=_REFERENCE_HELP, **kwargs)


class CustomFieldSerializer(serializers.Serializer):
    name = serializers.RegexField(CUSTOM_FIELD_NAME_PATTERN, help_text="Unique within the customer.")
    type = serializers.ChoiceField(choices=CUSTOM_FIELD_TYPES, help_text="How `value` is validated and meant.")
    value = serializers.CharField(
        max_length=MAX_CUSTOM_FIELD_VALUE_LENGTH,
        help_text="Always a string, whatever the type (booleans as true/false).",
    )


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": MAX_CUSTOM_FIELD_VALUE_LENGTH},
            {"type": "number"},
            {"type": "boolean"},
        ],
        "description": "A string, number or boolean; validated against `type` and stored as a string.",
    }
)
class CustomFieldValueField(serializers.JSONField):
    pass


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": MAX_CUSTOM_FIELD_VALUE_LENGTH},
            {"type": "number"},
            {"type": "boolean"},
        ],
        "nullable": True,
        "description": "The new value, validated against `type`; `null` removes the field.",
    }
)
class CustomFieldPatchValueField(serializers.JSONField):
    pass


class CustomFieldInputSerializer(serializers.Serializer):
    name = serializers.RegexField(CUSTOM_FIELD_NAME_PATTERN)
    type = serializers.ChoiceField(
        choices=CUSTOM_FIELD_TYPES, required=False, allow_null=True, help_text="Default (also for null): string."
    )
    value = CustomFieldValueField()


class CustomFieldPatchSerializer(serializers.Serializer):
    name = serializers.RegexField(CUSTOM_FIELD_NAME_PATTERN, help_text="The field to add, replace or remove.")
    type = serializers.ChoiceField(
        choices=CUSTOM_FIELD_TYPES,
        required=False,
        allow_null=True,
        help_text="Default (also for null): string (a replaced field takes this type).",
    )
    value = CustomFieldPatchValueField()


class CustomerOptionsSerializer(serializers.Serializer):
    custom_fields = CustomFieldSerializer(many=True)


class CustomerOptionsInputSerializer(serializers.Serializer):
    custom_fields = CustomFieldInputSerializer(
        many=True, required=False, allow_null=True, max_length=MAX_CUSTOM_FIELDS, help_text="null: none."
    )


class CustomerOptionsPatchSerializer(serializers.Serializer):
    custom_fields = CustomFieldPatchSerializer(
        many=True,
        required=False,
        allow_null=True,
        max_length=MAX_CUSTOM_FIELDS,
        help_text="Merged by name: a listed field is added or replaced, one with `value: null` is removed; "
        "`null` removes every custom field.",
    )


class CustomerSerializer(serializers.Serializer):
    customer_id = serializers.UUIDField()
    merchant_id = serializers.UUIDField()
    firstname = _name_field("firstname")
    lastname = _name_field("lastname")
    email = serializers.EmailField(max_length=MAX_LENGTHS["email"], allow_null=True)
    company = _name_field("company")
    phone = serializers.CharField(max_length=16, allow_null=True, help_text=_PHONE_OUT_HELP)
    address = AddressSerializer(allow_null=True, help_text="null when the customer has no address part.")
    address_country = serializers.CharField(
        min_length=3, max_length=3, allow_null=True, help_text="ISO 3166-1 alpha-3, upper case."
    )
    reference = _reference_field()
    options = CustomerOptionsSerializer()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CustomerEnvelopeSerializer(serializers.Serializer):
    customer_id = serializers.UUIDField()
    data = CustomerSerializer()


class CustomerWriteSerializer(serializers.Serializer):
    """At least one of firstname, lastname, email, company must be given and not blank. Unknown fields are a 400."""

    firstname = _name_field("firstname", required=False)
    lastname = _name_field("lastname", required=False)
    email = serializers.EmailField(max_length=MAX_LENGTHS["email"], allow_null=True, required=False)
    company = _name_field("company", required=False)
    phone = _phone_field(required=False)
    address = AddressInputSerializer(required=False, allow_null=True)
    address_country = serializers.CharField(
        allow_null=True, required=False, help_text="ISO 3166-1 alpha-3 code, any letter case (USA, gbr)."
    )
    reference = _reference_field(required=False)
    options = CustomerOptionsInputSerializer(required=False, allow_null=True)


class CustomerPatchSerializer(serializers.Serializer):
    """JSON Merge Patch (RFC 7396): fields present are set, `null` clears, absent fields stay.

    The result must still satisfy every create rule.
    """

    firstname = _name_field("firstname", required=False)
    lastname = _name_field("lastname", required=False)
    email = serializers.EmailField(max_length=MAX_LENGTHS["email"], allow_null=True, required=False)
    company = _name_field("company", required=False)
    phone = _phone_field(required=False)
    address = AddressPatchSerializer(
        required=False, allow_null=True, help_text="`null` clears the address; an object changes the parts it has."
    )
    address_country = serializers.CharField(allow_null=True, required=False)
    reference = _reference_field(required=False)
    options = CustomerOptionsPatchSerializer(
        required=False, allow_null=True, help_text="`null` removes every custom field."
    )


@extend_schema_serializer(many=False)
class CustomerPageSerializer(serializers.Serializer):
    data = CustomerSerializer(many=True, help_text="Newest first.")
    has_more = serializers.BooleanField()
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as `cursor` to get the next page; null on the last page."
    )


class BulkRequestSerializer(serializers.Serializer):
    customers = CustomerWriteSerializer(many=True, min_length=1, max_length=MAX_BULK_ITEMS)


class BulkItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the request's `customers`.")
    status = serializers.ChoiceField(
        choices=[201, 400, 409, 500],
        help_text="201 created, 400 invalid (see errors), 409 its reference is another customer's (customer_id "
        "names that one), 500 failed unexpectedly.",
    )
    customer_id = serializers.UUIDField(
        required=False, help_text="201: the new customer; 409: the customer that holds the reference."
    )
    errors = FieldErrorSerializer(many=True, required=False, help_text="When not created; fields relative to the item.")


class BulkResponseSerializer(serializers.Serializer):
    results = BulkItemResultSerializer(many=True)
