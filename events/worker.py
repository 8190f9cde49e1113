"""The delivery worker: claims due deliveries in batches, POSTs them signed and concurrently, records the outcomes.

No database transaction is open while a request is out. A worker claims a batch
of due deliveries of one destination by writing a lease on them
(`claimed_until`: now + EVENT_DELIVERY_LEASE) and commits; its sender threads
POST them; the outcomes are recorded in batches, each row only while the claim
that sent it still holds it. A worker that dies leaves its leases to run out:
those deliveries are then due again and another worker (or the same one,
restarted) sends them. Delivery is therefore at least once; receivers
de-duplicate by the `Vault-Event-Id` header.

Claiming. On PostgreSQL the claim selects with `FOR UPDATE SKIP LOCKED`, so
several worker processes share the queue without waiting on each other. On
SQLite every transaction takes the write lock at its start (`IMMEDIATE`,
config/settings/database.py): claims are taken one at a time, which is enough
for them to be correct there too.

Fairness. Every destination (the gateway, each webhook endpoint) has its own
lane: its own sender threads, at most `min(concurrency,
EVENT_DELIVERY_MAX_IN_FLIGHT)` requests in flight, and claims of its own. A
destination that is slow or down ties up its lane only; the others keep their
rate. A lane whose requests take long claims no more than it has in flight.

Ordering. A delivery is due only when no earlier event of the same customer
is still pending for the same destination (the gateway, or one webhook
endpoint). Claimed deliveries stay pending until their outcome is recorded, so
a customer's later events wait behind them. A delivery that gave up (failed)
no longer holds the later ones back: each event carries the whole customer, so
the later event brings the receiver up to date.
"""

import contextlib
import dataclasses
import datetime
import errno
import logging
import math
import queue
import random
import socket
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

import certifi
import urllib3
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
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
from events.models import EventDelivery, WebhookEndpoint
from events.payloads import encode, gateway_payload, is_erased, webhook_payload
from events.selectors import delivery_is_superseded
from events.services import events_prune
from events.signing import signature_header
from events.sql import claim_deliveries, endpoints_with_pending

logger = logging.getLogger(__name__)

USER_AGENT = "CustomerVault-Events/1"
MAX_ERROR_LENGTH = 1000
ERASED_NOTE = "Not sent: the customer was deleted and its personal data erased before this event went out."
SUPERSEDED_NOTE = "Not sent: a later event of this customer went to the same destination and carries newer data."
UNRESOLVED_NOTE = "Connection failed: the host name could not be resolved."
# Pruning runs between deliveries, at most this many seconds at a time.
PRUNE_SLICE = 1.0

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


