"""Production: DEBUG off, secrets and hosts from the environment, HTTPS-only cookies, HSTS.

Required environment: SECRET_KEY (50+ random characters), DATABASE_URL
(PostgreSQL), ALLOWED_HOSTS. TLS is expected to end at a load balancer that
sets X-Forwarded-Proto; set TRUST_X_FORWARDED_PROTO=1 only behind one that
overwrites that header. /healthz and /readyz are never redirected to HTTPS, so
a load balancer can probe the app server over plain HTTP.
"""

from config.settings.base import *  # noqa: F403
from config.settings.base import DATABASES, env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")  # no default: refuse to start without one

# Persistent connections (one per worker thread), checked before reuse. Chosen by
# measurement over psycopg's pool: see docs/SCALING.md.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if env.bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
