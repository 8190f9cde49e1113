from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: problem types, request ids, security headers, health checks, ids, SQL helpers."""

    name = "core"

    def ready(self) -> None:
        from core.sql import check_internals

        # At every start (server, worker, command): a Django upgrade that changed what the
        # hand-written reads rely on must stop the process, not load wrong values.
        check_internals()