def backoff_delay(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt.

    Exponential (base * 2^(attempts-1), capped) with jitter: a random point in
    the upper half, so receivers coming back up are not hit by every retry at once.
    """
    ceiling = min(settings.EVENT_DELIVERY_BACKOFF_MAX, settings.EVENT_DELIVERY_BACKOFF_BASE * 2 ** (attempts - 1))
    return random.uniform(ceiling / 2, ceiling)


def parse_gateway_url() -> Destination | None:
    """GATEWAY_URL as the HTTP client reads it; None when it is not a valid URL."""
    try:
        return parse_operator_url(settings.GATEWAY_URL)
    except InvalidURL:
        return None


LaneKey = tuple[str, Any]  # (EventDelivery destination, webhook endpoint id or None for the gateway)

# A fast lane claims this many deliveries per sender thread: enough to cover several round trips
# between two claims. A slow lane (its last request took SLOW_SECONDS or more) claims only what it
# can send at once, so its claims do not sit in memory while their leases run down.
QUEUE_DEPTH = 64
SLOW_SECONDS = 1.0
# Outcomes are gathered for at most this long before they are recorded together.
RECORD_EVERY = 0.01
# How often the list of destinations with pending deliveries is read again while work is in flight.
DESTINATIONS_EVERY = 1.0
# A lane idle this long gives its threads back (run()).
LANE_IDLE_SECONDS = 60.0
# Idle keep-alive connections kept per (address, port, TLS name): several lanes may share a host.
POOL_SIZE = 32
# A claimed delivery is sent only with at least two timeouts (connect, read) and this left on its lease.
LEASE_MARGIN = 0.5


def check_configuration() -> None:
    """Refuse to run with a gateway URL but no signing secret, or with a lease too short for one attempt."""
    if settings.GATEWAY_URL and not settings.GATEWAY_SIGNING_SECRET:
        raise ImproperlyConfigured("GATEWAY_URL is set but GATEWAY_SIGNING_SECRET is empty; events are always signed.")
    if settings.EVENT_DELIVERY_LEASE < 2 * settings.EVENT_DELIVERY_TIMEOUT + 2 * LEASE_MARGIN:
        raise ImproperlyConfigured(
            "EVENT_DELIVERY_LEASE must be longer than two EVENT_DELIVERY_TIMEOUTs (connect and read) plus a second."
        )


@dataclasses.dataclass(frozen=True)
class _Job:
    """A claimed delivery, ready for a sender thread (which never touches the database)."""

    delivery_id: int
    claim: datetime.datetime  # the lease this worker wrote: its outcome is recorded only while the lease holds
    lane: LaneKey
    attempts: int  # before this one
    destination: Destination
    secret: str
    body: bytes
    event_id: str
    event_type: str
    refuse_private: bool
    claimed_at: float  # time.monotonic()


@dataclasses.dataclass(frozen=True)
class _Result:
    delivery_id: int
    claim: datetime.datetime
    attempts: int  # before this attempt
    outcome: Outcome | None  # None: not sent (stopping, or its lease ran short), given back to the queue
    lane: LaneKey | None = None  # set when a sender thread produced it
    elapsed: float = 0.0


class _Lane:
    """One destination's senders: its own threads, so a destination that hangs holds up only itself."""

    def __init__(self, width: int):
        self.width = width
        self.executor = ThreadPoolExecutor(max_workers=width, thread_name_prefix="deliver")
        self.outstanding = 0  # claimed and not yet back from a sender thread
        self.slow = False
        self.last_used = time.monotonic()

    def depth(self) -> int:
        return self.width if self.slow else self.width * QUEUE_DEPTH

    def room(self) -> int:
        return self.depth() - self.outstanding

    def wants_claim(self) -> bool:
        return self.room() >= max(1, self.depth() // 2)


def _due(now: datetime.datetime) -> QuerySet[EventDelivery]:
    earlier_pending = EventDelivery.objects.filter(
        status=EventDelivery.Status.PENDING,
        destination=OuterRef("destination"),
        event__customer_id=OuterRef("event__customer_id"),
        event_id__lt=OuterRef("event_id"),
    ).filter(
        # Same destination: the gateway (no endpoint) or the same webhook endpoint.
        Q(endpoint_id=OuterRef("endpoint_id")) | Q(endpoint__isnull=True)
    )
    return (
        EventDelivery.objects.filter(status=EventDelivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .filter(~Exists(earlier_pending))
        .select_related("event", "endpoint")
    )


def due_deliveries(now: datetime.datetime | None = None) -> QuerySet[EventDelivery]:
    """Pending deliveries whose time has come, not leased by a live worker, with nothing earlier pending there."""
    destinations = Q(destination=EventDelivery.WEBHOOK, endpoint__is_active=True)
    if gateway_enabled():
        destinations |= Q(destination=EventDelivery.GATEWAY)
    return _due(now or timezone.now()).filter(destinations).order_by("id")


def lane_due_deliveries(endpoint_id, now: datetime.datetime) -> QuerySet[EventDelivery]:
    """The due deliveries of one destination: the gateway's (`endpoint_id` None) or one webhook endpoint's.

    Ordered as the delivery_queue index (status, endpoint, id) is: with the
    first two fixed that is event order, and the planner then reads the index
    instead of walking the primary key past every delivery already sent.
    """
    if endpoint_id is None:
        due = _due(now).filter(destination=EventDelivery.GATEWAY, endpoint__isnull=True)
    else:
        due = _due(now).filter(endpoint_id=endpoint_id, endpoint__is_active=True)
    return due.order_by("status", "endpoint_id", "id")


@contextlib.contextmanager
def _commits_without_waiting_for_disk():
    """PostgreSQL: while inside, this connection's commits do not wait for their WAL to reach the disk.

    Safe for claims and outcomes: a database crash can lose the last few
    hundred milliseconds of them, and a lost claim or outcome only means the
    delivery is sent again, which at-least-once delivery allows (ordering holds:
    a customer's next event waits until this one is recorded as done). Each
    claim and each recording statement is then spared an fsync. Set back on the
    way out: the thread's connection may do other work afterwards.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO DEFAULT")
        except DatabaseError:
            pass  # the connection broke (what ended the loop): it is closed and replaced anyway


class Worker:
    """Delivers due events until told to stop: `run()` polls, `drain()` delivers what is due now.

    `concurrency` is how many requests one destination may have in flight from
    this worker (capped by EVENT_DELIVERY_MAX_IN_FLIGHT); each destination has
    its own lane of that many sender threads. The database is used only by the
    thread that calls `run()` or `drain()`. `request_stop()` is safe from a
    signal handler or another thread: it sets a flag; the requests in flight are
    finished and recorded, claimed deliveries not yet sent are given back, then
    `run()`/`drain()` return. `counts` tallies outcomes by status (and
    "retrying").
    """

    def __init__(self, *, poll_interval: float = 1.0, concurrency: int = 1):
        check_configuration()
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.poll_interval = poll_interval
        self.concurrency = concurrency
        self.lane_width = min(concurrency, max(1, settings.EVENT_DELIVERY_MAX_IN_FLIGHT))
        self.stopping = False
        # One pool per (checked address, port, TLS name): keep-alive connections are only ever
        # reused for the address that was checked for them.
        self.http = urllib3.PoolManager(num_pools=256, maxsize=POOL_SIZE, block=False)
        self.counts = {status: 0 for status in EventDelivery.Status.values}
        self.counts["retrying"] = 0
        self._lanes: dict[LaneKey, _Lane] = {}
        self._results: queue.SimpleQueue[_Result] = queue.SimpleQueue()
        self._unrecorded: list[_Result] = []
        self._destinations: list[tuple[LaneKey, WebhookEndpoint | None]] = []
        self._destinations_read_at = -math.inf
        self._claim_after = -math.inf
        self._next_prune = time.monotonic()

    def request_stop(self) -> None:
        self.stopping = True

    def drain(self) -> int:
        """Deliver what is due now (retries that fall due meanwhile included); returns how many were handled."""
        try:
            return self._work(drain=True)
        finally:
            self._close_lanes()

    def run(self) -> None:
        """Deliver until stopped; prune old events every EVENT_PRUNE_INTERVAL.

        Database errors (a restart, a dropped connection) are logged and waited out.
        """
        try:
            while not self.stopping:
                try:
                    handled = self._work(drain=False)
                    self._maybe_prune()
                except Exception:
                    logger.exception("Event delivery failed unexpectedly; retrying after a pause")
                    connection.close()
                    handled = 0
                if not handled:
                    self._sleep(self.poll_interval)
            self._work(drain=True)  # stopping: waits for the requests in flight and records them
        finally:
            self._close_lanes()
            self.http.clear()

    def _sleep(self, seconds: float) -> None:
        # Short naps instead of one long sleep or Event.wait: a signal handler
        # can only set a flag safely, and the flag is looked at between naps.
        deadline = time.monotonic() + seconds
        while not self.stopping and (remaining := deadline - time.monotonic()) > 0:
            time.sleep(min(remaining, 0.1))

    # --- the loop: claim, hand to the lanes, record (the calling thread) ------------------------------------

    @scopes_disabled()
    def _work(self, *, drain: bool) -> int:
        """Claim, send and record until nothing is due and nothing is in flight (or stopping); returns how many.

        The worker serves every merchant: it runs outside tenant scoping (core/scoping.py).
        """
        with _commits_without_waiting_for_disk():
            return self._loop(drain=drain)

    def _loop(self, *, drain: bool) -> int:
        handled = 0
        while True:
            self._collect()
            handled += self._record(self._unrecorded)
            self._unrecorded = []
            in_flight = self._in_flight()
            if self.stopping:
                if not in_flight:
                    return handled
                continue
            if in_flight and time.monotonic() < self._claim_after:
                continue
            claimed = self._claim_round(fresh=not in_flight)
            if claimed:
                self._claim_after = -math.inf
            elif not in_flight and not self._unrecorded:
                return handled
            else:
                # Nothing due while requests are out: look again when one comes back, or after a pause.
                self._claim_after = time.monotonic() + min(self.poll_interval, 0.5)
            if not drain:
                self._reap_lanes()
                self._maybe_prune()

    def _in_flight(self) -> int:
        return sum(lane.outstanding for lane in self._lanes.values())

    def _collect(self) -> None:
        """Gather the outcomes that came back from the lanes, after a pause of RECORD_EVERY while any are out.

        One nap and then whatever has arrived, rather than a wake-up per outcome: the senders keep the GIL.
        """
        if self._in_flight():
            time.sleep(RECORD_EVERY)
        while True:
            try:
                result = self._results.get_nowait()
            except queue.Empty:
                return
            lane = self._lanes[result.lane]
            lane.outstanding -= 1
            lane.last_used = time.monotonic()
            if result.outcome is not None:
                lane.slow = result.elapsed >= SLOW_SECONDS
            self._unrecorded.append(result)
            self._claim_after = -math.inf  # a finished delivery may have made its customer's next one due

    def _claim_round(self, *, fresh: bool) -> int:
        if fresh or time.monotonic() - self._destinations_read_at >= DESTINATIONS_EVERY:
            self._destinations = self._read_destinations()
            self._destinations_read_at = time.monotonic()
        claimed = 0
        for key, endpoint in self._destinations:
            lane = self._lanes.get(key) or self._lanes.setdefault(key, _Lane(self.lane_width))
            if lane.wants_claim():
                claimed += self._claim(key, endpoint, lane, min(lane.room(), settings.EVENT_DELIVERY_BATCH_SIZE))
        return claimed

    @staticmethod
    def _read_destinations() -> list[tuple[LaneKey, WebhookEndpoint | None]]:
        destinations: list[tuple[LaneKey, WebhookEndpoint | None]] = []
        if gateway_enabled():
            destinations.append(((EventDelivery.GATEWAY, None), None))
        destinations += [((EventDelivery.WEBHOOK, endpoint.pk), endpoint) for endpoint in endpoints_with_pending()]
        return destinations

    def _claim(self, key: LaneKey, endpoint: WebhookEndpoint | None, lane: _Lane, limit: int) -> int:
        """Lease up to `limit` due deliveries of one destination, then hand them to its lane; how many."""
        now = timezone.now()
        due = lane_due_deliveries(None if endpoint is None else endpoint.pk, now)
        claim = now + datetime.timedelta(seconds=settings.EVENT_DELIVERY_LEASE)
        if connection.vendor == "postgresql":
            deliveries = claim_deliveries(due, claim=claim, limit=limit)
            for delivery in deliveries:
                delivery.endpoint = endpoint
        else:
            # SQLite: the transaction takes the write lock at its start (IMMEDIATE), so claims go one at a time.
            with transaction.atomic():
                deliveries = list(due[:limit])
                EventDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(claimed_until=claim)
        if not deliveries:
            return 0
        claimed_at = time.monotonic()
        gateway = parse_gateway_url() if endpoint is None else None
        for delivery in deliveries:
            job_or_result = self._prepare(delivery, claim, key, claimed_at, gateway)
            if isinstance(job_or_result, _Result):
                self._unrecorded.append(job_or_result)
            else:
                lane.outstanding += 1
                lane.executor.submit(self._send_job, job_or_result, lane)
        return len(deliveries)

    def _prepare(
        self, delivery: EventDelivery, claim: datetime.datetime, key: LaneKey, claimed_at: float, gateway
    ) -> "_Job | _Result":
        """The request for a claimed delivery, or its outcome when it is not sent (erased, superseded, bad URL)."""
        event = delivery.event

        def result(**outcome) -> _Result:
            return _Result(delivery.pk, claim, delivery.attempts, Outcome(ok=False, **outcome))

        if is_erased(event):
            return result(skipped=True, error=ERASED_NOTE)
        if self._retried(delivery) and delivery_is_superseded(delivery=delivery):
            # Queued again by hand (delivery_retry) while a later event of the customer was being
            # written: sending this one after it would put the receiver back in the past.
            return result(skipped=True, error=SUPERSEDED_NOTE)
        if delivery.destination == EventDelivery.GATEWAY:
            if gateway is None:
                return result(error="Request failed: GATEWAY_URL is not a valid URL.")
            destination, secret, payload = gateway, settings.GATEWAY_SIGNING_SECRET, gateway_payload(event)
            refuse_private = False  # the operator's own choice
        else:
            try:
                destination = parse_webhook_url(delivery.endpoint.url)
            except InvalidURL:
                return result(error=INVALID_URL_NOTE)
            secret, payload = delivery.endpoint.secret, webhook_payload(event)
            refuse_private = not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS
        return _Job(
            delivery_id=delivery.pk,
            claim=claim,
            lane=key,
            attempts=delivery.attempts,
            destination=destination,
            secret=secret,
            body=encode(payload),
            event_id=str(event.event_id),
            event_type=event.type,
            refuse_private=refuse_private,
            claimed_at=claimed_at,
        )

    @staticmethod
    def _retried(delivery: EventDelivery) -> bool:
        """Queued again by delivery_retry: attempted before, and its attempts counted anew."""
        return delivery.attempts == 0 and delivery.last_attempt_at is not None

    # --- the lanes' sender threads: HTTP only, no database -----------------------------------------------

    def _send_job(self, job: _Job, lane: _Lane) -> None:
        started = time.monotonic()
        outcome = None
        try:
            lease_left = (job.claim - timezone.now()).total_seconds()
            went_slow = lane.slow and started - job.claimed_at >= SLOW_SECONDS
            # Not sent, and given back: when stopping, when the lease could run out during the attempt,
            # or when the lane turned slow while this waited (it would wait behind the slow requests).
            if not self.stopping and not went_slow and lease_left >= 2 * settings.EVENT_DELIVERY_TIMEOUT + LEASE_MARGIN:
                outcome = self._send(job)
        except Exception:
            logger.exception("Sending delivery %s failed unexpectedly; it is given back to the queue", job.delivery_id)
            outcome = None
        finally:
            elapsed = time.monotonic() - started
            self._results.put(_Result(job.delivery_id, job.claim, job.attempts, outcome, job.lane, elapsed))

    def _send(self, job: _Job) -> Outcome:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Vault-Event-Id": job.event_id,
            "Vault-Event-Type": job.event_type,
            "Vault-Timestamp": str(timestamp),
            "Vault-Signature": signature_header(secret=job.secret, timestamp=timestamp, body=job.body),
            "Vault-Delivery-Attempt": str(job.attempts + 1),
        }
        return self.post(job.destination, job.body, headers, refuse_private=job.refuse_private)

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

    # --- recording, in batches (the calling thread) ------------------------------------------------------

    def _record(self, results: list[_Result]) -> int:
        """Save outcomes: successes and skips in one statement per kind, failures one by one; how many.

        Each row is written only while the claim that sent it still holds it
        (`claimed_until` unchanged): a worker whose lease ran out leaves the row
        to the worker that claimed it since. A row that is gone (its endpoint was
        removed meanwhile) simply has nothing left to record.
        """
        if not results:
            return 0
        now = timezone.now()
        succeeded: dict[tuple, list[int]] = defaultdict(list)
        skipped: dict[tuple, list[int]] = defaultdict(list)
        given_back: dict[datetime.datetime, list[int]] = defaultdict(list)
        failed: list[_Result] = []
        for result in results:
            outcome = result.outcome
            if outcome is None:
                given_back[result.claim].append(result.delivery_id)
            elif outcome.skipped:
                skipped[(result.claim, outcome.error)].append(result.delivery_id)
            elif outcome.ok:
                succeeded[(result.claim, outcome.status_code)].append(result.delivery_id)
            else:
                failed.append(result)
        rows = EventDelivery.objects
        # Each statement on its own (autocommit): no outcome depends on another being saved with it.
        for (claim, status_code), ids in succeeded.items():
            rows.filter(pk__in=ids, claimed_until=claim).update(
                status=EventDelivery.Status.SUCCEEDED,
                attempts=F("attempts") + 1,
                last_attempt_at=now,
                last_status_code=status_code,
                last_error="",
                delivered_at=now,
                claimed_until=None,
            )
            self.counts[EventDelivery.Status.SUCCEEDED] += len(ids)
        for (claim, error), ids in skipped.items():
            rows.filter(pk__in=ids, claimed_until=claim).update(
                status=EventDelivery.Status.SKIPPED, last_error=error, claimed_until=None
            )
            self.counts[EventDelivery.Status.SKIPPED] += len(ids)
        for result in failed:
            self._record_failure(result, now)
        for claim, ids in given_back.items():
            rows.filter(pk__in=ids, claimed_until=claim).update(claimed_until=None)
        return len(results) - sum(len(ids) for ids in given_back.values())

    def _record_failure(self, result: _Result, now: datetime.datetime) -> None:
        outcome = result.outcome
        attempts = result.attempts + 1
        fields = {
            "attempts": attempts,
            "last_attempt_at": now,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error[:MAX_ERROR_LENGTH],
            "claimed_until": None,
        }
        if attempts >= settings.EVENT_DELIVERY_MAX_ATTEMPTS:
            fields["status"] = EventDelivery.Status.FAILED
            self.counts[EventDelivery.Status.FAILED] += 1
            logger.warning("Gave up on delivery %s after %s attempts: %s", result.delivery_id, attempts, outcome.error)
        else:
            fields["next_attempt_at"] = now + datetime.timedelta(seconds=backoff_delay(attempts))
            self.counts["retrying"] += 1
            logger.info("Delivery %s attempt %s failed (%s); retrying", result.delivery_id, attempts, outcome.error)
        EventDelivery.objects.filter(pk=result.delivery_id, claimed_until=result.claim).update(**fields)

    # --- housekeeping ------------------------------------------------------------------------------------

    def _maybe_prune(self) -> None:
        """Prune old events and deliveries every EVENT_PRUNE_INTERVAL, a second's worth at a time."""
        if settings.EVENT_PRUNE_INTERVAL <= 0 or time.monotonic() < self._next_prune:
            return
        pruned = events_prune(time_budget=PRUNE_SLICE)
        # More left: the next slice after the deliveries of a moment, else the next interval.
        self._next_prune = time.monotonic() + (PRUNE_SLICE if pruned.more else settings.EVENT_PRUNE_INTERVAL)
        if pruned.deliveries or pruned.events:
            logger.info("Pruned %s deliveries and %s events", pruned.deliveries, pruned.events)

    def _reap_lanes(self) -> None:
        idle_since = time.monotonic() - LANE_IDLE_SECONDS
        for key, lane in list(self._lanes.items()):
            if not lane.outstanding and lane.last_used < idle_since:
                lane.executor.shutdown(wait=False)
                del self._lanes[key]

    def _close_lanes(self) -> None:
        for lane in self._lanes.values():
            lane.executor.shutdown(wait=True)
        self._lanes.clear()
