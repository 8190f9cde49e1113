from api.routers import OptionalSlashRouter
from customers.api.views import CustomerViewSet

router = OptionalSlashRouter()
router.register("customers", CustomerViewSet, basename="customer")

urlpatterns = router.urls
