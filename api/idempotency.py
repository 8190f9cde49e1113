"""Idempotency keys: a request repeated with the same key gets the first answer, and runs once.

The flow (IETF Idempotency-Key draft, Stripe's practice):

1. `idempotency_claim` inserts an in-progress record in its own committed
   transaction. The (merchant, key) unique constraint decides between two
   simultaneous requests: one inserts, the other gets an IntegrityError and reads
   the winner's record, then answers 409 (still running), 422 (the key was used
   for a different request) or replays the stored response.
2. The caller runs the request.
3. `idempotency_complete` stores the response; `idempotency_release` deletes the
   record instead when the request failed unexpectedly, so a retry can run again
   (the failed request's own transaction rolled back, so it left nothing).
"""

import dataclasses
import datetime
import hashlib
import json
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from api.models import IdempotencyRecord
from core.problems import IDEMPOTENCY_KEY_IN_USE, IDEMPOTENCY_KEY_REUSED, DomainError
from merchants.models import Merchant

MAX_KEY_LENGTH = 255


class IdempotencyKeyInUse(DomainError):
    """A request with this Idempotency-Key is still running (HTTP 409)."""

    problem = IDEMPOTENCY_KEY_IN_USE


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was first used with a different request (HTTP 422)."""

    problem = IDEMPOTENCY_KEY_REUSED


@dataclasses.dataclass(frozen=True)
class IdempotencyClaim:
    record: IdempotencyRecord
    # True: the request already ran; answer with the record's stored response.
    replay: bool


def request_fingerprint(*, method: str, path: str, body: Any, precondition: str = "") -> str:
    """SHA-256 over what makes two requests "the same": method, path, If-Match and the parsed body.

    The body is compared as canonical JSON, so whitespace and key order do not matter.
    """
    canonical = json.dumps(
        [method.upper(), path.rstrip("/"), precondition, body], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _ttl() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)


def idempotency_claim(*, merchant: Merchant, key: str, fingerprint: str) -> IdempotencyClaim:
    """Claim `key` for a new request, or find the earlier request that used it.

    Raises IdempotencyKeyReused when the key was used with another fingerprint,
    IdempotencyKeyInUse while the earlier request is still running. Must not run
    inside an outer transaction: the claim has to be visible to other requests
    at once.
    """
    for _attempt in range(3):
        now = timezone.now()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    merchant=merchant, key=key, fingerprint=fingerprint, expires_at=now + _ttl()
                )
            return IdempotencyClaim(record=record, replay=False)
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(merchant=merchant, key=key).first()
        if existing is None:
            continue  # released or purged in between: try to claim again
        if existing.expires_at <= now:
            IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
            continue
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused("This Idempotency-Key was used for a different request.")
        if existing.completed:
            return IdempotencyClaim(record=existing, replay=True)
        abandoned_before = now - datetime.timedelta(seconds=settings.IDEMPOTENCY_LOCK_TIMEOUT_SECONDS)
        if existing.created_at < abandoned_before:
            # Its server process died mid-request. Take the record over, unless
            # another retry has just done so (then the update matches no row).
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, completed=False, created_at=existing.created_at
            ).update(created_at=now, expires_at=now + _ttl())
            if taken:
                existing.created_at, existing.expires_at = now, now + _ttl()
                return IdempotencyClaim(record=existing, replay=False)
        raise IdempotencyKeyInUse("A request with this Idempotency-Key is still in progress.")
    raise IdempotencyKeyInUse("A request with this Idempotency-Key is still in progress.")


def idempotency_complete(
    *,
    record: IdempotencyRecord,
    status: int,
    body: Any,
    headers: dict[str, str],
    customer_id: str | uuid.UUID | None = None,
) -> None:
    """Store the response to replay. `customer_id` lets a later erasure of that customer scrub the body."""
    record.completed = True
    record.response_status = status
    record.response_body = body
    record.response_headers = headers
    record.customer_id = customer_id
    record.save(update_fields=["completed", "response_status", "response_body", "response_headers", "customer_id"])


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Forget an unfinished claim so that a retry runs the request again."""
    IdempotencyRecord.objects.filter(pk=record.pk, completed=False).delete()


def idempotency_erase_customer(*, merchant: Merchant, customer_id) -> None:
    """Scrub the stored answers that showed this customer (its erasure); a replay then says it was erased."""
    IdempotencyRecord.objects.filter(merchant=merchant, customer_id=customer_id).update(
        response_body=None, response_headers={}
    )


def idempotency_purge_expired(*, now: datetime.datetime | None = None) -> int:
    """Delete records past their expiry; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def replay_was_erased(record: IdempotencyRecord) -> bool:
    """True when the customer this response showed was deleted and the stored body erased with it."""
    return record.response_body is None and record.response_status != 204
