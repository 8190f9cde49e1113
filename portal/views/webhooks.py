"""Portal pages of event forwarding: webhook endpoints (admin), a customer's events, retrying a delivery."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from customers.models import Customer
from customers.selectors import customer_get
from events.models import EventDelivery, WebhookEndpoint
from events.selectors import (
    customer_recent_events,
    delivery_get,
    delivery_retry_refusal,
    endpoint_delivery_log,
    webhook_endpoint_get,
    webhook_endpoint_list,
)
from events.services import (
    delivery_retry,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_ping,
    webhook_endpoint_update,
)
from events.validation import EVENT_TYPES
from merchants.models import MerchantMembership
from portal.access import portal_view
from portal.errors import show_domain_errors
from portal.shown_once import keep_for_one_showing, take_shown_once

SHOWN_ONCE_KIND = "webhook_secret"


class WebhookEndpointForm(forms.Form):
    """Carries input only; customers/outbox/validation.py decides what is valid."""

    url = forms.CharField(label="URL", help_text="Where events are POSTed: http:// or https:// on a public address.")
    description = forms.CharField(label="Description", required=False)
    enabled_events = forms.MultipleChoiceField(
        label="Events",
        choices=[(t, t) for t in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=list(EVENT_TYPES),
    )
    is_active = forms.BooleanField(label="Active (uncheck to pause deliveries)", required=False, initial=True)

    def payload(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in ("url", "description", "enabled_events", "is_active")}


def _endpoint_or_404(request, endpoint_id) -> WebhookEndpoint:
    try:
        return webhook_endpoint_get(merchant=request.merchant, endpoint_id=endpoint_id)
    except WebhookEndpoint.DoesNotExist:
        raise Http404("No such webhook endpoint.") from None


@portal_view(admin_only=True)
@require_http_methods(["GET", "POST"])
def webhook_list_view(request):
    form = WebhookEndpointForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = webhook_endpoint_create(merchant=request.merchant, data=form.payload())
        except ValidationError as exc:
            show_domain_errors(exc, form=form)
        else:
            # POST-redirect-GET: reloading the page with the secret must not add the endpoint again.
            keep_for_one_showing(
                request,
                SHOWN_ONCE_KIND,
                {"endpoint_id": str(endpoint.pk)},
                message=f"Webhook endpoint {endpoint.url} added. Copy its signing secret now.",
            )
            return redirect("portal:webhook_secret")
    return render(
        request,
        "portal/webhooks/list.html",
        {"form": form, "endpoints": webhook_endpoint_list(merchant=request.merchant)},
        status=400 if form.errors else 200,
    )


@portal_view(admin_only=True)
@require_http_methods(["GET"])
def webhook_secret_view(request):
    """The signing secret of the endpoint just added, once: a reload finds nothing to show."""
    kept = take_shown_once(request, SHOWN_ONCE_KIND)
    try:
        endpoint = webhook_endpoint_get(merchant=request.merchant, endpoint_id=kept and kept["endpoint_id"])
    except WebhookEndpoint.DoesNotExist:
        messages.info(request, "An endpoint's signing secret is shown only once, right after it is added.")
        return redirect("portal:webhook_list")
    return render(request, "portal/webhooks/created.html", {"endpoint": endpoint})


@portal_view(admin_only=True)
@require_http_methods(["GET", "POST"])
def webhook_edit_view(request, endpoint_id):
    endpoint = _endpoint_or_404(request, endpoint_id)
    if request.method == "POST":
        form = WebhookEndpointForm(request.POST)
        if form.is_valid():
            try:
                webhook_endpoint_update(endpoint=endpoint, data=form.payload(), partial=False)
            except ValidationError as exc:
                show_domain_errors(exc, form=form)
            else:
                messages.success(request, "Webhook endpoint saved.")
                return redirect("portal:webhook_list")
    else:
        form = WebhookEndpointForm(
            initial={
                "url": endpoint.url,
                "description": endpoint.description,
                "enabled_events": endpoint.enabled_events,
                "is_active": endpoint.is_active,
            }
        )
    return render(
        request,
        "portal/webhooks/edit.html",
        {"form": form, "endpoint": endpoint},
        status=400 if form.errors else 200,
    )


@portal_view(admin_only=True)
@require_http_methods(["GET", "POST"])
def webhook_delete_view(request, endpoint_id):
    endpoint = _endpoint_or_404(request, endpoint_id)
    if request.method == "POST":
        webhook_endpoint_delete(endpoint=endpoint)
        messages.success(request, f"Webhook endpoint {endpoint.url} removed.")
        return redirect("portal:webhook_list")
    return render(request, "portal/webhooks/confirm_delete.html", {"endpoint": endpoint})


@portal_view(admin_only=True)
def webhook_deliveries_view(request, endpoint_id):
    """The endpoint's delivery log, newest first, a page at a time (`?before=` older, `?after=` newer)."""
    endpoint = _endpoint_or_404(request, endpoint_id)  # first: another merchant's endpoint is a 404 whatever the method
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    page = endpoint_delivery_log(
        merchant=request.merchant,
        endpoint=endpoint,
        before=request.GET.get("before"),
        after=request.GET.get("after"),
    )
    return render(
        request,
        "portal/webhooks/deliveries.html",
        {"endpoint": endpoint, "page": page},
    )


