"""The benchmark: production gunicorn on PostgreSQL, loaded by wrk, one table of results.

    python bench/run.py            # full run: 1,000 and 1,000,000 customers (seeding once takes minutes)
    python bench/run.py --smoke    # a few seconds on tiny data, to keep this script from rotting

It creates and migrates its own database (default postgres://postgres@127.0.0.1:5432/bench,
or bench_smoke with --smoke, dropped and made anew each time), seeds it with `manage.py import_customers` only where the
data is missing, starts `gunicorn -c gunicorn.conf.py config.wsgi` with the production
settings on 127.0.0.1, drives each scenario with wrk from a separate process at a fixed
concurrency, stops the server and prints one table. Absolute numbers drift on shared
machines, so every figure is also given as a ratio to /healthz measured in the same run.
Needs: PostgreSQL and wrk (`apt-get install wrk`).
"""

import argparse
import base64
import dataclasses
import functools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA_DIR = ROOT / "bench" / "wrk"
sys.path.insert(0, str(ROOT))

from bench.make_csv import write_customers  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Profile:
    database: str
    small: int  # customers of the "1k" merchant
    big: int  # customers of the "1M" merchant
    others: tuple[int, ...]  # customers of the other merchants in the table
    duration: int  # seconds per scenario
    warmup: int  # seconds per scenario, not measured


FULL = Profile(database="bench", small=1_000, big=1_000_000, others=(50_000, 50_000, 50_000), duration=15, warmup=3)
SMOKE = Profile(database="bench_smoke", small=100, big=1_000, others=(100,), duration=2, warmup=1)


@dataclasses.dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    app_cpu_ms: float = 0.0  # CPU time of the gunicorn workers per request
    db_cpu_ms: float = 0.0  # CPU time of the PostgreSQL backends of the bench database per request


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def database_url(base: str, name: str) -> str:
    parts = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def ensure_database(url: str, *, fresh: bool = False) -> None:
    """Create the database when missing; with `fresh`, drop it first (the smoke run's tiny data, made anew)."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if fresh:
            conn.execute(
                psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg.sql.Identifier(name))
            )
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            log(f"creating database {name}")
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def seed(env: dict[str, str], name: str, count: int, domain: str):
    """The merchant called `name` with `count` customers, importing only the ones missing."""
    from customers.models import Customer
    from merchants.models import Merchant
    from merchants.services import merchant_create

    merchant = Merchant.objects.filter(name=name).first() or merchant_create(name=name)
    have = Customer.objects.filter(merchant=merchant).count()
    if have >= count:
        log(f"{name}: {have:,} customers already there")
        return merchant
    log(f"{name}: importing customers {have:,} to {count:,}")
    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", encoding="utf-8", delete=False) as out:
        write_customers(out, count, domain, start=have)
    try:
        manage(env, "import_customers", out.name, "--merchant", str(merchant.pk))
    finally:
        os.unlink(out.name)
    return merchant


def http(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def fetch_token(base: str, client_id: str, secret: str) -> tuple[str, str]:
    """(access token, HTTP Basic credentials) of a client-credentials client."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    status, body = http(
        f"{base}/o/token/",
        data=b"grant_type=client_credentials",
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    if status != 200:
        raise SystemExit(f"token request failed: {status} {body[:200]!r}")
    return json.loads(body)["access_token"], basic


def start_server(env: dict[str, str], base: str, logfile: Path) -> subprocess.Popen:
    log(f"starting gunicorn on {base} (log: {logfile})")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=logfile.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see {logfile}")
        try:
            if http(f"{base}/healthz")[0] == 200 and http(f"{base}/readyz")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"gunicorn did not become ready; see {logfile}")


