"""Forwarding of customer events from the transactional outbox.

`customers.events.event_inserts` writes each event with one pending delivery per
destination in the change's transaction; this package sends them: to the
processing gateway (GATEWAY_URL) and to merchants' webhook endpoints, signed,
retried with backoff, in order per customer and destination.
"""
