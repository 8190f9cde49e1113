"""OpenAPI description of the customer API (drf-spectacular): operations, problems, examples, security.

The schema is served at /api/schema/ and committed as docs/openapi.yaml; see
tests/test_openapi.py for the checks that keep both true.
"""

import copy

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from customers.api import serializers as shapes
from customers.api.permissions import READ_SCOPE, WRITE_SCOPE
from customers.api.schema_rules import COUNTRY, describe_write_rules
from customers.create_many import MAX_BULK_ITEMS
from customers.idempotency import MAX_KEY_LENGTH
from customers.selectors import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from customers.validation import BLANK_PATTERN

PROBLEM = "application/problem+json"
TOKEN_URL = "/o/token/"  # noqa: S105 - a URL, not a secret
SCOPES = {
    READ_SCOPE: "Read and list customers (and webhook endpoints).",
    WRITE_SCOPE: "Create, update and delete customers. Does not include reading.",
}
EXAMPLE_ID = "0b6f7a1e-4d3c-4a8e-9a57-2f8c1d0e5b21"
EXAMPLE_MERCHANT_ID = "5d7e2c9a-1f3b-4e6d-8a0c-7b9e1f2d3c4a"
EXAMPLE_REQUEST_ID = "7f3e9c1b2a4d4e8f9a0b1c2d3e4f5a6b"


class MerchantTokenScheme(OpenApiAuthenticationExtension):
    """OAuth2 client credentials (Swagger UI fetches the token) or a pasted bearer token."""

    target_class = "merchants.authentication.MerchantTokenAuthentication"
    name = ["oauth2", "bearerAuth"]

    def get_security_requirement(self, auto_schema):
        view = auto_schema.view
        scope = getattr(view, "scopes_by_action", {}).get(getattr(view, "action", None))
        return [{"oauth2": [scope] if scope else []}, {"bearerAuth": []}]

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "oauth2",
                "description": "Client credentials of an API client of your merchant. Tokens requested without "
                "`scope` get both scopes.",
                "flows": {"clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": SCOPES}},
            },
            {
                "type": "http",
                "scheme": "bearer",
                "description": "An access token from POST /o/token/, pasted as is.",
            },
        ]


def _problem(slug: str, status: int, title: str, detail: str, **extra) -> dict:
    return {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": f"/api/v1/customers/{EXAMPLE_ID}",
        "request_id": EXAMPLE_REQUEST_ID,
        **extra,
    }


# Every problem the customer API answers, by slug: status and an example document.
PROBLEMS = {
    "validation-error": _problem(
        "validation-error",
        400,
        "Validation failed",
        "The request has 2 invalid field(s); see errors.",
        errors=[
            {"field": "email", "code": "invalid_email", "message": "Must be a valid email address."},
            {
                "field": "options.custom_fields[0].value",
                "code": "invalid_value",
                "message": "Must be an integer, for example 42.",
            },
        ],
    ),
    "malformed-json": _problem(
        "malformed-json", 400, "Malformed request body", "JSON parse error - Expecting value: line 1 column 1 (char 0)"
    ),
    "unauthorized": _problem(
        "unauthorized", 401, "Unauthorized", "Authentication is required: send 'Authorization: Bearer <access token>'."
    ),
    "insufficient-scope": _problem(
        "insufficient-scope",
        403,
        "Forbidden",
        "This call needs the 'customers:read' scope; the access token lacks it (it has: customers:write).",
        required_scope="customers:read",
    ),
    "not-found": _problem("not-found", 404, "Not Found", "No customer with this id."),
    "idempotency-key-in-use": _problem(
        "idempotency-key-in-use",
        409,
        "Idempotency key in use",
        "A request with this Idempotency-Key is still in progress. Retry once it has finished.",
    ),
    "customer-erased": _problem(
        "customer-erased",
        410,
        "Gone",
        "The request with this Idempotency-Key was carried out, but the customer in its response has since been "
        "deleted and its data erased, so the response cannot be repeated.",
        customer_id=EXAMPLE_ID,
    ),
    "precondition-failed": _problem(
        "precondition-failed",
        412,
        "Precondition Failed",
        "The customer was changed since the version in If-Match. Fetch it again and retry.",
    ),
    "payload-too-large": _problem(
        "payload-too-large", 413, "Payload Too Large", "The request body is larger than the limit of 1048576 bytes."
    ),
    "unsupported-media-type": _problem(
        "unsupported-media-type",
        415,
        "Unsupported Media Type",
        'Unsupported media type "text/plain" in request.',
    ),
    "idempotency-key-reused": _problem(
        "idempotency-key-reused",
        422,
        "Idempotency key reused",
        "This Idempotency-Key was already used for a different request (method, path, If-Match or body). "
        "Use a new key for a new request.",
    ),
    "rate-limited": _problem(
        "rate-limited",
        429,
        "Too Many Requests",
        "Rate limit of 6000 requests per 60 seconds reached. Retry in 17 seconds.",
    ),
    "internal-error": _problem(
        "internal-error",
        500,
        "Internal Server Error",
        "An unexpected error occurred. Quote the request id when you contact support.",
    ),
}
_PROBLEM_DESCRIPTIONS = {
    400: "Invalid input: `validation-error` lists every invalid field, query parameter or header in `errors`; "
    "`malformed-json` for a body that is not JSON.",
    401: "Missing, malformed, expired or revoked access token, or a client of an inactive merchant.",
    403: "The token lacks the scope this call needs (`required_scope`).",
    404: "No customer with this id for your merchant (unknown, malformed or another merchant's id alike).",
    409: "A request with the same Idempotency-Key is still running.",
    410: "Replay of a request whose customer has since been deleted and erased.",
    412: "If-Match does not match the customer's current ETag.",
    413: "The body is larger than the server's limit.",
    415: "The body is not JSON.",
    422: "The Idempotency-Key was first used for a different request.",
    429: "Rate limit reached; see Retry-After and the RateLimit-* headers.",
    500: "Unexpected error; nothing was changed. Quote `request_id` to support.",
}


