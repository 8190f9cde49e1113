from config.settings.base import *  # noqa: F403
from config.settings.base import PASSWORD_HASHERS

# Human passwords in tests need no key stretching; client secrets keep their own hasher.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
