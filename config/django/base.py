"""Django's own settings, shared by every environment, from environment variables; the rest by concern below.

Defaults are safe for development: a SQLite file in the project, DEBUG off
unless asked for, counters in process memory, and a development-only secret key
that manage.py commands, the demo and the tests may use. Serving through the
WSGI or ASGI entry point needs SECRET_KEY set (config/wsgi.py). Production:
config.django.production. Each concern has its module in config/settings/.
"""

from config.env import BASE_DIR, env

SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-secret-key-change-me-in-production")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    # Django admin with the project's site (tenant scoping off for operators: core/admin_site.py).
    "core.admin_site.VaultAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "oauth2_provider",
    "django_countries",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    # Django's Tasks API (backport) and its database queue: the background jobs (config/settings/tasks.py).
    "django_tasks",
    "django_tasks_db",
    # The project's apps, lowest layer first (README, Architecture).
    "core",
    "merchants",
    "api",
    "audit",
    "events",
    "customers",
    "portal",
    "jobs",
]

MIDDLEWARE = [
    "core.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.security.NoStoreMiddleware",
    "core.security.ContentSecurityPolicyMiddleware",
    # Every request starts with no merchant in scope; API and portal views enter their merchant's.
    "core.middleware.TenantScopeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.ApiProblemMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lock-out page (merchants/login_lockout.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
# The API answers with and without a trailing slash itself; CommonMiddleware
# must never redirect a POST to add one.
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
        },
    },
]

# runserver and the demo; servers load config/wsgi.py, which requires SECRET_KEY.
WSGI_APPLICATION = "config.devserver.application"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    # Only for machine-generated, high-entropy OAuth2 client secrets.
    "merchants.hashers.ClientSecretHasher",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded imports and finished exports (never a machine's /tmp: any worker on any machine reads them).
# A folder by default; in production with several machines, an S3-compatible bucket through
# django-storages: FILE_STORAGE_BACKEND=storages.backends.s3.S3Storage and FILE_STORAGE_OPTIONS as JSON
# (docs/operations.md, "Files: imports and exports"). Never served as static or media URLs: only
# through the portal's views, which check the merchant.
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {
        "BACKEND": env.str("FILE_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"),
        "OPTIONS": env.json("FILE_STORAGE_OPTIONS", default={}),
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

# Request bodies larger than this are refused with 413 before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

from config.settings.api import *  # noqa: E402, F403
from config.settings.cache import *  # noqa: E402, F403
from config.settings.database import *  # noqa: E402, F403
from config.settings.email import *  # noqa: E402, F403
from config.settings.events import *  # noqa: E402, F403
from config.settings.logging import *  # noqa: E402, F403
from config.settings.login import *  # noqa: E402, F403
from config.settings.oauth import *  # noqa: E402, F403
from config.settings.security import *  # noqa: E402, F403
from config.settings.tasks import *  # noqa: E402, F403
