from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: problem types, request ids, security headers, health checks, ids, SQL helpers."""

    name = "core"
