import logging
import re
import threading
import uuid

from django.core.exceptions import SuspiciousOperation

from config.problems import problem_response, suspicious_request_response

logger = logging.getLogger("config.errors")
_local = threading.local()
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def current_request_id() -> str:
    return getattr(_local, "request_id", "-")


class RequestIDLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class RequestIDMiddleware:
    """Every response carries X-Request-ID: a sane incoming one is echoed, else a new one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.request_id = incoming if _SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        _local.request_id = request.request_id
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            return response
        finally:
            _local.request_id = "-"


def is_api_path(path: str) -> bool:
    return path.startswith("/api/") or path.startswith("/o/")


class ApiProblemMiddleware:
    """An unexpected error in the API becomes a plain problem document, in any setting.

    The traceback goes to the log with the request id; the client gets no HTML
    and no traceback, even with DEBUG on.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_api_path(request.path):
            return None
        if isinstance(exception, SuspiciousOperation):
            return suspicious_request_response(request, exception)
        logger.error("Unhandled error on %s %s", request.method, request.path, exc_info=exception)
        return problem_response(
            request,
            status=500,
            slug="internal-error",
            title="Internal Server Error",
            detail="An unexpected error occurred. Quote the request id when you contact support.",
        )
