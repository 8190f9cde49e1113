import hashlib
import math

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

# The error_description of a right secret refused because its merchant is deactivated. The token
# views (merchants/token_views.py) do not count that answer as a failed authentication.
MERCHANT_INACTIVE_DESCRIPTION = "This client's merchant is not active."


class MerchantInactive(errors.InvalidClientError):
    """401 invalid_client, as for an unknown client, with a description saying why."""

    description = MERCHANT_INACTIVE_DESCRIPTION


class TooManyLiveTokens(errors.OAuth2Error):
    """429 slow_down: the client holds MAX_LIVE_TOKENS_PER_CLIENT unexpired tokens already."""

    error = "slow_down"
    status_code = 429

    def __init__(self, *, limit: int, retry_after: int):
        super().__init__(
            description=f"This client already holds {limit} unexpired access tokens, the most allowed. "
            "Reuse a token until its expires_in runs out instead of asking for one per call, "
            "or revoke tokens you no longer use at /o/revoke_token/."
        )
        self.retry_after = retry_after

    @property
    def headers(self):
        # Raised after validation, so oauthlib's default token-response headers are not added.
        return {
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
            "Retry-After": str(self.retry_after),
        }


class MerchantOAuth2Validator(OAuth2Validator):
    """The toolkit's validator for the toolkit's own endpoints (token and revocation), adding:

    - a deactivated merchant's clients fail client authentication (401 invalid_client), checked
      after their secret, so only a caller holding the secret learns why;
    - at most MAX_LIVE_TOKENS_PER_CLIENT unexpired tokens per client: issuing one first deletes
      that client's expired tokens, then refuses with 429 slow_down if the cap is still reached;
    - the token's client's merchant loaded with the token in one query.

    API requests find their bearer token with merchants.sql.access_token_lookup (measured) and
    judge it as `validate_bearer_token` does; api/tests/test_token_contract.py holds the two equal.
    """

    def authenticate_client(self, request, *args, **kwargs):
        authenticated = super().authenticate_client(request, *args, **kwargs)
        if authenticated and not request.client.merchant.is_active:
            raise MerchantInactive(request=request)
        return authenticated

    # During a rolled secret's grace period the secret before it authenticates too, both ways
    # (Basic and body), parsed as the toolkit parses them. After it, the previous secret is a wrong
    # secret like any other: 401 invalid_client, counted by the token views' throttle.

    def _authenticate_basic_auth(self, request):
        check = super()._authenticate_basic_auth
        return check(request) or self._with_previous_secret(request, check)

    def _authenticate_request_body(self, request):
        check = super()._authenticate_request_body
        return check(request) or self._with_previous_secret(request, check)

    @staticmethod
    def _with_previous_secret(request, check) -> bool:
        """`check` again with the previous secret's hash as the client's secret, when it is still live.

        The toolkit compares the given secret with `request.client.client_secret` (the client
        it loaded for the given id, kept on the request), so the previous hash is put there on
        this in-memory copy only (never saved) and the current one put back.
        """
        client = request.client
        if client is None or not client.previous_secret_is_live():
            return False
        current = client.client_secret
        client.client_secret = client.previous_client_secret
        try:
            return check(request)
        finally:
            client.client_secret = current

    def validate_scopes(self, client_id, scopes, client, request, *args, **kwargs):
        """The scopes asked for must be among the client's (a read-only client has customers:read only)."""
        return super().validate_scopes(client_id, scopes, client, request, *args, **kwargs) and set(scopes) <= set(
            client.allowed_scopes.split()
        )

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        """Without a `scope` parameter a token gets every scope its client may have."""
        return request.client.allowed_scopes.split()

    def validate_bearer_token(self, token, scopes, request):
        """The toolkit's check of an access token, refusing those of a deactivated merchant's clients."""
        valid = super().validate_bearer_token(token, scopes, request)
        if valid and not request.client.merchant.is_active:
            request.oauth2_error = {"error": "invalid_token", "error_description": MERCHANT_INACTIVE_DESCRIPTION}
            return False
        return valid

    def save_bearer_token(self, token, request, *args, **kwargs):
        saved = self._save_capped_bearer_token(token, request, *args, **kwargs)
        # "Last used" is when a token was last issued: one write per token (an hour's use by
        # default), none per API request.
        type(request.client).objects.filter(pk=request.client.pk).update(last_used_at=timezone.now())
        return saved

    def _save_capped_bearer_token(self, token, request, *args, **kwargs):
        limit = settings.MAX_LIVE_TOKENS_PER_CLIENT
        if not limit:
            return super().save_bearer_token(token, request, *args, **kwargs)
        # One query counts the client's tokens; the expired ones are deleted only when there are
        # some. Not locked: simultaneous requests of one client can pass the count together, so
        # the cap may be exceeded by the requests in flight at that moment (it bounds the rows,
        # it is no quota), and a token costs one query more than without a cap.
        tokens = get_access_token_model().objects.filter(application_id=request.client.pk)
        now = timezone.now()
        counts = tokens.aggregate(
            live=Count("pk", filter=Q(expires__gt=now)),
            expired=Count("pk", filter=Q(expires__lte=now)),
            first_expiry=Min("expires", filter=Q(expires__gt=now)),
        )
        if counts["expired"]:
            tokens.filter(expires__lte=now).delete()
        if counts["live"] >= limit:
            # The toolkit's OAuthLibCore.create_token_response answers an OAuth2Error with its json and status.
            wait = max(1, math.ceil((counts["first_expiry"] - now).total_seconds()))
            raise TooManyLiveTokens(limit=limit, retry_after=wait)
        return super().save_bearer_token(token, request, *args, **kwargs)

    def _load_access_token(self, token):
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        return (
            get_access_token_model()
            # No "user": client-credentials tokens have none, and joining the user
            # table costs more SQL to build than the lookup itself.
            .objects.select_related("application__merchant")
            .filter(token_checksum=checksum)
            .first()
        )
