from config.settings.base import *  # noqa: F403
from config.settings.base import PASSWORD_HASHERS

# Human passwords in tests need no key stretching; client secrets keep their own hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
# Counters (rate limit, token failures) in this process's memory, not the database cache
# table: a counter is then never a query, so query-count assertions do not depend on
# whether a request is the first of a rate-limit window. tests/conftest.py empties it
# before every test; the tests of the database cache and of Redis configure those.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    import os
    import tempfile

    # A file, not SQLite's shared in-memory database: that one locks whole tables and
    # fails at once ("database table is locked") when a background thread writes while
    # the test reads, where a real file database waits (WAL and a busy timeout, as in
    # production). One file per test process.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(tempfile.gettempdir(), f"customer-vault-test-{os.getpid()}.sqlite3")
    }
