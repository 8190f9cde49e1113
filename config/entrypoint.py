"""What the WSGI and ASGI entry points check before serving anything."""

import os

from django.core.exceptions import ImproperlyConfigured


def require_secret_key() -> None:
    """Refuse to serve without SECRET_KEY: the development default is published, so sessions would be forgeable."""
    if not os.environ.get("SECRET_KEY", "").strip():
        raise ImproperlyConfigured(
            "Set the SECRET_KEY environment variable before serving: 50 or more random characters, for example "
            "the output of: python -c 'import secrets; print(secrets.token_urlsafe(50))'. "
            "(manage.py commands, the demo and the tests run without it.)"
        )
