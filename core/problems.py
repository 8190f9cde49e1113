"""RFC 9457 problem documents: the one error format of the API, and the one catalogue of its types.

Every problem the vault answers is a `ProblemType` registered here: its slug
(the `type` is `/problems/<slug>`), HTTP status, title and default detail. The
API's exception handler, the middlewares, the 404/500 and health views and the
OpenAPI examples all take their problems from `PROBLEM_TYPES`; nothing else
spells a slug, a title or a status of an error.

Services raise Django's `ValidationError` (answered as `validation-error`) or a
`DomainError`, which names its problem type.
"""

import dataclasses
import logging
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "/problems/"


@dataclasses.dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    detail: str  # said when the occasion has nothing more precise to say

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug


PROBLEM_TYPES: dict[str, ProblemType] = {}


def _register(slug: str, status: int, title: str, detail: str) -> ProblemType:
    problem = ProblemType(slug=slug, status=status, title=title, detail=detail)
    assert slug not in PROBLEM_TYPES, slug
    PROBLEM_TYPES[slug] = problem
    return problem


BAD_REQUEST = _register(
    "bad-request",
    400,
    "Bad Request",
    "The request was refused as malformed or oversized (for example: too many query or form parameters).",
)
VALIDATION_ERROR = _register("validation-error", 400, "Validation failed", "The request is invalid; see errors.")
MALFORMED_JSON = _register("malformed-json", 400, "Malformed request body", "The request body is not valid JSON.")
UNAUTHORIZED = _register(
    "unauthorized", 401, "Unauthorized", "Authentication is required: send 'Authorization: Bearer <access token>'."
)
FORBIDDEN = _register("forbidden", 403, "Forbidden", "You do not have permission to perform this action.")
INSUFFICIENT_SCOPE = _register(
    "insufficient-scope", 403, "Forbidden", "The access token lacks the scope this call needs."
)
NOT_FOUND = _register("not-found", 404, "Not Found", "No such resource.")
METHOD_NOT_ALLOWED = _register("method-not-allowed", 405, "Method Not Allowed", "Method Not Allowed.")
NOT_ACCEPTABLE = _register("not-acceptable", 406, "Not Acceptable", "Not Acceptable.")
CONFLICT = _register("conflict", 409, "Conflict", "The request conflicts with the current state of the resource.")
IDEMPOTENCY_KEY_IN_USE = _register(
    "idempotency-key-in-use",
    409,
    "Idempotency key in use",
    "A request with this Idempotency-Key is still in progress. Retry once it has finished.",
)
REFERENCE_IN_USE = _register(
    "reference-in-use",
    409,
    "Reference in use",
    "Another customer of yours already has this reference; `customer_id` names it. Update that customer "
    "instead, or give another reference.",
)
CUSTOMER_ERASED = _register(
    "customer-erased",
    410,
    "Gone",
    "The request with this Idempotency-Key was carried out, but the customer in its response has since been "
    "deleted and its data erased, so the response cannot be repeated.",
)
PRECONDITION_FAILED = _register(
    "precondition-failed",
    412,
    "Precondition Failed",
    "The customer was changed since the version in If-Match. Fetch it again and retry.",
)
PAYLOAD_TOO_LARGE = _register("payload-too-large", 413, "Payload Too Large", "The request body is too large.")
UNSUPPORTED_MEDIA_TYPE = _register(
    "unsupported-media-type", 415, "Unsupported Media Type", "The request body's media type is not supported."
)
IDEMPOTENCY_KEY_REUSED = _register(
    "idempotency-key-reused",
    422,
    "Idempotency key reused",
    "This Idempotency-Key was already used for a different request (method, path, If-Match or body). "
    "Use a new key for a new request.",
)
UNPROCESSABLE_CONTENT = _register("unprocessable-content", 422, "Unprocessable Content", "Unprocessable Content.")
PRECONDITION_REQUIRED = _register("precondition-required", 428, "Precondition Required", "Precondition Required.")
RATE_LIMITED = _register("rate-limited", 429, "Too Many Requests", "Too many requests. Retry later.")
INTERNAL_ERROR = _register(
    "internal-error",
    500,
    "Internal Server Error",
    "An unexpected error occurred. Quote the request id when you contact support.",
)
NOT_READY = _register("not-ready", 503, "Service Unavailable", "The database is not reachable.")

# For an error that only has a status (Django's bare error pages, DRF's generic errors).
_GENERIC = {
    400: BAD_REQUEST,
    401: UNAUTHORIZED,
    403: FORBIDDEN,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    406: NOT_ACCEPTABLE,
    409: CONFLICT,
    412: PRECONDITION_FAILED,
    413: PAYLOAD_TOO_LARGE,
    415: UNSUPPORTED_MEDIA_TYPE,
    422: UNPROCESSABLE_CONTENT,
    428: PRECONDITION_REQUIRED,
    429: RATE_LIMITED,
    500: INTERNAL_ERROR,
    503: NOT_READY,
}


def problem_for_status(status: int) -> ProblemType:
    """The generic problem type of an HTTP status; an unknown 5xx is an internal error."""
    if status in _GENERIC:
        return _GENERIC[status]
    return INTERNAL_ERROR if status >= 500 else BAD_REQUEST


class DomainError(Exception):
    """An error of the domain layer the doors translate (besides Django's ValidationError).

    A subclass names its `problem`; `problem_detail` and `problem_extra` say more when they can.
    """

    problem: ProblemType = CONFLICT

    @property
    def problem_detail(self) -> str:
        return self.problem.detail

    @property
    def problem_extra(self) -> dict[str, Any]:
        return {}


def problem_body(request, problem: ProblemType, *, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    body = {
        "type": problem.type,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail if detail is None else detail,
        "instance": getattr(request, "path", None),
        "request_id": getattr(request, "request_id", None),
    }
    body.update(extra)
    return body


def problem_response(request, problem: ProblemType, *, detail: str | None = None, headers=None, **extra):
    body = problem_body(request, problem, detail=detail, **extra)
    return JsonResponse(body, status=problem.status, content_type=PROBLEM_CONTENT_TYPE, headers=headers)


def sendable_text(text: str) -> str:
    """`text` with what no UTF-8 answer or PostgreSQL column can carry (lone surrogates, NUL) as U+FFFD.

    Error messages and field paths echo what the client sent, keys included, and
    nothing has validated those; the replacement keeps every answer renderable
    and storable (an Idempotency-Key's stored answer).
    """
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)
    return text


def validation_errors(error: DjangoValidationError) -> list[dict[str, Any]]:
    """Flatten a Django ValidationError into `[{field, code, message}]`, field paths kept."""
    items = error.error_dict.items() if hasattr(error, "error_dict") else [(NON_FIELD_ERRORS, error.error_list)]
    result = []
    for field, errors in items:
        for e in errors:
            message = e.message % e.params if e.params else e.message
            result.append(
                {
                    "field": None if field == NON_FIELD_ERRORS else sendable_text(field),
                    "code": e.code or "invalid",
                    "message": sendable_text(str(message)),
                }
            )
    return result


def validation_problem_response(request, error: DjangoValidationError):
    errors = validation_errors(error)
    detail = f"The request has {len(errors)} invalid field(s); see errors."
    return problem_response(request, VALIDATION_ERROR, detail=detail, errors=errors)


def suspicious_request_response(request, exc: SuspiciousOperation):
    """Django refuses these requests with a bare 400 (413 for a body over the limit); say so as a problem."""
    if isinstance(exc, RequestDataTooBig):
        return problem_response(request, PAYLOAD_TOO_LARGE)
    return problem_response(request, BAD_REQUEST)
