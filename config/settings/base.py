"""Settings shared by every environment, read from environment variables.

Defaults are safe for development: a SQLite file in the project, DEBUG off
unless asked for, and a development-only secret key.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-secret-key-change-me-in-production")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
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
    "merchants",
    "customers",
]

MIDDLEWARE = [
    "config.middleware.RequestIDMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.security.NoStoreMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.ApiProblemMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lock-out page (config/login_lockout.py).
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp) on every page: our templates load scripts, styles,
# images and fonts from this site only and use no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

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
                "customers.portal.context_processors.portal",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the single writer; a busy timeout makes
    # concurrent writers wait instead of failing with "database is locked".
    # secure_delete overwrites deleted content with zeros, so an erased customer's
    # data does not linger in free pages of the file (customer_delete also checkpoints the WAL).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;",
        }
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a health check that costs no round trip (config/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "config.postgresql"
if DATABASES["default"]["ENGINE"] == "config.postgresql" and env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
    # Parameters bound on the server, and each statement a connection has run twice
    # prepared: PostgreSQL then skips parsing and planning it. This halved the
    # database CPU of a create and of a retrieve (docs/SCALING.md). Set
    # DATABASE_PREPARED_STATEMENTS=0 behind a pooler in transaction mode that cannot
    # keep prepared statements (PgBouncer before 1.21, or without max_prepared_statements).
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 2})

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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

# Request bodies larger than this are refused with 413 before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

OAUTH2_PROVIDER_APPLICATION_MODEL = "merchants.OAuthClient"
OAUTH2_PROVIDER = {
    "SCOPES": {
        "customers:read": "Read customers",
        "customers:write": "Create, update and delete customers",
    },
    "DEFAULT_SCOPES": ["customers:read", "customers:write"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("ACCESS_TOKEN_EXPIRE_SECONDS", default=3600),
    "CLIENT_SECRET_HASHER": "client_secret_sha256",
    # Loads the merchant with the token: one query less on every API request.
    "OAUTH2_VALIDATOR_CLASS": "merchants.oauth_validators.MerchantOAuth2Validator",
    # RFC 9700: an access token in the URL leaks into logs; refuse it there.
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    # The rest of RFC 9700 (OAuth 2.0 Security BCP), so `check --deploy` is clean: only the
    # client-credentials grant is used, and tokens are stored as SHA-256 checksums, not in clear.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["merchants.authentication.MerchantTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["merchants.permissions.HasMerchantToken"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_METADATA_CLASS": "config.metadata.ApiMetadata",
    "EXCEPTION_HANDLER": "config.problems.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

# The cache every server process shares (it holds the API's rate-limit counters): the
# database by default (`migrate` creates its table), Redis or another cache when
# CACHE_URL or REDIS_URL is set, e.g. redis://127.0.0.1:6379/0 (Django's own Redis backend).
_CACHE_URL = env.str("CACHE_URL", default="") or env.str("REDIS_URL", default="")
CACHES = {
    "default": environ.Env.cache_url_config(_CACHE_URL)
    if _CACHE_URL
    else {
        "BACKEND": "config.cache.DatabaseCache",
        "LOCATION": "django_cache",
        "OPTIONS": {"MAX_ENTRIES": env.int("CACHE_MAX_ENTRIES", default=100_000)},
    }
}

# API rate limit per OAuth2 client (per address for requests without a valid token):
# API_RATE_LIMIT requests per API_RATE_LIMIT_WINDOW seconds; 0 turns it off.
API_RATE_LIMIT = env.int("API_RATE_LIMIT", default=6000)
API_RATE_LIMIT_WINDOW = env.int("API_RATE_LIMIT_WINDOW", default=60)
# Idempotency-Key: how long a key and its response are remembered, and after how long a
# request still "in progress" is taken to have died with its server process.
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)
IDEMPOTENCY_LOCK_TIMEOUT_SECONDS = env.int("IDEMPOTENCY_LOCK_TIMEOUT_SECONDS", default=300)
# /o/token/ and /o/revoke_token/ (merchants/token_views.py): after TOKEN_FAILURE_LIMIT failed client
# authentications of one client id from one address within TOKEN_FAILURE_WINDOW seconds, or
# TOKEN_FAILURE_ADDRESS_LIMIT from one address over all client ids, wrong secrets from there get 429
# slow_down instead of 401 until the window ends. A right secret is always accepted. TOKEN_FAILURE_LIMIT=0
# turns the throttle off, TOKEN_FAILURE_ADDRESS_LIMIT=0 only the count over all client ids.
TOKEN_FAILURE_LIMIT = env.int("TOKEN_FAILURE_LIMIT", default=10)
TOKEN_FAILURE_WINDOW = env.int("TOKEN_FAILURE_WINDOW", default=300)
TOKEN_FAILURE_ADDRESS_LIMIT = env.int("TOKEN_FAILURE_ADDRESS_LIMIT", default=100)
# Unexpired access tokens one client may hold (each is a row): past it /o/token/ answers 429 slow_down
# until one expires or is revoked. Expired tokens of a client are deleted when it gets a new one. 0: no cap.
MAX_LIVE_TOKENS_PER_CLIENT = env.int("MAX_LIVE_TOKENS_PER_CLIENT", default=50)
# API clients one merchant may have (each has its own API rate limit); creating one more is refused.
MAX_API_CLIENTS_PER_MERCHANT = env.int("MAX_API_CLIENTS_PER_MERCHANT", default=25)

SPECTACULAR_SETTINGS = {
    "TITLE": "Customer Vault API",
    "DESCRIPTION": "Create, read, list, search, update and delete a merchant's customer records.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayRequestDuration": True, "tryItOutEnabled": True},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "customers.api.schema.postprocess_schema",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.middleware.RequestIDLogFilter"},
        "no_query_string": {"()": "config.middleware.QueryStringRedactingFilter"},
    },
    "formatters": {
        "default": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "default",
        },
        # Django's own runserver handler, with query strings left out of the request lines it logs.
        "django.server": {
            "class": "logging.StreamHandler",
            "filters": ["no_query_string"],
            "formatter": "django.server",
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # The API middleware logs unexpected errors itself, with the request id.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# Event delivery (customers/outbox): the processing gateway and merchants' webhooks.
# An empty GATEWAY_URL turns gateway forwarding off; its deliveries wait, they are never dropped.
GATEWAY_URL = env.str("GATEWAY_URL", default="")
GATEWAY_SIGNING_SECRET = env.str("GATEWAY_SIGNING_SECRET", default="")
EVENT_DELIVERY_TIMEOUT = env.float("EVENT_DELIVERY_TIMEOUT", default=5.0)  # seconds per HTTP attempt
EVENT_DELIVERY_MAX_ATTEMPTS = env.int("EVENT_DELIVERY_MAX_ATTEMPTS", default=30)
EVENT_DELIVERY_BACKOFF_BASE = env.float("EVENT_DELIVERY_BACKOFF_BASE", default=10.0)  # seconds; doubles per attempt
EVENT_DELIVERY_BACKOFF_MAX = env.float("EVENT_DELIVERY_BACKOFF_MAX", default=3600.0)
# Webhook URLs may point at loopback/private/link-local addresses only when this is on (development).
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False)

# Login lock-out (django-axes) on /portal/login/ and /admin/login/ (config/login_lockout.py).
# Failures are counted per username *and* address, so guessing from one address never locks the
# owner out elsewhere. After AXES_FAILURE_LIMIT failures the pair is paused LOGIN_COOLOFF_BASE_MINUTES;
# each further failure after a pause pauses it twice as long as before, up to LOGIN_COOLOFF_MAX_HOURS.
# Paused attempts get a 429 page without any password being hashed. Unlock: delete the row in
# Django admin (Axes > Access attempts) or `manage.py axes_reset_username EMAIL`. The address is
# REMOTE_ADDR, as for the API's rate limit: behind a proxy it must be the client's address.
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out (username, address) before the next backend checks the password.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "config.login_lockout.LockoutHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
LOGIN_COOLOFF_BASE_MINUTES = env.int("LOGIN_COOLOFF_BASE_MINUTES", default=15)
LOGIN_COOLOFF_MAX_HOURS = env.int("LOGIN_COOLOFF_MAX_HOURS", default=24)
# And per address over all usernames, so trying many usernames cannot keep the hasher busy: this many
# failures within LOGIN_COOLOFF_BASE_MINUTES pause the address for every username; 0 turns it off.
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=100)
AXES_COOLOFF_TIME = "config.login_lockout.cool_off"
AXES_USERNAME_CALLABLE = "config.login_lockout.username"
AXES_LOCKOUT_CALLABLE = "config.login_lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
# An attempt while paused is refused, not counted: it neither lengthens the pause nor runs the hasher.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Only failures are kept (no row per successful login; Django's last_login records those).
AXES_DISABLE_ACCESS_LOG = True
AXES_HTTP_RESPONSE_CODE = 429
# No "AXES: BEGIN ..." banner on every start of every command (the worker's and the CLI's output stay clean).
AXES_VERBOSE = False