@portal_view(admin_only=True)
@require_POST
def webhook_test_view(request, endpoint_id):
    """Queue a signed `ping` to the endpoint; the worker sends it and the log shows the endpoint's answer."""
    endpoint = _endpoint_or_404(request, endpoint_id)
    try:
        webhook_endpoint_ping(merchant=request.merchant, endpoint=endpoint)
    except ValidationError as exc:
        messages.error(request, f"Not sent: {' '.join(exc.messages)}")
    else:
        messages.success(request, "Test event queued: the worker sends it within seconds. Reload to see the answer.")
    return redirect("portal:webhook_deliveries", endpoint_id=endpoint.pk)


@portal_view
def customer_events_view(request, customer_id):
    """The customer's latest events and where each one got to. Also for a deleted customer's id."""
    events = customer_recent_events(merchant=request.merchant, customer_id=customer_id)
    if not events:
        raise Http404("No events for this customer.")
    customer_id = events[0].customer_id
    try:
        customer = customer_get(merchant=request.merchant, customer_id=customer_id)
    except Customer.DoesNotExist:
        customer = None  # deleted: its events remain
    is_admin = request.membership.role == MerchantMembership.Role.ADMIN
    rows = []
    for event in events:
        deliveries = []
        for delivery in event.deliveries.all():
            # Fetched for failed deliveries only, and only admins see the button.
            failed = delivery.status == EventDelivery.Status.FAILED
            refusal = None
            if is_admin and failed:
                refusal = delivery_retry_refusal(merchant=request.merchant, delivery=delivery)
            deliveries.append((delivery, refusal))
        rows.append((event, deliveries))
    return render(
        request,
        "portal/webhooks/customer_events.html",
        {
            "customer": customer,
            "customer_id": customer_id,
            "rows": rows,
            "is_admin": is_admin,
            "gateway_enabled": bool(settings.GATEWAY_URL),
        },
    )


@portal_view(admin_only=True)
@require_POST
def delivery_retry_view(request, delivery_id):
    try:
        delivery = delivery_get(merchant=request.merchant, delivery_id=delivery_id)
    except EventDelivery.DoesNotExist:
        raise Http404("No such delivery.") from None
    try:
        delivery_retry(merchant=request.merchant, delivery=delivery)
    except ValidationError as exc:
        messages.error(request, f"Not retried: {' '.join(exc.messages)}")
    else:
        messages.success(request, f"Delivery of {delivery.event.type} queued again; the worker sends it shortly.")
    return redirect("portal:customer_events", customer_id=delivery.event.customer_id)
