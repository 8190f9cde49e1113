"""The delivery benchmark: how fast `manage.py deliver_events` drains a backlog, and how fairly.

    python bench/delivery.py            # full run: 100,000 gateway events, then a 1,000,000-row import
    python bench/delivery.py --smoke    # seconds on tiny data, to keep this script from rotting

It creates and migrates its own PostgreSQL database (bench_delivery, or bench_delivery_smoke),
starts a fast local receiver (an asyncio HTTP server in a process of its own: `--serve PORT`),
measures the receiver alone with wrk, then:

1. seeds a backlog of gateway events through the outbox's bulk path (`event_rows(...).write_many()`,
   what a CSV import writes) and drains it with `deliver_events --once`: one process at several
   `--concurrency` values, then two processes; the same backlog is put back to pending before each;
2. the fairness case: one merchant's webhook endpoint that never answers (EVENT_DELIVERY_TIMEOUT
   10 s) next to another merchant's fast one; the fast endpoint's rate with the hanging one beside
   it, against its rate alone;
3. an import end to end: `import_customers` of a CSV (bench/make_csv.py) while a `deliver_events`
   worker runs, from the start of the import until the last gateway delivery succeeded.

Rates are taken from the database: deliveries divided by the time from the first to the last
`delivered_at` (process start-up excluded); "wall" is the command's whole run. Prints one table.
Needs PostgreSQL and wrk (`apt-get install wrk`).
"""

import argparse
import asyncio
import contextlib
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.make_csv import write_customers  # noqa: E402

SECRET = "bench-delivery-secret"  # noqa: S105 (a local receiver that checks nothing)


@dataclasses.dataclass(frozen=True)
class Profile:
    database: str
    events: int  # the gateway backlog
    fairness_events: int  # events of each of the two merchants in the fairness case
    import_rows: int
    concurrency: tuple[int, ...]  # one process, at each of these
    processes: tuple[tuple[int, int], ...]  # (processes, concurrency each)


FULL = Profile("bench_delivery", 100_000, 20_000, 1_000_000, (1, 2, 4, 8), ((2, 4), (2, 8)))
SMOKE = Profile("bench_delivery_smoke", 300, 100, 300, (1, 4), ((2, 4),))


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- the receiver: a minimal HTTP/1.1 server (keep-alive, Content-Length bodies) -------------------------


class _Receiver(asyncio.Protocol):
    """Answers 200 at once, or never on a path starting with /hang (the client times out)."""

    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            if head.split(" ", 2)[1].startswith("/hang"):
                continue  # never answered
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")


def serve(port: int) -> None:
    async def main():
        server = await asyncio.get_running_loop().create_server(_Receiver, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start_receiver(port: int) -> subprocess.Popen:
    receiver = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], cwd=ROOT)
    for _ in range(100):
        with contextlib.suppress(OSError), __import__("socket").create_connection(("127.0.0.1", port), 0.2):
            return receiver
        time.sleep(0.05)
    raise SystemExit("the receiver did not start")


def receiver_rate(port: int, seconds: int) -> float:
    """Requests/s the receiver answers on its own: wrk POSTing a gateway-sized body, 2 threads, 32 connections."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write('wrk.method = "POST"\nwrk.body = string.rep("x", 200)\n')
        script.write('wrk.headers["Content-Type"] = "application/json"\n')
    try:
        out = subprocess.run(
            ["wrk", "-t2", "-c32", f"-d{seconds}s", "-s", script.name, f"http://127.0.0.1:{port}/events"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    return float(next(line for line in out.splitlines() if line.startswith("Requests/sec")).split()[1])


# --- the database -----------------------------------------------------------------------------------------


def database_url(base: str, name: str) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(base)._replace(path=f"/{name}"))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name)))
        conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))


def manage(env: dict[str, str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, **kwargs)


def seed_events(merchant, count: int) -> None:
    """`count` customer.created events of `merchant`, with their deliveries, in batches of 10,000."""
    import uuid

    from django.db import transaction
    from django.utils import timezone

    from events.services import event_rows

    for start in range(0, count, 10_000):
        subjects = []
        for i in range(start, min(count, start + 10_000)):
            customer_id = uuid.uuid4()
            snapshot = {
                "customer_id": str(customer_id),
                "merchant_id": str(merchant.pk),
                "firstname": "Ada",
                "lastname": f"Lovelace {i}",
                "email": f"c{i}@example.com",
                "company": None,
                "address_country": "GBR",
            }
            subjects.append((customer_id, snapshot))
        with transaction.atomic():
            rows = event_rows(merchant=merchant, type="customer.created", subjects=subjects, now=timezone.now())
            rows.write_many()


def reset_deliveries(where: str = "TRUE") -> None:
    """Every delivery (matching `where`) pending again, due now, as if never attempted; then VACUUM ANALYZE."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE customers_eventdelivery SET status = 'pending', attempts = 0, claimed_until = NULL, "  # noqa: S608
            f"delivered_at = NULL, last_attempt_at = NULL, last_status_code = NULL, last_error = '', "
            f"next_attempt_at = now() WHERE {where}"
        )
    vacuum()


