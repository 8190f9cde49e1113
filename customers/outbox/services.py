"""Writes for event forwarding: merchants' webhook endpoints and manual retries."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from customers.models import Customer, EventDelivery, WebhookEndpoint
from customers.outbox.selectors import delivery_retry_refusal
from customers.outbox.signing import webhook_secret_generate
from customers.outbox.validation import MAX_WEBHOOK_ENDPOINTS, clean_webhook_endpoint
from merchants.models import Merchant


@transaction.atomic
def webhook_endpoint_create(*, merchant: Merchant, data: Any) -> WebhookEndpoint:
    """Validate `data` (url, description, enabled_events, is_active) and register the endpoint.

    The returned endpoint's `secret` is the signing secret; the doors show it
    this once. Events recorded from now on are delivered to it.
    """
    cleaned = clean_webhook_endpoint(data)
    # Serializes concurrent creations of one merchant so the limit holds.
    Merchant.objects.select_for_update().filter(pk=merchant.pk).first()
    if WebhookEndpoint.objects.filter(merchant=merchant).count() >= MAX_WEBHOOK_ENDPOINTS:
        message = f"A merchant can have at most {MAX_WEBHOOK_ENDPOINTS} webhook endpoints; delete one first."
        raise ValidationError(message, code="max_items")
    return WebhookEndpoint.objects.create(merchant=merchant, secret=webhook_secret_generate(), **cleaned)


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, data: Any, partial: bool = True) -> WebhookEndpoint:
    """Change an endpoint; `partial=False` replaces every field (absent ones take their defaults).

    The secret never changes here. New event types apply to events recorded
    from now on; deliveries already queued stay queued.
    """
    cleaned = clean_webhook_endpoint(data, partial=partial)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    for field, value in cleaned.items():
        setattr(endpoint, field, value)
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint with its deliveries: nothing more is sent to it, queued or not."""
    endpoint.delete()


@transaction.atomic
def delivery_retry(*, merchant: Merchant, delivery: EventDelivery) -> EventDelivery:
    """Queue a failed delivery again, due now, with a fresh set of attempts.

    Raises ValidationError when it cannot be retried (see
    `delivery_retry_refusal`) and EventDelivery.DoesNotExist when it is
    another merchant's.
    """
    delivery = (
        EventDelivery.objects.select_for_update().select_related("event").get(pk=delivery.pk, event__merchant=merchant)
    )
    # Customer changes lock the customer row; holding it means no later event
    # can be written between the check below and this commit.
    Customer.objects.for_merchant(merchant).select_for_update().filter(pk=delivery.event.customer_id).first()
    refusal = delivery_retry_refusal(merchant=merchant, delivery=delivery)
    if refusal:
        raise ValidationError(refusal, code="not_retryable")
    delivery.status = EventDelivery.Status.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    return delivery
