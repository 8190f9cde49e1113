"""The OAuth2 token endpoint, throttled against guessing a client's secret."""

import base64
import binascii
import hashlib
import json
import math
import time
from urllib.parse import unquote_plus

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from oauth2_provider.views import TokenView


def _client_key(request) -> str:
    """Who is asking: the client id from HTTP Basic or the form, else the caller's address."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    client_id = ""
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            client_id = unquote_plus(decoded.partition(":")[0])
        except (binascii.Error, UnicodeDecodeError, ValueError):
            client_id = ""
    if not client_id:
        client_id = request.POST.get("client_id", "")
    who = f"client:{client_id}" if client_id else f"addr:{request.META.get('REMOTE_ADDR', '')}"
    # Hashed: client ids come from the request and may hold anything; cache keys may not.
    return "token-failures:" + hashlib.sha256(who.encode("utf-8", "surrogatepass")).hexdigest()


def _has_nul(request) -> bool:
    if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.POST.lists()):
        return True
    header = request.META.get("HTTP_AUTHORIZATION", "")
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return header[:6].lower() == "basic " and "\x00" in unquote_plus(decoded)


def _is_invalid_client(response) -> bool:
    if response.status_code not in (400, 401):
        return False
    try:
        return json.loads(response.content).get("error") == "invalid_client"
    except (ValueError, AttributeError):
        return False


class ThrottledTokenView(TokenView):
    """django-oauth-toolkit's token endpoint, refusing a client whose credentials keep failing.

    Failed client authentications (`invalid_client`) are counted per client id in
    the shared cache (the database cache by default), so every server process
    sees the same count. After TOKEN_FAILURE_LIMIT failures within
    TOKEN_FAILURE_WINDOW seconds of the first one, requests for that client id
    get 429 with Retry-After until the window ends, whether their secret is right
    or not: a guesser learns nothing more. A success clears the count.
    Counting is best effort under concurrency (the cache's incr is not atomic on
    every backend), which can let a few more attempts through, never fewer.
    """

    def post(self, request, *args, **kwargs):
        if _has_nul(request):
            # PostgreSQL text cannot hold NUL: looking such a client id up would end as a 500.
            return JsonResponse(
                {"error": "invalid_request", "error_description": "The request must not contain NUL characters."},
                status=400,
                headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
            )
        limit = settings.TOKEN_FAILURE_LIMIT
        window = settings.TOKEN_FAILURE_WINDOW
        if not limit:
            return super().post(request, *args, **kwargs)
        key = _client_key(request)
        started = cache.get(f"{key}:start")
        if started is not None and (cache.get(f"{key}:count") or 0) >= limit:
            retry_after = max(1, math.ceil(started + window - time.time()))
            return JsonResponse(
                {
                    "error": "slow_down",
                    "error_description": f"Too many failed client authentications. Retry in {retry_after} seconds.",
                },
                status=429,
                headers={"Retry-After": str(retry_after), "Cache-Control": "no-store", "Pragma": "no-cache"},
            )

        response = super().post(request, *args, **kwargs)

        if _is_invalid_client(response):
            cache.add(f"{key}:start", time.time(), timeout=window)
            cache.add(f"{key}:count", 0, timeout=window)
            try:
                cache.incr(f"{key}:count")
            except ValueError:  # the window ended between add and incr
                cache.set(f"{key}:count", 1, timeout=window)
        elif response.status_code == 200 and started is not None:
            cache.delete_many([f"{key}:start", f"{key}:count"])
        return response
