"""The cache every server process shares: it holds the API's rate-limit and token-failure counters.

Redis when REDIS_URL (or CACHE_URL) is set, e.g. redis://127.0.0.1:6379/0, with
Django's own Redis backend, whose `incr` is atomic. Production requires it
(config/django/production.py). Without it, the counters live in each process's
memory: right for development and tests, where one process serves.
"""

from config.env import env

CACHE_URL = env.str("CACHE_URL", default="") or env.str("REDIS_URL", default="")
if CACHE_URL:
    CACHES = {"default": env.cache_url_config(CACHE_URL)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "vault"}}
