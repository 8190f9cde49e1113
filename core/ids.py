"""Ids from the outside world (URLs, query strings, request bodies)."""

import os
import time
import uuid


def parse_uuid(value) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is not one (malformed, wrong type): callers treat that as a miss."""
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (ValueError, AttributeError, TypeError):
        return None


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds, then 74 random bits.

    New ids land at the right edge of their B-tree indexes instead of at random
    pages, so a table of millions takes inserts without reading and rewriting
    pages all over its indexes (docs/SCALING.md). Python 3.14 has uuid.uuid7.
    """
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10)) & ((1 << 80) - 1)
    value = (value & ~(0xF << 76)) | (7 << 76)  # version
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # variant (RFC 9562)
    return uuid.UUID(int=value)
