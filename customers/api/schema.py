"""OpenAPI description of the customer API (drf-spectacular): operations, problems, examples, security.

The schema is served at /api/schema/ and committed as docs/openapi.yaml; see
tests/test_openapi.py for the checks that keep both true.
"""

import copy

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from api.schema import (
    BODY_PROBLEMS,
    COMMON_PROBLEMS,
    EXAMPLE_ID,
    EXAMPLE_MERCHANT_ID,
    IDEMPOTENCY_KEY,
    IDEMPOTENCY_PROBLEMS,
    problem_responses,
)
from core.text import BLANK_PATTERN
from customers.api import serializers as shapes
from customers.api.schema_rules import COUNTRY, describe_write_rules
from customers.bulk import MAX_BULK_ITEMS
from customers.search import MAX_QUERY_LENGTH
from customers.selectors import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# What each problem means for the customer operations.
_DESCRIPTIONS = {
    **COMMON_PROBLEMS,
    **IDEMPOTENCY_PROBLEMS,
    **BODY_PROBLEMS,
    "not-found": "No customer with this id for your merchant (unknown, malformed or another merchant's id alike).",
    "customer-erased": "Replay of a request whose customer has since been deleted and erased.",
    "precondition-failed": "If-Match does not match the customer's current ETag.",
    "reference-in-use": "`reference-in-use`: another of your customers has this `reference`; `customer_id` names it.",
}


def _problems(*slugs: str) -> dict:
    return problem_responses({slug: _DESCRIPTIONS[slug] for slug in slugs})


COMMON = tuple(COMMON_PROBLEMS)
WRITE_PROBLEMS = (*COMMON, *IDEMPOTENCY_PROBLEMS)
BODY = tuple(BODY_PROBLEMS)

_CUSTOMER = {
    "customer_id": EXAMPLE_ID,
    "merchant_id": EXAMPLE_MERCHANT_ID,
    "firstname": "Ada",
    "lastname": "Lovelace",
    "email": "ada@example.com",
    "company": "Analytical Engines Ltd",
    "phone": "+442071838750",
    "address": {
        "line1": "10 Downing Street",
        "line2": None,
        "city": "London",
        "region": None,
        "postal_code": "SW1A 2AA",
    },
    "address_country": "GBR",
    "reference": "CUST-00042",
    "options": {
        "custom_fields": [
            {"name": "loyalty_tier", "type": "integer", "value": "3"},
            {"name": "newsletter", "type": "boolean", "value": "true"},
        ]
    },
    "created_at": "2026-05-31T14:30:00.123456Z",
    "updated_at": "2026-05-31T14:30:00.123456Z",
}
_ENVELOPE = {"customer_id": EXAMPLE_ID, "data": _CUSTOMER}


def _customer_example(name: str, **changes) -> OpenApiExample:
    data = {**copy.deepcopy(_CUSTOMER), **changes}
    return OpenApiExample(name, value={"customer_id": EXAMPLE_ID, "data": data}, response_only=True)


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag of the customer as you last read it: the change is made only if the customer is "
    "still that version, else 412. `*` or no header: unconditional.",
)
CUSTOMER_ID = OpenApiParameter(
    "customer_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The customer's id."
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Strong entity tag of this version of the customer; send it as If-Match to update or delete safely.",
    response=[200, 201],
)
LOCATION = OpenApiParameter(
    "Location", OpenApiTypes.STR, OpenApiParameter.HEADER, description="URL of the new customer.", response=[201]
)
# Empty (or blank) filter values mean "no filter", as when the parameter is left out.
_BLANK = {"type": "string", "pattern": BLANK_PATTERN}
# Any text but NUL, which no database column can hold (a NUL is a 400).
_TEXT = {"type": "string", "pattern": "^[^\\u0000]*$"}
_MOMENT = {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}, _BLANK]}
LIST_PARAMETERS = [
    OpenApiParameter(
        "limit",
        {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}, _BLANK], "default": DEFAULT_PAGE_SIZE},
        description="Page size, 1 to 100 (default 20; an empty value means the default).",
    ),
    OpenApiParameter(
        "cursor", OpenApiTypes.STR, description="`next_cursor` of the previous page; leave out for the first page."
    ),
    OpenApiParameter(
        "email",
        _TEXT,
        description="Exact email, any letter case: `Ada@Example.com` finds ada@example.com.",
    ),
    OpenApiParameter(
        "q",
        _TEXT,
        description=(
            "Search, ignoring letter case and accents (`muller` finds Müller, `strasse` finds Straße): "
            "from 3 characters, a substring of firstname, lastname, the full name in either order, email, "
            "company or reference; 1 or 2 characters match the start of a word. A phone number in any writing "
            "(`+44 20 7183 8750`, `020 7183 8750`, `442071838750`) matches the phone's digits. A customer_id "
            "finds that customer. "
            f"At most {MAX_QUERY_LENGTH} characters."
        ),
    ),
    OpenApiParameter("company", _TEXT, description="The whole company name, ignoring letter case and accents."),
    OpenApiParameter(
        "reference", _TEXT, description="Your reference for the customer, exactly (letter case counts): `CUST-00042`."
    ),
    OpenApiParameter(
        "address_country", {**COUNTRY, "nullable": False}, description="ISO 3166-1 alpha-3 code, e.g. GBR."
    ),
    OpenApiParameter(
        "created_after",
        _MOMENT,
        description="Customers created at or after this ISO 8601 date or date-time (UTC when no offset is given).",
    ),
    OpenApiParameter(
        "created_before",
        _MOMENT,
        description="Customers created before this ISO 8601 date or date-time (UTC when no offset is given).",
    ),
    OpenApiParameter(
        "custom_fields",
        # An empty example, or Swagger UI would try the call with made-up custom fields.
        {"type": "object", "additionalProperties": _TEXT, "example": {}},
        style="deepObject",
        explode=True,
        description="`custom_fields[NAME]=VALUE`: customers having custom field NAME with exactly VALUE "
        "(as stored: booleans as true/false), e.g. `custom_fields[loyalty_tier]=3`. Several are combined with AND. "
        "A NAME no custom field can have matches no customer.",
    ),
]

