"""Ids from the outside world (URLs, query strings, request bodies)."""

import uuid


def parse_uuid(value) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is not one (malformed, wrong type): callers treat that as a miss."""
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, AttributeError, TypeError):
        return None
