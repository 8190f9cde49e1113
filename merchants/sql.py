"""The hand-written query of merchants: the access token of an API request, with its client and merchant.

Every API request makes it. The same lookup through the ORM,
`AccessToken.objects.select_related("application__merchant").filter(token_checksum=...).first()`,
cost 820-970 us of CPU per call on the 2-core benchmark machine, this one 160-190 us
(`python bench/hot_paths.py`); a retrieve costs about 1 ms of CPU in all. The statement is built
once from model metadata and its rows loaded as the ORM loads them (core/sql.py).
customers/tests/test_hand_written_sql.py checks it against the ORM's result, and api/tests/test_token_contract.py
checks the decisions made with it against django-oauth-toolkit's own validator.
"""

import functools
import hashlib

from django.db import connection
from oauth2_provider.models import get_access_token_model

from core.sql import column_list, fetch_all, model_from_row
from merchants.models import Merchant, OAuthClient

_TOKEN_FIELDS = ("id", "expires", "scope", "application_id")
_CLIENT_FIELDS = ("id", "client_id", "merchant_id")
_MERCHANT_FIELDS = ("id", "name", "is_active")


def token_checksum(token: str) -> str:
    """How django-oauth-toolkit finds a token: the SHA-256 of its value (AccessToken.token_checksum)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@functools.cache
def _access_token_sql() -> str:
    token, client, merchant = get_access_token_model(), OAuthClient, Merchant
    q = connection.ops.quote_name

    def column(model, name: str) -> str:
        return q(model._meta.get_field(name).column)

    # Identifiers come from model metadata, quoted by the backend; the checksum is a parameter.
    return (
        f"SELECT {column_list(token, _TOKEN_FIELDS, 't')}, {column_list(client, _CLIENT_FIELDS, 'c')}, "  # noqa: S608
        f"{column_list(merchant, _MERCHANT_FIELDS, 'm')} "
        f"FROM {q(token._meta.db_table)} t "
        f"JOIN {q(client._meta.db_table)} c ON c.{column(client, 'id')} = t.{column(token, 'application')} "
        f"JOIN {q(merchant._meta.db_table)} m ON m.{column(merchant, 'id')} = c.{column(client, 'merchant')} "
        f"WHERE t.{column(token, 'token_checksum')} = %s"
    )


def access_token_lookup(*, token: str):
    """The access token with this value, its client and the client's merchant loaded; None when unknown.

    Validity (expiry, scopes, the client's merchant) is for the caller to check with
    the toolkit's own methods. Fields not selected load on access.
    """
    rows = fetch_all(_access_token_sql(), [token_checksum(token)])
    if not rows:
        return None
    row = rows[0]
    ends = (len(_TOKEN_FIELDS), len(_TOKEN_FIELDS) + len(_CLIENT_FIELDS))
    access_token = model_from_row(get_access_token_model(), _TOKEN_FIELDS, row[: ends[0]])
    client = model_from_row(OAuthClient, _CLIENT_FIELDS, row[ends[0] : ends[1]])
    client.merchant = model_from_row(Merchant, _MERCHANT_FIELDS, row[ends[1] :])
    access_token.application = client
    return access_token