def worker_rss_mb(master_pid: int) -> list[float]:
    """Resident memory of each gunicorn worker (children of the master), in MiB."""
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return []
    sizes = []
    for pid in children:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return sizes


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process so far (a process that is gone is left out)."""
    spent = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        spent[pid] = (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    return spent


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    # A process that started during the run (a new connection's backend) is counted from zero.
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def worker_pids(master_pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()]
    except OSError:
        return []


def backend_pids(url: str) -> list[int]:
    import psycopg

    name = urllib.parse.urlsplit(url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [name]
        ).fetchall()
    return [row[0] for row in rows]


def measured(run, *, master_pid: int, url: str) -> Result:
    """Run one wrk scenario and charge the CPU time the server and the database spent to its requests.

    Throughput on a shared 2-core machine drifts with the neighbours; CPU time per
    request hardly does, so it says what one server would carry on its own.
    """
    app_before = cpu_seconds(worker_pids(master_pid))
    db_before = cpu_seconds(backend_pids(url))
    result = run()
    app = cpu_spent(app_before, cpu_seconds(worker_pids(master_pid)))
    db = cpu_spent(db_before, cpu_seconds(backend_pids(url)))
    if result.requests:
        result.app_cpu_ms = 1000 * app / result.requests
        result.db_cpu_ms = 1000 * db / result.requests
    return result


def run_wrk(name: str, script: str, base: str, args, extra_env: dict[str, str], duration: int) -> Result:
    env = {**os.environ, "BENCH_LUA_DIR": str(LUA_DIR), **extra_env}
    # A scenario measured one request at a time (its latency is then the server's time) says so.
    connections = int(extra_env.get("BENCH_CONNECTIONS", args.connections))
    command = [
        "wrk",
        f"-t{min(args.wrk_threads, connections)}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA_DIR / script),
        base,
    ]
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next((x for x in output.splitlines() if x.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no result for {name}:\n{output}")
    data = json.loads(line.removeprefix("BENCH_RESULT "))
    errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts", "non_2xx"))
    return Result(
        name=name,
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
        requests=data["requests"],
    )


def merged(results: list[Result]) -> list[Result]:
    """One result per scenario name: the mean of its runs."""
    groups: dict[str, list[Result]] = {}
    for result in results:
        groups.setdefault(result.name, []).append(result)
    out = []
    for name, runs in groups.items():

        def mean(attribute: str, runs=runs) -> float:
            return sum(getattr(r, attribute) for r in runs) / len(runs)

        out.append(
            Result(
                name=name,
                rps=mean("rps"),
                p50_ms=mean("p50_ms"),
                p99_ms=mean("p99_ms"),
                errors=sum(r.errors for r in runs),
                requests=sum(r.requests for r in runs),
                app_cpu_ms=mean("app_cpu_ms"),
                db_cpu_ms=mean("db_cpu_ms"),
            )
        )
    return out


def scenario_kind(name: str, profile: Profile) -> str:
    """The scenario without its merchant's size: "search miss 1,000" -> "search miss"."""
    for size in (profile.small, profile.big):
        name = name.removesuffix(f" {size:,}")
    return name


