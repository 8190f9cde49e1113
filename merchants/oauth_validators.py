import hashlib
import math

from django.conf import settings
from django.db import router, transaction
from django.db.models import Count, Min
from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from merchants.models import OAuthClient

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

    API requests check their bearer token with merchants.selectors.access_token_lookup,
    the same lookup by SHA-256 checksum as one prepared query.
    """

    def authenticate_client(self, request, *args, **kwargs):
        authenticated = super().authenticate_client(request, *args, **kwargs)
        if authenticated and not request.client.merchant.is_active:
            raise MerchantInactive(request=request)
        return authenticated

    def save_bearer_token(self, token, request, *args, **kwargs):
        limit = settings.MAX_LIVE_TOKENS_PER_CLIENT
        if not limit:
            return super().save_bearer_token(token, request, *args, **kwargs)
        AccessToken = get_access_token_model()
        refusal = None
        with transaction.atomic(using=router.db_for_write(AccessToken)):
            # One issuer at a time per client (PostgreSQL; SQLite writers are serialized anyway), so
            # concurrent requests cannot all pass the count. NO KEY: token inserts (which lock the
            # client row FOR KEY SHARE) elsewhere are not blocked.
            list(OAuthClient.objects.select_for_update(no_key=True).filter(pk=request.client.pk).values_list("pk"))
            now = timezone.now()
            AccessToken.objects.filter(application_id=request.client.pk, expires__lte=now).delete()
            live = AccessToken.objects.filter(application_id=request.client.pk).aggregate(
                count=Count("pk"), first_expiry=Min("expires")
            )
            if live["count"] >= limit:
                wait = max(1, math.ceil((live["first_expiry"] - now).total_seconds()))
                refusal = TooManyLiveTokens(limit=limit, retry_after=wait)
            else:
                saved = super().save_bearer_token(token, request, *args, **kwargs)
        if refusal is not None:
            # Raised outside the transaction: the expired tokens stay deleted. The toolkit's
            # OAuthLibCore.create_token_response answers an OAuth2Error with its json and status.
            raise refusal
        return saved

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
