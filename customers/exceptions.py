from core.problems import PRECONDITION_FAILED, DomainError


class VersionMismatch(DomainError):
    """The record changed since the version the caller based its change on (HTTP 412)."""

    problem = PRECONDITION_FAILED

    def __init__(self, current_version: int):
        super().__init__("The customer was changed since you read it.")
        self.current_version = current_version
