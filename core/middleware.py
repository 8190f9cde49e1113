import logging
import re
import threading
import uuid

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django_scopes import scope

from core.problems import (
    INTERNAL_ERROR,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    problem_for_status,
    problem_response,
    suspicious_request_response,
)

logger = logging.getLogger("core.errors")
_local = threading.local()
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def current_request_id() -> str:
    return getattr(_local, "request_id", "-")


class RequestIDLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class QueryStringRedactingFilter(logging.Filter):
    """Drop the query string from the request line that runserver logs (logger `django.server`).

    Query strings carry search terms, emails and sometimes a token a client put in
    the URL; gunicorn's access log format leaves them out the same way (gunicorn.conf.py).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple) and isinstance(record.args[0], str) and "?" in record.args[0]:
            method_path, _, rest = record.args[0].partition("?")
            version = rest.rpartition(" ")[2] if " " in rest else ""
            record.args = (f"{method_path} {version}".rstrip(), *record.args[1:])
        return True


class RequestIDMiddleware:
    """Every response carries X-Request-ID: a sane incoming one is echoed, else a new one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        _local.request_id = request.request_id
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            return response
        finally:
            _local.request_id = "-"


def is_api_path(path: str) -> bool:
    return path.startswith("/api/") or path.startswith("/o/")


def _is_json(response) -> bool:
    content_type = response.get("Content-Type", "").split(";")[0].strip()
    return content_type in ("application/json", "application/problem+json")


def _as_problem(request, response):
    """Django's own error pages (DEBUG's technical 404 and 500 pages, the bare 400/405 pages)
    are HTML or plain text; the API answers problem documents in every setting."""
    status = response.status_code
    if status >= 500:
        problem, detail = INTERNAL_ERROR, None
    elif status == 404:
        problem, detail = NOT_FOUND, None
    else:
        problem = problem_for_status(status)
        detail = f"{response.reason_phrase}."
    kept = ("Allow", "WWW-Authenticate", "Retry-After")
    headers = {name: response[name] for name in kept if response.has_header(name)}
    return problem_response(request, problem, detail=detail, headers=headers)


class ApiProblemMiddleware:
    """An unexpected error in the API becomes a plain problem document, in any setting.

    The traceback goes to the log with the request id; the client gets no HTML
    and no traceback, even with DEBUG on.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if is_api_path(request.path) and self._too_large(request):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return problem_response(
                request, PAYLOAD_TOO_LARGE, detail=f"The request body is larger than the limit of {limit} bytes."
            )
        response = self.get_response(request)
        if is_api_path(request.path) and response.status_code >= 400 and not _is_json(response):
            return _as_problem(request, response)
        return response

    @staticmethod
    def _too_large(request) -> bool:
        # DRF reads the body as a stream, bypassing Django's own size check, so
        # refuse an over-long body here, before authentication or parsing.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False
        return limit is not None and length > limit

    def process_exception(self, request, exception):
        if not is_api_path(request.path):
            return None
        if isinstance(exception, SuspiciousOperation):
            return suspicious_request_response(request, exception)
        logger.error("Unhandled error on %s %s", request.method, request.path, exc_info=exception)
        return problem_response(request, INTERNAL_ERROR)


class TenantScopeMiddleware:
    """Every request starts with tenant scoping on and no merchant in scope.

    Merchant-owned models (core/scoping.py) then answer no query until a view
    enters its merchant's scope: the API once the token names the merchant
    (api.views.MerchantAPIMixin), the portal once the session does
    (portal.access.portal_view). A view that forgets gets a ScopeError, never
    another merchant's rows. Admin opts out (core/admin_site.py).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with scope():
            return self.get_response(request)
