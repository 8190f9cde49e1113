from django.urls import path
from django.views.generic import TemplateView

from core import health

urlpatterns = [
    # The site's front door: where people go (portal, API documentation, admin); no data, no login.
    path("", TemplateView.as_view(template_name="index.html"), name="index"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
