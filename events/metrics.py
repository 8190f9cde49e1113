"""`/metrics`: the delivery backlog in the Prometheus text format, for operators (off the public API).

Read from the database at scrape time (`events.selectors.delivery_backlog`:
index-backed). Answers only `Authorization: Bearer <METRICS_TOKEN>`; with no
METRICS_TOKEN set the path does not exist (404).
"""

import hmac

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from core.scoping import scopes_disabled
from events.selectors import delivery_backlog

LABELS = ["destination", "endpoint_id", "merchant_id"]


class BacklogCollector:
    """Per destination: deliveries pending, and the age of the oldest (the gateway always; endpoints with any)."""

    def collect(self):
        with scopes_disabled():  # every merchant's backlog
            backlog = delivery_backlog()
        now = timezone.now()
        pending = GaugeMetricFamily(
            "vault_event_deliveries_pending",
            "Deliveries not yet done (due, waiting for a retry, or in flight), per destination.",
            labels=LABELS,
        )
        oldest = GaugeMetricFamily(
            "vault_event_deliveries_oldest_pending_age_seconds",
            "Seconds the oldest pending delivery of the destination has waited (0 when none).",
            labels=LABELS,
        )
        for destination in backlog:
            endpoint = destination.endpoint
            labels = [destination.destination, "", ""]
            if endpoint is not None:
                labels = [destination.destination, str(endpoint.pk), str(endpoint.merchant_id)]
            pending.add_metric(labels, destination.pending)
            oldest.add_metric(labels, destination.oldest_age(now))
        yield pending
        yield oldest


registry = CollectorRegistry(auto_describe=False)
registry.register(BacklogCollector())


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("A bearer token (METRICS_TOKEN) is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [path("metrics", metrics, name="metrics")]
