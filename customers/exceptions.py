from core.problems import PRECONDITION_FAILED, REFERENCE_IN_USE, DomainError


class VersionMismatch(DomainError):
    """The record changed since the version the caller based its change on (HTTP 412)."""

    problem = PRECONDITION_FAILED

    def __init__(self, current_version: int):
        super().__init__("The customer was changed since you read it.")
        self.current_version = current_version


class ReferenceInUse(DomainError):
    """Another customer of the merchant has this reference (HTTP 409 naming it)."""

    problem = REFERENCE_IN_USE

    def __init__(self, reference: str, customer_id):
        super().__init__(f"The reference '{reference}' is already used by customer {customer_id}.")
        self.reference, self.customer_id = reference, customer_id

    @property
    def problem_detail(self) -> str:
        return str(self)

    @property
    def problem_extra(self) -> dict:
        return {"customer_id": str(self.customer_id), "reference": self.reference}
