"""Production: DEBUG off, secrets, hosts, PostgreSQL and Redis from the environment, HTTPS-only cookies, HSTS.

Required environment (start-up fails naming the one that is missing):
SECRET_KEY (50+ random characters), DATABASE_URL (PostgreSQL), ALLOWED_HOSTS,
REDIS_URL (the rate-limit and token-failure counters every process shares). TLS
is expected to end at a load balancer that sets X-Forwarded-Proto; set
TRUST_X_FORWARDED_PROTO=1 only behind one that overwrites that header. /healthz
and /readyz are never redirected to HTTPS, so a load balancer can probe the app
server over plain HTTP.
"""

from django.core.exceptions import ImproperlyConfigured

from config.django.base import *  # noqa: F403
from config.django.base import DATABASES
from config.env import env


def _required(name: str, why: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"Set the {name} environment variable: {why}")
    return value


DEBUG = False
SECRET_KEY = _required("SECRET_KEY", "50 or more random characters that sign sessions and links.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[]) or _required(
    "ALLOWED_HOSTS", "the host names this server answers, comma-separated."
).split(",")

if not _required("DATABASE_URL", "postgres://USER:PASSWORD@HOST:5432/NAME").startswith(("postgres", "pgsql")):
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database in production (postgres://...).")
# Persistent connections (one per worker thread), checked before reuse. Chosen by
# measurement over psycopg's pool: see docs/SCALING.md.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# The counters every server process must share (API rate limit, token failures).
CACHES = {"default": env.cache_url_config(_required("REDIS_URL", "redis://HOST:6379/0, for the rate-limit counters."))}

# Mail goes out by SMTP: a relay on this machine unless EMAIL_URL names one (config/settings/email.py).
if not env.str("EMAIL_URL", default=""):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"

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
