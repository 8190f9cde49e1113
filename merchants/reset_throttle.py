"""How often a password-reset link may be asked for, per email address and per client address.

Fixed windows of PASSWORD_RESET_WINDOW_SECONDS in the shared cache (Redis in production), like
the API's rate limit. Both counts are taken for every request, whether the email address has an
account or not, so being refused tells nothing about accounts. Only the reset form is limited:
the log-in page has its own lock-out (merchants/login_lockout.py), which this never touches, so
nobody hammering the reset form can keep an owner from logging in with their password.
"""

import hashlib
import logging
import math
import time
import unicodedata

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def _clock() -> float:
    return time.time()


def _over(kind: str, value: str, limit: int, window: int) -> int | None:
    """Count one request under (kind, value); the seconds until its window ends when it is over `limit`."""
    if limit <= 0 or window <= 0:
        return None
    now = _clock()
    index = int(now // window)
    reset = max(1, math.ceil((index + 1) * window - now))
    # Hashed: both values come from the request and may hold anything; cache keys may not.
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    key = f"password-reset:{kind}:{digest}:{window}:{index}"
    try:
        count = 1 if cache.add(key, 1, timeout=reset + 1) else cache.incr(key)
    except Exception:
        logger.exception("Password-reset counters unavailable; request not counted")
        return None
    return reset if count > limit else None


def normalized_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().casefold()


def password_reset_wait(*, email: str, client_address: str | None) -> int | None:
    """Count a request for a reset link; None when it may go ahead, else the seconds to wait."""
    window = settings.PASSWORD_RESET_WINDOW_SECONDS
    wait = _over("client", client_address or "", settings.PASSWORD_RESET_CLIENT_LIMIT, window)
    if wait is not None:
        return wait
    return _over("email", normalized_email(email), settings.PASSWORD_RESET_EMAIL_LIMIT, window)
