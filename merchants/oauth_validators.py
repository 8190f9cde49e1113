import hashlib

from oauth2_provider.models import get_access_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator


class MerchantOAuth2Validator(OAuth2Validator):
    """The toolkit's validator, loading the token's client's merchant in the same query.

    Used by the toolkit's own endpoints (token, revocation, introspection). API
    requests check their bearer token with merchants.selectors.access_token_lookup,
    the same lookup by SHA-256 checksum as one prepared query.
    """

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