def _problems(*slugs: str) -> dict:
    """Responses for the given problem slugs, grouped by status, each with its example."""
    by_status: dict[int, list[str]] = {}
    for slug in slugs:
        by_status.setdefault(PROBLEMS[slug]["status"], []).append(slug)
    return {
        (status, PROBLEM): OpenApiResponse(
            shapes.ProblemSerializer,
            description=_PROBLEM_DESCRIPTIONS[status],
            examples=[OpenApiExample(slug, value=PROBLEMS[slug], status_codes=[status]) for slug in group],
        )
        for status, group in by_status.items()
    }


COMMON_PROBLEMS = ("unauthorized", "insufficient-scope", "rate-limited", "internal-error")
WRITE_PROBLEMS = (*COMMON_PROBLEMS, "idempotency-key-in-use", "idempotency-key-reused")
BODY_PROBLEMS = ("validation-error", "malformed-json", "payload-too-large", "unsupported-media-type")

_CUSTOMER = {
    "customer_id": EXAMPLE_ID,
    "merchant_id": EXAMPLE_MERCHANT_ID,
    "firstname": "Ada",
    "lastname": "Lovelace",
    "email": "ada@example.com",
    "company": "Analytical Engines Ltd",
    "address_country": "GBR",
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


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    # Exactly what the API accepts: printable ASCII, space included.
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[ -~]+$"},
    OpenApiParameter.HEADER,
    description="1-255 printable ASCII characters, e.g. a UUID. Remembered per merchant for 24 hours: repeating "
    "the request with the same key returns the first response (with `Idempotent-Replayed: true`) and changes "
    "nothing; the same key with a different request is a 422, while the first is still running a 409. "
    "Responses below 500 are remembered; after a 5xx a retry with the same key runs again.",
)
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
    OpenApiParameter("q", _TEXT, description="Case-insensitive substring of firstname, lastname, email or company."),
    OpenApiParameter("company", _TEXT, description="Exact company name, any letter case."),
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
        "address_country": "GBR",
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
            **_problems("validation-error", *COMMON_PROBLEMS),
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
            **_problems("not-found", *COMMON_PROBLEMS),
        },
    ),
    create=extend_schema(
        operation_id="customers_create",
        tags=["customers"],
        summary="Create a customer",
        description="At least one of firstname, lastname, email or company is required. Duplicates are never "
        "merged: each call creates a new customer with a new customer_id (send an Idempotency-Key to retry "
        "safely).",
        parameters=[IDEMPOTENCY_KEY, ETAG, LOCATION],
        request={"application/json": shapes.CustomerWriteSerializer},
        examples=[_WRITE_BODY_EXAMPLE],
        responses={
            201: OpenApiResponse(shapes.CustomerEnvelopeSerializer, examples=[_customer_example("created")]),
            **_problems(*BODY_PROBLEMS, *WRITE_PROBLEMS, "customer-erased"),
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
            **_problems(*BODY_PROBLEMS, *WRITE_PROBLEMS, "not-found", "precondition-failed", "customer-erased"),
        },
    ),
    partial_update=extend_schema(
        operation_id="customers_update",
        tags=["customers"],
        summary="Update a customer (JSON Merge Patch)",
        description="RFC 7396: fields present are set, `null` clears, absent fields stay. "
        "`options.custom_fields` merges by name: a listed field is added or replaced, one with "
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
                        options={"custom_fields": [{"name": "loyalty_tier", "type": "integer", "value": "4"}]},
                    )
                ],
            ),
            **_problems(*BODY_PROBLEMS, *WRITE_PROBLEMS, "not-found", "precondition-failed", "customer-erased"),
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
            **_problems(*BODY_PROBLEMS, *WRITE_PROBLEMS),
        },
    ),
)


