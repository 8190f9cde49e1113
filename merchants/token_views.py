"""The endpoints that check a client secret (/o/token/, /o/revoke_token/), throttled against guessing it.

Both views are django-oauth-toolkit's, behind one mixin (ClientSecretThrottle) that
refuses malformed requests with an RFC 6749 error instead of a 500 and throttles
failed client authentications without ever refusing a right secret.
"""

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
from django.http.multipartparser import MultiPartParserError
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views import RevokeTokenView, TokenView

from core.scoping import scopes_disabled
from merchants.oauth_validators import MERCHANT_INACTIVE_DESCRIPTION

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error(error: str, description: str, *, status: int = 400, headers=None) -> JsonResponse:
    """An RFC 6749 section 5.2 error answer, never cached."""
    return JsonResponse(
        {"error": error, "error_description": description}, status=status, headers={**_NO_STORE, **(headers or {})}
    )


def basic_credentials(request) -> tuple[str, str] | None:
    """The client id and secret of the Authorization header, parsed exactly as the toolkit parses them.

    OAuth2Validator._authenticate_basic_auth: the scheme is "Basic" (that case only), then
    base64 (lenient), UTF-8, split at the first colon, each part form-decoded. None when the
    toolkit would not use the header, in which case it checks the body's client_id and secret.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme != "Basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if ":" not in decoded:
        return None
    client_id, secret = map(unquote_plus, decoded.split(":", 1))
    return client_id, secret


def _says_basic(request) -> bool:
    return request.META.get("HTTP_AUTHORIZATION", "").split(" ", 1)[0].lower() == "basic"


def _mixes_methods(request, basic: tuple[str, str] | None) -> bool:
    """Client credentials in the Authorization header and in the body (RFC 6749 section 2.3: one method only).

    A body client_id equal to the header's is tolerated (some libraries always send one): it
    names the same client, and without a client_secret it authenticates nothing.
    """
    if not _says_basic(request):
        return False
    if "client_secret" in request.POST:
        return True
    body_id = request.POST.get("client_id")
    return body_id is not None and (basic is None or body_id != basic[0])


def _has_nul(request, basic: tuple[str, str] | None) -> bool:
    if any("\x00" in key or any("\x00" in value for value in values) for key, values in request.POST.lists()):
        return True
    return basic is not None and any("\x00" in part for part in basic)


def _key(kind: str, value: str) -> str:
    # Hashed: client ids and addresses come from the request and may hold anything; cache keys may not.
    return f"token-failures:{kind}:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _count_failure(key: str, limit: int, window: int) -> int | None:
    """Count one failure under `key`; the seconds left in its window when it was over `limit` already."""
    values = cache.get_many([f"{key}:start", f"{key}:count"])
    started, count = values.get(f"{key}:start"), values.get(f"{key}:count") or 0
    if started is None:
        started = time.time()
        cache.set_many({f"{key}:start": started, f"{key}:count": 1}, timeout=window)
        return None
    try:
        cache.incr(f"{key}:count")
    except ValueError:  # the window ended between get and incr
        cache.set_many({f"{key}:start": time.time(), f"{key}:count": 1}, timeout=window)
        return None
    if count < limit:
        return None
    return max(1, math.ceil(started + window - time.time()))


def _is_failed_authentication(response) -> bool:
    """The toolkit's answer to unknown client credentials or a wrong secret (not to a deactivated merchant)."""
    if response.status_code not in (400, 401):
        return False
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and body.get("error") == "invalid_client"
        and body.get("error_description") != MERCHANT_INACTIVE_DESCRIPTION
    )