def table(results: list[Result], floor: Result, rss: list[float], args, profile: Profile, load: str) -> str:
    header = (
        f"| scenario ({args.connections} connections, {profile.duration} s each) | req/s | p50 ms | p99 ms "
        "| req/s ÷ healthz | p50 ÷ healthz | p99 ÷ healthz | app CPU ms/req | db CPU ms/req | errors |"
    )
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r.name} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.rps / floor.rps:.3f} "
            f"| {r.p50_ms / floor.p50_ms:.1f} | {r.p99_ms / floor.p99_ms:.1f} | {r.app_cpu_ms:.2f} "
            f"| {r.db_cpu_ms:.2f} | {r.errors} |"
        )
    by_name = {r.name: r for r in results}
    notes = []
    for kind in dict.fromkeys(scenario_kind(r.name, profile) for r in results):
        small, big = by_name.get(f"{kind} {profile.small:,}"), by_name.get(f"{kind} {profile.big:,}")
        if small and big:
            cpu = (big.app_cpu_ms + big.db_cpu_ms) / max(small.app_cpu_ms + small.db_cpu_ms, 1e-9)
            notes.append(
                f"{kind}: {profile.big:,} vs {profile.small:,} customers: p50 x{big.p50_ms / small.p50_ms:.2f}, "
                f"p99 x{big.p99_ms / small.p99_ms:.2f} (target <= 1.5); CPU per request x{cpu:.2f}"
            )
    portal = by_name.get(f"portal search (1 connection) {profile.big:,}")
    if portal:
        notes.append(
            f"portal list with a search at {profile.big:,} customers, one request at a time: "
            f"p50 {portal.p50_ms:.1f} ms, p99 {portal.p99_ms:.1f} ms (target: under 100 ms of server time)"
        )
    if "create" in by_name:
        create = by_name["create"]
        notes.append(
            f"create: {create.rps / floor.rps:.3f} x healthz (target >= 0.15), p99 {create.p99_ms:.1f} ms "
            "(target <= 50)"
        )
    for name in ("create with phone and address", "create with phone and address plus reference"):
        if "create" in by_name and name in by_name:
            profiled = by_name[name]
            notes.append(
                f"{name}: {profiled.rps / by_name['create'].rps:.3f} x create's req/s"
                f"{' (target >= 0.9)' if name == 'create with phone and address' else ''}, p99 {profiled.p99_ms:.1f} ms"
            )
    if "retrieve" in by_name:
        notes.append(f"retrieve: {by_name['retrieve'].rps / floor.rps:.3f} x healthz (target >= 0.25)")
    cores = os.cpu_count() or 1
    capacity = ", ".join(
        f"{r.name} {1000 * cores / (r.app_cpu_ms + r.db_cpu_ms):,.0f}"
        for r in results
        if r.app_cpu_ms + r.db_cpu_ms > 0
    )
    notes.append(f"CPU-bound ceiling of this {cores}-core box (app + database on it, req/s): {capacity}")
    notes.append(f"load average (1 min) before / after the scenarios: {load}")
    if rss:
        notes.append(
            f"gunicorn worker RSS after the run: {', '.join(f'{x:.0f}' for x in rss)} MiB ({len(rss)} workers)"
        )
    return "\n".join(lines + [""] + [f"- {n}" for n in notes])


def search_scenarios(size: int, domain: str, *, token: str, cookie: str) -> list[tuple[str, str, dict[str, str]]]:
    """Searches of one merchant: the same kinds at 1,000 and 1,000,000 customers (bench/make_csv.py's data)."""

    def api(query: dict[str, str]) -> dict[str, str]:
        return {"BENCH_TOKEN": token, "BENCH_PATH": f"/api/v1/customers?{urllib.parse.urlencode(query)}"}

    rare = f"c{int(size * 0.777)}@{domain}"  # one customer's email
    # The generated emails are "c" and digits: each trigram of one is shared by about 1% of all rows, the
    # worst case for a trigram index. A rare surname (added by `rare_customer`) is the usual rare hit.
    return [
        (f"search rare name {size:,}", "get.lua", api({"q": RARE_SURNAME})),
        (f"search rare email {size:,}", "get.lua", api({"q": rare})),
        (f"search miss {size:,}", "get.lua", api({"q": "Lovelase"})),  # a typo: common trigrams, no match
        (f"search common {size:,}", "get.lua", api({"q": "lovelace"})),  # a tenth of the customers
        (f"search full name {size:,}", "get.lua", api({"q": "Ada Lovelace"})),  # a hundredth
        (f"search 2 letters {size:,}", "get.lua", api({"q": "ha"})),  # the start of Hamilton
        (f"search 2 letters miss {size:,}", "get.lua", api({"q": "zq"})),
        (f"company miss {size:,}", "get.lua", api({"company": "Nobody Ltd"})),
        # Every customer of every merchant has a "tier": the index starts with the merchant.
        (f"custom field miss {size:,}", "get.lua", api({"custom_fields[tier]": "diamond"})),
        (
            f"portal search (1 connection) {size:,}",
            "get.lua",
            {"BENCH_COOKIE": cookie, "BENCH_PATH": "/portal/customers/?q=Ada+Lovelace", "BENCH_CONNECTIONS": "1"},
        ),
    ]


