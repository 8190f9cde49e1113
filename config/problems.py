"""RFC 9457 problem documents: the one error format of the API."""

import logging
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.views import set_rollback

from customers.exceptions import IdempotencyKeyInUse, IdempotencyKeyReused, VersionMismatch

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "/problems/"


def problem_body(request, *, status: int, slug: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    body = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": getattr(request, "path", None),
        "request_id": getattr(request, "request_id", None),
    }
    body.update(extra)
    return body


def problem_response(request, *, status: int, slug: str, title: str, detail: str, headers=None, **extra):
    body = problem_body(request, status=status, slug=slug, title=title, detail=detail, **extra)
    return JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE, headers=headers)


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


def _drf_errors(detail, prefix: str = "") -> list[dict[str, Any]]:
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            path = (
                prefix if key in ("non_field_errors", NON_FIELD_ERRORS) else (f"{prefix}.{key}" if prefix else str(key))
            )
            out += _drf_errors(value, path)
        return out
    if isinstance(detail, list):
        out = []
        for item in detail:
            out += _drf_errors(item, prefix)
        return out
    field = sendable_text(prefix) if prefix else None
    return [{"field": field, "code": getattr(detail, "code", "invalid"), "message": sendable_text(str(detail))}]


_STATUS_SLUGS = {
    400: ("bad-request", "Bad Request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not Found"),
    405: ("method-not-allowed", "Method Not Allowed"),
    406: ("not-acceptable", "Not Acceptable"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Precondition Failed"),
    413: ("payload-too-large", "Payload Too Large"),
    415: ("unsupported-media-type", "Unsupported Media Type"),
    422: ("unprocessable-content", "Unprocessable Content"),
    428: ("precondition-required", "Precondition Required"),
    429: ("rate-limited", "Too Many Requests"),
}


# Domain exceptions the services raise, each answered with one fixed problem.
_DOMAIN_PROBLEMS: dict[type[Exception], dict[str, Any]] = {
    VersionMismatch: {
        "status": 412,
        "slug": "precondition-failed",
        "title": "Precondition Failed",
        "detail": "The customer was changed since the version in If-Match. Fetch it again and retry.",
    },
    IdempotencyKeyInUse: {
        "status": 409,
        "slug": "idempotency-key-in-use",
        "title": "Idempotency key in use",
        "detail": "A request with this Idempotency-Key is still in progress. Retry once it has finished.",
    },
    IdempotencyKeyReused: {
        "status": 422,
        "slug": "idempotency-key-reused",
        "title": "Idempotency key reused",
        "detail": "This Idempotency-Key was already used for a different request (method, path, If-Match or "
        "body). Use a new key for a new request.",
    },
}


def suspicious_request_response(request, exc: SuspiciousOperation):
    """Django refuses these requests with a bare 400 (413 for a body over the limit); say so as a problem."""
    if isinstance(exc, RequestDataTooBig):
        detail = "The request body is too large."
        return problem_response(request, status=413, slug="payload-too-large", title="Payload Too Large", detail=detail)
    detail = "The request was refused as malformed or oversized (for example: too many query or form parameters)."
    return problem_response(request, status=400, slug="bad-request", title="Bad Request", detail=detail)


def api_exception_handler(exc, context):
    """DRF's exception handler, answering every error as a problem document."""
    request = context["request"]
    headers = {}
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        errors = validation_errors(exc)
        return problem_response(
            request,
            status=400,
            slug="validation-error",
            title="Validation failed",
            detail=f"The request has {len(errors)} invalid field(s); see errors.",
            errors=errors,
        )
    for exc_class, problem in _DOMAIN_PROBLEMS.items():
        if isinstance(exc, exc_class):
            return problem_response(request, **problem)
    if isinstance(exc, SuspiciousOperation):
        return suspicious_request_response(request, exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("No such resource.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # ApiProblemMiddleware logs it and answers 500.

    set_rollback()
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        auth_header = context["view"].get_authenticate_header(request)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        if isinstance(exc, exceptions.AuthenticationFailed):
            headers["WWW-Authenticate"] = 'Bearer realm="api", error="invalid_token"'
        exc.status_code = status.HTTP_401_UNAUTHORIZED
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    slug, title = _STATUS_SLUGS.get(exc.status_code, ("error", "Error"))
    extra = {}
    if isinstance(exc, exceptions.ValidationError):
        slug, title = "validation-error", "Validation failed"
        extra["errors"] = _drf_errors(exc.detail)
        detail = "The request is invalid; see errors."
    elif isinstance(exc, exceptions.ParseError):
        slug, title = "malformed-json", "Malformed request body"
        detail = str(exc.detail)
    elif isinstance(exc.detail, (list, dict)):
        detail = title
        extra["errors"] = _drf_errors(exc.detail)
    else:
        detail = str(exc.detail)
    if isinstance(exc, exceptions.NotAuthenticated):
        detail = "Authentication is required: send 'Authorization: Bearer <access token>'."
    extra.update(getattr(exc, "problem_extra", {}))
    headers.update(getattr(exc, "problem_headers", {}))
    slug, title = getattr(exc, "problem_slug", slug), getattr(exc, "problem_title", title)
    return problem_response(
        request, status=exc.status_code, slug=slug, title=title, detail=detail, headers=headers, **extra
    )