class ClientSecretThrottle:
    """For the toolkit's views that check a client secret: a malformed request is a 400, and
    guessing is slowed down without ever refusing the right secret.

    Malformed requests get 400 `invalid_request`: a multipart body Django cannot parse (no
    boundary), a Basic header that is not ASCII (the toolkit's base64 decoding raises on it), a
    NUL character (PostgreSQL text cannot hold one), and client credentials in both
    the Authorization header and the body (RFC 6749 section 2.3). The toolkit would check the
    header first and then the body, so a mixed request would be counted against the wrong client
    id; refused, the client id checked is always unambiguous: the header's, else the body's.

    Throttle: failed client authentications (`invalid_client`) are counted in the shared cache
    per (client id, caller's address), and per address over all client ids. Once a count has
    reached its limit (TOKEN_FAILURE_LIMIT, TOKEN_FAILURE_ADDRESS_LIMIT) within
    TOKEN_FAILURE_WINDOW seconds of its first failure, a wrong secret is answered 429
    `slow_down` with Retry-After instead of 401. The credentials are still checked on every
    request (client secrets use a fast salted SHA-256 hasher, so this costs nothing worth
    mentioning): the right secret always gets its answer and clears its (client, address)
    count. Nobody can lock a client out by knowing its id, from any address.

    What this does not do: make guessing slower. Every request is still answered right or
    wrong, so the 429 is a signal to a misconfigured client, and the counts are for monitoring;
    what protects a secret is its length (128 random characters, ~760 bits), beyond any rate of
    guessing. Refusing unchecked would protect nothing more and would lock owners out. Behind a
    proxy, REMOTE_ADDR must be the caller's address (set by the proxy setup), or every caller
    shares one address count; a right secret is still never refused.
    Counting is best effort under concurrency (the cache's incr is not atomic on every
    backend), which can let a few more 401s through before the 429s, never fewer.
    """

    @method_decorator(csrf_exempt)  # as the toolkit's own dispatch: clients authenticate with their secret
    def dispatch(self, request, *args, **kwargs):
        # The toolkit finds the client by its id before any merchant is known (the secret decides
        # which one), so its lookups run outside tenant scoping (core/scoping.py).
        with scopes_disabled():
            return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            request.POST  # noqa: B018 - parse now: the toolkit would fail on it with a 500
        except MultiPartParserError:
            return oauth_error(
                "invalid_request",
                "The multipart body cannot be parsed (is its boundary missing?). "
                "Send the form as application/x-www-form-urlencoded.",
            )
        if _says_basic(request) and not request.META["HTTP_AUTHORIZATION"].isascii():
            # The toolkit's base64 decoding raises on it, which would end as a 500.
            return oauth_error("invalid_request", "HTTP Basic credentials must be base64, which is ASCII.")
        basic = basic_credentials(request)
        if _has_nul(request, basic):
            # PostgreSQL text cannot hold NUL: looking such a client id up would end as a 500.
            return oauth_error("invalid_request", "The request must not contain NUL characters.")
        if _mixes_methods(request, basic):
            return oauth_error(
                "invalid_request",
                "Send the client credentials one way only: HTTP Basic or client_id and client_secret "
                "in the body, not both.",
            )
        limit = settings.TOKEN_FAILURE_LIMIT
        if not limit:
            return super().post(request, *args, **kwargs)

        address = request.META.get("REMOTE_ADDR", "")
        client_id = basic[0] if basic is not None else request.POST.get("client_id", "")
        pair_key = _key("client", f"{client_id}\x00{address}")
        response = super().post(request, *args, **kwargs)

        if _is_failed_authentication(response):
            window = settings.TOKEN_FAILURE_WINDOW
            waits = [_count_failure(pair_key, limit, window)]
            if settings.TOKEN_FAILURE_ADDRESS_LIMIT:
                waits.append(_count_failure(_key("addr", address), settings.TOKEN_FAILURE_ADDRESS_LIMIT, window))
            waits = [wait for wait in waits if wait is not None]
            if waits:
                retry_after = max(waits)
                return oauth_error(
                    "slow_down",
                    f"Too many failed client authentications from your address. Retry in {retry_after} seconds.",
                    status=429,
                    headers={"Retry-After": str(retry_after)},
                )
        elif response.status_code == 200 and cache.get(f"{pair_key}:start") is not None:
            cache.delete_many([f"{pair_key}:start", f"{pair_key}:count"])
        return response


class ThrottledTokenView(ClientSecretThrottle, TokenView):
    """POST /o/token/: the toolkit's token endpoint (client credentials grant), throttled."""


class ThrottledRevokeTokenView(ClientSecretThrottle, RevokeTokenView):
    """POST /o/revoke_token/ (RFC 7009): the toolkit's revocation endpoint, throttled the same way,
    so it is no unthrottled way to test a client secret."""
