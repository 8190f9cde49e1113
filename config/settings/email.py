"""Outgoing email (password-reset links, invitations): the backend from EMAIL_URL (django-environ).

EMAIL_URL examples: `consolemail://` (the default in development: mail is printed by the process
that sends it), `smtp+tls://USER:PASSWORD@smtp.example.com:587` (STARTTLS), `smtp+ssl://...:465`,
`smtp://localhost:25` (production's default: a local mail relay). Characters such as `@` or `/` in
the user or password are percent-encoded (`%40`, `%2F`). Tests use Django's in-memory backend
(config/django/test.py). DEFAULT_FROM_EMAIL is the sender of every message.
"""

from config.env import env

EMAIL_URL = env.str("EMAIL_URL", default="") or "consolemail://"
_email = env.email_url_config(EMAIL_URL)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Customer Vault <vault@localhost>")
# Errors Django itself mails to ADMINS (none are configured) would come from this address.
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# Seconds an SMTP connection may hang before the send fails (Django's default is to wait forever).
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
