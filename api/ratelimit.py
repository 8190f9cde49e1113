"""Fixed-window rate limiting in the shared cache, with RateLimit-* response headers.

Each window is API_RATE_LIMIT_WINDOW seconds long, aligned to the clock, and has
its own counter key in the default cache. In production that is Redis (required
by the production settings), whose `incr` is atomic, so every server process
counts into the same number; development and tests count in process memory.
"""

import dataclasses
import logging
import math
import time

from django.conf import settings
from django.core.cache import caches
from rest_framework.exceptions import ErrorDetail, Throttled

from core.problems import RATE_LIMITED

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset: int  # seconds until the window ends and the count starts again
    window: int
    exceeded: bool

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": f"{self.limit};w={self.window}",
        }


class RateLimited(Throttled):
    problem = RATE_LIMITED

    def __init__(self, state: RateLimitState):
        super().__init__(wait=state.reset)
        # Our own sentence, without DRF's "Expected available in ..." suffix.
        self.detail = ErrorDetail(
            f"Rate limit of {state.limit} requests per {state.window} seconds reached. Retry in {state.reset} seconds.",
            code=self.default_code,
        )


def _clock() -> float:
    """Seconds since the epoch; the windows are aligned to it (a seam for tests that pin the time)."""
    return time.time()


def rate_limit_hit(identity: str) -> RateLimitState | None:
    """Count one request of `identity`; None when rate limiting is off or the cache is unreachable."""
    limit, window = settings.API_RATE_LIMIT, settings.API_RATE_LIMIT_WINDOW
    if limit <= 0 or window <= 0:
        return None
    now = _clock()
    index = int(now // window)
    reset = max(1, math.ceil((index + 1) * window - now))
    key = f"ratelimit:{identity}:{window}:{index}"
    cache = caches["default"]
    try:
        try:
            count = cache.incr(key)
        except ValueError:  # first request of this window
            count = 1 if cache.add(key, 1, timeout=reset + 1) else cache.incr(key)
    except Exception:
        # An unreachable cache must not take the API down with it: let the request through.
        logger.exception("Rate limit cache unavailable; request not counted")
        return None
    return RateLimitState(
        limit=limit, remaining=max(0, limit - count), reset=reset, window=window, exceeded=count > limit
    )
