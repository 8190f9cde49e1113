"""The test suite's settings: the development defaults, with fast password hashing and a file database per process."""

import os
import tempfile

from config.django.base import *  # noqa: F403
from config.django.base import DATABASES, PASSWORD_HASHERS

# Human passwords in tests need no key stretching; client secrets keep their own hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
# Counters (rate limit, token failures) in this process's memory, whatever REDIS_URL says: a
# counter is then never a query or a round trip, and the root conftest.py empties it before
# every test. The tests of the Redis cache configure it themselves.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
# Mail is kept in django.core.mail.outbox, whatever EMAIL_URL says.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Uploads and exports of the test run in a folder of their own (set MEDIA_ROOT to keep them elsewhere).
MEDIA_ROOT = os.environ.get("MEDIA_ROOT") or os.path.join(
    tempfile.gettempdir(), f"customer-vault-test-media-{os.getpid()}"
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not SQLite's shared in-memory database: that one locks whole tables and
    # fails at once ("database table is locked") when a background thread writes while
    # the test reads, where a real file database waits (WAL and a busy timeout, as in
    # production). One file per test process.
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"customer-vault-test-{os.getpid()}.sqlite3")
    }
