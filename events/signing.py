"""HMAC-SHA256 signatures of outgoing events over "<timestamp>.<body>" (Stripe's scheme).

The timestamp is part of the signed message, so a receiver that checks it is
recent also rejects replays of an old, validly signed request.
"""

import hashlib
import hmac
import secrets

SIGNATURE_SCHEME = "v1"
WEBHOOK_SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of `<timestamp>.<body>` keyed with `secret`."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    """The `Vault-Signature` value: `v1=<hex>`; the prefix leaves room for another scheme later."""
    return f"{SIGNATURE_SCHEME}={signature(secret=secret, timestamp=timestamp, body=body)}"


def webhook_secret_generate() -> str:
    return WEBHOOK_SECRET_PREFIX + secrets.token_urlsafe(32)
