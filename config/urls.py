from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from config import health
from merchants.token_views import ThrottledRevokeTokenView, ThrottledTokenView

api_v1 = ([path("", include("customers.api.urls"))], "api")

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    # The toolkit's endpoints that check a client secret, each throttled (merchants/token_views.py).
    # Only these two: no introspection (the API checks its tokens itself) and no authorization code flow.
    path("o/token/", ThrottledTokenView.as_view(), name="oauth2_token"),
    path("o/revoke_token/", ThrottledRevokeTokenView.as_view(), name="oauth2_revoke_token"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("portal/", include("customers.portal.urls", namespace="portal")),
]

handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
