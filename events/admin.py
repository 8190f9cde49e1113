"""Django admin of the outbox for operators: read-mostly; failed deliveries can be retried."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from events.models import CustomerEvent, EventDelivery, WebhookEndpoint
from events.selectors import delivery_backlog
from events.services import delivery_retry


class _ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the domain (events, deliveries) or by merchants (endpoints): looked at, not edited here."""

    show_full_result_count = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EventDeliveryInline(admin.TabularInline):
    model = EventDelivery
    fields = readonly_fields = (
        "destination",
        "endpoint",
        "status",
        "attempts",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "delivered_at",
    )
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CustomerEvent)
class CustomerEventAdmin(_ReadOnlyAdmin):
    fields = ("id", "event_id", "type", "merchant", "customer_id", "payload", "created_at")
    list_display = ("id", "type", "customer_id", "merchant", "created_at")
    list_filter = ("type",)
    list_select_related = ("merchant",)
    search_fields = ("=customer_id", "=event_id")
    search_help_text = "Exact customer id or event id."
    inlines = [EventDeliveryInline]


@admin.register(EventDelivery)
class EventDeliveryAdmin(_ReadOnlyAdmin):
    fields = (
        "id",
        "event",
        "destination",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
    )
    list_display = (
        "id",
        "event",
        "destination",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "last_attempt_at",
    )
    list_filter = ("status", "destination")
    list_select_related = ("event", "endpoint")
    search_fields = ("=event__customer_id", "=event__event_id")
    search_help_text = "Exact customer id or event id."
    actions = ["retry_deliveries"]
    change_list_template = "admin/events/eventdelivery/change_list.html"  # a link to the backlog

    def get_urls(self):
        backlog = path("backlog/", self.admin_site.admin_view(self.backlog_view), name="events_delivery_backlog")
        return [backlog, *super().get_urls()]

    def backlog_view(self, request):
        """Per destination: how many deliveries wait and since when (the same figures as /metrics)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = timezone.now()
        rows = [(backlog, backlog.oldest_age(now)) for backlog in delivery_backlog()]
        context = {**self.admin_site.each_context(request), "title": "Delivery backlog", "rows": rows}
        return TemplateResponse(request, "admin/events/backlog.html", context)

    def has_retry_permission(self, request):
        return request.user.has_perm("events.change_eventdelivery")

    @admin.action(description="Retry the selected failed deliveries", permissions=["retry"])
    def retry_deliveries(self, request, queryset):
        retried, refused = 0, []
        for delivery in queryset.select_related("event__merchant"):
            try:
                delivery_retry(merchant=delivery.event.merchant, delivery=delivery)
                retried += 1
            except ValidationError as exc:
                refused.append(f"#{delivery.pk}: {' '.join(exc.messages)}")
        if retried:
            self.message_user(request, f"{retried} delivery(ies) queued again.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not retried: " + " · ".join(refused), messages.WARNING)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(_ReadOnlyAdmin):
    # Never the signing secret.
    fields = ("id", "merchant", "url", "description", "enabled_events", "is_active", "created_at", "updated_at")
    list_display = ("url", "merchant", "is_active", "created_at")
    list_filter = ("is_active",)
    list_select_related = ("merchant",)
    search_fields = ("url",)