RARE_SURNAME = "Quayle"


def rare_customer(merchant) -> None:
    """One customer with a surname no generated row has, written as any customer is (the search rare name finds)."""
    from core.scoping import merchant_scope
    from customers.models import Customer
    from customers.services import customer_create

    with merchant_scope(merchant):
        if not Customer.objects.filter(merchant=merchant, lastname=RARE_SURNAME).exists():
            customer_create(merchant=merchant, data={"firstname": "Zebulon", "lastname": RARE_SURNAME})


def portal_session_cookie(merchant) -> str:
    """A logged-in portal session of a staff member of `merchant`, as the Cookie header that carries it."""
    from django.conf import settings
    from django.test import Client

    from merchants.models import MerchantMembership
    from merchants.services import membership_add

    membership = membership_add(
        merchant=merchant, email=f"staff-{merchant.pk}@bench.example", role=MerchantMembership.Role.STAFF
    )
    client = Client()
    client.force_login(membership.user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny data, 1 s per scenario")
    parser.add_argument(
        "--postgres", default="postgres://postgres@127.0.0.1:5432", help="server URL; the database name is added"
    )
    parser.add_argument("--database", help="database name (default: bench, or bench_smoke with --smoke)")
    parser.add_argument("--port", type=int, default=8500)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--duration", type=int, help="seconds per scenario")
    parser.add_argument("--only", help="comma-separated scenario names to run (healthz always runs)")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument(
        "--settings", default="config.django.production", help="Django settings module (to compare variants)"
    )
    parser.add_argument(
        "--redis", default="redis://127.0.0.1:6379/15", help="REDIS_URL of the server's counters (production needs one)"
    )
    parser.add_argument("--worker-class", help="gunicorn worker class (default: gunicorn.conf.py's)")
    args = parser.parse_args()
    profile = SMOKE if args.smoke else FULL
    if args.duration:
        profile = dataclasses.replace(profile, duration=args.duration)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")

    url = database_url(args.postgres, args.database or profile.database)
    base = f"http://127.0.0.1:{args.port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": args.settings,
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Plain HTTP on loopback: no TLS terminator in front of this server.
        "SECURE_SSL_REDIRECT": "0",
        "REDIS_URL": args.redis,
        # Rate limiting on, as in production (every request counted in Redis), with a limit no scenario
        # reaches; and token issuance measured, not the cap on one client's live tokens (the token
        # scenario mints thousands from one client).
        "API_RATE_LIMIT": "1000000000",
        "MAX_LIVE_TOKENS_PER_CLIENT": "0",
        "LOG_LEVEL": "WARNING",
        "GUNICORN_BIND": f"127.0.0.1:{args.port}",
    }
    if args.worker_class:
        env["GUNICORN_WORKER_CLASS"] = args.worker_class
    os.environ.update(
        {k: env[k] for k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "REDIS_URL")}
    )
    # The smoke run's data takes seconds to make: made anew, it never meets a schema of an older checkout.
    ensure_database(url, fresh=args.smoke)
    log("migrating")
    manage(env, "migrate", "--noinput", "-v0")

    import django

    django.setup()
    from django_scopes import scopes_disabled

    from customers.models import Customer
    from merchants.services import oauth_client_create

    # The benchmark's own set-up reads and writes every merchant's rows, as an operator does.
    with scopes_disabled():
        small = seed(env, "Bench 1k", profile.small, "small.bench.example")
        big = seed(env, "Bench 1M", profile.big, "big.bench.example")
        for i, count in enumerate(profile.others, start=1):
            seed(env, f"Bench other {i}", count, f"other{i}.bench.example")
        writes = seed(env, "Bench writes", 0, "writes.bench.example")
        ids = list(
            Customer.objects.filter(merchant=big).order_by("?").values_list("customer_id", flat=True)[:5000]
            if profile.big > 10_000
            else Customer.objects.filter(merchant=big).values_list("customer_id", flat=True)
        )
        clients = {m: oauth_client_create(merchant=m, name="bench") for m in (small, big, writes)}
        portal_cookies = {m: portal_session_cookie(m) for m in (small, big)}
        for merchant in (small, big):
            rare_customer(merchant)
    from django.db import connections

    connections.close_all()

    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    ids_file = workdir / "ids.txt"
    ids_file.write_text("\n".join(str(i) for i in ids) + "\n")
    server = start_server(env, base, workdir / "gunicorn.log")
    try:
        tokens = {m: fetch_token(base, c.client.client_id, c.client_secret) for m, c in clients.items()}
        scenarios = [
            ("healthz", "healthz.lua", {}),
            ("create", "create.lua", {"BENCH_TOKEN": tokens[writes][0]}),
            # The same create with a phone and a postal address: what their validation costs.
            ("create with phone and address", "create_profile.lua", {"BENCH_TOKEN": tokens[writes][0]}),
            # ... and with the merchant's own reference too (a unique index, more trigrams).
            (
                "create with phone and address plus reference",
                "create_profile_reference.lua",
                {"BENCH_TOKEN": tokens[writes][0]},
            ),
            ("retrieve", "retrieve.lua", {"BENCH_TOKEN": tokens[big][0], "BENCH_IDS_FILE": str(ids_file)}),
            (f"list {profile.small:,}", "list.lua", {"BENCH_TOKEN": tokens[small][0]}),
            (f"list {profile.big:,}", "list.lua", {"BENCH_TOKEN": tokens[big][0]}),
            (
                f"lookup {profile.small:,}",
                "lookup.lua",
                {
                    "BENCH_TOKEN": tokens[small][0],
                    "BENCH_EMAIL_DOMAIN": "small.bench.example",
                    "BENCH_EMAIL_COUNT": str(profile.small),
                },
            ),
            (
                f"lookup {profile.big:,}",
                "lookup.lua",
                {
                    "BENCH_TOKEN": tokens[big][0],
                    "BENCH_EMAIL_DOMAIN": "big.bench.example",
                    "BENCH_EMAIL_COUNT": str(profile.big),
                },
            ),
            ("token (client credentials)", "token.lua", {"BENCH_BASIC": tokens[small][1]}),
        ]
        for merchant, size, domain in (
            (small, profile.small, "small.bench.example"),
            (big, profile.big, "big.bench.example"),
        ):
            scenarios += search_scenarios(size, domain, token=tokens[merchant][0], cookie=portal_cookies[merchant])
        if args.only:
            wanted = {"healthz", *(name.strip() for name in args.only.split(","))}
            scenarios = [s for s in scenarios if s[0] in wanted or scenario_kind(s[0], profile) in wanted]
        # The 1,000 / 1,000,000 pairs run again at the end in reverse order, and each figure is the
        # mean of its two runs: on a shared machine the load drifts during a run, and whichever of a
        # pair always went second would look slower.
        by_kind = {}
        for scenario in scenarios:
            by_kind.setdefault(scenario_kind(scenario[0], profile), []).append(scenario)
        # The plain create and the create with a phone and an address are such a pair too.
        creates = [s for s in scenarios if s[0] in ("create", "create with phone and address")]
        if len(creates) == 2:
            by_kind["create"] = creates
        scenarios = list(scenarios) + [s for pair in by_kind.values() if len(pair) == 2 for s in reversed(pair)]
        results = []
        load_before = os.getloadavg()[0]
        for name, script, extra in scenarios:
            if profile.warmup:
                run_wrk(name, script, base, args, extra, profile.warmup)
            scenario = functools.partial(run_wrk, name, script, base, args, extra, profile.duration)
            result = measured(scenario, master_pid=server.pid, url=url)
            log(f"{name}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms")
            results.append(result)
        rss = worker_rss_mb(server.pid)
        load = f"{load_before:.1f} / {os.getloadavg()[0]:.1f}"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    text = table(merged(results), results[0], rss, args, profile, load)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    failed = sum(r.errors for r in results)
    if failed:
        log(f"{failed} requests failed (see {workdir / 'gunicorn.log'})")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
