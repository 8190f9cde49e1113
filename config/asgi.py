"""The ASGI entry point (`uvicorn config.asgi:application`); the same rules as config/wsgi.py."""

import os

from django.core.asgi import get_asgi_application

from config.entrypoint import require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.production")
require_secret_key()

application = get_asgi_application()
