class CustomerError(Exception):
    """Base of the domain errors the doors translate (besides Django's ValidationError)."""


class VersionMismatch(CustomerError):
    """The record changed since the version the caller based its change on (HTTP 412)."""

    def __init__(self, current_version: int):
        super().__init__("The customer was changed since you read it.")
        self.current_version = current_version


class IdempotencyKeyInUse(CustomerError):
    """A request with this Idempotency-Key is still running (HTTP 409)."""


class IdempotencyKeyReused(CustomerError):
    """The Idempotency-Key was first used with a different request (HTTP 422)."""
