"""Probes for load balancers and orchestrators: liveness without the database, readiness with it."""

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.problems import NOT_READY, problem_response

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    """The process answers HTTP. Touches nothing else, so it is also the floor of the benchmark."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    """The process can serve real requests: its database answers. 503 (a problem document) otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("Readiness check failed: database unavailable (%s)", exc.__class__.__name__)
        return problem_response(request, NOT_READY, headers={"Retry-After": "5"})
    return JsonResponse({"status": "ok", "database": "ok"})
