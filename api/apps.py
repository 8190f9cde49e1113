from django.apps import AppConfig


class ApiConfig(AppConfig):
    """What every resource of the merchant API shares: rate limits, scopes, Idempotency-Key, problems, OpenAPI."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    label = "api"
    verbose_name = "API"
