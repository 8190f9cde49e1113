"""The WSGI application of Django's development server (runserver, `manage.py demo`).

Unlike config/wsgi.py, the servers' entry point, it runs with the development
defaults, SECRET_KEY included: runserver is for a developer's own machine.
"""

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