_HEADER = {"schema": {"type": "integer"}}
_RESPONSE_HEADERS = {
    "X-Request-ID": {
        "description": "Id of this request (yours when you sent a sane one).",
        "schema": {"type": "string"},
    },
    "RateLimit-Limit": {**_HEADER, "description": "Requests allowed per window for this API client."},
    "RateLimit-Remaining": {**_HEADER, "description": "Requests left in the current window."},
    "RateLimit-Reset": {**_HEADER, "description": "Seconds until the window resets."},
    "RateLimit-Policy": {"schema": {"type": "string"}, "description": "limit;w=window seconds, e.g. 6000;w=60."},
}
_REPLAYED = {
    "Idempotent-Replayed": {
        "schema": {"type": "string", "enum": ["true"]},
        "description": "Present when this is the stored response of an earlier request with the same Idempotency-Key.",
    }
}

TOKEN_OPERATION = {
    "operationId": "oauth2_token",
    "summary": "Get an access token (OAuth2 client credentials)",
    "description": "Send your API client's id and secret by HTTP Basic (or as client_id/client_secret form fields), "
    "one way only: both in one request is a 400. Without `scope` the token gets both scopes; ask for fewer with a "
    "space-separated list. Reuse a token until its `expires_in` runs out: a client may hold at most "
    "MAX_LIVE_TOKENS_PER_CLIENT (default 50) unexpired tokens, and past that gets a 429 until one expires or is "
    "revoked at /o/revoke_token/. Wrong secrets from one address are answered 429 instead of 401 after "
    "TOKEN_FAILURE_LIMIT (default 10) failures; the right secret is always accepted. Errors follow "
    "RFC 6749 (not problem documents).",
    "tags": ["oauth2"],
    "security": [{"clientBasic": []}, {}],
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "scope": {"type": "string", "description": "Space-separated scopes; default: all."},
                        "client_id": {"type": "string", "description": "Instead of HTTP Basic."},
                        "client_secret": {"type": "string", "description": "Instead of HTTP Basic."},
                    },
                },
                "examples": {
                    "both scopes": {"value": {"grant_type": "client_credentials"}},
                    "read only": {"value": {"grant_type": "client_credentials", "scope": READ_SCOPE}},
                },
            }
        },
    },
    "responses": {
        "200": {
            "description": "A bearer token.",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["access_token", "token_type", "expires_in", "scope"],
                        "properties": {
                            "access_token": {"type": "string"},
                            "token_type": {"type": "string", "enum": ["Bearer"]},
                            "expires_in": {"type": "integer", "description": "Seconds."},
                            "scope": {"type": "string"},
                        },
                    },
                    "example": {
                        "access_token": "hX0nYq2tJ8cQ4r6W1sZ3vB5nM7kL9pA",
                        "expires_in": 3600,
                        "token_type": "Bearer",
                        "scope": f"{READ_SCOPE} {WRITE_SCOPE}",
                    },
                }
            },
        },
        "400": {
            "description": "Bad grant type, unknown scope or malformed request: a multipart body without a "
            "boundary, a NUL character, or client credentials both in the Authorization header and in the body.",
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/OAuth2Error"},
                    "examples": {
                        "unknown scope": {"value": {"error": "invalid_scope"}},
                        "credentials sent two ways": {
                            "value": {
                                "error": "invalid_request",
                                "error_description": "Send the client credentials one way only: HTTP Basic or "
                                "client_id and client_secret in the body, not both.",
                            }
                        },
                    },
                }
            },
        },
        "401": {
            "description": "Unknown client, wrong secret, or a client of a deactivated merchant.",
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/OAuth2Error"},
                    "examples": {
                        "wrong secret": {"value": {"error": "invalid_client"}},
                        "deactivated merchant": {
                            "value": {
                                "error": "invalid_client",
                                "error_description": "This client's merchant is not active.",
                            }
                        },
                    },
                }
            },
        },
        "429": {
            "description": "`slow_down`, wait Retry-After seconds. Either too many failed client authentications "
            "of this client id (or of any) from your address, answered instead of 401 to a wrong secret only; or "
            "the client holds MAX_LIVE_TOKENS_PER_CLIENT unexpired tokens: reuse one until its `expires_in` "
            "runs out (Retry-After: until the oldest expires) or revoke those you no longer use.",
            "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/OAuth2Error"},
                    "examples": {
                        "failed authentications": {
                            "value": {
                                "error": "slow_down",
                                "error_description": "Too many failed client authentications from your address. "
                                "Retry in 240 seconds.",
                            }
                        },
                        "too many live tokens": {
                            "value": {
                                "error": "slow_down",
                                "error_description": "This client already holds 50 unexpired access tokens, the "
                                "most allowed. Reuse a token until its expires_in runs out instead of asking for "
                                "one per call, or revoke tokens you no longer use at /o/revoke_token/.",
                            }
                        },
                    },
                }
            },
        },
    },
}
OAUTH2_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "string",
            "enum": [
                "invalid_request",
                "invalid_client",
                "unsupported_grant_type",
                "invalid_scope",
                "unauthorized_client",
                "slow_down",
            ],
        },
        "error_description": {"type": "string"},
    },
}


