"""The WSGI entry point that servers load (`gunicorn -c gunicorn.conf.py config.wsgi`).

Serving needs SECRET_KEY in the environment: without it the development key,
which is published in this repository, would sign sessions and links. The
settings default to production; manage.py, the demo and the tests keep the
development defaults.
"""

import os

from django.core.wsgi import get_wsgi_application

from config.entrypoint import require_secret_key

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.django.production")
require_secret_key()

application = get_wsgi_application()