_WRITE_BODY_EXAMPLE = OpenApiExample(
    "customer",
    value={
        "firstname": "Ada",
        "lastname": "Lovelace",
        "email": "ada@example.com",
        "company": "Analytical Engines Ltd",
        "phone": "020 7183 8750",
        "address": {"line1": "10 Downing Street", "city": "London", "postal_code": "sw1a 2aa"},
        "address_country": "GBR",
        "reference": "CUST-00042",
        "options": {
            "custom_fields": [
                {"name": "loyalty_tier", "type": "integer", "value": 3},
                {"name": "newsletter", "type": "boolean", "value": True},
            ]
        },
    },
    request_only=True,
)

_PATCH_EXAMPLE = {
    "email": "ada.lovelace@example.com",
    "company": None,
    "address": {"line1": "1 Horse Guards Road"},
    "options": {
        "custom_fields": [
            {"name": "loyalty_tier", "type": "integer", "value": 4},
            {"name": "newsletter", "value": None},
        ]
    },
}

customer_viewset_schema = extend_schema_view(
    list=extend_schema(
        operation_id="customers_list",
        tags=["customers"],
        summary="List and search customers",
        description="The merchant's customers, newest first, by keyset (cursor) pagination: every page costs "
        "the same. Filters combine with AND. Unknown query parameters are a 400. Reads see every committed "
        "write at once.",
        parameters=LIST_PARAMETERS,
        responses={
            200: OpenApiResponse(
                shapes.CustomerPageSerializer,
                description="One page.",
                examples=[
                    OpenApiExample(
                        "page",
                        value={"data": [_CUSTOMER], "has_more": True, "next_cursor": "WyIyMDI2LTA1LTMxVDE0OjMwOjAwIl0"},
                    )
                ],
            ),
            **_problems("validation-error", *COMMON),
        },
    ),
    retrieve=extend_schema(
        operation_id="customers_retrieve",
        tags=["customers"],
        summary="Retrieve a customer",
        description="The customer with its custom fields, and its ETag for a later conditional update or delete.",
        parameters=[CUSTOMER_ID, ETAG],
        responses={
            200: OpenApiResponse(shapes.CustomerEnvelopeSerializer, examples=[_customer_example("customer")]),
            **_problems("not-found", *COMMON),
        },
    ),
    create=extend_schema(
        operation_id="customers_create",
        tags=["customers"],
        summary="Create a customer",
        description="At least one of firstname, lastname, email or company is required. Duplicates are never "
        "merged: each call creates a new customer with a new customer_id (send an Idempotency-Key to retry "
        "safely). The exception is your own `reference`: a second customer with a reference already in use is "
        "a 409 `reference-in-use` naming the customer that has it. `phone` is validated with libphonenumber and "
        "stored in E.164; `address` is validated for `address_country` with Google's address data (required "
        "parts, postal code format, region codes) and normalized (postal code upper case, region as its code).",
        parameters=[IDEMPOTENCY_KEY, ETAG, LOCATION],
        request={"application/json": shapes.CustomerWriteSerializer},
        examples=[_WRITE_BODY_EXAMPLE],
        responses={
            201: OpenApiResponse(shapes.CustomerEnvelopeSerializer, examples=[_customer_example("created")]),
            **_problems(*BODY, *WRITE_PROBLEMS, "reference-in-use", "customer-erased"),
        },
    ),
    update=extend_schema(
        operation_id="customers_replace",
        tags=["customers"],
        summary="Replace a customer",
        description="Replaces the whole record with create semantics: fields left out become empty, custom "
        "fields become exactly the ones given.",
        parameters=[CUSTOMER_ID, IF_MATCH, IDEMPOTENCY_KEY, ETAG],
        request={"application/json": shapes.CustomerWriteSerializer},
        examples=[_WRITE_BODY_EXAMPLE],
        responses={
            200: OpenApiResponse(shapes.CustomerEnvelopeSerializer, examples=[_customer_example("replaced")]),
            **_problems(
                *BODY, *WRITE_PROBLEMS, "reference-in-use", "not-found", "precondition-failed", "customer-erased"
            ),
        },
    ),
    partial_update=extend_schema(
        operation_id="customers_update",
        tags=["customers"],
        summary="Update a customer (JSON Merge Patch)",
        description="RFC 7396: fields present are set, `null` clears, absent fields stay. "
        '`address` merges by part: a part present is set, `null` clears it, `"address": null` clears the '
        "whole address. `options.custom_fields` merges by name: a listed field is added or replaced, one with "
        '`"value": null` is removed. The result must satisfy every create rule (clearing the last of '
        "firstname, lastname, email and company is a 400). Send `application/json` or "
        "`application/merge-patch+json`.",
        parameters=[CUSTOMER_ID, IF_MATCH, IDEMPOTENCY_KEY, ETAG],
        request={
            "application/json": shapes.CustomerPatchSerializer,
            "application/merge-patch+json": shapes.CustomerPatchSerializer,
        },
        examples=[
            OpenApiExample(
                "change email, clear company, set and remove custom fields",
                value=_PATCH_EXAMPLE,
                request_only=True,
                media_type=media_type,
            )
            for media_type in ("application/json", "application/merge-patch+json")
        ],
        responses={
            200: OpenApiResponse(
                shapes.CustomerEnvelopeSerializer,
                examples=[
                    _customer_example(
                        "updated",
                        email="ada.lovelace@example.com",
                        company=None,
                        address={**_CUSTOMER["address"], "line1": "1 Horse Guards Road"},
                        options={"custom_fields": [{"name": "loyalty_tier", "type": "integer", "value": "4"}]},
                    )
                ],
            ),
            **_problems(
                *BODY, *WRITE_PROBLEMS, "reference-in-use", "not-found", "precondition-failed", "customer-erased"
            ),
        },
    ),
    destroy=extend_schema(
        operation_id="customers_delete",
        tags=["customers"],
        summary="Delete a customer",
        description="Deletes the customer and its custom fields and erases its personal data; later calls "
        "with its id get 404.",
        parameters=[CUSTOMER_ID, IF_MATCH, IDEMPOTENCY_KEY],
        responses={
            204: OpenApiResponse(description="Deleted."),
            **_problems("validation-error", *WRITE_PROBLEMS, "not-found", "precondition-failed"),
        },
    ),
    bulk=extend_schema(
        operation_id="customers_bulk_create",
        tags=["customers"],
        summary="Create up to 100 customers",
        description="Each item is created on its own, with the rules of a single create: valid items are "
        "created even when others are invalid. The answer is 207 with one result per item, in order.",
        parameters=[IDEMPOTENCY_KEY],
        request={"application/json": shapes.BulkRequestSerializer},
        examples=[
            OpenApiExample(
                "two customers, one invalid",
                value={"customers": [{"firstname": "Ada"}, {"email": "not-an-email"}]},
                request_only=True,
            )
        ],
        responses={
            207: OpenApiResponse(
                shapes.BulkResponseSerializer,
                description="One result per item.",
                examples=[
                    OpenApiExample(
                        "mixed",
                        value={
                            "results": [
                                {"index": 0, "status": 201, "customer_id": EXAMPLE_ID},
                                {
                                    "index": 1,
                                    "status": 400,
                                    "errors": [
                                        {
                                            "field": "email",
                                            "code": "invalid_email",
                                            "message": "Must be a valid email address.",
                                        }
                                    ],
                                },
                            ]
                        },
                    )
                ],
            ),
            **_problems(*BODY, *WRITE_PROBLEMS),
        },
    ),
)


def postprocess_schema(result, generator, request, public):
    """What the customer operations' decorators cannot say: the write rules in JSON Schema, the bulk limits."""
    schemas = result.get("components", {}).get("schemas", {})
    describe_write_rules(schemas)
    # drf-spectacular drops min_length/max_length of a `many=True` serializer.
    for name in ("BulkRequestRequest", "BulkRequest"):
        if name in schemas:
            schemas[name]["additionalProperties"] = False
            customers = schemas[name]["properties"]["customers"]
            customers.update(minItems=1, maxItems=MAX_BULK_ITEMS)
            # Each item is validated on its own and answered in `results` (status 400 when invalid), so
            # any JSON value is an acceptable item; the customer shape is what makes it a 201.
            customers["items"] = {
                "anyOf": [customers["items"], {}],
                "description": "A customer as for POST /api/v1/customers. Anything else is reported in "
                "`results` with status 400; the other items are still created.",
            }
    return result
