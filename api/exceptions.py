"""DRF's exception handler, answering every error of the API as a problem document (core/problems.py)."""

from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import set_rollback

from core.problems import (
    MALFORMED_JSON,
    NOT_FOUND,
    UNAUTHORIZED,
    VALIDATION_ERROR,
    DomainError,
    ProblemType,
    problem_for_status,
    problem_response,
    sendable_text,
    suspicious_request_response,
    validation_problem_response,
)


class ProblemAPIException(exceptions.APIException):
    """A DRF exception with its problem type (and optionally more members and headers for the document)."""

    problem: ProblemType
    problem_extra: dict[str, Any] = {}
    problem_headers: dict[str, str] = {}

    def __init__(self, detail=None, code=None):
        self.status_code = self.problem.status
        super().__init__(detail if detail is not None else self.problem.detail, code)


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


def api_exception_handler(exc, context):
    """DRF's exception handler, answering every error as a problem document."""
    request = context["request"]
    if isinstance(exc, DjangoValidationError):
        set_rollback()
        return validation_problem_response(request, exc)
    if isinstance(exc, DomainError):
        set_rollback()
        return problem_response(request, exc.problem, detail=exc.problem_detail, **exc.problem_extra)
    if isinstance(exc, SuspiciousOperation):
        return suspicious_request_response(request, exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(NOT_FOUND.detail)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # ApiProblemMiddleware logs it and answers 500.

    set_rollback()
    headers = {}
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        auth_header = context["view"].get_authenticate_header(request)
        if auth_header:
            headers["WWW-Authenticate"] = auth_header
        if isinstance(exc, exceptions.AuthenticationFailed):
            headers["WWW-Authenticate"] = 'Bearer realm="api", error="invalid_token"'
        exc.status_code = status.HTTP_401_UNAUTHORIZED
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    problem = getattr(exc, "problem", None) or problem_for_status(exc.status_code)
    extra = {}
    if isinstance(exc, exceptions.ValidationError):
        problem = VALIDATION_ERROR
        extra["errors"] = _drf_errors(exc.detail)
        detail = VALIDATION_ERROR.detail
    elif isinstance(exc, exceptions.ParseError):
        problem, detail = MALFORMED_JSON, str(exc.detail)
    elif isinstance(exc.detail, (list, dict)):
        detail = problem.title
        extra["errors"] = _drf_errors(exc.detail)
    else:
        detail = str(exc.detail)
    if isinstance(exc, exceptions.NotAuthenticated):
        detail = UNAUTHORIZED.detail
    extra.update(getattr(exc, "problem_extra", {}))
    headers.update(getattr(exc, "problem_headers", {}))
    return problem_response(request, problem, detail=detail, headers=headers, **extra)
