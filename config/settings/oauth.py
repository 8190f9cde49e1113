"""OAuth2 (django-oauth-toolkit): API clients, tokens, and the limits of the token endpoint."""

from config.env import env

OAUTH2_PROVIDER_APPLICATION_MODEL = "merchants.OAuthClient"
OAUTH2_PROVIDER = {
    "SCOPES": {
        "customers:read": "Read customers",
        "customers:write": "Create, update and delete customers",
    },
    "DEFAULT_SCOPES": ["customers:read", "customers:write"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("ACCESS_TOKEN_EXPIRE_SECONDS", default=3600),
    "CLIENT_SECRET_HASHER": "client_secret_sha256",
    # A deactivated merchant's clients get no token; at most MAX_LIVE_TOKENS_PER_CLIENT live tokens each.
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
