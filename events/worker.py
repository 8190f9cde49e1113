"""The delivery worker: claims due deliveries, POSTs them signed, records the outcome.

Delivery is at least once: the outcome is recorded after the HTTP call, so a
worker killed in between sends that event again. Receivers de-duplicate by the
`Vault-Event-Id` header.

Claiming. On PostgreSQL each delivery is claimed with
`SELECT ... FOR UPDATE SKIP LOCKED` and the row lock is held, in one
transaction, through the HTTP call until the outcome is saved; other workers
skip it, and a crashed worker's transaction rolls back, releasing it for a retry.
SQLite has no row locks: there the HTTP call runs outside any transaction (a
write transaction would block every other writer for that long) and only one
worker may run.

Ordering. A delivery is due only when no earlier event of the same customer
is still pending for the same destination (the gateway, or one webhook
endpoint). Earlier deliveries in flight or waiting for a retry are pending, so a
customer's later events wait behind them. A delivery that gave up (failed)
no longer holds the later ones back: each event carries the whole customer, so
the later event brings the receiver up to date.
"""

import dataclasses
import datetime
import errno
import logging
import random
import socket
import time
from urllib.parse import unquote

import certifi
import urllib3
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from core.scoping import scopes_disabled
from events.addresses import (
    INVALID_URL_NOTE,
    REFUSED_NOTE,
    Destination,
    InvalidURL,
    PrivateAddress,
    parse_operator_url,
    parse_webhook_url,
    resolve,
)
from events.models import EventDelivery
from events.payloads import encode, gateway_payload, is_erased, webhook_payload
from events.selectors import delivery_is_superseded
from events.signing import signature_header

logger = logging.getLogger(__name__)

USER_AGENT = "CustomerVault-Events/1"
MAX_ERROR_LENGTH = 1000
ERASED_NOTE = "Not sent: the customer was deleted and its personal data erased before this event went out."
SUPERSEDED_NOTE = "Not sent: a later event of this customer went to the same destination and carries newer data."
UNRESOLVED_NOTE = "Connection failed: the host name could not be resolved."

# Mozilla's CA bundle (certifi, as requests used): the same trust on every machine, whatever its system store.
CA_CERTS: str = certifi.where()


@dataclasses.dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str = ""
    skipped: bool = False  # never sent: `error` says why


class _Unreachable(Exception):
    """Connecting to one of the host's addresses failed; the next one may be tried."""

    def __init__(self, cause: BaseException | None):
        super().__init__()
        self.errno = cause.errno if isinstance(cause, OSError) else None

    def describe(self) -> str:
        """In words, never the exception's repr (which names the address and port)."""
        if self.errno == errno.ECONNREFUSED:
            return "Connection failed: connection refused."
        if self.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "Connection failed: no route to the host."
        return "Connection failed: could not connect."


def gateway_enabled() -> bool:
    return bool(settings.GATEWAY_URL)


def check_configuration() -> None:
    """Refuse to run with a gateway URL but no signing secret: the gateway could not verify anything."""
    if settings.GATEWAY_URL and not settings.GATEWAY_SIGNING_SECRET:
        raise ImproperlyConfigured("GATEWAY_URL is set but GATEWAY_SIGNING_SECRET is empty; events are always signed.")


