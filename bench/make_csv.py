"""Write a CSV of synthetic customers for import_customers (deterministic, so the load scripts can guess emails).

Row i has email c{i}@{domain}; the load scripts look customers up by that address.
"""

import argparse
import csv
import random
import sys

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Dennis"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Ritchie"]
COUNTRIES = ["USA", "GBR", "DEU", "FRA", "NLD", "ESP", "ITA", "SWE", "POL", "CAN"]
TIERS = ["bronze", "silver", "gold", "platinum"]


def write_customers(out, rows: int, domain: str, seed: int = 1, start: int = 0) -> None:
    """Rows `start` to `rows - 1` (so an interrupted seed can be finished)."""
    rng = random.Random(seed + start)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["firstname", "lastname", "email", "company", "address_country", "tier", "points:integer"])
    for i in range(start, rows):
        writer.writerow(
            [
                rng.choice(FIRST),
                rng.choice(LAST),
                f"c{i}@{domain}",
                f"Company {i % 997}" if i % 3 else "",
                rng.choice(COUNTRIES),
                rng.choice(TIERS),
                str(rng.randrange(100000)) if i % 2 else "",
            ]
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--domain", required=True, help="email domain, e.g. m1m.example")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0, help="first row index (default 0)")
    parser.add_argument("-o", "--output", help="file to write (default: stdout)")
    args = parser.parse_args()
    if args.output:
        with open(args.output, "w", newline="", encoding="utf-8") as out:
            write_customers(out, args.rows, args.domain, args.seed, args.start)
    else:
        write_customers(sys.stdout, args.rows, args.domain, args.seed, args.start)


if __name__ == "__main__":
    main()
