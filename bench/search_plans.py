"""EXPLAIN ANALYZE of each kind of search on the benchmark database (after `python bench/run.py` seeded it).

    python bench/search_plans.py [--database-url postgres://postgres@127.0.0.1:5432/bench]

Prints, for a rare term, a miss, a common term, a full name, one and two letters and a
`company=` miss, in the merchant of 1,000,000 customers: the plan PostgreSQL chose for the
first page (the API's own query, built by customers.selectors), its execution time, and
which index served it.
"""

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INDEX_USE = re.compile(r"Index (?:Only )?Scan (?:Backward )?using (\S+)|Bitmap Index Scan on (\S+)")
SEARCHES = [
    ("rare name (one customer)", {"q": "Quayle"}),
    ("rare email (one customer)", {"q": "c777777@big.bench.example"}),
    ("miss (a typo)", {"q": "Lovelase"}),
    ("common (a tenth)", {"q": "lovelace"}),
    ("full name (a hundredth)", {"q": "Ada Lovelace"}),
    ("two letters", {"q": "ha"}),
    ("two letters, miss", {"q": "zq"}),
    ("one letter", {"q": "k"}),
    ("a pasted customer_id", {"q": "00000000-0000-7000-8000-000000000000"}),
    ("company= miss", {"company": "Nobody Ltd"}),
    ("company= hit", {"company": "Company 500"}),
    ("custom field (a quarter)", {"custom_fields": (("tier", "gold"),)}),
    ("custom field miss", {"custom_fields": (("tier", "diamond"),)}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--merchant", default="Bench 1M", help="the merchant's name (default: Bench 1M)")
    parser.add_argument("--verbose", action="store_true", help="print the whole plans")
    args = parser.parse_args()
    os.environ.update({"DATABASE_URL": args.database_url, "DJANGO_SETTINGS_MODULE": "config.django.test"})

    import django

    django.setup()
    from django.db import connection

    from core.scoping import merchant_scope, scopes_disabled
    from customers.selectors import CustomerFilters, customer_queryset
    from merchants.models import Merchant

    with scopes_disabled():
        merchant = Merchant.objects.get(name=args.merchant)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    for label, filters in SEARCHES:
        with merchant_scope(merchant):
            query = customer_queryset(merchant=merchant, filters=CustomerFilters(**filters))[:21].query
        sql, params = query.get_compiler(connection=connection).as_sql()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = [row[0] for row in cursor.fetchall()]
        indexes = sorted({name for line in plan for pair in INDEX_USE.findall(line) for name in pair if name})
        time = next(line for line in plan if line.startswith("Execution Time"))
        print(f"{label:28} {time.removeprefix('Execution Time: '):>12}  {', '.join(indexes) or 'no index'}")
        if args.verbose:
            print("\n".join(f"    {line}" for line in plan))


if __name__ == "__main__":
    main()