def backoff_delay(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt.

    Exponential (base * 2^(attempts-1), capped) with jitter: a random point in
    the upper half, so receivers coming back up are not hit by every retry at once.
    """
    ceiling = min(settings.EVENT_DELIVERY_BACKOFF_MAX, settings.EVENT_DELIVERY_BACKOFF_BASE * 2 ** (attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


def due_deliveries(now: datetime.datetime | None = None) -> QuerySet[EventDelivery]:
    """Pending deliveries whose time has come and whose customer has nothing earlier pending there."""
    now = now or timezone.now()
    earlier_pending = EventDelivery.objects.filter(
        status=EventDelivery.Status.PENDING,
        destination=OuterRef("destination"),
        event__customer_id=OuterRef("event__customer_id"),
        event_id__lt=OuterRef("event_id"),
    ).filter(
        # Same destination: the gateway (no endpoint) or the same webhook endpoint.
        Q(endpoint_id=OuterRef("endpoint_id")) | Q(endpoint__isnull=True)
    )
    destinations = Q(destination=EventDelivery.WEBHOOK, endpoint__is_active=True)
    if gateway_enabled():
        destinations |= Q(destination=EventDelivery.GATEWAY)
    return (
        EventDelivery.objects.filter(status=EventDelivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(destinations)
        .filter(~Exists(earlier_pending))
        .select_related("event", "endpoint")
        .order_by("id")
    )


class Worker:
    """Delivers due events one at a time until told to stop.

    `request_stop()` is safe to call from a signal handler: it only sets a flag,
    which is read between deliveries, so the delivery in flight is finished.
    """

    def __init__(self, *, poll_interval: float = 1.0):
        check_configuration()
        self.poll_interval = poll_interval
        self.stopping = False
        # One pool per (checked address, port, TLS name): keep-alive connections are only ever
        # reused for the address that was checked for them.
        self.http = urllib3.PoolManager(num_pools=64, maxsize=1, block=False)
        self.counts = {status: 0 for status in EventDelivery.Status.values}
        self.counts["retrying"] = 0

    def request_stop(self) -> None:
        self.stopping = True

    def drain(self) -> int:
        """Deliver what is due now (retries that fall due meanwhile included); returns how many were handled."""
        handled = 0
        while not self.stopping and self.deliver_next():
            handled += 1
        return handled

    def run(self) -> None:
        """Poll until stopped. Database errors (a restart, a dropped connection) are logged and waited out."""
        while not self.stopping:
            try:
                handled = self.drain()
            except Exception:
                logger.exception("Event delivery failed unexpectedly; retrying after a pause")
                connection.close()
                handled = 0
            if not handled:
                self._sleep(self.poll_interval)
        self.http.clear()

    def _sleep(self, seconds: float) -> None:
        # Short naps instead of one long sleep or Event.wait: a signal handler
        # can only set a flag safely, and the flag is looked at between naps.
        deadline = time.monotonic() + seconds
        while not self.stopping and (remaining := deadline - time.monotonic()) > 0:
            time.sleep(min(remaining, 0.1))

    @scopes_disabled()
    def deliver_next(self) -> bool:
        """Claim, send and record one due delivery; False when nothing is due.

        The worker serves every merchant: it runs outside tenant scoping (core/scoping.py).
        """
        if connection.features.has_select_for_update_skip_locked:
            with transaction.atomic():
                delivery = due_deliveries().select_for_update(skip_locked=True, of=("self",)).first()
                if delivery is None:
                    return False
                self._handle(delivery)
            return True
        delivery = due_deliveries().first()
        if delivery is None:
            return False
        self._handle(delivery)
        return True

    def _handle(self, delivery: EventDelivery) -> None:
        if is_erased(delivery.event):
            outcome = Outcome(ok=False, skipped=True, error=ERASED_NOTE)
        elif self._retried(delivery) and delivery_is_superseded(delivery=delivery):
            # Queued again by hand (delivery_retry) while a later event of the customer was being
            # written: sending this one after it would put the receiver back in the past.
            outcome = Outcome(ok=False, skipped=True, error=SUPERSEDED_NOTE)
        else:
            outcome = self._send(delivery)
        with transaction.atomic():
            self._record(delivery, outcome)

    @staticmethod
    def _retried(delivery: EventDelivery) -> bool:
        """Queued again by delivery_retry: attempted before, and its attempts counted anew."""
        return delivery.attempts == 0 and delivery.last_attempt_at is not None

    def _send(self, delivery: EventDelivery) -> Outcome:
        event = delivery.event
        if delivery.destination == EventDelivery.GATEWAY:
            url, secret, payload = settings.GATEWAY_URL, settings.GATEWAY_SIGNING_SECRET, gateway_payload(event)
            try:
                destination = parse_operator_url(url)
            except InvalidURL:
                return Outcome(ok=False, error="Request failed: GATEWAY_URL is not a valid URL.")
            refuse_private = False  # the operator's own choice
        else:
            url, secret, payload = delivery.endpoint.url, delivery.endpoint.secret, webhook_payload(event)
            try:
                destination = parse_webhook_url(url)
            except InvalidURL:
                return Outcome(ok=False, error=INVALID_URL_NOTE)
            refuse_private = not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS
        body = encode(payload)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Vault-Event-Id": str(event.event_id),
            "Vault-Event-Type": event.type,
            "Vault-Timestamp": str(timestamp),
            "Vault-Signature": signature_header(secret=secret, timestamp=timestamp, body=body),
            "Vault-Delivery-Attempt": str(delivery.attempts + 1),
        }
        return self.post(destination, body, headers, refuse_private=refuse_private)

    def post(self, destination: Destination, body: bytes, headers: dict[str, str], *, refuse_private: bool) -> Outcome:
        """POST `body` to `destination`, connecting only to an address its host resolved to just now.

        The name is resolved once (`resolve`, which with `refuse_private` refuses
        it when any address is not public); the connection goes to one of those
        addresses, never to a fresh DNS answer, with the URL's `Host` header and,
        for https, SNI and certificate verification for the URL's host name. No
        redirect is followed and the response body is not read.
        """
        try:
            addresses = resolve(destination, refuse_private=refuse_private)
        except PrivateAddress:
            return Outcome(ok=False, error=REFUSED_NOTE)
        except (socket.gaierror, UnicodeError):
            return Outcome(ok=False, error=UNRESOLVED_NOTE)
        headers = {"Host": destination.host_header, **headers}
        if destination.auth is not None:  # only an operator's URL carries user:password
            headers.update(urllib3.make_headers(basic_auth=unquote(destination.auth)))
        timeout = settings.EVENT_DELIVERY_TIMEOUT
        unreachable = _Unreachable(None)
        for address in addresses:
            try:
                return self._post_to(address, destination, body, headers, timeout)
            except _Unreachable as exc:
                unreachable = exc
        return Outcome(ok=False, error=unreachable.describe())

    def _post_to(
        self, address: str, destination: Destination, body: bytes, headers: dict[str, str], timeout: float
    ) -> Outcome:
        pool_kwargs: dict = {}
        if destination.scheme == "https":
            pool_kwargs = {"cert_reqs": "CERT_REQUIRED", "ca_certs": CA_CERTS}
            if destination.address is None:  # a name: SNI and the certificate check are for it, not the IP
                pool_kwargs |= {"server_hostname": destination.name, "assert_hostname": destination.name}
        pool = self.http.connection_from_host(address, destination.port, destination.scheme, pool_kwargs=pool_kwargs)
        try:
            response = pool.urlopen(
                "POST",
                destination.request_target,
                body=body,
                headers=headers,
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                redirect=False,
                retries=False,
                preload_content=False,
            )
        except urllib3.exceptions.NewConnectionError as exc:  # before ConnectTimeoutError, its base class
            raise _Unreachable(exc.__cause__ or exc.__context__) from exc
        except urllib3.exceptions.TimeoutError:
            return Outcome(ok=False, error=f"Timed out after {timeout:g} s.")
        except urllib3.exceptions.SSLError as exc:
            if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "match" in str(exc):
                return Outcome(ok=False, error="Connection failed: the TLS certificate is not valid for this host.")
            return Outcome(ok=False, error="Connection failed: the TLS handshake failed.")
        except urllib3.exceptions.ProtocolError:
            return Outcome(ok=False, error="Connection failed: the connection closed before a response arrived.")
        except urllib3.exceptions.HTTPError:
            return Outcome(ok=False, error="Request failed: the response was not valid HTTP.")
        status_code = response.status
        # The body is not read. An empty one leaves the connection reusable; otherwise it is closed.
        if response.length_remaining != 0:
            response.close()
        response.release_conn()
        if 200 <= status_code < 300:
            return Outcome(ok=True, status_code=status_code)
        return Outcome(ok=False, status_code=status_code, error=f"HTTP {status_code}")

    def _record(self, delivery: EventDelivery, outcome: Outcome) -> None:
        now = timezone.now()
        if outcome.skipped:
            delivery.status = EventDelivery.Status.SKIPPED
            delivery.last_error = outcome.error
            self._save(delivery, "status", "last_error")
            self.counts[delivery.status] += 1
            return
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error[:MAX_ERROR_LENGTH]
        if outcome.ok:
            delivery.status = EventDelivery.Status.SUCCEEDED
            delivery.delivered_at = now
        elif delivery.attempts >= settings.EVENT_DELIVERY_MAX_ATTEMPTS:
            delivery.status = EventDelivery.Status.FAILED
            logger.warning(
                "Gave up on delivery %s after %s attempts: %s", delivery.pk, delivery.attempts, outcome.error
            )
        else:
            delivery.next_attempt_at = now + datetime.timedelta(seconds=backoff_delay(delivery.attempts))
            logger.info("Delivery %s attempt %s failed (%s); retrying", delivery.pk, delivery.attempts, outcome.error)
        self._save(
            delivery,
            "status",
            "attempts",
            "last_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "next_attempt_at",
        )
        key = "retrying" if delivery.status == EventDelivery.Status.PENDING else delivery.status
        self.counts[key] += 1

    @staticmethod
    def _save(delivery: EventDelivery, *fields: str) -> None:
        # An UPDATE, not Model.save: on SQLite the endpoint (and with it this row) may have been
        # removed while the request was out; then there is simply nothing left to record.
        EventDelivery.objects.filter(pk=delivery.pk).update(**{field: getattr(delivery, field) for field in fields})
