"""The merchant API: Django REST framework, its OpenAPI schema (drf-spectacular), rate limit and idempotency."""

from config.env import env

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["merchants.authentication.MerchantTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasMerchantToken"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_METADATA_CLASS": "api.metadata.ApiMetadata",
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}

# API rate limit per OAuth2 client (per address for requests without a valid token):
# API_RATE_LIMIT requests per API_RATE_LIMIT_WINDOW seconds; 0 turns it off.
API_RATE_LIMIT = env.int("API_RATE_LIMIT", default=6000)
API_RATE_LIMIT_WINDOW = env.int("API_RATE_LIMIT_WINDOW", default=60)
# Idempotency-Key: how long a key and its response are remembered, and after how long a
# request still "in progress" is taken to have died with its server process.
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)
IDEMPOTENCY_LOCK_TIMEOUT_SECONDS = env.int("IDEMPOTENCY_LOCK_TIMEOUT_SECONDS", default=300)

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
        "api.schema.postprocess_schema",
        "customers.api.schema.postprocess_schema",
        "events.api.postprocess_schema",
    ],
}
