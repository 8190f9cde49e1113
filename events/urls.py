from api.routers import OptionalSlashRouter
from events.api import WebhookEndpointViewSet

router = OptionalSlashRouter()
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")

urlpatterns = router.urls
