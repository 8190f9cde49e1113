"""Event delivery (events/): the processing gateway and merchants' webhook endpoints."""

from config.env import env

# An empty GATEWAY_URL turns gateway forwarding off; its deliveries wait, they are never dropped.
GATEWAY_URL = env.str("GATEWAY_URL", default="")
GATEWAY_SIGNING_SECRET = env.str("GATEWAY_SIGNING_SECRET", default="")
EVENT_DELIVERY_TIMEOUT = env.float("EVENT_DELIVERY_TIMEOUT", default=5.0)  # seconds per HTTP attempt
EVENT_DELIVERY_MAX_ATTEMPTS = env.int("EVENT_DELIVERY_MAX_ATTEMPTS", default=30)
EVENT_DELIVERY_BACKOFF_BASE = env.float("EVENT_DELIVERY_BACKOFF_BASE", default=10.0)  # seconds; doubles per attempt
EVENT_DELIVERY_BACKOFF_MAX = env.float("EVENT_DELIVERY_BACKOFF_MAX", default=3600.0)
# Webhook URLs may point at loopback/private/link-local addresses only when this is on (development).
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS", default=False)

# The delivery worker (events/worker.py, docs/events.md#settings).
# Deliveries one worker process keeps in flight to one destination (the gateway, or one webhook
# endpoint) when `--concurrency` is not given; each destination has its own lane of senders.
EVENT_DELIVERY_CONCURRENCY = env.int("EVENT_DELIVERY_CONCURRENCY", default=4)
# The cap: whatever --concurrency says, one destination never has more than this many deliveries in
# flight from one worker process, so a merchant's endpoint is not flooded and a slow one ties up no more.
EVENT_DELIVERY_MAX_IN_FLIGHT = env.int("EVENT_DELIVERY_MAX_IN_FLIGHT", default=8)
# Seconds a worker holds the deliveries it claimed; a worker that dies gives them up when this runs out.
# Must exceed two timeouts (connect, read) with room to spare: the worker refuses to start otherwise.
EVENT_DELIVERY_LEASE = env.float("EVENT_DELIVERY_LEASE", default=60.0)
# Most deliveries one claim (and one recording statement) takes.
EVENT_DELIVERY_BATCH_SIZE = env.int("EVENT_DELIVERY_BATCH_SIZE", default=200)

# Retention (events.services.events_prune, run by the worker): finished deliveries (succeeded, failed,
# skipped) older than this many days are deleted, and events older than EVENT_RETENTION_DAYS with no
# delivery still pending. Pending deliveries, and their events, are never pruned.
EVENT_DELIVERY_RETENTION_DAYS = env.float("EVENT_DELIVERY_RETENTION_DAYS", default=30.0)
EVENT_RETENTION_DAYS = env.float("EVENT_RETENTION_DAYS", default=30.0)
EVENT_PRUNE_INTERVAL = env.float("EVENT_PRUNE_INTERVAL", default=3600.0)  # seconds between two prunings; 0: never
EVENT_PRUNE_BATCH_SIZE = env.int("EVENT_PRUNE_BATCH_SIZE", default=1000)  # rows deleted per statement

# /metrics (Prometheus text format: the delivery backlog per destination) answers only a request with
# `Authorization: Bearer <METRICS_TOKEN>`; unset, /metrics does not exist (404).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