def vacuum() -> None:
    import psycopg
    from django.db import connection

    s = connection.settings_dict
    with psycopg.connect(dbname=s["NAME"], user=s["USER"], host=s["HOST"], port=s["PORT"], autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE customers_eventdelivery")
        conn.execute("VACUUM ANALYZE customers_customerevent")


def delivered(where: str = "TRUE") -> tuple[int, float]:
    """(deliveries succeeded, seconds from the first to the last delivered_at) of those matching `where`."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), EXTRACT(EPOCH FROM max(delivered_at) - min(delivered_at)) "  # noqa: S608
            f"FROM customers_eventdelivery WHERE status = 'succeeded' AND {where}"
        )
        count, span = cursor.fetchone()
    return count, float(span or 0)


def pending(where: str = "TRUE") -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM customers_eventdelivery WHERE status = 'pending' AND {where}")  # noqa: S608
        return cursor.fetchone()[0]


# --- the scenarios ----------------------------------------------------------------------------------------


@dataclasses.dataclass
class Row:
    name: str
    events: int
    seconds: float  # first to last delivered_at
    wall: float  # the command(s), start to exit

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def drain(env: dict[str, str], processes: int, concurrency: int, *extra: str) -> float:
    """Run `processes` x `deliver_events --once --concurrency N` at once; seconds until the last exited."""
    started = time.monotonic()
    workers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "deliver_events", "--once", "--concurrency", str(concurrency), *extra],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(processes)
    ]
    for worker in workers:
        if worker.wait() != 0:
            raise SystemExit(f"deliver_events exited with {worker.returncode}")
    return time.monotonic() - started


def backlog_scenarios(env, profile: Profile, merchant) -> list[Row]:
    rows = []
    gateway = "destination = 'gateway'"
    for processes, concurrency in [(1, c) for c in profile.concurrency] + list(profile.processes):
        reset_deliveries()
        name = f"{profile.events:,} gateway events, {processes} process(es) x --concurrency {concurrency}"
        log(name)
        wall = drain(env, processes, concurrency)
        count, span = delivered(gateway)
        if count != profile.events or pending(gateway):
            raise SystemExit(f"{name}: {count} delivered, {pending(gateway)} pending")
        rows.append(Row(name, count, span, wall))
    return rows


def fairness_scenario(env, profile: Profile, port: int, concurrency: int) -> list[Row]:
    """A fast endpoint alone, then the same beside an endpoint that never answers (10 s timeout)."""
    from django.db import connection

    from events.models import WebhookEndpoint
    from merchants.services import merchant_create

    fast_merchant, slow_merchant = merchant_create(name="Fast Ltd"), merchant_create(name="Hanging Ltd")
    fast = WebhookEndpoint.objects.create(
        merchant=fast_merchant, url=f"http://127.0.0.1:{port}/fast", enabled_events=["customer.created"], secret=SECRET
    )
    WebhookEndpoint.objects.create(
        merchant=slow_merchant, url=f"http://127.0.0.1:{port}/hang", enabled_events=["customer.created"], secret=SECRET
    )
    seed_events(fast_merchant, profile.fairness_events)
    with connection.cursor() as cursor:  # the gateway has been measured: only the two endpoints here
        cursor.execute("UPDATE customers_eventdelivery SET status = 'succeeded' WHERE status = 'pending'")
    fast_rows = f"endpoint_id = '{fast.pk}'"
    env = {**env, "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "1", "EVENT_DELIVERY_TIMEOUT": "10", "GATEWAY_URL": ""}
    out = []
    for hanging in (False, True):
        if hanging:
            seed_events(slow_merchant, profile.fairness_events)
            with connection.cursor() as cursor:  # only the hanging endpoint's deliveries of that merchant
                cursor.execute(
                    "UPDATE customers_eventdelivery SET status = 'succeeded' WHERE status = 'pending' "
                    "AND destination = 'gateway'"
                )
        reset_deliveries(fast_rows)
        name = f"fast endpoint, {profile.fairness_events:,} events, --concurrency {concurrency}" + (
            ", beside an endpoint that never answers" if hanging else ", alone"
        )
        log(name)
        # Not --once: the hanging endpoint's deliveries time out and fall due again, so there is always work.
        # The worker runs until the fast endpoint has everything, then is stopped (SIGTERM).
        started = time.monotonic()
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "deliver_events", "--concurrency", str(concurrency)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while pending(fast_rows):
                time.sleep(0.1)
            wall = time.monotonic() - started
        finally:
            worker.terminate()
            worker.wait()
        count, span = delivered(fast_rows)
        if count != profile.fairness_events:
            raise SystemExit(f"{name}: {count} delivered")
        out.append(Row(name, count, span, wall))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE customers_eventdelivery SET status = 'succeeded' WHERE status = 'pending'")
    return out


def import_scenario(env, profile: Profile, concurrency: int) -> Row:
    """import_customers of a CSV while a worker runs: from the import's start to the last gateway delivery."""
    from merchants.services import merchant_create

    merchant = merchant_create(name="Import Ltd")
    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", encoding="utf-8", delete=False) as out:
        write_customers(out, profile.import_rows, "import.example")
    mine = f"event_id IN (SELECT id FROM customers_customerevent WHERE merchant_id = '{merchant.pk}')"  # noqa: S608
    name = f"import of {profile.import_rows:,} rows to the gateway, end to end (--concurrency {concurrency})"
    log(name)
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "deliver_events", "--concurrency", str(concurrency), "--poll-interval", "0.2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        started = time.monotonic()
        manage(env, "import_customers", out.name, "--merchant", str(merchant.pk), stdout=subprocess.DEVNULL)
        imported = time.monotonic() - started
        log(f"imported in {imported:.1f} s; waiting for the gateway deliveries")
        while pending(f"destination = 'gateway' AND {mine}"):
            time.sleep(0.2)
        wall = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait()
        os.unlink(out.name)
    count, _ = delivered(f"destination = 'gateway' AND {mine}")
    if count != profile.import_rows:
        raise SystemExit(f"{name}: {count} delivered")
    return Row(name + f" (import alone: {imported:.1f} s)", count, wall, wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny data, seconds: keeps this script working")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--port", type=int, default=8700, help="the receiver's port on 127.0.0.1")
    parser.add_argument("--import-rows", type=int, help="rows of the end-to-end import (default 1,000,000)")
    parser.add_argument("--events", type=int, help="the gateway backlog (default 100,000)")
    parser.add_argument("--no-import", action="store_true", help="leave out the end-to-end import")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the receiver process
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    profile = SMOKE if args.smoke else FULL
    if args.import_rows:
        profile = dataclasses.replace(profile, import_rows=args.import_rows)
    if args.events:
        profile = dataclasses.replace(profile, events=args.events)
    url = database_url(args.postgres, profile.database)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.django.base",
        "DATABASE_URL": url,
        "CONN_MAX_AGE": "600",
        "GATEWAY_URL": f"http://127.0.0.1:{args.port}/gateway",
        "GATEWAY_SIGNING_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "GATEWAY_URL")})
    log(f"database {profile.database}: created afresh and migrated")
    recreate_database(url)
    manage(env, "migrate", "-v0")
    import django

    django.setup()
    from django_scopes import scopes_disabled

    from merchants.services import merchant_create

    receiver = start_receiver(args.port)
    try:
        receiver_rps = receiver_rate(args.port, 2 if args.smoke else 5)
        log(f"the receiver alone: {receiver_rps:,.0f} requests/s")
        with scopes_disabled():
            merchant = merchant_create(name="Gateway Ltd")
            log(f"seeding {profile.events:,} gateway events")
            seed_events(merchant, profile.events)
            rows = backlog_scenarios(env, profile, merchant)
            rows += fairness_scenario(env, profile, args.port, concurrency=4)
            if not args.no_import:
                rows.append(import_scenario(env, profile, concurrency=4))
    finally:
        receiver.terminate()
        receiver.wait()
    print(f"\nReceiver alone (wrk, 2 threads, 32 connections): {receiver_rps:,.0f} requests/s\n")
    print("| scenario | deliveries | seconds | events/s | wall s |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row.name} | {row.events:,} | {row.seconds:.1f} | {row.rate:,.0f} | {row.wall:.1f} |")


if __name__ == "__main__":
    main()
