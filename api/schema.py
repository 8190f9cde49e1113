"""What the OpenAPI description of every API resource shares (drf-spectacular).

The token scheme, the problem documents with one example per problem type of the
registry (core/problems.py), the Idempotency-Key parameter, the headers every API
response carries and the token endpoint, which is django-oauth-toolkit's view
and so described here by hand. Each resource describes its own operations
(customers/api/schema.py, events/api.py). The schema is served at /api/schema/
and committed as docs/openapi.yaml; tests/test_openapi.py keeps both true.
"""

import copy
from collections.abc import Mapping

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from api.idempotency import MAX_KEY_LENGTH
from api.permissions import READ_SCOPE, WRITE_SCOPE
from core.problems import PROBLEM_CONTENT_TYPE, PROBLEM_TYPES

PROBLEM = PROBLEM_CONTENT_TYPE
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


def _problem(slug: str, detail: str | None = None, **extra) -> dict:
    problem = PROBLEM_TYPES[slug]
    return {
        "type": problem.type,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail if detail is None else detail,
        "instance": f"/api/v1/customers/{EXAMPLE_ID}",
        "request_id": EXAMPLE_REQUEST_ID,
        **extra,
    }


# An example document of each problem type an API resource answers, with the detail of a typical occasion.
PROBLEMS = {
    "validation-error": _problem(
        "validation-error",
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
    "malformed-json": _problem("malformed-json", "JSON parse error - Expecting value: line 1 column 1 (char 0)"),
    "unauthorized": _problem("unauthorized"),
    "insufficient-scope": _problem(
        "insufficient-scope",
        "This call needs the 'customers:read' scope; the access token lacks it (it has: customers:write).",
        required_scope="customers:read",
    ),
    "not-found": _problem("not-found", "No customer with this id."),
    "idempotency-key-in-use": _problem("idempotency-key-in-use"),
    "customer-erased": _problem("customer-erased", customer_id=EXAMPLE_ID),
    "reference-in-use": _problem(
        "reference-in-use",
        f"The reference 'CUST-00042' is already used by customer {EXAMPLE_ID}.",
        customer_id=EXAMPLE_ID,
        reference="CUST-00042",
    ),
    "precondition-failed": _problem("precondition-failed"),
    "payload-too-large": _problem("payload-too-large", "The request body is larger than the limit of 1048576 bytes."),
    "unsupported-media-type": _problem("unsupported-media-type", 'Unsupported media type "text/plain" in request.'),
    "idempotency-key-reused": _problem("idempotency-key-reused"),
    "rate-limited": _problem(
        "rate-limited", "Rate limit of 6000 requests per 60 seconds reached. Retry in 17 seconds."
    ),
    "internal-error": _problem("internal-error"),
}


def problem_responses(descriptions: Mapping[str, str]) -> dict:
    """The error responses of an operation: for each problem slug, what it means there; grouped by status."""
    by_status: dict[int, list[str]] = {}
    for slug in descriptions:
        by_status.setdefault(PROBLEMS[slug]["status"], []).append(slug)
    return {
        (status, PROBLEM): OpenApiResponse(
            ProblemSerializer,
            description=" ".join(dict.fromkeys(descriptions[slug] for slug in slugs)),
            examples=[OpenApiExample(slug, value=PROBLEMS[slug], status_codes=[status]) for slug in slugs],
        )
        for status, slugs in by_status.items()
    }


# What the problems every API operation may answer mean, whatever the resource.
COMMON_PROBLEMS = {
    "unauthorized": "Missing, malformed, expired or revoked access token, or a client of an inactive merchant.",
    "insufficient-scope": "The token lacks the scope this call needs (`required_scope`).",
    "rate-limited": "Rate limit reached; see Retry-After and the RateLimit-* headers.",
    "internal-error": "Unexpected error; nothing was changed. Quote `request_id` to support.",
}
IDEMPOTENCY_PROBLEMS = {
    "idempotency-key-in-use": "A request with the same Idempotency-Key is still running.",
    "idempotency-key-reused": "The Idempotency-Key was first used for a different request.",
}
BODY_PROBLEMS = {
    "validation-error": "Invalid input: `validation-error` lists every invalid field, query parameter or header "
    "in `errors`; `malformed-json` for a body that is not JSON.",
    "malformed-json": "Invalid input: `validation-error` lists every invalid field, query parameter or header "
    "in `errors`; `malformed-json` for a body that is not JSON.",
    "payload-too-large": "The body is larger than the server's limit.",
    "unsupported-media-type": "The body is not JSON.",
}


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(
        allow_null=True,
        help_text="Where: a field path such as options.custom_fields[2].value, a query parameter "
        "or a header name; null for the body as a whole.",
    )
    code = serializers.CharField(help_text="Machine-readable reason, e.g. invalid_email, required_one_of.")
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem document."""

    type = serializers.CharField(help_text="/problems/<slug>: the kind of problem, stable for programs to match.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField(help_text="What went wrong and what to do, for people.")
    instance = serializers.CharField(allow_null=True, help_text="The request path.")
    request_id = serializers.CharField(
        allow_null=True, help_text="Also in the X-Request-ID header; quote it to support."
    )
    errors = FieldErrorSerializer(many=True, required=False, help_text="Every invalid field (validation-error only).")
    required_scope = serializers.CharField(required=False, help_text="The missing scope (insufficient-scope only).")
    customer_id = serializers.UUIDField(
        required=False,
        help_text="customer-erased: the erased customer; reference-in-use: the customer that has the reference.",
    )
    reference = serializers.CharField(required=False, help_text="The reference in use (reference-in-use only).")


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
    "one way only: both in one request is a 400. Without `scope` the token gets every scope its client may have "
    "(both for a read-write client, customers:read for a read-only one); ask for fewer with a space-separated "
    "list. After a secret roll the previous secret is accepted too until its grace period ends. "
    "Reuse a token until its `expires_in` runs out: a client may hold at most "
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
            "description": "Bad grant type, a scope that is unknown or beyond the client's access (customers:write "
            "for a read-only client), or a malformed request: a multipart body without a "
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
            "description": "Unknown client, wrong secret (a rolled secret after its grace period is a wrong "
            "secret), or a client of a deactivated merchant.",
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
    result["paths"] = paths
    return result
