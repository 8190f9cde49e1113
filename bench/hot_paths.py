"""The three reads written by hand, against the same reads through the ORM: CPU per call, in process.

    python bench/hot_paths.py                      # PostgreSQL database bench_hot (created and migrated)
    python bench/hot_paths.py --calls 5000

Each hand-written read (merchants/sql.py, customers/sql.py, events/sql.py) stays only while
it saves more than 10% of a headline figure (a request's CPU); this prints what it saves. The
ORM queries are what the code would run without them; customers/tests/test_hand_written_sql.py checks
both give the same answer. Prepared statements are on, as in production.
"""

import argparse
import datetime
import hashlib
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/bench_hot", help="database URL")
    parser.add_argument("--calls", type=int, default=3000, help="calls per read and way, per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from bench.run import ensure_database

    ensure_database(args.postgres)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.django.base", "DATABASE_URL": args.postgres}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    os.environ.update({k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")})
    import django

    django.setup()
    from django.db.models import Prefetch
    from django.utils import timezone
    from django_scopes import scopes_disabled
    from oauth2_provider.models import get_access_token_model, set_token_value

    from customers.models import Customer
    from customers.services import customer_create
    from customers.sql import customer_with_custom_fields
    from events.models import WebhookEndpoint
    from events.sql import active_endpoint_events
    from merchants.models import Merchant
    from merchants.services import merchant_create, oauth_client_create
    from merchants.sql import access_token_lookup

    AccessToken = get_access_token_model()
    with scopes_disabled():
        merchant = Merchant.objects.filter(name="Hot paths").first() or merchant_create(name="Hot paths")
        while Customer.objects.filter(merchant=merchant).count() < 200:
            fields = [{"name": f"f{i}", "type": "integer", "value": i} for i in range(3)]
            customer_create(merchant=merchant, data={"firstname": "Ada", "options": {"custom_fields": fields}})
        if not WebhookEndpoint.objects.filter(merchant=merchant).exists():
            WebhookEndpoint.objects.create(
                merchant=merchant,
                url="https://hooks.example.com/",
                enabled_events=["customer.created"],
                secret=secrets.token_urlsafe(16),
            )
        raw = secrets.token_urlsafe(32)
        token = AccessToken(
            application=oauth_client_create(merchant=merchant, name="hot paths").client,
            expires=timezone.now() + datetime.timedelta(hours=1),
            scope="customers:read customers:write",
        )
        set_token_value(token, raw)
        token.save()
        ids = list(Customer.objects.filter(merchant=merchant).values_list("pk", flat=True)[:200])

        reads = {
            "token of a request": (
                lambda _: access_token_lookup(token=raw),
                lambda _: (
                    AccessToken.objects.select_related("application__merchant")
                    .filter(token_checksum=hashlib.sha256(raw.encode()).hexdigest())
                    .first()
                ),
            ),
            "customer with custom fields": (
                lambda pk: customer_with_custom_fields(merchant_id=merchant.pk, customer_id=pk),
                lambda pk: (
                    Customer.objects.filter(merchant=merchant)
                    .prefetch_related(Prefetch("custom_fields", to_attr="loaded_custom_fields"))
                    .get(pk=pk)
                ),
            ),
            "webhook endpoints of a change": (
                lambda _: active_endpoint_events(merchant_id=merchant.pk),
                lambda _: list(
                    WebhookEndpoint.objects.filter(merchant=merchant, is_active=True).values_list(
                        "id", "enabled_events"
                    )
                ),
            ),
        }
        results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in reads}
        for _round in range(args.rounds):
            for name, ways in reads.items():
                for way, call in enumerate(ways):
                    for pk in ids[:50]:  # warm up: prepared statements, caches
                        call(pk)
                    started = time.process_time()
                    for i in range(args.calls):
                        call(ids[i % len(ids)])
                    results[name][way].append((time.process_time() - started) / args.calls * 1e6)

    print(f"| read ({args.calls:,} calls x {args.rounds} rounds) | hand-written, us CPU | ORM, us CPU | saved |")
    print("|---|---:|---:|---:|")
    for name, (hand, orm) in results.items():
        hand_us, orm_us = statistics.median(hand), statistics.median(orm)
        print(f"| {name} | {hand_us:,.0f} | {orm_us:,.0f} | {orm_us - hand_us:,.0f} us |")


if __name__ == "__main__":
    main()
