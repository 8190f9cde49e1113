from rest_framework.routers import SimpleRouter

from customers.api.views import CustomerViewSet
from customers.api.webhooks import WebhookEndpointViewSet


class OptionalSlashRouter(SimpleRouter):
    """Routes that answer with and without a trailing slash, never redirecting."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")

urlpatterns = router.urls