def _header_ref(name: str) -> dict:
    return {"$ref": f"#/components/headers/{name}"}


def postprocess_schema(result, generator, request, public):
    """Add what decorators cannot say: the token endpoint and the headers every API response carries.

    API paths are written without the trailing slash, as the API's own links are (both forms work).
    """
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["OAuth2Error"] = OAUTH2_ERROR
    components.setdefault("securitySchemes", {})["clientBasic"] = {
        "type": "http",
        "scheme": "basic",
        "description": "Your API client's id and secret (token endpoint only).",
    }
    components["headers"] = {
        **copy.deepcopy(_RESPONSE_HEADERS),
        **copy.deepcopy(_REPLAYED),
        "Retry-After": {**_HEADER, "description": "Seconds to wait before retrying."},
        "WWW-Authenticate": {
            "schema": {"type": "string"},
            "description": "Bearer challenge (RFC 6750); on a 403 error=insufficient_scope and the scope needed.",
        },
    }
    paths = {}
    for path, operations in result["paths"].items():
        if path.startswith("/api/v1/"):
            path = path.rstrip("/")
            for method, operation in operations.items():
                for status, response in operation.get("responses", {}).items():
                    headers = response.setdefault("headers", {})
                    # A 413 is refused before the request is read, so before it is counted.
                    counted = status != "413"
                    headers.update(
                        {name: _header_ref(name) for name in _RESPONSE_HEADERS if counted or name == "X-Request-ID"}
                    )
                    if method in ("post", "put", "patch", "delete") and status not in ("401", "403", "429", "500"):
                        headers.update({name: _header_ref(name) for name in _REPLAYED})
                    if status == "429":
                        headers["Retry-After"] = _header_ref("Retry-After")
                    if status in ("401", "403"):
                        headers["WWW-Authenticate"] = _header_ref("WWW-Authenticate")
                operation["responses"] = dict(sorted(operation.get("responses", {}).items()))
            for operation in operations.values():
                if "requestBody" in operation:  # an empty body is a 400 on every write
                    operation["requestBody"]["required"] = True
        paths[path] = operations
    paths[TOKEN_URL] = {"post": copy.deepcopy(TOKEN_OPERATION)}
    describe_write_rules(components["schemas"])
    for name in ("WebhookEndpointWriteShapeRequest", "PatchedWebhookEndpointPatchShapeRequest"):
        if name in components["schemas"]:  # unknown fields are a 400
            components["schemas"][name]["additionalProperties"] = False
    # drf-spectacular drops min_length/max_length of a `many=True` serializer.
    for name in ("BulkRequestRequest", "BulkRequest"):
        if name in components["schemas"]:
            components["schemas"][name]["additionalProperties"] = False
            customers = components["schemas"][name]["properties"]["customers"]
            customers.update(minItems=1, maxItems=MAX_BULK_ITEMS)
            # Each item is validated on its own and answered in `results` (status 400 when invalid), so
            # any JSON value is an acceptable item; the customer shape is what makes it a 201.
            customers["items"] = {
                "anyOf": [customers["items"], {}],
                "description": "A customer as for POST /api/v1/customers. Anything else is reported in "
                "`results` with status 400; the other items are still created.",
            }
    result["paths"] = paths
    return result
