"""What every merchant API view shares: rate limiting, scopes and Idempotency-Key handling."""

import contextlib
import functools

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from rest_framework.exceptions import ParseError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from api.exceptions import ProblemAPIException
from api.idempotency import (
    MAX_KEY_LENGTH,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
    replay_was_erased,
    request_fingerprint,
)
from api.permissions import HasMerchantToken, HasRequiredScope
from api.ratelimit import RateLimited, rate_limit_hit
from core.problems import CUSTOMER_ERASED
from core.scoping import merchant_scope

IDEMPOTENCY_HEADER = "Idempotency-Key"
# Headers of the first response that a replay repeats; the rest (request id, rate limit) are per response.
REPLAYED_HEADERS = ("Location", "ETag")


class CustomerErased(ProblemAPIException):
    problem = CUSTOMER_ERASED

    def __init__(self, customer_id):
        super().__init__()
        self.problem_extra = {"customer_id": str(customer_id)}


class MerchantAPIMixin:
    """For DRF views of the merchant API.

    - Rate limit: right after authentication and before permissions, so refused
      calls count too; keyed by OAuth2 client, or by address without a valid token.
      Every response carries the RateLimit-* headers.
    - Scopes: `scopes_by_action` maps each action to the scope it needs.
    - A PATCH without a body is a 400, after authentication and scopes.
    - Tenant scope: once the token has named the merchant (authentication and
      permissions passed), the rest of the request runs in that merchant's
      scope (core/scoping.py).
    """

    permission_classes = [HasMerchantToken, HasRequiredScope]
    throttle_classes: list = []
    scopes_by_action: dict[str, str] = {}

    def perform_authentication(self, request):
        try:
            super().perform_authentication(request)
        finally:
            self._count_request(request)

    def _count_request(self, request) -> None:
        token = request.auth
        if token is not None and token.application is not None:
            identity = f"client:{token.application.client_id}"
        else:
            identity = f"addr:{request.META.get('REMOTE_ADDR') or 'unknown'}"
        state = rate_limit_hit(identity)
        request.rate_limit = state
        if state is not None and state.exceeded:
            raise RateLimited(state)

    def dispatch(self, request, *args, **kwargs):
        with contextlib.ExitStack() as self.merchant_scope_stack:  # entered in `initial`, left here
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.merchant_scope_stack.enter_context(merchant_scope(request.merchant))
        # hasattr: only where PATCH is allowed at all; elsewhere it stays a 405.
        if request.method == "PATCH" and hasattr(self, "patch") and request.stream is None:
            # DRF reads a body of length zero as {} whatever its Content-Type, and `{}` is a valid
            # PATCH that changes nothing: no body at all must not pass for it. (A POST or PUT without
            # a body is already refused by its validation, which says which fields it needs.)
            raise ParseError("The request body is empty: send a JSON object.")

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        state = getattr(request, "rate_limit", None)
        if state is not None:
            for name, value in state.headers().items():
                response[name] = value
        return response


def _idempotency_key(request) -> str:
    key = request.headers[IDEMPOTENCY_HEADER]
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise ValidationError(
            {
                IDEMPOTENCY_HEADER: ValidationError(
                    f"Must be 1 to {MAX_KEY_LENGTH} printable ASCII characters, for example a UUID.",
                    code="invalid_idempotency_key",
                )
            }
        )
    return key


def _stored_response(response) -> tuple[str | None, dict[str, str]]:
    """The exact body text and the replayed headers of a response that is about to be sent.

    The text is kept rather than parsed JSON so that a replay is byte for byte
    the first answer (PostgreSQL's jsonb would reorder the keys).
    """
    if isinstance(response, Response):
        # What finalize_response will render, with the same renderer.
        content = JSONRenderer().render(response.data) if response.data is not None else b""
        content_type = "application/json"
    else:
        content, content_type = response.content, response.get("Content-Type", "application/json")
    headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
    if not content:
        return None, headers
    headers["Content-Type"] = content_type
    return content.decode("utf-8"), headers


def _is_customer_answer(response) -> bool:
    return isinstance(response, Response) and isinstance(response.data, dict) and response.status_code < 400


def _replay(record) -> HttpResponse:
    if replay_was_erased(record):
        raise CustomerErased(record.customer_id)
    headers = {**record.response_headers, "Idempotent-Replayed": "true"}
    content_type = headers.pop("Content-Type", None)
    response = HttpResponse(
        (record.response_body or "").encode("utf-8"), status=record.response_status, headers=headers
    )
    if content_type is None:
        del response["Content-Type"]
    else:
        response["Content-Type"] = content_type
    return response


def idempotent(action):
    """Honour an Idempotency-Key header on a write action of a MerchantAPIMixin view.

    Responses below 500 (successes and 4xx answers alike) are stored, in the
    transaction that made the change, and replayed; a 5xx or an unexpected error
    rolls the change back and releases the key so a retry runs again.
    """

    @functools.wraps(action)
    def wrapper(self, request, *args, **kwargs):
        if IDEMPOTENCY_HEADER not in request.headers:
            return action(self, request, *args, **kwargs)
        key = _idempotency_key(request)
        fingerprint = request_fingerprint(
            method=request.method,
            path=request.path,
            body=request.data,
            precondition=request.headers.get("If-Match", ""),
        )
        # Committed on its own first: this in-progress record makes a simultaneous duplicate a 409.
        claim = idempotency_claim(merchant=request.merchant, key=key, fingerprint=fingerprint)
        if claim.replay:
            return _replay(claim.record)
        try:
            # The change and its stored answer commit together (the services' own transactions become
            # savepoints): a process dying in between leaves neither, so a retry that takes the key over
            # after the lock timeout cannot make the change twice.
            with transaction.atomic():
                try:
                    response = action(self, request, *args, **kwargs)
                except Exception as exc:
                    response = self.handle_exception(exc)  # re-raises what is not an API error
                if response.status_code >= 500:
                    transaction.set_rollback(True)
                else:
                    body, headers = _stored_response(response)
                    customer_id = response.data.get("customer_id") if _is_customer_answer(response) else None
                    idempotency_complete(
                        record=claim.record,
                        status=response.status_code,
                        body=body,
                        headers=headers,
                        customer_id=customer_id,
                    )
        except BaseException:
            idempotency_release(record=claim.record)
            raise
        if response.status_code >= 500:
            idempotency_release(record=claim.record)
        return response

    return wrapper
