"""Which app answers which path. Only includes: every view lives in its app."""

from django.contrib import admin
from django.urls import include, path

# The merchant API, version 1: each app's resources under one namespace ("api:customer-detail").
api_v1 = ([path("", include("customers.api.urls")), path("", include("events.urls"))], "api")

urlpatterns = [
    path("", include("core.urls")),
    path("admin/", admin.site.urls),
    path("o/", include("merchants.urls")),
    path("api/v1/", include(api_v1)),
    path("api/", include("api.urls")),
    path("portal/", include("portal.urls", namespace="portal")),
    path("", include("events.metrics")),  # /metrics, for operators: off unless METRICS_TOKEN is set
]

handler404 = "core.views.not_found"
handler500 = "core.views.server_error"
