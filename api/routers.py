from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Routes that answer with and without a trailing slash, never redirecting."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"
