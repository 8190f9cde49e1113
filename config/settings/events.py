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
